#include "crema/layers/bnll_layer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "activation_checks.h"
#include "test_helpers.h"

namespace crema {
namespace {

// ln(1 + e^x) in float64, in the form that cannot overflow.
double Softplus(double x) { return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x)); }

const testing::Activation kBNLL{"BNLL", Softplus, [](double y) { return -std::expm1(-y); }};

TEST(BNLLLayerTest, ForwardMatchesFormula) { testing::CheckForwardMatchesFormula(kBNLL); }
TEST(BNLLLayerTest, ExtremeInputsStayFinite) { testing::CheckExtremeInputsStayFinite(kBNLL); }
TEST(BNLLLayerTest, BackwardUsesOnlyTheTop) { testing::CheckBackwardUsesOnlyTheTop(kBNLL); }
TEST(BNLLLayerTest, Gradient) { testing::CheckNumericalGradient(kBNLL); }
TEST(BNLLLayerTest, InPlaceMatchesOutOfPlace) { testing::CheckInPlaceMatchesOutOfPlace(kBNLL); }
TEST(BNLLLayerTest, WrongBlobCountNamesLayer) { testing::CheckWrongBlobCountNamesLayer(kBNLL); }

// For very negative x, ln(1 + e^x) ≈ e^x is far below float's epsilon; forming 1 + e^x in
// float would round it to 0. The value and its gradient must keep their relative precision.
TEST(BNLLLayerTest, TinyOutputsKeepRelativePrecision) {
  Blob x({4}), y;
  const float values[4] = {-20.f, -35.f, -60.f, -80.f};
  std::copy(values, values + 4, x.mutable_cpu_data());
  BNLLLayer layer(testing::LayerFromText("name: 'b' type: 'BNLL'"));
  layer.SetUp({&x}, {&y});
  layer.Forward({&x}, {&y});
  for (int i = 0; i < 4; ++i) y.mutable_cpu_diff()[i] = 1.f;
  layer.Backward({&y}, {true}, {&x});
  for (int i = 0; i < 4; ++i) {
    const double expected = std::log1p(std::exp(static_cast<double>(values[i])));
    const double slope = 1.0 / (1.0 + std::exp(-static_cast<double>(values[i])));
    EXPECT_NEAR(y.cpu_data()[i], expected, 1e-5 * expected) << values[i];
    EXPECT_NEAR(x.cpu_diff()[i], slope, 1e-5 * slope) << values[i];
  }
}

}  // namespace
}  // namespace crema
