#include "crema/layers/flatten_layer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "test_helpers.h"

namespace crema {
namespace {

using testing::FillGaussian;
using testing::LayerFromText;

caffe::LayerParameter FlattenParam(const std::string& fields) {
  return LayerFromText("name: 'flat' type: 'Flatten' flatten_param { " + fields + " }");
}

TEST(FlattenLayerTest, Shapes) {
  struct Case {
    std::string fields;
    std::vector<int> expected;
  };
  const Case cases[] = {
      {"", {2, 60}},
      {"axis: 0", {120}},
      {"axis: 1 end_axis: 2", {2, 12, 5}},
      {"axis: -2", {2, 3, 20}},
      {"axis: 2 end_axis: -2", {2, 3, 4, 5}},
      {"axis: 0 end_axis: 1", {6, 4, 5}},
      {"axis: 3 end_axis: 3", {2, 3, 4, 5}},
  };
  for (const Case& c : cases) {
    Blob x({2, 3, 4, 5}), y;
    FillGaussian(&x, 0, 1, 101);
    FlattenLayer layer(FlattenParam(c.fields));
    layer.SetUp({&x}, {&y});
    layer.Forward({&x}, {&y});
    EXPECT_EQ(y.shape(), c.expected) << c.fields;
    // Row-major order is unchanged: element i of the top is element i of the bottom.
    for (int i = 0; i < x.count(); ++i) ASSERT_EQ(y.cpu_data()[i], x.cpu_data()[i]) << c.fields;
  }
}

TEST(FlattenLayerTest, SharesDataAndDiff) {
  Blob x({2, 3, 4}), y;
  FlattenLayer layer(FlattenParam(""));
  layer.SetUp({&x}, {&y});
  layer.Forward({&x}, {&y});
  EXPECT_TRUE(y.SharesDataWith(x));
  y.mutable_cpu_diff()[5] = 3.f;
  layer.Backward({&y}, {true}, {&x});
  EXPECT_EQ(x.cpu_diff()[5], 3.f);
  // A reshaped bottom is followed.
  x.Reshape({7, 3, 4});
  layer.Forward({&x}, {&y});
  EXPECT_EQ(y.shape(), (std::vector<int>{7, 12}));
  EXPECT_TRUE(y.SharesDataWith(x));
}

// The top's diff is the bottom's diff, so the gradient (the identity) needs no Backward work.
// GradientChecker zeroes bottom diffs after setting the top's, which cannot work when they
// are one buffer; this checks the same identity directly.
TEST(FlattenLayerTest, GradientIsIdentity) {
  Blob x({2, 3, 4}), y;
  FillGaussian(&x, 0, 1, 102);
  FlattenLayer layer(FlattenParam("axis: 0"));
  layer.SetUp({&x}, {&y});
  layer.Forward({&x}, {&y});
  FillGaussian(&y, 0, 1, 103);  // writes the shared data; copy it into the top diff
  std::copy(y.cpu_data(), y.cpu_data() + y.count(), y.mutable_cpu_diff());
  layer.Backward({&y}, {true}, {&x});
  for (int i = 0; i < x.count(); ++i) ASSERT_EQ(x.cpu_diff()[i], x.cpu_data()[i]);
}

std::string SetUpError(const std::string& fields, bool in_place = false) {
  Blob x({2, 3, 4}), y;
  FlattenLayer layer(FlattenParam(fields));
  try {
    layer.SetUp({&x}, {in_place ? &x : &y});
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(FlattenLayerTest, Errors) {
  const std::string axis = SetUpError("axis: 3");
  EXPECT_NE(axis.find("Layer 'flat' (Flatten)"), std::string::npos) << axis;
  EXPECT_NE(axis.find("flatten_param.axis 3"), std::string::npos) << axis;
  const std::string end = SetUpError("end_axis: -4");
  EXPECT_NE(end.find("flatten_param.end_axis -4"), std::string::npos) << end;
  const std::string order = SetUpError("axis: 2 end_axis: 1");
  EXPECT_NE(order.find("before"), std::string::npos) << order;
  const std::string inplace = SetUpError("", /*in_place=*/true);
  EXPECT_NE(inplace.find("in place"), std::string::npos) << inplace;
}

}  // namespace
}  // namespace crema
