#include "crema/layers/relu_layer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "gradient_checker.h"
#include "test_helpers.h"

namespace crema {
namespace {

using testing::FillGaussian;
using testing::GradientChecker;
using testing::LayerFromText;

caffe::LayerParameter ReLUParam(float slope) {
  return LayerFromText("name: 'relu' type: 'ReLU' relu_param { negative_slope: " +
                       std::to_string(slope) + " }");
}

// Moves values out of [-margin, margin] so finite differences never straddle the kink.
void AwayFromZero(Blob* blob, float margin) {
  float* x = blob->mutable_cpu_data();
  for (int i = 0; i < blob->count(); ++i) {
    if (x[i] >= 0 && x[i] < margin) x[i] += margin;
    if (x[i] < 0 && x[i] > -margin) x[i] -= margin;
  }
}

TEST(ReLULayerTest, ForwardMatchesLoop) {
  for (float slope : {0.f, 0.1f, -0.5f}) {
    for (const std::vector<int>& shape : {std::vector<int>{2, 3, 4, 5}, std::vector<int>{7},
                                          std::vector<int>{3, 40000}}) {
      Blob x(shape), y;
      FillGaussian(&x, 0, 1, 11);
      ReLULayer layer(ReLUParam(slope));
      layer.SetUp({&x}, {&y});
      layer.Forward({&x}, {&y});
      ASSERT_EQ(y.shape(), x.shape());
      for (int i = 0; i < x.count(); ++i) {
        const float v = x.cpu_data()[i];
        ASSERT_EQ(y.cpu_data()[i], v > 0 ? v : slope * v) << "slope " << slope << " at " << i;
      }
    }
  }
}

TEST(ReLULayerTest, BackwardMatchesLoop) {
  Blob x({4, 5, 6}), y;
  FillGaussian(&x, 0, 1, 12);
  ReLULayer layer(ReLUParam(0.25f));
  layer.SetUp({&x}, {&y});
  layer.Forward({&x}, {&y});
  FillGaussian(&y, 0, 1, 13);
  std::copy(y.cpu_data(), y.cpu_data() + y.count(), y.mutable_cpu_diff());
  layer.Backward({&y}, {true}, {&x});
  for (int i = 0; i < x.count(); ++i) {
    const float expected = x.cpu_data()[i] > 0 ? y.cpu_diff()[i] : 0.25f * y.cpu_diff()[i];
    ASSERT_FLOAT_EQ(x.cpu_diff()[i], expected) << i;
  }
}

TEST(ReLULayerTest, Gradient) {
  for (float slope : {0.f, 0.3f}) {
    Blob x({2, 3, 4, 5}), y;
    FillGaussian(&x, 0, 1, 14);
    AwayFromZero(&x, 0.02f);
    ReLULayer layer(ReLUParam(slope));
    GradientChecker checker(1e-2f, 1e-3f, 1701, /*kink=*/0.f, /*kink_range=*/0.01f);
    checker.CheckGradientEltwise(&layer, {&x}, {&y});
  }
}

TEST(ReLULayerTest, InPlaceMatchesOutOfPlace) {
  for (float slope : {0.f, 0.2f}) {
    Blob x({3, 4, 5}), y, inplace({3, 4, 5});
    FillGaussian(&x, 0, 1, 15);
    std::copy(x.cpu_data(), x.cpu_data() + x.count(), inplace.mutable_cpu_data());
    ReLULayer separate(ReLUParam(slope)), same(ReLUParam(slope));
    separate.SetUp({&x}, {&y});
    same.SetUp({&inplace}, {&inplace});
    separate.Forward({&x}, {&y});
    same.Forward({&inplace}, {&inplace});
    for (int i = 0; i < x.count(); ++i) ASSERT_EQ(inplace.cpu_data()[i], y.cpu_data()[i]);
    Blob grad({3, 4, 5});
    FillGaussian(&grad, 0, 1, 16);
    std::copy(grad.cpu_data(), grad.cpu_data() + grad.count(), y.mutable_cpu_diff());
    std::copy(grad.cpu_data(), grad.cpu_data() + grad.count(), inplace.mutable_cpu_diff());
    separate.Backward({&y}, {true}, {&x});
    same.Backward({&inplace}, {true}, {&inplace});
    for (int i = 0; i < x.count(); ++i) ASSERT_EQ(inplace.cpu_diff()[i], x.cpu_diff()[i]) << i;
  }
}

TEST(ReLULayerTest, NoBackwardWhenNotAsked) {
  Blob x({5}), y;
  FillGaussian(&x, 0, 1, 17);
  ReLULayer layer(ReLUParam(0));
  layer.SetUp({&x}, {&y});
  layer.Forward({&x}, {&y});
  std::fill(x.mutable_cpu_diff(), x.mutable_cpu_diff() + 5, 7.f);
  std::fill(y.mutable_cpu_diff(), y.mutable_cpu_diff() + 5, 1.f);
  layer.Backward({&y}, {false}, {&x});
  for (int i = 0; i < 5; ++i) EXPECT_EQ(x.cpu_diff()[i], 7.f);
}

TEST(ReLULayerTest, WrongBlobCountNamesLayer) {
  Blob a({2}), b({2}), y;
  ReLULayer layer(ReLUParam(0));
  try {
    layer.SetUp({&a, &b}, {&y});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("Layer 'relu' (ReLU)"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace crema
