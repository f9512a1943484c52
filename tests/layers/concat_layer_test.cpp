#include "crema/layers/concat_layer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "gradient_checker.h"
#include "test_helpers.h"

namespace crema {
namespace {

using testing::FillGaussian;
using testing::GradientChecker;
using testing::LayerFromText;

caffe::LayerParameter ConcatParam(const std::string& fields) {
  return LayerFromText("name: 'cat' type: 'Concat' concat_param { " + fields + " }");
}

// Index tuple of flat offset `i` in `shape`.
std::vector<int> Unravel(int i, const std::vector<int>& shape) {
  std::vector<int> index(shape.size());
  for (int a = static_cast<int>(shape.size()) - 1; a >= 0; --a) {
    index[a] = i % shape[a];
    i /= shape[a];
  }
  return index;
}

int Ravel(const std::vector<int>& index, const std::vector<int>& shape) {
  int flat = 0;
  for (size_t a = 0; a < shape.size(); ++a) flat = flat * shape[a] + index[a];
  return flat;
}

struct Case {
  std::string fields;
  int axis;  // canonical
  std::vector<std::vector<int>> shapes;
};

const std::vector<Case>& Cases() {
  static const std::vector<Case> cases = {
      {"", 1, {{2, 3, 4, 5}, {2, 1, 4, 5}, {2, 6, 4, 5}}},
      {"axis: 0", 0, {{2, 3, 4}, {5, 3, 4}}},
      {"axis: 2", 2, {{2, 3, 1, 5}, {2, 3, 4, 5}}},
      {"axis: -1", 3, {{2, 3, 4, 1}, {2, 3, 4, 2}, {2, 3, 4, 3}}},
      {"concat_dim: 0", 0, {{1, 3}, {4, 3}}},
      {"concat_dim: 1", 1, {{2, 3}, {2, 4}}},
  };
  return cases;
}

struct Blobs {
  std::vector<std::unique_ptr<Blob>> storage;
  BlobVec vec;
  explicit Blobs(const std::vector<std::vector<int>>& shapes, unsigned seed) {
    for (const auto& shape : shapes) {
      storage.push_back(std::make_unique<Blob>(shape));
      FillGaussian(storage.back().get(), 0, 1, seed++);
      vec.push_back(storage.back().get());
    }
  }
};

TEST(ConcatLayerTest, ForwardAndBackwardMatchIndexing) {
  for (const Case& c : Cases()) {
    Blobs bottoms(c.shapes, 111);
    Blob y;
    ConcatLayer layer(ConcatParam(c.fields));
    layer.SetUp(bottoms.vec, {&y});
    layer.Forward(bottoms.vec, {&y});
    std::vector<int> expected_shape = c.shapes[0];
    expected_shape[c.axis] = 0;
    for (const auto& s : c.shapes) expected_shape[c.axis] += s[c.axis];
    ASSERT_EQ(y.shape(), expected_shape) << c.fields;
    // Every top element comes from the bottom whose range along the axis covers it.
    float* dy = y.mutable_cpu_diff();
    for (int i = 0; i < y.count(); ++i) dy[i] = static_cast<float>(i);
    layer.Backward({&y}, std::vector<bool>(c.shapes.size(), true), bottoms.vec);
    for (int i = 0; i < y.count(); ++i) {
      std::vector<int> index = Unravel(i, expected_shape);
      size_t b = 0;
      while (index[c.axis] >= c.shapes[b][c.axis]) index[c.axis] -= c.shapes[b++][c.axis];
      const int j = Ravel(index, c.shapes[b]);
      ASSERT_EQ(y.cpu_data()[i], bottoms.vec[b]->cpu_data()[j]) << c.fields << " element " << i;
      ASSERT_EQ(bottoms.vec[b]->cpu_diff()[j], static_cast<float>(i)) << c.fields;
    }
  }
}

TEST(ConcatLayerTest, BackwardOnlyWhereAsked) {
  Blobs bottoms({{2, 2}, {2, 3}}, 112);
  Blob y;
  ConcatLayer layer(ConcatParam(""));
  layer.SetUp(bottoms.vec, {&y});
  layer.Forward(bottoms.vec, {&y});
  for (Blob* b : bottoms.vec) {
    std::fill(b->mutable_cpu_diff(), b->mutable_cpu_diff() + b->count(), -1.f);
  }
  std::fill(y.mutable_cpu_diff(), y.mutable_cpu_diff() + y.count(), 5.f);
  layer.Backward({&y}, {false, true}, bottoms.vec);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(bottoms.vec[0]->cpu_diff()[i], -1.f);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(bottoms.vec[1]->cpu_diff()[i], 5.f);
}

TEST(ConcatLayerTest, SingleBottomShares) {
  Blobs bottoms({{2, 3}}, 113);
  Blob y;
  ConcatLayer layer(ConcatParam(""));
  layer.SetUp(bottoms.vec, {&y});
  layer.Forward(bottoms.vec, {&y});
  EXPECT_TRUE(y.SharesDataWith(*bottoms.vec[0]));
  y.mutable_cpu_diff()[4] = 2.f;
  layer.Backward({&y}, {true}, bottoms.vec);
  EXPECT_EQ(bottoms.vec[0]->cpu_diff()[4], 2.f);
}

TEST(ConcatLayerTest, Gradient) {
  for (const char* fields : {"axis: 0", "axis: 1", "axis: -1"}) {
    Blobs bottoms({{2, 3, 2}, {2, 3, 2}, {2, 3, 2}}, 114);
    Blob y;
    ConcatLayer layer(ConcatParam(fields));
    GradientChecker checker(1e-2f, 1e-2f);
    checker.CheckGradient(&layer, bottoms.vec, {&y});
  }
}

std::string SetUpError(const std::string& fields, const std::vector<std::vector<int>>& shapes) {
  Blobs bottoms(shapes, 115);
  Blob y;
  ConcatLayer layer(ConcatParam(fields));
  try {
    layer.SetUp(bottoms.vec, {&y});
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(ConcatLayerTest, Errors) {
  const std::string mismatch = SetUpError("", {{2, 3, 4}, {2, 5, 6}});
  EXPECT_NE(mismatch.find("Layer 'cat' (Concat)"), std::string::npos) << mismatch;
  EXPECT_NE(mismatch.find("2 3 4 (24)"), std::string::npos) << mismatch;
  EXPECT_NE(mismatch.find("2 5 6 (60)"), std::string::npos) << mismatch;
  const std::string rank = SetUpError("", {{2, 3, 4}, {2, 3}});
  EXPECT_NE(rank.find("2 3 (6)"), std::string::npos) << rank;
  const std::string both = SetUpError("axis: 1 concat_dim: 1", {{2, 3}, {2, 3}});
  EXPECT_NE(both.find("concat_dim"), std::string::npos) << both;
  const std::string axis = SetUpError("axis: 2", {{2, 3}, {2, 3}});
  EXPECT_NE(axis.find("concat_param.axis 2"), std::string::npos) << axis;
  const std::string dim = SetUpError("concat_dim: 2", {{2, 3}, {2, 3}});
  EXPECT_NE(dim.find("concat_param.concat_dim 2"), std::string::npos) << dim;
  EXPECT_EQ(SetUpError("", {{2, 3, 4}, {2, 5, 4}}), "");
}

}  // namespace
}  // namespace crema
