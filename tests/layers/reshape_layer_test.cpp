#include "crema/layers/reshape_layer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "crema/layers/registry.h"
#include "test_helpers.h"

namespace crema {
namespace {

using testing::ExpectError;
using testing::FillGaussian;
using testing::LayerFromText;

caffe::LayerParameter ReshapeParam(const std::string& fields) {
  return LayerFromText("name: 'reshape' type: 'Reshape' reshape_param { " + fields + " }");
}

std::string Dims(const std::vector<int>& dims) {
  std::string s = "shape {";
  for (int d : dims) s += " dim: " + std::to_string(d);
  return s + " }";
}

struct Case {
  std::string fields;
  std::vector<int> bottom, top;
};

TEST(ReshapeLayerTest, IsRegistered) {
  EXPECT_STREQ(LayerRegistry::Global().Create(ReshapeParam(Dims({-1})))->type(), "Reshape");
}

TEST(ReshapeLayerTest, TopShapes) {
  const std::vector<int> b{2, 3, 6, 5};
  const std::vector<Case> cases = {
      {Dims({0, -1}), b, {2, 90}},
      {Dims({-1}), b, {180}},
      {Dims({0, 0, 0, 0}), b, b},
      {Dims({0, 2, 3, -1}), b, {2, 2, 3, 15}},
      {Dims({6, 30}), b, {6, 30}},
      {Dims({-1, 0, 0}), b, {10, 3, 6}},  // 0 copies the bottom's axis at the same position
      {Dims({3, 1}) + " axis: 1 num_axes: 1", b, {2, 3, 1, 6, 5}},
      {Dims({1}) + " axis: 0 num_axes: 0", b, {1, 2, 3, 6, 5}},
      {Dims({1}) + " axis: -1 num_axes: 0", b, {2, 3, 6, 5, 1}},
      {Dims({-1, 1}) + " axis: -2 num_axes: 1", b, {2, 3, 6, 5, 1}},
      {Dims({30}) + " axis: 2", b, {2, 3, 30}},
      {Dims({30}) + " axis: 2 num_axes: 2", b, {2, 3, 30}},
      {Dims({0, -1}) + " axis: 1 num_axes: 2", b, {2, 3, 6, 5}},
      {Dims({-1}) + " axis: 1 num_axes: 2", b, {2, 18, 5}},
      {Dims({}) + " axis: 1 num_axes: 0", b, b},
      {Dims({2, -1}) + " axis: -2", {4, 8}, {4, 2, 4}},
      {Dims({12}) + " axis: 1 num_axes: 2", {2, 3, 4, 5}, {2, 12, 5}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.fields + " on " + Blob::ShapeString(c.bottom));
    Blob x(c.bottom), y;
    ReshapeLayer layer(ReshapeParam(c.fields));
    layer.SetUp({&x}, {&y});
    EXPECT_EQ(y.shape(), c.top);
  }
}

TEST(ReshapeLayerTest, TopSharesDataAndDiff) {
  Blob x({2, 3, 4}), y;
  FillGaussian(&x, 0, 1, 21);
  ReshapeLayer layer(ReshapeParam(Dims({0, -1})));
  layer.SetUp({&x}, {&y});
  layer.Forward({&x}, {&y});
  EXPECT_TRUE(y.SharesDataWith(x));
  ASSERT_EQ(y.shape(), (std::vector<int>{2, 12}));
  for (int i = 0; i < x.count(); ++i) ASSERT_EQ(y.cpu_data()[i], x.cpu_data()[i]);
  // The gradient is the identity: the top's diff is the bottom's diff.
  for (int i = 0; i < y.count(); ++i) y.mutable_cpu_diff()[i] = static_cast<float>(i) - 3.f;
  layer.Backward({&y}, {true}, {&x});
  for (int i = 0; i < x.count(); ++i) ASSERT_EQ(x.cpu_diff()[i], static_cast<float>(i) - 3.f);
}

TEST(ReshapeLayerTest, FollowsTheBottom) {
  Blob x({2, 3, 4}), y;
  ReshapeLayer layer(ReshapeParam(Dims({0, -1})));
  layer.SetUp({&x}, {&y});
  x.Reshape({5, 2, 2});
  FillGaussian(&x, 0, 1, 22);
  layer.Forward({&x}, {&y});
  EXPECT_EQ(y.shape(), (std::vector<int>{5, 4}));
  EXPECT_TRUE(y.SharesDataWith(x));
  EXPECT_EQ(y.cpu_data()[19], x.cpu_data()[19]);
}

void ExpectSetUpError(const std::string& fields, const std::vector<int>& bottom,
                      const std::string& fragment) {
  SCOPED_TRACE(fields);
  Blob x(bottom), y;
  ReshapeLayer layer(ReshapeParam(fields));
  ExpectError([&] { layer.SetUp({&x}, {&y}); }, ErrorCode::kInvalidArgument,
              {"Layer 'reshape' (Reshape)", fragment});
}

TEST(ReshapeLayerTest, BadParametersNameTheLayer) {
  const std::vector<int> b{2, 3, 6, 5};
  ExpectSetUpError(Dims({-1, -1}), b, "more than one -1");
  ExpectSetUpError(Dims({2, -2, 3}), b, "-2");
  ExpectSetUpError(Dims({0, 0, 0}), {2, 3}, "no axis 2 to copy");
  ExpectSetUpError(Dims({7, -1}), b, "not a multiple");
  ExpectSetUpError(Dims({2, 2}), b, "holds 4 values");
  ExpectSetUpError(Dims({1}) + " axis: 5", b, "axis 5");
  ExpectSetUpError(Dims({1}) + " axis: -6", b, "axis -6");
  ExpectSetUpError(Dims({1}) + " axis: 3 num_axes: 2", b, "num_axes 2");
  ExpectSetUpError(Dims({1}) + " num_axes: -2", b, "num_axes");
  Blob x(b);
  ReshapeLayer layer(ReshapeParam(Dims({-1})));
  ExpectError([&] { layer.SetUp({&x}, {&x}); }, ErrorCode::kInvalidArgument,
              {"Layer 'reshape' (Reshape)", "in place"});
}

}  // namespace
}  // namespace crema
