#include "crema/layers/bias_layer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "gradient_checker.h"
#include "test_helpers.h"

namespace crema {
namespace {

using testing::LayerFromText;

caffe::LayerParameter BiasParam(int axis, int num_axes, bool random = true) {
  return LayerFromText("name: 'b' type: 'Bias' bias_param { axis: " + std::to_string(axis) +
                       " num_axes: " + std::to_string(num_axes) +
                       (random ? " filler { type: 'gaussian' std: 1 } }" : " }"));
}

// Index into a bias of `param_axes` axes applied from `axis` for flat element j of `shape`:
// the row-major index of j's coordinates on axes [axis, axis + param_axes).
int BiasIndex(const std::vector<int>& shape, int j, int axis, int param_axes) {
  std::vector<int> coord(shape.size());
  for (int a = static_cast<int>(shape.size()) - 1; a >= 0; --a) {
    coord[a] = j % shape[a];
    j /= shape[a];
  }
  int index = 0;
  for (int a = axis; a < axis + param_axes; ++a) index = index * shape[a] + coord[a];
  return index;
}

struct Combo {
  int axis;
  int num_axes;
  std::vector<int> expected_shape;  // for a (2, 3, 4, 5) bottom
};

const Combo kCombos[] = {{0, 0, {}},         {1, 1, {3}},    {1, 2, {3, 4}},
                         {2, -1, {4, 5}},    {-1, 1, {5}},   {0, -1, {2, 3, 4, 5}},
                         {0, 1, {2}},        {-3, 2, {3, 4}}};

TEST(BiasLayerTest, BlobShapesFollowAxisAndNumAxes) {
  for (const Combo& c : kCombos) {
    SCOPED_TRACE("axis " + std::to_string(c.axis) + " num_axes " + std::to_string(c.num_axes));
    Blob x({2, 3, 4, 5}), y;
    BiasLayer layer(BiasParam(c.axis, c.num_axes, /*random=*/false));
    layer.SetUp({&x}, {&y});
    ASSERT_EQ(layer.blobs().size(), 1u);
    EXPECT_EQ(layer.blobs()[0]->shape(), c.expected_shape);
    EXPECT_EQ(layer.blobs()[0]->asum_data(), 0.f);  // default filler: constant 0
    EXPECT_EQ(y.shape(), x.shape());
  }
}

// Forward and backward against the definition, for a learned bias (bottom[1] == nullptr) or
// one supplied as bottom[1]; `param_axis` is the canonical axis the bias starts at.
void CheckAgainstReference(BiasLayer* layer, Blob* x, Blob* b, int param_axis) {
  Blob y;
  BlobVec bottom{x};
  if (b != nullptr) bottom.push_back(b);
  layer->SetUp(bottom, {&y});
  Blob& bias = b != nullptr ? *b : *layer->blobs()[0];
  layer->Forward(bottom, {&y});
  const std::vector<int>& shape = x->shape();
  for (int j = 0; j < x->count(); ++j) {
    const float expected =
        x->cpu_data()[j] + bias.cpu_data()[BiasIndex(shape, j, param_axis, bias.num_axes())];
    ASSERT_EQ(y.cpu_data()[j], expected) << j;
  }
  testing::FillUniform(&y, -1.f, 1.f, 3);
  std::copy(y.cpu_data(), y.cpu_data() + y.count(), y.mutable_cpu_diff());
  // A learned bias adds its gradient to the diff; a bottom's diff is overwritten.
  std::fill(bias.mutable_cpu_diff(), bias.mutable_cpu_diff() + bias.count(), 1.f);
  std::vector<double> expected_diff(bias.count(), b != nullptr ? 0.0 : 1.0);
  layer->Backward({&y}, std::vector<bool>(bottom.size(), true), bottom);
  for (int j = 0; j < x->count(); ++j) {
    ASSERT_EQ(x->cpu_diff()[j], y.cpu_diff()[j]) << j;
    expected_diff[BiasIndex(shape, j, param_axis, bias.num_axes())] += y.cpu_diff()[j];
  }
  for (int k = 0; k < bias.count(); ++k) {
    EXPECT_NEAR(bias.cpu_diff()[k], expected_diff[k], 1e-4 * (1 + std::fabs(expected_diff[k])))
        << k;
  }
}

TEST(BiasLayerTest, LearnedBiasMatchesReference) {
  for (const Combo& c : kCombos) {
    SCOPED_TRACE("axis " + std::to_string(c.axis) + " num_axes " + std::to_string(c.num_axes));
    Blob x({2, 3, 4, 5});
    testing::FillGaussian(&x, 0, 1, 11);
    BiasLayer layer(BiasParam(c.axis, c.num_axes));
    const int axis = c.num_axes == 0 ? 0 : (c.axis < 0 ? c.axis + 4 : c.axis);
    CheckAgainstReference(&layer, &x, nullptr, axis);
  }
}

TEST(BiasLayerTest, SecondBottomSuppliesTheBias) {
  struct Case {
    int axis;
    std::vector<int> bias_shape;
  };
  for (const Case& c : {Case{1, {3}}, Case{1, {3, 4}}, Case{2, {4, 5}}, Case{0, {2}},
                        Case{-1, {5}}, Case{2, {}}, Case{0, {2, 3, 4, 5}}}) {
    SCOPED_TRACE("axis " + std::to_string(c.axis) + " bias " + Blob::ShapeString(c.bias_shape));
    Blob x({2, 3, 4, 5}), b(c.bias_shape);
    testing::FillGaussian(&x, 0, 1, 12);
    testing::FillGaussian(&b, 0, 1, 13);
    // num_axes in the parameter is ignored: bottom[1]'s axes count.
    BiasLayer layer(BiasParam(c.axis, 3));
    const int axis = c.bias_shape.empty() ? 0 : (c.axis < 0 ? c.axis + 4 : c.axis);
    CheckAgainstReference(&layer, &x, &b, axis);
    EXPECT_TRUE(layer.blobs().empty());
  }
}

TEST(BiasLayerTest, Gradient) {
  for (const auto& [axis, num_axes] : {std::pair{1, 1}, std::pair{0, 0}, std::pair{2, -1},
                                       std::pair{0, 2}}) {
    SCOPED_TRACE("axis " + std::to_string(axis) + " num_axes " + std::to_string(num_axes));
    Blob x({2, 3, 2, 2}), y;
    testing::FillGaussian(&x, 0, 1, 14);
    BiasLayer layer(BiasParam(axis, num_axes));
    testing::GradientChecker checker(1e-2f, 1e-3f);
    checker.CheckGradientExhaustive(&layer, {&x}, {&y});
  }
  for (const std::vector<int>& bias_shape : {std::vector<int>{3, 2}, std::vector<int>{}}) {
    SCOPED_TRACE("bottom[1] " + Blob::ShapeString(bias_shape));
    Blob x({2, 3, 2, 2}), b(bias_shape), y;
    testing::FillGaussian(&x, 0, 1, 15);
    testing::FillGaussian(&b, 0, 1, 16);
    BiasLayer layer(BiasParam(1, 1));
    testing::GradientChecker checker(1e-2f, 1e-3f);
    checker.CheckGradientExhaustive(&layer, {&x, &b}, {&y});
  }
}

TEST(BiasLayerTest, InPlaceMatchesOutOfPlace) {
  Blob x({2, 3, 4, 5}), y, inplace({2, 3, 4, 5});
  testing::FillGaussian(&x, 0, 1, 17);
  std::copy(x.cpu_data(), x.cpu_data() + x.count(), inplace.mutable_cpu_data());
  BiasLayer separate(BiasParam(1, 2)), same(BiasParam(1, 2));
  separate.SetUp({&x}, {&y});
  same.SetUp({&inplace}, {&inplace});
  Blob& bias = *separate.blobs()[0];
  std::copy(bias.cpu_data(), bias.cpu_data() + bias.count(), same.blobs()[0]->mutable_cpu_data());
  separate.Forward({&x}, {&y});
  same.Forward({&inplace}, {&inplace});
  for (int i = 0; i < x.count(); ++i) ASSERT_EQ(inplace.cpu_data()[i], y.cpu_data()[i]) << i;
  testing::FillUniform(&y, -1.f, 1.f, 18);
  std::copy(y.cpu_data(), y.cpu_data() + y.count(), y.mutable_cpu_diff());
  std::copy(y.cpu_data(), y.cpu_data() + y.count(), inplace.mutable_cpu_diff());
  separate.Backward({&y}, {true}, {&x});
  same.Backward({&inplace}, {true}, {&inplace});
  for (int i = 0; i < x.count(); ++i) ASSERT_EQ(inplace.cpu_diff()[i], x.cpu_diff()[i]) << i;
  for (int k = 0; k < bias.count(); ++k) {
    EXPECT_EQ(same.blobs()[0]->cpu_diff()[k], bias.cpu_diff()[k]) << k;
  }
}

TEST(BiasLayerTest, BadParametersAndShapesNameTheLayer) {
  for (const auto& [axis, num_axes] : {std::pair{4, 1}, std::pair{-5, 1}, std::pair{1, -2},
                                       std::pair{2, 3}}) {
    SCOPED_TRACE("axis " + std::to_string(axis) + " num_axes " + std::to_string(num_axes));
    Blob x({2, 3, 4, 5}), y;
    BiasLayer layer(BiasParam(axis, num_axes));
    testing::ExpectError([&] { layer.SetUp({&x}, {&y}); }, ErrorCode::kInvalidArgument,
                         {"Layer 'b' (Bias)"});
  }
  for (const auto& [axis, bias_shape] : {std::pair{1, std::vector<int>{4}},
                                         std::pair{2, std::vector<int>{4, 5, 6}},
                                         std::pair{1, std::vector<int>{3, 5}}}) {
    SCOPED_TRACE("axis " + std::to_string(axis) + " bias " + Blob::ShapeString(bias_shape));
    Blob x({2, 3, 4, 5}), b(bias_shape), y;
    BiasLayer layer(BiasParam(axis, 1));
    testing::ExpectError([&] { layer.SetUp({&x, &b}, {&y}); }, ErrorCode::kInvalidArgument,
                         {"Layer 'b' (Bias)", "bias"});
  }
  Blob x({2}), y;
  BiasLayer layer(BiasParam(0, 1));
  testing::ExpectError([&] { layer.SetUp({&x, &x, &x}, {&y}); }, ErrorCode::kInvalidArgument,
                       {"Layer 'b' (Bias)"});
}

}  // namespace
}  // namespace crema
