#include "crema/layers/slice_layer.h"

#include <gtest/gtest.h>

#include <memory>
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

caffe::LayerParameter SliceParam(const std::string& fields) {
  return LayerFromText("name: 'slice' type: 'Slice' slice_param { " + fields + " }");
}

struct Case {
  std::string fields;
  std::vector<int> bottom;
  int axis;                // canonical
  std::vector<int> sizes;  // each top's size on the axis
};

const std::vector<Case>& Cases() {
  static const std::vector<Case> cases = {
      {"", {2, 6, 3, 2}, 1, {2, 2, 2}},                          // equal split, default axis 1
      {"slice_point: 1 slice_point: 4", {2, 6, 3, 2}, 1, {1, 3, 2}},
      {"axis: 0 slice_point: 3", {5, 2, 3}, 0, {3, 2}},
      {"axis: -1 slice_point: 1 slice_point: 2 slice_point: 4", {2, 3, 5}, 2, {1, 1, 2, 1}},
      {"axis: 2", {2, 3, 4, 2}, 2, {2, 2}},
      {"slice_dim: 2 slice_point: 3", {2, 3, 4, 2}, 2, {3, 1}},  // the deprecated field
      {"axis: 3", {2, 3, 2, 4}, 3, {1, 1, 1, 1}},
  };
  return cases;
}

struct Tops {
  std::vector<std::unique_ptr<Blob>> storage;
  BlobVec vec;
  explicit Tops(size_t n) {
    for (size_t i = 0; i < n; ++i) {
      storage.push_back(std::make_unique<Blob>());
      vec.push_back(storage.back().get());
    }
  }
};

TEST(SliceLayerTest, IsRegistered) {
  EXPECT_STREQ(LayerRegistry::Global().Create(SliceParam(""))->type(), "Slice");
}

TEST(SliceLayerTest, ForwardMatchesIndexing) {
  for (const Case& c : Cases()) {
    SCOPED_TRACE(c.fields);
    Blob x(c.bottom);
    FillUniform(&x, -1.f, 1.f, 31);
    Tops tops(c.sizes.size());
    SliceLayer layer(SliceParam(c.fields));
    layer.SetUp({&x}, tops.vec);
    layer.Forward({&x}, tops.vec);
    const int outer = x.count(0, c.axis), inner = x.count(c.axis + 1), d = x.shape(c.axis);
    int start = 0;
    for (size_t t = 0; t < c.sizes.size(); ++t) {
      std::vector<int> shape = c.bottom;
      shape[c.axis] = c.sizes[t];
      ASSERT_EQ(tops.vec[t]->shape(), shape) << "top " << t;
      for (int o = 0; o < outer; ++o) {
        for (int j = 0; j < c.sizes[t]; ++j) {
          for (int i = 0; i < inner; ++i) {
            ASSERT_EQ(tops.vec[t]->cpu_data()[(o * c.sizes[t] + j) * inner + i],
                      x.cpu_data()[(o * d + start + j) * inner + i])
                << "top " << t << " o " << o << " j " << j << " i " << i;
          }
        }
      }
      start += c.sizes[t];
    }
  }
}

TEST(SliceLayerTest, Gradient) {
  for (const Case& c : Cases()) {
    SCOPED_TRACE(c.fields);
    Blob x(c.bottom);
    FillUniform(&x, -1.f, 1.f, 32);
    Tops tops(c.sizes.size());
    SliceLayer layer(SliceParam(c.fields));
    testing::GradientChecker checker(1e-2f, 1e-3f);
    checker.CheckGradient(&layer, {&x}, tops.vec);
  }
}

TEST(SliceLayerTest, OneTopSharesTheBottom) {
  Blob x({2, 3}), y;
  FillUniform(&x, -1.f, 1.f, 33);
  SliceLayer layer(SliceParam(""));
  layer.SetUp({&x}, {&y});
  layer.Forward({&x}, {&y});
  EXPECT_TRUE(y.SharesDataWith(x));
  EXPECT_EQ(y.shape(), x.shape());
}

TEST(SliceLayerTest, FollowsBatchChanges) {
  Blob x({2, 6}), a, b;
  SliceLayer layer(SliceParam("slice_point: 2"));
  layer.SetUp({&x}, {&a, &b});
  x.Reshape({3, 6});
  FillUniform(&x, -1.f, 1.f, 34);
  layer.Forward({&x}, {&a, &b});
  ASSERT_EQ(a.shape(), (std::vector<int>{3, 2}));
  ASSERT_EQ(b.shape(), (std::vector<int>{3, 4}));
  EXPECT_EQ(a.cpu_data()[5], x.cpu_data()[13]);
  EXPECT_EQ(b.cpu_data()[11], x.cpu_data()[17]);
}

void ExpectSetUpError(const std::string& fields, const std::vector<int>& bottom, int tops,
                      const std::string& fragment) {
  SCOPED_TRACE(fields);
  Blob x(bottom);
  Tops t(static_cast<size_t>(tops));
  SliceLayer layer(SliceParam(fields));
  ExpectError([&] { layer.SetUp({&x}, t.vec); }, ErrorCode::kInvalidArgument,
              {"Layer 'slice' (Slice)", fragment});
}

TEST(SliceLayerTest, BadParametersNameTheLayer) {
  ExpectSetUpError("axis: 1 slice_dim: 1", {2, 4}, 2, "slice_dim");
  ExpectSetUpError("slice_point: 1", {2, 4}, 3, "slice_point");
  ExpectSetUpError("slice_point: 2 slice_point: 2", {2, 4}, 3, "greater than 2");
  ExpectSetUpError("slice_point: 3 slice_point: 1", {2, 4}, 3, "greater than 3");
  ExpectSetUpError("slice_point: 4", {2, 4}, 2, "less than the dimension 4");
  ExpectSetUpError("", {2, 4}, 3, "evenly");
  ExpectSetUpError("axis: 2", {2, 4}, 2, "axis 2");
  ExpectSetUpError("axis: -3", {2, 4}, 2, "axis -3");
  ExpectSetUpError("slice_dim: 2", {2, 4}, 2, "slice_dim 2");
  Blob x({2, 4}), y;
  SliceLayer layer(SliceParam(""));
  ExpectError([&] { layer.SetUp({&x}, {&y, &x}); }, ErrorCode::kInvalidArgument,
              {"Layer 'slice' (Slice)", "in place"});
}

}  // namespace
}  // namespace crema
