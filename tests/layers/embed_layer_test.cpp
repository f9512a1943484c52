#include "crema/layers/embed_layer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "crema/layers/registry.h"
#include "gradient_checker.h"
#include "test_helpers.h"

namespace crema {
namespace {

using testing::ExpectError;
using testing::LayerFromText;

caffe::LayerParameter EmbedParam(int num_output, int input_dim, bool bias) {
  return LayerFromText(
      "name: 'embed' type: 'Embed' embed_param { num_output: " + std::to_string(num_output) +
      " input_dim: " + std::to_string(input_dim) + " bias_term: " + (bias ? "true" : "false") +
      " weight_filler { type: 'gaussian' std: 1 } bias_filler { type: 'gaussian' std: 1 } }");
}

void SetIndices(Blob* blob, const std::vector<float>& values) {
  for (size_t i = 0; i < values.size(); ++i) blob->mutable_cpu_data()[i] = values[i];
}

TEST(EmbedLayerTest, IsRegistered) {
  EXPECT_STREQ(LayerRegistry::Global().Create(EmbedParam(2, 3, true))->type(), "Embed");
}

TEST(EmbedLayerTest, ForwardLooksUpRows) {
  for (bool bias : {true, false}) {
    SCOPED_TRACE(bias ? "bias" : "no bias");
    const int K = 5, N = 4;
    Blob x({2, 3}), y;
    SetIndices(&x, {4, 0, 2, 2, 1, 3.7f});  // 3.7 truncates to 3
    EmbedLayer layer(EmbedParam(N, K, bias));
    layer.SetUp({&x}, {&y});
    ASSERT_EQ(layer.blobs().size(), bias ? 2u : 1u);
    EXPECT_EQ(layer.blobs()[0]->shape(), (std::vector<int>{K, N}));
    if (bias) {
      EXPECT_EQ(layer.blobs()[1]->shape(), (std::vector<int>{N}));
    }
    ASSERT_EQ(y.shape(), (std::vector<int>{2, 3, N}));
    layer.Forward({&x}, {&y});
    const float* w = layer.blobs()[0]->cpu_data();
    for (int m = 0; m < 6; ++m) {
      const int k = static_cast<int>(x.cpu_data()[m]);
      for (int n = 0; n < N; ++n) {
        const float expected = w[k * N + n] + (bias ? layer.blobs()[1]->cpu_data()[n] : 0.f);
        ASSERT_EQ(y.cpu_data()[m * N + n], expected) << m << " " << n;
      }
    }
  }
}

TEST(EmbedLayerTest, Gradient) {
  for (bool bias : {true, false}) {
    SCOPED_TRACE(bias ? "bias" : "no bias");
    Blob x({8}), y;
    SetIndices(&x, {1, 3, 0, 3, 4, 1, 1, 2});  // repeated indices accumulate
    EmbedLayer layer(EmbedParam(3, 5, bias));
    testing::GradientChecker checker(1e-2f, 1e-3f);
    // Parameters only: the indices have no gradient.
    checker.CheckGradient(&layer, {&x}, {&y}, /*check_bottom=*/-2);
  }
}

TEST(EmbedLayerTest, ParameterGradientsAccumulate) {
  Blob x({3}), y;
  SetIndices(&x, {2, 0, 2});
  EmbedLayer layer(EmbedParam(2, 3, true));
  layer.SetUp({&x}, {&y});
  layer.Forward({&x}, {&y});
  for (int i = 0; i < y.count(); ++i) y.mutable_cpu_diff()[i] = static_cast<float>(i + 1);
  for (auto& blob : layer.blobs()) {
    for (int i = 0; i < blob->count(); ++i) blob->mutable_cpu_diff()[i] = 100.f;
  }
  x.mutable_cpu_diff()[0] = 9.f;
  layer.Backward({&y}, {true}, {&x});
  const float* dw = layer.blobs()[0]->cpu_diff();
  // Row 0 gets top row 1 (3, 4); row 2 gets rows 0 and 2 (1+5, 2+6); row 1 nothing.
  EXPECT_EQ(dw[0], 103.f);
  EXPECT_EQ(dw[1], 104.f);
  EXPECT_EQ(dw[2], 100.f);
  EXPECT_EQ(dw[3], 100.f);
  EXPECT_EQ(dw[4], 106.f);
  EXPECT_EQ(dw[5], 108.f);
  EXPECT_EQ(layer.blobs()[1]->cpu_diff()[0], 100.f + 1 + 3 + 5);
  EXPECT_EQ(layer.blobs()[1]->cpu_diff()[1], 100.f + 2 + 4 + 6);
  EXPECT_EQ(x.cpu_diff()[0], 0.f);
  EXPECT_FALSE(layer.AllowForceBackward(0));
}

TEST(EmbedLayerTest, OutOfRangeIndexIsAnErrorAtForward) {
  for (float bad : {5.f, -1.f, 1e9f, NAN}) {
    Blob x({3}), y;
    EmbedLayer layer(EmbedParam(2, 5, true));
    layer.SetUp({&x}, {&y});
    SetIndices(&x, {0, 4, bad});
    ExpectError([&] { layer.Forward({&x}, {&y}); }, ErrorCode::kInvalidArgument,
                {"Layer 'embed' (Embed)", "position 2", "[0, 5)"});
  }
}

TEST(EmbedLayerTest, BadParametersNameTheLayer) {
  for (const auto& [fields, fragment] : std::vector<std::pair<std::string, std::string>>{
           {"input_dim: 3", "num_output"},
           {"num_output: 3", "input_dim"},
           {"num_output: 0 input_dim: 3", "num_output"}}) {
    SCOPED_TRACE(fields);
    Blob x({2}), y;
    EmbedLayer layer(LayerFromText("name: 'embed' type: 'Embed' embed_param { " + fields + " }"));
    ExpectError([&] { layer.SetUp({&x}, {&y}); }, ErrorCode::kInvalidArgument,
                {"Layer 'embed' (Embed)", fragment});
  }
}

}  // namespace
}  // namespace crema
