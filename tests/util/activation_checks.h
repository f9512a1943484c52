// Checks shared by the tests of element-wise activations whose gradient is a function of
// their output (Sigmoid, TanH): forward against a float64 formula, backward from the top alone,
// a numerical gradient, in-place use and blob-count errors.
#ifndef CREMA_TESTS_UTIL_ACTIVATION_CHECKS_H_
#define CREMA_TESTS_UTIL_ACTIVATION_CHECKS_H_

#include <string>

namespace crema::testing {

struct Activation {
  const char* type;                      // registered type string
  double (*forward)(double x);           // y = f(x)
  double (*derivative_from_top)(double y);  // f'(x) written in terms of y
};

void CheckForwardMatchesFormula(const Activation& activation);
void CheckExtremeInputsStayFinite(const Activation& activation);
void CheckBackwardUsesOnlyTheTop(const Activation& activation);
void CheckNumericalGradient(const Activation& activation);
void CheckInPlaceMatchesOutOfPlace(const Activation& activation);
void CheckWrongBlobCountNamesLayer(const Activation& activation);

}  // namespace crema::testing

#endif  // CREMA_TESTS_UTIL_ACTIVATION_CHECKS_H_
