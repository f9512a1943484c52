#include "crema/layers/log_layer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "neuron_checks.h"
#include "test_helpers.h"

namespace crema {
namespace {

// Inputs in [lo, hi) must keep shift + scale·x positive.
testing::NeuronCase Case(float base, float scale, float shift, float lo, float hi) {
  testing::NeuronCase c;
  c.param = "name: 'l' type: 'Log' log_param { base: " + std::to_string(base) +
            " scale: " + std::to_string(scale) + " shift: " + std::to_string(shift) + " }";
  c.forward = [=](double x) {
    const double arg = static_cast<double>(shift) + static_cast<double>(scale) * x;
    return base == -1.f ? std::log(arg) : std::log(arg) / std::log(static_cast<double>(base));
  };
  c.lo = lo;
  c.hi = hi;
  return c;
}

TEST(LogLayerTest, BaseScaleShiftCombinations) {
  const testing::NeuronCase cases[] = {
      Case(-1.f, 1.f, 0.f, 0.5f, 3.f),  Case(10.f, 2.f, 0.5f, 0.1f, 2.f),
      Case(0.5f, -1.f, 3.f, -2.f, 2.f), Case(2.f, 1.f, 0.f, 0.5f, 4.f),
      Case(-1.f, 0.7f, 1.5f, -1.f, 3.f)};
  for (const testing::NeuronCase& c : cases) {
    testing::CheckNeuronForward(c);
    testing::CheckNeuronGradient(c);
    testing::CheckNeuronInPlace(c);
  }
}

TEST(LogLayerTest, DefaultIsNaturalLog) {
  Blob x({2}), y;
  x.mutable_cpu_data()[0] = 1.f;
  x.mutable_cpu_data()[1] = std::exp(2.f);
  LogLayer layer(testing::LayerFromText("name: 'l' type: 'Log'"));
  layer.SetUp({&x}, {&y});
  layer.Forward({&x}, {&y});
  EXPECT_EQ(y.cpu_data()[0], 0.f);
  EXPECT_NEAR(y.cpu_data()[1], 2.f, 1e-6);
}

TEST(LogLayerTest, BadBaseNamesLayer) {
  for (const char* base : {"0", "-2", "1"}) {
    SCOPED_TRACE(base);
    auto layer = testing::MakeNeuron(
        {std::string("name: 'l' type: 'Log' log_param { base: ") + base + " }", nullptr});
    Blob x({2}), y;
    testing::ExpectError([&] { layer->SetUp({&x}, {&y}); }, ErrorCode::kInvalidArgument,
                         {"Layer 'l' (Log)", "base"});
  }
}

TEST(LogLayerTest, WrongBlobCountNamesLayer) {
  auto layer = testing::MakeNeuron({"name: 'l' type: 'Log'", nullptr});
  Blob x({2});
  testing::ExpectError([&] { layer->SetUp({&x}, {}); }, ErrorCode::kInvalidArgument,
                       {"Layer 'l' (Log)"});
}

}  // namespace
}  // namespace crema
