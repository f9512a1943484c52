#include "crema/layers/input_layer.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "test_helpers.h"

namespace crema {
namespace {

using testing::LayerFromText;

caffe::LayerParameter InputParam(const std::string& shapes) {
  return LayerFromText("name: 'data' type: 'Input' input_param { " + shapes + " }");
}

TEST(InputLayerTest, NoShapeLeavesTopsUnshaped) {
  Blob a, b({3, 4});
  InputLayer layer(InputParam(""));
  layer.SetUp({}, {&a, &b});
  EXPECT_EQ(a.count(), 0);
  EXPECT_EQ(a.num_axes(), 0);
  EXPECT_EQ(b.shape(), (std::vector<int>{3, 4}));
}

TEST(InputLayerTest, OneShapeForEveryTop) {
  Blob a, b;
  InputLayer layer(InputParam("shape { dim: 10 dim: 3 dim: 227 dim: 227 }"));
  layer.SetUp({}, {&a, &b});
  EXPECT_EQ(a.shape(), (std::vector<int>{10, 3, 227, 227}));
  EXPECT_EQ(b.shape(), (std::vector<int>{10, 3, 227, 227}));
}

TEST(InputLayerTest, OneShapePerTop) {
  Blob a, b, c;
  InputLayer layer(InputParam("shape { dim: 64 dim: 1 dim: 28 dim: 28 } shape { dim: 64 } "
                              "shape { }"));
  layer.SetUp({}, {&a, &b, &c});
  EXPECT_EQ(a.shape(), (std::vector<int>{64, 1, 28, 28}));
  EXPECT_EQ(b.shape(), (std::vector<int>{64}));
  EXPECT_EQ(c.num_axes(), 0);
  EXPECT_EQ(c.count(), 1);
}

TEST(InputLayerTest, ForwardKeepsCallerDataAndShape) {
  Blob a;
  InputLayer layer(InputParam("shape { dim: 2 dim: 3 }"));
  layer.SetUp({}, {&a});
  a.mutable_cpu_data()[4] = 7.f;
  layer.Forward({}, {&a});
  EXPECT_EQ(a.cpu_data()[4], 7.f);
  // The caller may reshape the input (e.g. a new batch size); the layer keeps it.
  a.Reshape({5, 3});
  layer.Forward({}, {&a});
  EXPECT_EQ(a.shape(), (std::vector<int>{5, 3}));
  layer.Backward({&a}, {}, {});
}

std::string SetUpError(const std::string& shapes, int bottoms, int tops) {
  Blob blobs[4];
  BlobVec bottom, top;
  for (int i = 0; i < bottoms; ++i) bottom.push_back(&blobs[i]);
  for (int i = 0; i < tops; ++i) top.push_back(&blobs[bottoms + i]);
  InputLayer layer(InputParam(shapes));
  try {
    layer.SetUp(bottom, top);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(InputLayerTest, Errors) {
  const std::string mismatch = SetUpError("shape { dim: 1 } shape { dim: 2 }", 0, 3);
  EXPECT_NE(mismatch.find("Layer 'data' (Input)"), std::string::npos) << mismatch;
  EXPECT_NE(mismatch.find("2 input_param.shape entries for 3 tops"), std::string::npos)
      << mismatch;
  const std::string negative = SetUpError("shape { dim: 2 dim: -1 }", 0, 1);
  EXPECT_NE(negative.find("Layer 'data' (Input)"), std::string::npos) << negative;
  const std::string bottom = SetUpError("", 1, 1);
  EXPECT_NE(bottom.find("takes 0 bottom"), std::string::npos) << bottom;
  const std::string no_top = SetUpError("", 0, 0);
  EXPECT_NE(no_top.find("at least 1 top"), std::string::npos) << no_top;
}

}  // namespace
}  // namespace crema
