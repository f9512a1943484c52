#include "crema/layers/tanh_layer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "gradient_checker.h"
#include "test_helpers.h"

namespace crema {
namespace {

using testing::FillGaussian;
using testing::GradientChecker;
using testing::LayerFromText;

caffe::LayerParameter Param() { return LayerFromText("name: 'act' type: 'TanH'"); }

// dy/dx written in terms of the output t.
double DerivativeFromTop(double t) { return (1 - t * t); }

double Reference(float v) { return std::tanh(static_cast<double>(v)); }

TEST(TanHLayerTest, ForwardMatchesLoop) {
  for (const std::vector<int>& shape : {std::vector<int>{2, 3, 4, 5}, std::vector<int>{9},
                                        std::vector<int>{2, 30000}}) {
    Blob x(shape), y;
    FillGaussian(&x, 0, 3, 21);
    TanHLayer layer(Param());
    layer.SetUp({&x}, {&y});
    layer.Forward({&x}, {&y});
    ASSERT_EQ(y.shape(), x.shape());
    for (int i = 0; i < x.count(); ++i) {
      ASSERT_NEAR(y.cpu_data()[i], Reference(x.cpu_data()[i]), 1e-6) << i;
    }
  }
}

TEST(TanHLayerTest, ExtremeInputsStayFinite) {
  Blob x({4}), y;
  float* v = x.mutable_cpu_data();
  v[0] = -1000.f;
  v[1] = 1000.f;
  v[2] = -88.f;
  v[3] = 0.f;
  TanHLayer layer(Param());
  layer.SetUp({&x}, {&y});
  layer.Forward({&x}, {&y});
  for (int i = 0; i < 4; ++i) {
    EXPECT_TRUE(std::isfinite(y.cpu_data()[i])) << i;
    EXPECT_NEAR(y.cpu_data()[i], Reference(v[i]), 1e-6) << i;
  }
}

TEST(TanHLayerTest, BackwardMatchesLoop) {
  Blob x({3, 7}), y;
  FillGaussian(&x, 0, 2, 22);
  TanHLayer layer(Param());
  layer.SetUp({&x}, {&y});
  layer.Forward({&x}, {&y});
  FillGaussian(&x, 0, 1, 23);  // overwrite the input: backward must only need the top
  std::copy(x.cpu_data(), x.cpu_data() + x.count(), y.mutable_cpu_diff());
  layer.Backward({&y}, {true}, {&x});
  for (int i = 0; i < x.count(); ++i) {
    const double y_i = y.cpu_data()[i];
    const double expected = y.cpu_diff()[i] * DerivativeFromTop(y_i);
    ASSERT_NEAR(x.cpu_diff()[i], expected, 1e-6) << i;
  }
}

TEST(TanHLayerTest, Gradient) {
  Blob x({2, 3, 4, 5}), y;
  FillGaussian(&x, 0, 1, 24);
  TanHLayer layer(Param());
  GradientChecker checker(1e-2f, 1e-3f);
  checker.CheckGradientEltwise(&layer, {&x}, {&y});
}

TEST(TanHLayerTest, InPlaceMatchesOutOfPlace) {
  Blob x({3, 4, 5}), y, inplace({3, 4, 5});
  FillGaussian(&x, 0, 2, 25);
  std::copy(x.cpu_data(), x.cpu_data() + x.count(), inplace.mutable_cpu_data());
  TanHLayer separate(Param()), same(Param());
  separate.SetUp({&x}, {&y});
  same.SetUp({&inplace}, {&inplace});
  separate.Forward({&x}, {&y});
  same.Forward({&inplace}, {&inplace});
  for (int i = 0; i < x.count(); ++i) ASSERT_EQ(inplace.cpu_data()[i], y.cpu_data()[i]);
  Blob grad({3, 4, 5});
  FillGaussian(&grad, 0, 1, 26);
  std::copy(grad.cpu_data(), grad.cpu_data() + grad.count(), y.mutable_cpu_diff());
  std::copy(grad.cpu_data(), grad.cpu_data() + grad.count(), inplace.mutable_cpu_diff());
  separate.Backward({&y}, {true}, {&x});
  same.Backward({&inplace}, {true}, {&inplace});
  for (int i = 0; i < x.count(); ++i) ASSERT_EQ(inplace.cpu_diff()[i], x.cpu_diff()[i]) << i;
}

TEST(TanHLayerTest, WrongBlobCountNamesLayer) {
  Blob x({2});
  TanHLayer layer(Param());
  try {
    layer.SetUp({&x}, {});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("Layer 'act' (TanH)"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace crema
