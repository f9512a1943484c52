#include "crema/layers/elu_layer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "activation_checks.h"
#include "neuron_checks.h"
#include "test_helpers.h"

namespace crema {
namespace {

// alpha = 1 (the default): dy/dx = 1 for y > 0, y + 1 otherwise.
const testing::Activation kELU{"ELU", [](double x) { return x > 0 ? x : std::expm1(x); },
                               [](double y) { return y > 0 ? 1.0 : y + 1.0; }};

TEST(ELULayerTest, ForwardMatchesFormula) { testing::CheckForwardMatchesFormula(kELU); }
TEST(ELULayerTest, ExtremeInputsStayFinite) { testing::CheckExtremeInputsStayFinite(kELU); }
TEST(ELULayerTest, Gradient) { testing::CheckNumericalGradient(kELU); }
TEST(ELULayerTest, InPlaceMatchesOutOfPlace) { testing::CheckInPlaceMatchesOutOfPlace(kELU); }
TEST(ELULayerTest, WrongBlobCountNamesLayer) { testing::CheckWrongBlobCountNamesLayer(kELU); }

testing::NeuronCase Case(float alpha) {
  testing::NeuronCase c;
  c.param = "name: 'e' type: 'ELU' elu_param { alpha: " + std::to_string(alpha) + " }";
  c.forward = [alpha](double x) { return x > 0 ? x : alpha * std::expm1(x); };
  c.lo = -4.f;
  c.hi = 3.f;
  c.kinks = {0.f};  // the slope jumps from alpha to 1 there unless alpha is 1
  return c;
}

TEST(ELULayerTest, AlphaParameter) {
  for (float alpha : {0.5f, 2.f, 0.f}) {
    testing::CheckNeuronForward(Case(alpha));
    testing::CheckNeuronGradient(Case(alpha));
    testing::CheckNeuronInPlace(Case(alpha));
  }
}

TEST(ELULayerTest, BackwardFromTheFormula) {
  Blob x({4}), y;
  const float values[4] = {-3.f, -0.5f, 0.f, 2.f};
  std::copy(values, values + 4, x.mutable_cpu_data());
  ELULayer layer(testing::LayerFromText("name: 'e' type: 'ELU' elu_param { alpha: 0.4 }"));
  layer.SetUp({&x}, {&y});
  layer.Forward({&x}, {&y});
  for (int i = 0; i < 4; ++i) y.mutable_cpu_diff()[i] = 2.f;
  layer.Backward({&y}, {true}, {&x});
  for (int i = 0; i < 4; ++i) {
    const double slope = values[i] > 0 ? 1.0 : 0.4 * std::exp(static_cast<double>(values[i]));
    EXPECT_NEAR(x.cpu_diff()[i], 2.0 * slope, 1e-6) << values[i];
  }
}

}  // namespace
}  // namespace crema
