#include "crema/layers/exp_layer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "activation_checks.h"
#include "neuron_checks.h"
#include "test_helpers.h"

namespace crema {
namespace {

// With the defaults, y = e^x and dy/dx = y.
const testing::Activation kExp{"Exp", [](double x) { return std::exp(x); },
                               [](double y) { return y; }};

TEST(ExpLayerTest, DefaultGradient) { testing::CheckNumericalGradient(kExp); }
TEST(ExpLayerTest, InPlaceMatchesOutOfPlace) { testing::CheckInPlaceMatchesOutOfPlace(kExp); }
TEST(ExpLayerTest, WrongBlobCountNamesLayer) { testing::CheckWrongBlobCountNamesLayer(kExp); }

testing::NeuronCase Case(float base, float scale, float shift) {
  testing::NeuronCase c;
  c.param = "name: 'e' type: 'Exp' exp_param { base: " + std::to_string(base) +
            " scale: " + std::to_string(scale) + " shift: " + std::to_string(shift) + " }";
  c.forward = [=](double x) {
    const double arg = static_cast<double>(shift) + static_cast<double>(scale) * x;
    return base == -1.f ? std::exp(arg) : std::pow(static_cast<double>(base), arg);
  };
  return c;
}

TEST(ExpLayerTest, BaseScaleShiftCombinations) {
  const float cases[][3] = {{-1.f, 1.f, 0.f}, {-1.f, -1.3f, 0.4f}, {2.f, 0.5f, 1.f},
                            {0.5f, 2.f, -1.f}, {10.f, 1.f, 0.f},   {1.f, 3.f, 2.f}};
  for (const auto& p : cases) {
    testing::CheckNeuronForward(Case(p[0], p[1], p[2]));
    testing::CheckNeuronGradient(Case(p[0], p[1], p[2]));
    testing::CheckNeuronInPlace(Case(p[0], p[1], p[2]));
  }
}

TEST(ExpLayerTest, BadBaseNamesLayer) {
  for (const char* base : {"0", "-2", "-0.5"}) {
    SCOPED_TRACE(base);
    auto layer = testing::MakeNeuron(
        {std::string("name: 'e' type: 'Exp' exp_param { base: ") + base + " }", nullptr});
    Blob x({2}), y;
    testing::ExpectError([&] { layer->SetUp({&x}, {&y}); }, ErrorCode::kInvalidArgument,
                         {"Layer 'e' (Exp)", "base"});
  }
}

}  // namespace
}  // namespace crema
