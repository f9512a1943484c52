#include "crema/layers/prelu_layer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "crema/net/net.h"
#include "gradient_checker.h"
#include "test_helpers.h"

namespace crema {
namespace {

using testing::LayerFromText;

caffe::LayerParameter PReLUParam(bool shared, bool random_slopes = true) {
  return LayerFromText(std::string("name: 'p' type: 'PReLU' prelu_param { channel_shared: ") +
                       (shared ? "true" : "false") +
                       (random_slopes ? " filler { type: 'uniform' min: -0.5 max: 1.5 }" : "") +
                       " }");
}

// U[-2, 2) values kept at least 0.05 away from the kink at 0.
void FillAwayFromZero(Blob* blob, unsigned seed) {
  testing::FillUniform(blob, -2.f, 2.f, seed);
  float* x = blob->mutable_cpu_data();
  for (int i = 0; i < blob->count(); ++i) {
    if (std::fabs(x[i]) < 0.05f) x[i] = x[i] < 0 ? -0.1f : 0.1f;
  }
}

// Slope of element i of a blob of `shape`: the channel is axis 1, found from the full index.
float SlopeOf(const PReLULayer& layer, const std::vector<int>& shape, int i, bool shared) {
  if (shared) return layer.blobs()[0]->cpu_data()[0];
  int inner = 1;
  for (size_t a = 2; a < shape.size(); ++a) inner *= shape[a];
  const int channel = (i / inner) % shape[1];
  return layer.blobs()[0]->cpu_data()[channel];
}

TEST(PReLULayerTest, BlobShapesAndDefaultSlope) {
  Blob x({2, 3, 4}), y;
  PReLULayer per_channel(PReLUParam(false, false));
  per_channel.SetUp({&x}, {&y});
  ASSERT_EQ(per_channel.blobs().size(), 1u);
  EXPECT_EQ(per_channel.blobs()[0]->shape(), std::vector<int>{3});
  for (int c = 0; c < 3; ++c) EXPECT_EQ(per_channel.blobs()[0]->cpu_data()[c], 0.25f);

  PReLULayer shared(PReLUParam(true, false));
  shared.SetUp({&x}, {&y});
  ASSERT_EQ(shared.blobs().size(), 1u);
  EXPECT_EQ(shared.blobs()[0]->num_axes(), 0);  // one value, no axes, as Caffe stores it
  EXPECT_EQ(shared.blobs()[0]->count(), 1);
  EXPECT_EQ(shared.blobs()[0]->cpu_data()[0], 0.25f);
}

TEST(PReLULayerTest, ForwardAndBackwardMatchReference) {
  for (bool shared : {false, true}) {
    for (const std::vector<int>& shape : {std::vector<int>{2, 3, 4, 5}, std::vector<int>{4, 3},
                                          std::vector<int>{2, 5, 4000}}) {
      SCOPED_TRACE(std::string(shared ? "shared " : "per-channel ") + Blob::ShapeString(shape));
      Blob x(shape), y;
      testing::FillUniform(&x, -2.f, 2.f, 5);
      PReLULayer layer(PReLUParam(shared));
      layer.SetUp({&x}, {&y});
      layer.Forward({&x}, {&y});
      ASSERT_EQ(y.shape(), shape);
      for (int i = 0; i < x.count(); ++i) {
        const float xi = x.cpu_data()[i];
        const float expected = xi > 0 ? xi : SlopeOf(layer, shape, i, shared) * xi;
        ASSERT_EQ(y.cpu_data()[i], expected) << i;
      }
      testing::FillUniform(&y, -1.f, 1.f, 6);
      std::copy(y.cpu_data(), y.cpu_data() + y.count(), y.mutable_cpu_diff());
      Blob& slopes = *layer.blobs()[0];
      std::fill(slopes.mutable_cpu_diff(), slopes.mutable_cpu_diff() + slopes.count(), 1.f);
      layer.Backward({&y}, {true}, {&x});
      std::vector<double> slope_diff(slopes.count(), 1.0);  // the gradient is added
      for (int i = 0; i < x.count(); ++i) {
        const float xi = x.cpu_data()[i], dy = y.cpu_diff()[i];
        const float expected = xi > 0 ? dy : SlopeOf(layer, shape, i, shared) * dy;
        ASSERT_EQ(x.cpu_diff()[i], expected) << i;
        if (xi <= 0) {
          int inner = x.count(2);
          slope_diff[shared ? 0 : (i / inner) % shape[1]] += static_cast<double>(dy) * xi;
        }
      }
      for (int c = 0; c < slopes.count(); ++c) {
        EXPECT_NEAR(slopes.cpu_diff()[c], slope_diff[c], 1e-4 * (1 + std::fabs(slope_diff[c])))
            << "slope " << c;
      }
    }
  }
}

TEST(PReLULayerTest, Gradient) {
  for (bool shared : {false, true}) {
    SCOPED_TRACE(shared ? "shared" : "per-channel");
    Blob x({2, 3, 2, 2}), y;
    FillAwayFromZero(&x, 7);
    PReLULayer layer(PReLUParam(shared));
    testing::GradientChecker checker(1e-2f, 1e-3f);
    checker.CheckGradientExhaustive(&layer, {&x}, {&y});
  }
}

TEST(PReLULayerTest, InPlaceMatchesOutOfPlace) {
  for (bool shared : {false, true}) {
    SCOPED_TRACE(shared ? "shared" : "per-channel");
    Blob x({2, 3, 4, 5}), y, inplace({2, 3, 4, 5});
    FillAwayFromZero(&x, 8);
    std::copy(x.cpu_data(), x.cpu_data() + x.count(), inplace.mutable_cpu_data());
    PReLULayer separate(PReLUParam(shared)), same(PReLUParam(shared));
    separate.SetUp({&x}, {&y});
    same.SetUp({&inplace}, {&inplace});
    // Same slopes in both (the filler draws from the thread's generator).
    std::copy(separate.blobs()[0]->cpu_data(), separate.blobs()[0]->cpu_data() + (shared ? 1 : 3),
              same.blobs()[0]->mutable_cpu_data());
    separate.Forward({&x}, {&y});
    same.Forward({&inplace}, {&inplace});
    for (int i = 0; i < x.count(); ++i) ASSERT_EQ(inplace.cpu_data()[i], y.cpu_data()[i]) << i;
    Blob grad({2, 3, 4, 5});
    testing::FillUniform(&grad, -1.f, 1.f, 9);
    std::copy(grad.cpu_data(), grad.cpu_data() + grad.count(), y.mutable_cpu_diff());
    std::copy(grad.cpu_data(), grad.cpu_data() + grad.count(), inplace.mutable_cpu_diff());
    for (PReLULayer* l : {&separate, &same}) {
      Blob& slopes = *l->blobs()[0];
      std::fill(slopes.mutable_cpu_diff(), slopes.mutable_cpu_diff() + slopes.count(), 0.f);
    }
    separate.Backward({&y}, {true}, {&x});
    same.Backward({&inplace}, {true}, {&inplace});
    for (int i = 0; i < x.count(); ++i) ASSERT_EQ(inplace.cpu_diff()[i], x.cpu_diff()[i]) << i;
    for (int c = 0; c < separate.blobs()[0]->count(); ++c) {
      EXPECT_EQ(same.blobs()[0]->cpu_diff()[c], separate.blobs()[0]->cpu_diff()[c]) << c;
    }
  }
}

// A shared slope is written as Caffe writes a blob without axes (no shape, one value) and is
// read back into a net from the serialized model.
TEST(PReLULayerTest, SharedSlopeRoundTripsThroughAModel) {
  const std::string text = R"(
    layer { name: "data" type: "Input" top: "data"
            input_param { shape { dim: 2 dim: 3 dim: 2 dim: 2 } } }
    layer { name: "shared" type: "PReLU" bottom: "data" top: "data"
            prelu_param { channel_shared: true filler { type: "constant" value: 0.7 } } }
    layer { name: "per_channel" type: "PReLU" bottom: "data" top: "out"
            prelu_param { filler { type: "constant" value: 0.3 } } })";
  Net source(testing::NetFromText(text));
  caffe::NetParameter saved;
  source.ToProto(&saved);
  const caffe::BlobProto& blob = saved.layer(1).blobs(0);
  EXPECT_FALSE(blob.has_shape());
  EXPECT_FALSE(blob.has_num() || blob.has_channels() || blob.has_height() || blob.has_width());
  ASSERT_EQ(blob.data_size(), 1);
  EXPECT_EQ(blob.data(0), 0.7f);
  EXPECT_EQ(saved.layer(2).blobs(0).shape().dim_size(), 1);

  std::string bytes;
  ASSERT_TRUE(saved.SerializeToString(&bytes));
  caffe::NetParameter parsed;
  ASSERT_TRUE(parsed.ParseFromString(bytes));
  std::string changed = text;
  changed.replace(changed.find("0.7"), 3, "0.1");
  Net target(testing::NetFromText(changed));
  target.CopyTrainedLayersFrom(parsed);
  EXPECT_EQ(target.layers()[1]->blobs()[0]->cpu_data()[0], 0.7f);
}

TEST(PReLULayerTest, BadShapesAndFillersNameTheLayer) {
  {
    Blob x({6}), y;
    PReLULayer layer(PReLUParam(false));
    testing::ExpectError([&] { layer.SetUp({&x}, {&y}); }, ErrorCode::kInvalidArgument,
                         {"Layer 'p' (PReLU)", "2 axes"});
  }
  {
    Blob x({2, 3, 4}), y;
    PReLULayer layer(PReLUParam(false));
    layer.SetUp({&x}, {&y});
    x.Reshape({2, 4, 4});
    testing::ExpectError([&] { layer.Forward({&x}, {&y}); }, ErrorCode::kInvalidArgument,
                         {"Layer 'p' (PReLU)", "channels"});
  }
  {
    // A shared slope has no axes, so a filler that needs a fan-in cannot fill it.
    Blob x({2, 3, 4}), y;
    PReLULayer layer(LayerFromText(
        "name: 'p' type: 'PReLU' prelu_param { channel_shared: true filler { type: 'xavier' } }"));
    testing::ExpectError([&] { layer.SetUp({&x}, {&y}); }, ErrorCode::kInvalidArgument,
                         {"Layer 'p' (PReLU)"});
  }
}

TEST(PReLULayerTest, SharedSlopeAllowsAnyChannelCount) {
  Blob x({2, 3, 4}), y;
  PReLULayer layer(PReLUParam(true));
  layer.SetUp({&x}, {&y});
  x.Reshape({2, 5, 1});
  layer.Forward({&x}, {&y});
  EXPECT_EQ(y.shape(), (std::vector<int>{2, 5, 1}));
}

}  // namespace
}  // namespace crema
