#include "crema/layers/swish_layer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "activation_checks.h"
#include "neuron_checks.h"
#include "test_helpers.h"

namespace crema {
namespace {

double Swish(double x, double beta) { return x / (1.0 + std::exp(-beta * x)); }

const testing::Activation kSwish{"Swish", [](double x) { return Swish(x, 1.0); }, nullptr};

TEST(SwishLayerTest, ExtremeInputsStayFinite) { testing::CheckExtremeInputsStayFinite(kSwish); }
TEST(SwishLayerTest, DefaultGradient) { testing::CheckNumericalGradient(kSwish); }
TEST(SwishLayerTest, InPlaceMatchesOutOfPlace) { testing::CheckInPlaceMatchesOutOfPlace(kSwish); }
TEST(SwishLayerTest, WrongBlobCountNamesLayer) { testing::CheckWrongBlobCountNamesLayer(kSwish); }

testing::NeuronCase Case(float beta) {
  testing::NeuronCase c;
  c.param = "name: 's' type: 'Swish' swish_param { beta: " + std::to_string(beta) + " }";
  c.forward = [beta](double x) { return Swish(x, beta); };
  c.lo = -6.f;
  c.hi = 6.f;
  return c;
}

TEST(SwishLayerTest, BetaParameter) {
  for (float beta : {1.f, 0.5f, 2.5f, -1.f, 0.f}) {
    testing::CheckNeuronForward(Case(beta));
    testing::CheckNeuronGradient(Case(beta));
    testing::CheckNeuronInPlace(Case(beta));
  }
}

}  // namespace
}  // namespace crema
