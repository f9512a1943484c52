#include "crema/layers/mvn_layer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "crema/layers/registry.h"
#include "gradient_checker.h"
#include "test_helpers.h"

namespace crema {
namespace {

using testing::FillUniform;
using testing::LayerFromText;

struct MvnCase {
  bool normalize_variance;
  bool across_channels;
  std::string ToString() const {
    return std::string("normalize_variance ") + (normalize_variance ? "true" : "false") +
           " across_channels " + (across_channels ? "true" : "false");
  }
};

const MvnCase kCases[] = {{true, false}, {true, true}, {false, false}, {false, true}};

caffe::LayerParameter MvnParam(const MvnCase& k, const std::string& extra = "") {
  return LayerFromText(std::string("name: 'mvn' type: 'MVN' mvn_param { normalize_variance: ") +
                       (k.normalize_variance ? "true" : "false") +
                       " across_channels: " + (k.across_channels ? "true" : "false") + " " +
                       extra + " }");
}

// The definition, in double: groups are (n, c) planes, or whole items across channels.
std::vector<double> ReferenceMvn(const Blob& x, const MvnCase& k, double eps) {
  const int num = x.shape(0);
  const int channels = x.num_axes() == 1 ? 1 : x.shape(1);
  const int groups = k.across_channels ? num : num * channels;
  const int dim = x.count() / groups;
  std::vector<double> y(x.count());
  for (int g = 0; g < groups; ++g) {
    const float* in = x.cpu_data() + g * dim;
    double mean = 0;
    for (int i = 0; i < dim; ++i) mean += in[i];
    mean /= dim;
    double var = 0;
    for (int i = 0; i < dim; ++i) var += (in[i] - mean) * (in[i] - mean);
    var /= dim;
    for (int i = 0; i < dim; ++i) {
      y[g * dim + i] = k.normalize_variance ? (in[i] - mean) / (std::sqrt(var) + eps)
                                            : in[i] - mean;
    }
  }
  return y;
}

const std::vector<std::vector<int>> kShapes = {{2, 3, 4, 5}, {3, 2, 1, 7}, {2, 3, 4}, {4, 5}};

TEST(MVNLayerTest, ForwardMatchesReference) {
  for (const MvnCase& k : kCases) {
    for (const auto& shape : kShapes) {
      SCOPED_TRACE(k.ToString() + " " + Blob::ShapeString(shape));
      Blob bottom(shape), top;
      FillUniform(&bottom, -1.f, 3.f, 13);
      MVNLayer layer(MvnParam(k));
      layer.SetUp({&bottom}, {&top});
      ASSERT_EQ(top.shape(), shape);
      EXPECT_TRUE(layer.blobs().empty());
      layer.Forward({&bottom}, {&top});
      const std::vector<double> expected = ReferenceMvn(bottom, k, 1e-9);
      for (int i = 0; i < top.count(); ++i) {
        ASSERT_NEAR(top.cpu_data()[i], expected[i], 1e-5 * (1 + std::fabs(expected[i]))) << i;
      }
    }
  }
}

// eps goes onto σ, not σ²: with a large eps the two differ visibly.
TEST(MVNLayerTest, EpsIsAddedToTheStandardDeviation) {
  const MvnCase k{true, false};
  Blob bottom({1, 1, 1, 2}), top;
  bottom.mutable_cpu_data()[0] = 1.f;
  bottom.mutable_cpu_data()[1] = 3.f;  // mean 2, σ 1
  MVNLayer layer(MvnParam(k, "eps: 0.5"));
  layer.SetUp({&bottom}, {&top});
  layer.Forward({&bottom}, {&top});
  EXPECT_NEAR(top.cpu_data()[0], -1.0 / 1.5, 1e-6);
  EXPECT_NEAR(top.cpu_data()[1], 1.0 / 1.5, 1e-6);
}

TEST(MVNLayerTest, DefaultsNormalizeVariancePerChannel) {
  MVNLayer layer(LayerFromText("name: 'mvn' type: 'MVN'"));
  Blob bottom({2, 3, 2, 2}), top;
  FillUniform(&bottom, -1.f, 3.f, 17);
  layer.SetUp({&bottom}, {&top});
  layer.Forward({&bottom}, {&top});
  const std::vector<double> expected = ReferenceMvn(bottom, {true, false}, 1e-9);
  for (int i = 0; i < top.count(); ++i) EXPECT_NEAR(top.cpu_data()[i], expected[i], 1e-5);
}

TEST(MVNLayerTest, Gradient) {
  for (const MvnCase& k : kCases) {
    for (const auto& shape : std::vector<std::vector<int>>{{2, 3, 2, 3}, {2, 2, 5}}) {
      SCOPED_TRACE(k.ToString() + " " + Blob::ShapeString(shape));
      Blob bottom(shape), top;
      FillUniform(&bottom, -1.f, 1.f, 19);
      MVNLayer layer(MvnParam(k));
      // ½Σy² is nearly constant when the variance is normalised: check outputs one by one.
      testing::GradientChecker checker(1e-2f, 1e-2f);
      checker.CheckGradientExhaustive(&layer, {&bottom}, {&top});
    }
  }
}

TEST(MVNLayerTest, InPlaceMatchesOutOfPlace) {
  for (const MvnCase& k : kCases) {
    SCOPED_TRACE(k.ToString());
    const std::vector<int> shape{2, 3, 3, 4};
    Blob x(shape), y, shared(shape), dy(shape);
    FillUniform(&x, -2.f, 2.f, 23);
    FillUniform(&dy, -1.f, 1.f, 29);
    std::copy(x.cpu_data(), x.cpu_data() + x.count(), shared.mutable_cpu_data());
    MVNLayer apart(MvnParam(k)), together(MvnParam(k));
    apart.SetUp({&x}, {&y});
    together.SetUp({&shared}, {&shared});
    apart.Forward({&x}, {&y});
    together.Forward({&shared}, {&shared});
    for (int i = 0; i < x.count(); ++i) ASSERT_FLOAT_EQ(shared.cpu_data()[i], y.cpu_data()[i]);
    std::copy(dy.cpu_data(), dy.cpu_data() + dy.count(), y.mutable_cpu_diff());
    std::copy(dy.cpu_data(), dy.cpu_data() + dy.count(), shared.mutable_cpu_diff());
    apart.Backward({&y}, {true}, {&x});
    together.Backward({&shared}, {true}, {&shared});
    for (int i = 0; i < x.count(); ++i) EXPECT_NEAR(shared.cpu_diff()[i], x.cpu_diff()[i], 1e-6f);
  }
}

TEST(MVNLayerTest, BadParametersNameTheLayer) {
  Blob bottom({2, 3}), top;
  testing::ExpectError(
      [&] { MVNLayer(MvnParam({true, false}, "eps: -0.1")).SetUp({&bottom}, {&top}); },
      ErrorCode::kInvalidArgument, {"Layer 'mvn' (MVN)", "eps"});
  Blob scalar(std::vector<int>{}), scalar_top;
  testing::ExpectError([&] { MVNLayer(MvnParam({true, false})).SetUp({&scalar}, {&scalar_top}); },
                       ErrorCode::kInvalidArgument, {"Layer 'mvn' (MVN)", "axis"});
}

TEST(MVNLayerTest, RegistryCreatesIt) {
  auto layer = LayerRegistry::Global().Create(MvnParam({true, true}));
  EXPECT_NE(dynamic_cast<MVNLayer*>(layer.get()), nullptr);
  EXPECT_EQ(std::string(layer->type()), "MVN");
}

}  // namespace
}  // namespace crema
