#include "crema/layers/scale_layer.h"

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

caffe::LayerParameter ScaleParam(int axis, int num_axes, bool bias_term, bool random = true) {
  std::string text = "name: 's' type: 'Scale' scale_param { axis: " + std::to_string(axis) +
                     " num_axes: " + std::to_string(num_axes) +
                     " bias_term: " + (bias_term ? "true" : "false");
  if (random) text += " filler { type: 'gaussian' std: 1 } bias_filler { type: 'gaussian' std: 1 }";
  return LayerFromText(text + " }");
}

// Index into a parameter of `param_axes` axes applied from `axis` for flat element j of
// `shape`: the row-major index of j's coordinates on axes [axis, axis + param_axes).
int ParamIndex(const std::vector<int>& shape, int j, int axis, int param_axes) {
  std::vector<int> coord(shape.size());
  for (int a = static_cast<int>(shape.size()) - 1; a >= 0; --a) {
    coord[a] = j % shape[a];
    j /= shape[a];
  }
  int index = 0;
  for (int a = axis; a < axis + param_axes; ++a) index = index * shape[a] + coord[a];
  return index;
}

std::string Trace(int axis, int num_axes, bool bias_term) {
  return "axis " + std::to_string(axis) + " num_axes " + std::to_string(num_axes) +
         (bias_term ? " with bias" : "");
}

struct Combo {
  int axis;
  int num_axes;
  std::vector<int> expected_shape;  // for a (2, 3, 4, 5) bottom
};

const Combo kCombos[] = {{0, 0, {}},      {1, 1, {3}},  {1, 2, {3, 4}}, {2, -1, {4, 5}},
                         {-1, 1, {5}},    {0, -1, {2, 3, 4, 5}},         {0, 1, {2}},
                         {2, 0, {}}};

TEST(ScaleLayerTest, BlobsInCaffeOrderWithDefaults) {
  for (const Combo& c : kCombos) {
    for (bool bias_term : {false, true}) {
      SCOPED_TRACE(Trace(c.axis, c.num_axes, bias_term));
      Blob x({2, 3, 4, 5}), y;
      ScaleLayer layer(ScaleParam(c.axis, c.num_axes, bias_term, /*random=*/false));
      layer.SetUp({&x}, {&y});
      ASSERT_EQ(layer.blobs().size(), bias_term ? 2u : 1u);
      const Blob& scale = *layer.blobs()[0];
      EXPECT_EQ(scale.shape(), c.expected_shape);
      for (int k = 0; k < scale.count(); ++k) EXPECT_EQ(scale.cpu_data()[k], 1.f);  // default 1
      if (bias_term) {
        EXPECT_EQ(layer.blobs()[1]->shape(), c.expected_shape);
        EXPECT_EQ(layer.blobs()[1]->asum_data(), 0.f);  // default 0
      }
    }
  }
  // With the scale as bottom[1], only the bias is a blob, shaped like bottom[1].
  Blob x({2, 3, 4, 5}), s({3, 4}), y;
  ScaleLayer with_bias(ScaleParam(1, 1, true, false));
  with_bias.SetUp({&x, &s}, {&y});
  ASSERT_EQ(with_bias.blobs().size(), 1u);
  EXPECT_EQ(with_bias.blobs()[0]->shape(), (std::vector<int>{3, 4}));
  ScaleLayer without_bias(ScaleParam(1, 1, false, false));
  without_bias.SetUp({&x, &s}, {&y});
  EXPECT_TRUE(without_bias.blobs().empty());
}

// Forward and backward against the definition. `s` is bottom[1] or nullptr for a learned
// scale; `param_axis` is the canonical axis the scale starts at.
void CheckAgainstReference(ScaleLayer* layer, Blob* x, Blob* s, int param_axis, bool bias_term) {
  Blob y;
  BlobVec bottom{x};
  if (s != nullptr) bottom.push_back(s);
  layer->SetUp(bottom, {&y});
  Blob& scale = s != nullptr ? *s : *layer->blobs()[0];
  Blob* bias = bias_term ? layer->blobs().back().get() : nullptr;
  layer->Forward(bottom, {&y});
  const std::vector<int>& shape = x->shape();
  const int k_axes = scale.num_axes();
  for (int j = 0; j < x->count(); ++j) {
    const int k = ParamIndex(shape, j, param_axis, k_axes);
    const double expected = static_cast<double>(x->cpu_data()[j]) * scale.cpu_data()[k] +
                            (bias != nullptr ? bias->cpu_data()[k] : 0.0);
    ASSERT_NEAR(y.cpu_data()[j], expected, 1e-6 * (1 + std::fabs(expected))) << j;
  }
  testing::FillUniform(&y, -1.f, 1.f, 3);
  std::copy(y.cpu_data(), y.cpu_data() + y.count(), y.mutable_cpu_diff());
  // Learned blobs add their gradients to the diff; a bottom's diff is overwritten.
  std::fill(scale.mutable_cpu_diff(), scale.mutable_cpu_diff() + scale.count(), 1.f);
  std::vector<double> scale_diff(scale.count(), s != nullptr ? 0.0 : 1.0);
  std::vector<double> bias_diff(scale.count(), 1.0);
  if (bias != nullptr) {
    std::fill(bias->mutable_cpu_diff(), bias->mutable_cpu_diff() + bias->count(), 1.f);
  }
  layer->Backward({&y}, std::vector<bool>(bottom.size(), true), bottom);
  for (int j = 0; j < x->count(); ++j) {
    const int k = ParamIndex(shape, j, param_axis, k_axes);
    const float dy = y.cpu_diff()[j];
    ASSERT_EQ(x->cpu_diff()[j], dy * scale.cpu_data()[k]) << j;
    scale_diff[k] += static_cast<double>(dy) * x->cpu_data()[j];
    bias_diff[k] += dy;
  }
  for (int k = 0; k < scale.count(); ++k) {
    EXPECT_NEAR(scale.cpu_diff()[k], scale_diff[k], 1e-4 * (1 + std::fabs(scale_diff[k]))) << k;
    if (bias != nullptr) {
      EXPECT_NEAR(bias->cpu_diff()[k], bias_diff[k], 1e-4 * (1 + std::fabs(bias_diff[k]))) << k;
    }
  }
}

TEST(ScaleLayerTest, LearnedScaleMatchesReference) {
  for (const Combo& c : kCombos) {
    for (bool bias_term : {false, true}) {
      SCOPED_TRACE(Trace(c.axis, c.num_axes, bias_term));
      Blob x({2, 3, 4, 5});
      testing::FillGaussian(&x, 0, 1, 11);
      ScaleLayer layer(ScaleParam(c.axis, c.num_axes, bias_term));
      const int axis = c.num_axes == 0 ? 0 : (c.axis < 0 ? c.axis + 4 : c.axis);
      CheckAgainstReference(&layer, &x, nullptr, axis, bias_term);
    }
  }
}

TEST(ScaleLayerTest, SecondBottomSuppliesTheScale) {
  struct Case {
    int axis;
    std::vector<int> scale_shape;
  };
  for (const Case& c : {Case{1, {3}}, Case{1, {3, 4}}, Case{2, {4, 5}}, Case{0, {2}},
                        Case{-1, {5}}, Case{2, {}}, Case{0, {2, 3}}}) {
    for (bool bias_term : {false, true}) {
      SCOPED_TRACE("axis " + std::to_string(c.axis) + " scale " +
                   Blob::ShapeString(c.scale_shape) + (bias_term ? " with bias" : ""));
      Blob x({2, 3, 4, 5}), s(c.scale_shape);
      testing::FillGaussian(&x, 0, 1, 12);
      testing::FillGaussian(&s, 0, 1, 13);
      // num_axes in the parameter is ignored: bottom[1]'s axes count.
      ScaleLayer layer(ScaleParam(c.axis, 3, bias_term));
      const int axis = c.scale_shape.empty() ? 0 : (c.axis < 0 ? c.axis + 4 : c.axis);
      CheckAgainstReference(&layer, &x, &s, axis, bias_term);
    }
  }
}

TEST(ScaleLayerTest, Gradient) {
  for (const auto& [axis, num_axes] : {std::pair{1, 1}, std::pair{0, 0}, std::pair{2, -1},
                                       std::pair{0, 2}, std::pair{1, 2}}) {
    for (bool bias_term : {false, true}) {
      SCOPED_TRACE(Trace(axis, num_axes, bias_term));
      Blob x({2, 3, 2, 2}), y;
      testing::FillGaussian(&x, 0, 1, 14);
      ScaleLayer layer(ScaleParam(axis, num_axes, bias_term));
      testing::GradientChecker checker(1e-2f, 1e-3f);
      checker.CheckGradientExhaustive(&layer, {&x}, {&y});
    }
  }
  for (const std::vector<int>& scale_shape : {std::vector<int>{3, 2}, std::vector<int>{}}) {
    for (bool bias_term : {false, true}) {
      SCOPED_TRACE("bottom[1] " + Blob::ShapeString(scale_shape) + (bias_term ? " with bias" : ""));
      Blob x({2, 3, 2, 2}), s(scale_shape), y;
      testing::FillGaussian(&x, 0, 1, 15);
      testing::FillGaussian(&s, 0, 1, 16);
      ScaleLayer layer(ScaleParam(1, 1, bias_term));
      testing::GradientChecker checker(1e-2f, 1e-3f);
      checker.CheckGradientExhaustive(&layer, {&x, &s}, {&y});
    }
  }
}

// In place, forward, the bottom diff, the parameter diffs and bottom[1]'s diff all equal
// those of out-of-place use, bit for bit.
void CheckInPlace(bool second_bottom, bool bias_term, bool freeze_scale) {
  SCOPED_TRACE(std::string(second_bottom ? "bottom[1] scale" : "learned scale") +
               (bias_term ? " with bias" : "") + (freeze_scale ? " frozen" : ""));
  const std::vector<int> shape{2, 3, 4, 5};
  Blob x(shape), y, inplace(shape), s1({3}), s2({3});
  testing::FillGaussian(&x, 0, 1, 17);
  testing::FillGaussian(&s1, 0, 1, 18);
  testing::FillGaussian(&s2, 0, 1, 18);
  std::copy(x.cpu_data(), x.cpu_data() + x.count(), inplace.mutable_cpu_data());
  ScaleLayer separate(ScaleParam(1, 1, bias_term)), same(ScaleParam(1, 1, bias_term));
  BlobVec separate_bottom{&x}, same_bottom{&inplace};
  if (second_bottom) {
    separate_bottom.push_back(&s1);
    same_bottom.push_back(&s2);
  }
  separate.SetUp(separate_bottom, {&y});
  same.SetUp(same_bottom, {&inplace});
  for (size_t p = 0; p < separate.blobs().size(); ++p) {
    Blob& from = *separate.blobs()[p];
    Blob& to = *same.blobs()[p];
    std::copy(from.cpu_data(), from.cpu_data() + from.count(), to.mutable_cpu_data());
    std::fill(from.mutable_cpu_diff(), from.mutable_cpu_diff() + from.count(), 0.f);
    std::fill(to.mutable_cpu_diff(), to.mutable_cpu_diff() + to.count(), 0.f);
  }
  if (freeze_scale) {
    separate.set_param_propagate_down(0, false);
    same.set_param_propagate_down(0, false);
  }
  separate.Forward(separate_bottom, {&y});
  same.Forward(same_bottom, {&inplace});
  for (int i = 0; i < x.count(); ++i) ASSERT_EQ(inplace.cpu_data()[i], y.cpu_data()[i]) << i;
  testing::FillUniform(&y, -1.f, 1.f, 19);
  std::copy(y.cpu_data(), y.cpu_data() + y.count(), y.mutable_cpu_diff());
  std::copy(y.cpu_data(), y.cpu_data() + y.count(), inplace.mutable_cpu_diff());
  const std::vector<bool> down(separate_bottom.size(), true);
  separate.Backward({&y}, down, separate_bottom);
  same.Backward({&inplace}, down, same_bottom);
  for (int i = 0; i < x.count(); ++i) ASSERT_EQ(inplace.cpu_diff()[i], x.cpu_diff()[i]) << i;
  for (size_t p = 0; p < separate.blobs().size(); ++p) {
    for (int k = 0; k < separate.blobs()[p]->count(); ++k) {
      EXPECT_EQ(same.blobs()[p]->cpu_diff()[k], separate.blobs()[p]->cpu_diff()[k])
          << "blob " << p << " element " << k;
    }
  }
  if (freeze_scale) {
    EXPECT_EQ(same.blobs()[0]->asum_diff(), 0.f);
  }
  if (second_bottom) {
    for (int k = 0; k < 3; ++k) EXPECT_EQ(s2.cpu_diff()[k], s1.cpu_diff()[k]) << k;
    EXPECT_GT(s1.asum_diff(), 0.f);
  }
}

TEST(ScaleLayerTest, InPlaceMatchesOutOfPlace) {
  for (bool second_bottom : {false, true}) {
    for (bool bias_term : {false, true}) CheckInPlace(second_bottom, bias_term, false);
  }
  CheckInPlace(false, true, /*freeze_scale=*/true);  // no copy kept; bias still learns
}

TEST(ScaleLayerTest, BadParametersAndShapesNameTheLayer) {
  for (const auto& [axis, num_axes] : {std::pair{4, 1}, std::pair{-5, 1}, std::pair{1, -2},
                                       std::pair{2, 3}}) {
    SCOPED_TRACE(Trace(axis, num_axes, false));
    Blob x({2, 3, 4, 5}), y;
    ScaleLayer layer(ScaleParam(axis, num_axes, true));
    testing::ExpectError([&] { layer.SetUp({&x}, {&y}); }, ErrorCode::kInvalidArgument,
                         {"Layer 's' (Scale)"});
  }
  for (const auto& [axis, scale_shape] : {std::pair{1, std::vector<int>{4}},
                                          std::pair{2, std::vector<int>{4, 5, 6}},
                                          std::pair{1, std::vector<int>{3, 5}},
                                          std::pair{7, std::vector<int>{3}}}) {
    SCOPED_TRACE("axis " + std::to_string(axis) + " scale " + Blob::ShapeString(scale_shape));
    Blob x({2, 3, 4, 5}), s(scale_shape), y;
    ScaleLayer layer(ScaleParam(axis, 1, false));
    testing::ExpectError([&] { layer.SetUp({&x, &s}, {&y}); }, ErrorCode::kInvalidArgument,
                         {"Layer 's' (Scale)"});
  }
  Blob x({2}), y;
  ScaleLayer layer(ScaleParam(0, 1, false));
  testing::ExpectError([&] { layer.SetUp({&x, &x, &x}, {&y}); }, ErrorCode::kInvalidArgument,
                       {"Layer 's' (Scale)"});
}

}  // namespace
}  // namespace crema
