#include "crema/layers/inner_product_layer.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "gradient_checker.h"
#include "test_helpers.h"

namespace crema {
namespace {

using testing::FillUniform;
using testing::LayerFromText;

caffe::LayerParameter IpParam(int num_output, int axis, bool transpose, bool bias) {
  return LayerFromText(
      "name: 'ip' type: 'InnerProduct' inner_product_param { num_output: " +
      std::to_string(num_output) + " axis: " + std::to_string(axis) +
      " transpose: " + (transpose ? "true" : "false") + " bias_term: " + (bias ? "true" : "false") +
      " weight_filler { type: 'gaussian' std: 1 } bias_filler { type: 'gaussian' std: 1 } }");
}

// With N = 6 outputs, axes 0 and 1 (M = 1, 3 items) take the transposed forward (yᵀ = W·xᵀ),
// axes 2 and 3 (M = 12, 60) the direct one.
TEST(InnerProductLayerTest, ForwardMatchesNaive) {
  const std::vector<int> shape{3, 4, 5, 2};
  for (int axis : {0, 1, 2, 3, -1, -3}) {
    for (bool transpose : {false, true}) {
      for (bool bias : {true, false}) {
        SCOPED_TRACE("axis " + std::to_string(axis) + " transpose " + std::to_string(transpose) +
                     " bias " + std::to_string(bias));
        const int a = axis < 0 ? axis + 4 : axis;
        Blob bottom(shape), top;
        FillUniform(&bottom, -1.f, 1.f, 7);
        const int N = 6;
        InnerProductLayer layer(IpParam(N, axis, transpose, bias));
        layer.SetUp({&bottom}, {&top});
        const int M = bottom.count(0, a), K = bottom.count(a);
        std::vector<int> top_shape(shape.begin(), shape.begin() + a);
        top_shape.push_back(N);
        ASSERT_EQ(top.shape(), top_shape);
        ASSERT_EQ(layer.blobs().size(), bias ? 2u : 1u);
        EXPECT_EQ(layer.blobs()[0]->shape(),
                  transpose ? std::vector<int>({K, N}) : std::vector<int>({N, K}));
        layer.Forward({&bottom}, {&top});
        const float* w = layer.blobs()[0]->cpu_data();
        for (int m = 0; m < M; ++m) {
          for (int n = 0; n < N; ++n) {
            double sum = bias ? layer.blobs()[1]->cpu_data()[n] : 0.0;
            for (int k = 0; k < K; ++k) {
              const float weight = transpose ? w[k * N + n] : w[n * K + k];
              sum += static_cast<double>(bottom.cpu_data()[m * K + k]) * weight;
            }
            ASSERT_NEAR(top.cpu_data()[m * N + n], sum, 1e-4 * (1 + std::abs(sum)))
                << "m " << m << " n " << n;
          }
        }
      }
    }
  }
}

TEST(InnerProductLayerTest, Gradient) {
  for (bool transpose : {false, true}) {
    for (int axis : {1, 2}) {
      SCOPED_TRACE("transpose " + std::to_string(transpose) + " axis " + std::to_string(axis));
      Blob bottom({2, 3, 2, 2}), top;
      FillUniform(&bottom, -1.f, 1.f, 11);
      InnerProductLayer layer(IpParam(4, axis, transpose, true));
      testing::GradientChecker checker(1e-2f, 1e-3f);
      checker.CheckGradientExhaustive(&layer, {&bottom}, {&top});
    }
  }
}

TEST(InnerProductLayerTest, BatchMayChangeButNotK) {
  InnerProductLayer layer(IpParam(5, 1, false, true));
  Blob bottom({2, 3, 4}), top;
  layer.SetUp({&bottom}, {&top});
  bottom.Reshape({7, 12});  // another batch size and another layout of the same K
  layer.Forward({&bottom}, {&top});
  EXPECT_EQ(top.shape(), (std::vector<int>{7, 5}));
  bottom.Reshape({2, 3, 5});
  try {
    layer.Forward({&bottom}, {&top});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
    const std::string what = e.what();
    EXPECT_NE(what.find("Layer 'ip' (InnerProduct)"), std::string::npos) << what;
    EXPECT_NE(what.find("15"), std::string::npos) << what;
    EXPECT_NE(what.find("12"), std::string::npos) << what;
  }
}

TEST(InnerProductLayerTest, AWeightTooLargeForABlobIsSaidOfTheLayer) {
  // The blob's own error does not know the layer; SetUp adds it (issue 7).
  InnerProductLayer layer(LayerFromText(
      "name: 'ip' type: 'InnerProduct' inner_product_param { num_output: 400000000 }"));
  Blob bottom({2, 144}), top;
  testing::ExpectError([&] { layer.SetUp({&bottom}, {&top}); }, ErrorCode::kInvalidArgument,
                       {"Layer 'ip' (InnerProduct): ", "400000000 144", "INT_MAX"});
}

TEST(InnerProductLayerTest, BadParametersNameTheLayer) {
  for (const std::string& params : {std::string("num_output: 0"),
                                    std::string("num_output: 3 axis: 3"),
                                    std::string("num_output: 3 axis: -4")}) {
    SCOPED_TRACE(params);
    InnerProductLayer layer(
        LayerFromText("name: 'ip' type: 'InnerProduct' inner_product_param { " + params + " }"));
    Blob bottom({2, 3, 4}), top;
    try {
      layer.SetUp({&bottom}, {&top});
      ADD_FAILURE() << "expected an error";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("Layer 'ip' (InnerProduct)"), std::string::npos)
          << e.what();
    }
  }
}

}  // namespace
}  // namespace crema
