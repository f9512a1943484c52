#include "crema/layers/crop_layer.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "crema/layers/registry.h"
#include "gradient_checker.h"
#include "test_helpers.h"

namespace crema {
namespace {

using testing::ExpectError;
using testing::FillUniform;
using testing::LayerFromText;

caffe::LayerParameter CropParam(const std::string& fields) {
  return LayerFromText("name: 'crop' type: 'Crop' crop_param { " + fields + " }");
}

struct Case {
  std::string fields;
  std::vector<int> bottom, reference;
  std::vector<int> top;      // expected top shape
  std::vector<int> offsets;  // expected offset on every axis
};

const std::vector<Case>& Cases() {
  static const std::vector<Case> cases = {
      // Default axis 2, no offset: crop H and W from the top-left corner.
      {"", {2, 3, 6, 7}, {5, 1, 4, 3}, {2, 3, 4, 3}, {0, 0, 0, 0}},
      // One offset for every cropped axis.
      {"offset: 1", {2, 3, 6, 7}, {1, 1, 4, 5}, {2, 3, 4, 5}, {0, 0, 1, 1}},
      // One offset per axis from axis 1 on.
      {"axis: 1 offset: 1 offset: 2 offset: 3", {2, 4, 6, 7}, {9, 2, 3, 4},
       {2, 2, 3, 4}, {0, 1, 2, 3}},
      // Axis 0 crops every axis.
      {"axis: 0 offset: 1 offset: 0 offset: 2 offset: 1", {3, 4, 6, 5}, {2, 4, 3, 4},
       {2, 4, 3, 4}, {1, 0, 2, 1}},
      // A negative axis counts from the end.
      {"axis: -1 offset: 2", {2, 3, 4, 7}, {1, 1, 1, 4}, {2, 3, 4, 4}, {0, 0, 0, 2}},
      // Other ranks.
      {"axis: 1 offset: 3", {4, 9}, {1, 5}, {4, 5}, {0, 3}},
      {"axis: 2 offset: 1 offset: 2 offset: 0", {2, 3, 5, 6, 2}, {1, 1, 3, 2, 2},
       {2, 3, 3, 2, 2}, {0, 0, 1, 2, 0}},
  };
  return cases;
}

// Flat offset of `index` in a row-major `shape`.
int Ravel(const std::vector<int>& index, const std::vector<int>& shape) {
  int flat = 0;
  for (size_t a = 0; a < shape.size(); ++a) flat = flat * shape[a] + index[a];
  return flat;
}

std::vector<int> Unravel(int flat, const std::vector<int>& shape) {
  std::vector<int> index(shape.size());
  for (int a = static_cast<int>(shape.size()) - 1; a >= 0; --a) {
    index[a] = flat % shape[a];
    flat /= shape[a];
  }
  return index;
}

TEST(CropLayerTest, IsRegistered) {
  EXPECT_STREQ(LayerRegistry::Global().Create(CropParam(""))->type(), "Crop");
}

TEST(CropLayerTest, ForwardMatchesIndexing) {
  for (const Case& c : Cases()) {
    SCOPED_TRACE(c.fields);
    Blob x(c.bottom), ref(c.reference), y;
    FillUniform(&x, -1.f, 1.f, 3);
    FillUniform(&ref, -1.f, 1.f, 4);
    CropLayer layer(CropParam(c.fields));
    layer.SetUp({&x, &ref}, {&y});
    ASSERT_EQ(y.shape(), c.top);
    layer.Forward({&x, &ref}, {&y});
    for (int i = 0; i < y.count(); ++i) {
      std::vector<int> index = Unravel(i, c.top);
      for (size_t a = 0; a < index.size(); ++a) index[a] += c.offsets[a];
      ASSERT_EQ(y.cpu_data()[i], x.cpu_data()[Ravel(index, c.bottom)]) << "top element " << i;
    }
  }
}

TEST(CropLayerTest, BackwardScattersIntoZeros) {
  const Case& c = Cases()[2];
  Blob x(c.bottom), ref(c.reference), y;
  FillUniform(&x, -1.f, 1.f, 5);
  CropLayer layer(CropParam(c.fields));
  layer.SetUp({&x, &ref}, {&y});
  layer.Forward({&x, &ref}, {&y});
  for (int i = 0; i < y.count(); ++i) y.mutable_cpu_diff()[i] = static_cast<float>(i + 1);
  for (int i = 0; i < x.count(); ++i) x.mutable_cpu_diff()[i] = 99.f;
  for (int i = 0; i < ref.count(); ++i) ref.mutable_cpu_diff()[i] = 99.f;
  layer.Backward({&y}, {true, true}, {&x, &ref});
  std::vector<float> expected(x.count(), 0.f);
  for (int i = 0; i < y.count(); ++i) {
    std::vector<int> index = Unravel(i, c.top);
    for (size_t a = 0; a < index.size(); ++a) index[a] += c.offsets[a];
    expected[Ravel(index, c.bottom)] = static_cast<float>(i + 1);
  }
  for (int i = 0; i < x.count(); ++i) ASSERT_EQ(x.cpu_diff()[i], expected[i]) << i;
  // The reference gets a zero gradient.
  for (int i = 0; i < ref.count(); ++i) ASSERT_EQ(ref.cpu_diff()[i], 0.f) << i;
}

TEST(CropLayerTest, Gradient) {
  for (const Case& c : Cases()) {
    SCOPED_TRACE(c.fields);
    Blob x(c.bottom), ref(c.reference), y;
    FillUniform(&x, -1.f, 1.f, 6);
    CropLayer layer(CropParam(c.fields));
    testing::GradientChecker checker(1e-2f, 1e-3f);
    checker.CheckGradient(&layer, {&x, &ref}, {&y}, /*check_bottom=*/0);
  }
}

TEST(CropLayerTest, FollowsShapeChanges) {
  CropLayer layer(CropParam("offset: 1"));
  Blob x({2, 3, 6, 7}), ref({2, 3, 4, 5}), y;
  FillUniform(&x, -1.f, 1.f, 7);
  layer.SetUp({&x, &ref}, {&y});
  ref.Reshape({2, 3, 2, 2});
  x.Reshape({4, 3, 5, 5});
  FillUniform(&x, -1.f, 1.f, 8);
  layer.Forward({&x, &ref}, {&y});
  ASSERT_EQ(y.shape(), (std::vector<int>{4, 3, 2, 2}));
  // top[n, c, 1, 0] = x[n, c, 2, 1]
  EXPECT_EQ(y.cpu_data()[y.offset(3, 2, 1, 0)], x.cpu_data()[x.offset(3, 2, 2, 1)]);
}

void ExpectSetUpError(const std::string& fields, const std::vector<int>& bottom,
                      const std::vector<int>& reference, const std::string& fragment) {
  SCOPED_TRACE(fields);
  Blob x(bottom), ref(reference), y;
  CropLayer layer(CropParam(fields));
  ExpectError([&] { layer.SetUp({&x, &ref}, {&y}); }, ErrorCode::kInvalidArgument,
              {"Layer 'crop' (Crop)", fragment});
}

TEST(CropLayerTest, BadParametersNameTheLayer) {
  ExpectSetUpError("", {2, 3, 4, 4}, {2, 3, 5, 4}, "axis 2");             // reference larger
  ExpectSetUpError("offset: 2", {2, 3, 4, 4}, {2, 3, 3, 3}, "axis 2");    // offset too big
  ExpectSetUpError("offset: 0 offset: 3", {2, 3, 4, 5}, {2, 3, 2, 3}, "axis 3");
  ExpectSetUpError("offset: 1 offset: 1 offset: 1", {2, 3, 4, 4}, {2, 3, 2, 2}, "offsets");
  ExpectSetUpError("axis: 4", {2, 3, 4, 4}, {2, 3, 2, 2}, "axis 4");
  ExpectSetUpError("axis: -5", {2, 3, 4, 4}, {2, 3, 2, 2}, "axis -5");
  ExpectSetUpError("", {2, 3, 4, 4}, {2, 3, 2}, "at least the axes");
  Blob x({2, 3, 4, 4}), ref({2, 3, 2, 2});
  CropLayer layer(CropParam(""));
  ExpectError([&] { layer.SetUp({&x, &ref}, {&x}); }, ErrorCode::kInvalidArgument,
              {"Layer 'crop' (Crop)", "in place"});
}

}  // namespace
}  // namespace crema
