#include "crema/layers/power_layer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "neuron_checks.h"
#include "test_helpers.h"

namespace crema {
namespace {

// Inputs in [lo, hi); for a non-integer power they must keep shift + scale·x positive.
testing::NeuronCase Case(float power, float scale, float shift, float lo = -2.f,
                         float hi = 2.f) {
  testing::NeuronCase c;
  c.param = "name: 'p' type: 'Power' power_param { power: " + std::to_string(power) +
            " scale: " + std::to_string(scale) + " shift: " + std::to_string(shift) + " }";
  c.forward = [=](double x) {
    return std::pow(static_cast<double>(shift) + static_cast<double>(scale) * x,
                    static_cast<double>(power));
  };
  c.lo = lo;
  c.hi = hi;
  return c;
}

const testing::NeuronCase kCases[] = {
    Case(1.f, 1.f, 0.f),                // identity
    Case(1.f, 0.5f, 2.f),               // affine only
    Case(2.f, 1.f, 0.f),                // square, through 0
    Case(2.f, -0.8f, 0.3f),             // square of an affine map, negative scale
    Case(0.37f, 0.9f, 2.5f),            // general power, base in [0.7, 4.3]
    Case(0.37f, 1.f, 0.f, 0.2f, 2.f),   // general power, no shift
    Case(3.f, 0.5f, 1.f),               // integer power, base in [0, 2]
    Case(-1.5f, 1.f, 3.f),              // negative power, base in [1, 5]
    Case(0.f, 2.f, 1.f),                // power 0: y = 1
    Case(2.f, 0.f, 1.5f),               // scale 0: y = shift^power
    Case(0.5f, 0.f, 4.f),               // scale 0 with another power
};

TEST(PowerLayerTest, ForwardMatchesPow) {
  for (const testing::NeuronCase& c : kCases) testing::CheckNeuronForward(c);
}

TEST(PowerLayerTest, Gradient) {
  for (const testing::NeuronCase& c : kCases) testing::CheckNeuronGradient(c);
}

TEST(PowerLayerTest, InPlaceMatchesOutOfPlace) {
  for (const testing::NeuronCase& c : kCases) testing::CheckNeuronInPlace(c);
}

TEST(PowerLayerTest, DefaultsAreIdentity) {
  Blob x({3, 2}), y;
  testing::FillUniform(&x, -5.f, 5.f, 3);
  PowerLayer layer(testing::LayerFromText("name: 'p' type: 'Power'"));
  layer.SetUp({&x}, {&y});
  layer.Forward({&x}, {&y});
  for (int i = 0; i < x.count(); ++i) EXPECT_EQ(y.cpu_data()[i], x.cpu_data()[i]);
}

TEST(PowerLayerTest, ConstantOutputsHaveZeroGradient) {
  for (const char* params : {"power: 0 scale: 3 shift: -1", "power: 2.5 scale: 0 shift: 2"}) {
    SCOPED_TRACE(params);
    Blob x({4}), y;
    testing::FillUniform(&x, -1.f, 1.f, 4);
    PowerLayer layer(testing::LayerFromText(
        std::string("name: 'p' type: 'Power' power_param { ") + params + " }"));
    layer.SetUp({&x}, {&y});
    layer.Forward({&x}, {&y});
    for (int i = 0; i < 4; ++i) {
      y.mutable_cpu_diff()[i] = 1.f;
      x.mutable_cpu_diff()[i] = 7.f;  // stale values must be overwritten
    }
    layer.Backward({&y}, {true}, {&x});
    for (int i = 0; i < 4; ++i) EXPECT_EQ(x.cpu_diff()[i], 0.f) << i;
  }
}

// At a zero base the gradient of b^3 is 0; a y / b formula would give 0/0.
TEST(PowerLayerTest, ZeroBaseGivesTheLimitGradient) {
  Blob x({1}), y;
  x.mutable_cpu_data()[0] = 2.f;
  PowerLayer layer(testing::LayerFromText(
      "name: 'p' type: 'Power' power_param { power: 3 scale: -0.5 shift: 1 }"));
  layer.SetUp({&x}, {&y});
  layer.Forward({&x}, {&y});
  EXPECT_EQ(y.cpu_data()[0], 0.f);
  y.mutable_cpu_diff()[0] = 1.f;
  layer.Backward({&y}, {true}, {&x});
  EXPECT_EQ(x.cpu_diff()[0], 0.f);
}

TEST(PowerLayerTest, WrongBlobCountNamesLayer) {
  auto layer = testing::MakeNeuron({"name: 'p' type: 'Power'", nullptr});
  Blob x({2});
  testing::ExpectError([&] { layer->SetUp({&x}, {&x, &x}); }, ErrorCode::kInvalidArgument,
                       {"Layer 'p' (Power)"});
}

}  // namespace
}  // namespace crema
