// Checks shared by the tests of element-wise layers with parameters (Power, Exp, Log, Clip,
// ELU, Swish, ...): the forward pass against a float64 reference on random inputs, a numerical
// gradient that keeps inputs away from the function's kinks, and in-place use giving the same
// bits as out-of-place use. Every check reports the layer's parameter text on failure.
#ifndef CREMA_TESTS_UTIL_NEURON_CHECKS_H_
#define CREMA_TESTS_UTIL_NEURON_CHECKS_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "crema/core/blob.h"
#include "crema/layers/layer.h"

namespace crema::testing {

struct NeuronCase {
  std::string param;                      // LayerParameter text, type included
  std::function<double(double)> forward;  // float64 reference y = f(x)
  float lo = -2.f, hi = 2.f;              // inputs are drawn from U[lo, hi)
  double tolerance = 1e-5;                // |y − f(x)| <= tolerance · max(1, |f(x)|)
  std::vector<float> kinks = {};          // inputs within kink_margin of these are moved off
  float kink_margin = 0.05f;
};

// The layer of `c.param`, made through the registry.
std::unique_ptr<Layer> MakeNeuron(const NeuronCase& c);

// U[lo, hi) values (seeded), moved 2·kink_margin away from every kink they come close to.
void FillAvoidingKinks(const NeuronCase& c, Blob* blob, unsigned seed);

// Forward on shapes (2, 3, 4, 5), (7) and (2, 20000) (the parallel path) against c.forward.
void CheckNeuronForward(const NeuronCase& c);
// Central differences for every element of a (2, 3, 4, 5) input.
void CheckNeuronGradient(const NeuronCase& c);
// Forward and backward in place equal out of place, bit for bit.
void CheckNeuronInPlace(const NeuronCase& c);

}  // namespace crema::testing

#endif  // CREMA_TESTS_UTIL_NEURON_CHECKS_H_
