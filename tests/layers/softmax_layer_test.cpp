#include "crema/layers/softmax_layer.h"

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

caffe::LayerParameter SoftmaxParam(int axis) {
  return LayerFromText("name: 'prob' type: 'Softmax' softmax_param { axis: " +
                       std::to_string(axis) + " }");
}

// Plain softmax along `axis` in double precision, straight from the definition.
std::vector<double> ReferenceSoftmax(const Blob& x, int axis) {
  if (axis < 0) axis += x.num_axes();
  const int outer = x.count(0, axis), channels = x.shape(axis), inner = x.count(axis + 1);
  std::vector<double> y(x.count());
  for (int n = 0; n < outer; ++n) {
    for (int i = 0; i < inner; ++i) {
      auto at = [&](int c) { return (n * channels + c) * inner + i; };
      double sum = 0;
      for (int c = 0; c < channels; ++c) sum += std::exp(static_cast<double>(x.cpu_data()[at(c)]));
      for (int c = 0; c < channels; ++c) y[at(c)] = std::exp(x.cpu_data()[at(c)]) / sum;
    }
  }
  return y;
}

struct Case {
  std::vector<int> shape;
  int axis;
};

const std::vector<Case>& Cases() {
  static const std::vector<Case> cases = {
      {{2, 10}, 1},       {{2, 3, 2, 4}, 1}, {{2, 3, 2, 4}, 2}, {{2, 3, 2, 4}, -1},
      {{2, 3, 2, 4}, 0},  {{5}, 0},          {{1, 4, 700}, 1},  {{300, 12}, -1},
      {{2, 3, 40, 40}, 1},
      {{4, 21, 30, 30}, 1},  // large enough for the threaded path
      {{1, 3, 2000}, 1}};
  return cases;
}

TEST(SoftmaxLayerTest, ForwardMatchesReference) {
  for (const Case& c : Cases()) {
    Blob x(c.shape), y;
    FillGaussian(&x, 0, 2, 51);
    SoftmaxLayer layer(SoftmaxParam(c.axis));
    layer.SetUp({&x}, {&y});
    layer.Forward({&x}, {&y});
    ASSERT_EQ(y.shape(), x.shape());
    const std::vector<double> expected = ReferenceSoftmax(x, c.axis);
    for (int i = 0; i < x.count(); ++i) {
      ASSERT_NEAR(y.cpu_data()[i], expected[i], 1e-6)
          << "shape " << x.shape_string() << " axis " << c.axis << " element " << i;
    }
  }
}

TEST(SoftmaxLayerTest, LargeInputsAreStable) {
  Blob x({2, 3}), y;
  const float values[] = {1000.f, 1001.f, 1002.f, -1000.f, -1001.f, -1002.f};
  std::copy(values, values + 6, x.mutable_cpu_data());
  SoftmaxLayer layer(SoftmaxParam(1));
  layer.SetUp({&x}, {&y});
  layer.Forward({&x}, {&y});
  const double e1 = std::exp(-1.0), e2 = std::exp(-2.0), z = 1 + e1 + e2;
  const double expected[] = {e2 / z, e1 / z, 1 / z, 1 / z, e1 / z, e2 / z};
  for (int i = 0; i < 6; ++i) {
    ASSERT_TRUE(std::isfinite(y.cpu_data()[i]));
    EXPECT_NEAR(y.cpu_data()[i], expected[i], 1e-6) << i;
  }
}

TEST(SoftmaxLayerTest, BackwardMatchesReference) {
  for (const Case& c : Cases()) {
    Blob x(c.shape), y;
    FillGaussian(&x, 0, 1, 52);
    SoftmaxLayer layer(SoftmaxParam(c.axis));
    layer.SetUp({&x}, {&y});
    layer.Forward({&x}, {&y});
    Blob dy(c.shape);
    FillGaussian(&dy, 0, 1, 53);
    std::copy(dy.cpu_data(), dy.cpu_data() + dy.count(), y.mutable_cpu_diff());
    layer.Backward({&y}, {true}, {&x});
    const int axis = c.axis < 0 ? c.axis + x.num_axes() : c.axis;
    const int outer = x.count(0, axis), channels = x.shape(axis), inner = x.count(axis + 1);
    for (int n = 0; n < outer; ++n) {
      for (int i = 0; i < inner; ++i) {
        auto at = [&](int ch) { return (n * channels + ch) * inner + i; };
        double dot = 0;
        for (int k = 0; k < channels; ++k) {
          dot += static_cast<double>(dy.cpu_data()[at(k)]) * y.cpu_data()[at(k)];
        }
        for (int k = 0; k < channels; ++k) {
          const double expected = y.cpu_data()[at(k)] * (dy.cpu_data()[at(k)] - dot);
          ASSERT_NEAR(x.cpu_diff()[at(k)], expected, 1e-5)
              << "shape " << x.shape_string() << " axis " << c.axis;
        }
      }
    }
  }
}

TEST(SoftmaxLayerTest, Gradient) {
  for (int axis : {1, 2, -1}) {
    Blob x({2, 3, 2, 2}), y;
    FillGaussian(&x, 0, 1, 54);
    SoftmaxLayer layer(SoftmaxParam(axis));
    GradientChecker checker(1e-2f, 1e-3f);
    checker.CheckGradientExhaustive(&layer, {&x}, {&y});
  }
}

TEST(SoftmaxLayerTest, InPlaceMatchesOutOfPlace) {
  Blob x({2, 5, 3}), y, inplace({2, 5, 3});
  FillGaussian(&x, 0, 1, 55);
  std::copy(x.cpu_data(), x.cpu_data() + x.count(), inplace.mutable_cpu_data());
  SoftmaxLayer separate(SoftmaxParam(1)), same(SoftmaxParam(1));
  separate.SetUp({&x}, {&y});
  same.SetUp({&inplace}, {&inplace});
  separate.Forward({&x}, {&y});
  same.Forward({&inplace}, {&inplace});
  for (int i = 0; i < x.count(); ++i) ASSERT_EQ(inplace.cpu_data()[i], y.cpu_data()[i]);
  Blob grad({2, 5, 3});
  FillGaussian(&grad, 0, 1, 56);
  std::copy(grad.cpu_data(), grad.cpu_data() + grad.count(), y.mutable_cpu_diff());
  std::copy(grad.cpu_data(), grad.cpu_data() + grad.count(), inplace.mutable_cpu_diff());
  separate.Backward({&y}, {true}, {&x});
  same.Backward({&inplace}, {true}, {&inplace});
  for (int i = 0; i < x.count(); ++i) ASSERT_EQ(inplace.cpu_diff()[i], x.cpu_diff()[i]) << i;
}

TEST(SoftmaxLayerTest, ReshapeFollowsTheBottom) {
  Blob x({2, 4}), y;
  FillGaussian(&x, 0, 1, 57);
  SoftmaxLayer layer(SoftmaxParam(1));
  layer.SetUp({&x}, {&y});
  layer.Forward({&x}, {&y});
  x.Reshape({6, 4, 3});
  FillGaussian(&x, 0, 1, 58);
  layer.Forward({&x}, {&y});
  ASSERT_EQ(y.shape(), x.shape());
  const std::vector<double> expected = ReferenceSoftmax(x, 1);
  for (int i = 0; i < x.count(); ++i) ASSERT_NEAR(y.cpu_data()[i], expected[i], 1e-6);
}

TEST(SoftmaxLayerTest, AxisOutOfRangeIsError) {
  Blob x({2, 3}), y;
  SoftmaxLayer layer(SoftmaxParam(2));
  try {
    layer.SetUp({&x}, {&y});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("Layer 'prob' (Softmax)"), std::string::npos) << message;
    EXPECT_NE(message.find("axis 2"), std::string::npos) << message;
  }
}

}  // namespace
}  // namespace crema
