#include "crema/layers/clip_layer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "neuron_checks.h"
#include "test_helpers.h"

namespace crema {
namespace {

testing::NeuronCase Case(float lo, float hi) {
  testing::NeuronCase c;
  c.param = "name: 'c' type: 'Clip' clip_param { min: " + std::to_string(lo) +
            " max: " + std::to_string(hi) + " }";
  c.forward = [=](double x) { return std::max<double>(lo, std::min<double>(x, hi)); };
  c.lo = -3.f;
  c.hi = 3.f;
  c.kinks = {lo, hi};
  c.tolerance = 0;
  return c;
}

TEST(ClipLayerTest, ForwardGradientAndInPlace) {
  for (const auto& [lo, hi] : {std::pair{-1.f, 1.5f}, std::pair{0.f, 6.f},
                               std::pair{-2.5f, -0.5f}}) {
    testing::CheckNeuronForward(Case(lo, hi));
    testing::CheckNeuronGradient(Case(lo, hi));
    testing::CheckNeuronInPlace(Case(lo, hi));
  }
}

// The gradient passes where min <= x <= max: the bounds themselves included.
TEST(ClipLayerTest, GradientPassesAtTheBoundsAndNotBeyond) {
  Blob x({6}), y;
  const float values[6] = {-1.0001f, -1.f, 0.f, 2.f, 2.0001f, 50.f};
  std::copy(values, values + 6, x.mutable_cpu_data());
  ClipLayer layer(testing::LayerFromText("name: 'c' type: 'Clip' clip_param { min: -1 max: 2 }"));
  layer.SetUp({&x}, {&y});
  layer.Forward({&x}, {&y});
  const float expected_y[6] = {-1.f, -1.f, 0.f, 2.f, 2.f, 2.f};
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(y.cpu_data()[i], expected_y[i]) << i;
    y.mutable_cpu_diff()[i] = 3.f;
  }
  layer.Backward({&y}, {true}, {&x});
  const float expected_dx[6] = {0.f, 3.f, 3.f, 3.f, 0.f, 0.f};
  for (int i = 0; i < 6; ++i) EXPECT_EQ(x.cpu_diff()[i], expected_dx[i]) << i;
}

TEST(ClipLayerTest, BadParametersNameTheLayer) {
  Blob x({2}), y;
  {
    ClipLayer layer(testing::LayerFromText("name: 'c' type: 'Clip' clip_param { min: 2 max: 1 }"));
    testing::ExpectError([&] { layer.SetUp({&x}, {&y}); }, ErrorCode::kInvalidArgument,
                         {"Layer 'c' (Clip)", "min"});
  }
  {
    ClipLayer layer(testing::LayerFromText("name: 'c' type: 'Clip'"));
    testing::ExpectError([&] { layer.SetUp({&x}, {&y}); }, ErrorCode::kInvalidArgument,
                         {"Layer 'c' (Clip)", "clip_param"});
  }
  {
    // A required field missing: only a parameter built in code can be like this.
    caffe::LayerParameter param = testing::LayerFromText("name: 'c' type: 'Clip'");
    param.mutable_clip_param()->set_min(-1.f);
    ClipLayer layer(param);
    testing::ExpectError([&] { layer.SetUp({&x}, {&y}); }, ErrorCode::kInvalidArgument,
                         {"Layer 'c' (Clip)", "max"});
  }
}

TEST(ClipLayerTest, WrongBlobCountNamesLayer) {
  auto layer =
      testing::MakeNeuron({"name: 'c' type: 'Clip' clip_param { min: 0 max: 1 }", nullptr});
  Blob x({2});
  testing::ExpectError([&] { layer->SetUp({&x}, {}); }, ErrorCode::kInvalidArgument,
                       {"Layer 'c' (Clip)"});
}

}  // namespace
}  // namespace crema
