#include "crema/layers/argmax_layer.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "crema/layers/registry.h"
#include "test_helpers.h"

namespace crema {
namespace {

using testing::ExpectError;
using testing::FillUniform;
using testing::LayerFromText;

caffe::LayerParameter ArgMaxParam(const std::string& fields) {
  return LayerFromText("name: 'argmax' type: 'ArgMax' argmax_param { " + fields + " }");
}

// The k best of `values` by repeated selection: the largest value not yet taken, and among
// equal values the largest index.
std::vector<int> Best(const std::vector<float>& values, int k) {
  std::vector<bool> taken(values.size(), false);
  std::vector<int> best;
  for (int j = 0; j < k; ++j) {
    int pick = -1;
    for (int i = 0; i < static_cast<int>(values.size()); ++i) {
      if (taken[i]) continue;
      if (pick < 0 || values[i] >= values[pick]) pick = i;
    }
    taken[pick] = true;
    best.push_back(pick);
  }
  return best;
}

struct Case {
  std::string fields;
  std::vector<int> bottom;
  std::vector<int> top;
};

TEST(ArgMaxLayerTest, IsRegistered) {
  EXPECT_STREQ(LayerRegistry::Global().Create(ArgMaxParam(""))->type(), "ArgMax");
}

TEST(ArgMaxLayerTest, WithoutAxisSearchesEachItem) {
  const std::vector<Case> cases = {
      {"", {4, 10}, {4, 1, 1}},
      {"top_k: 3", {4, 10}, {4, 1, 3}},
      {"out_max_val: true", {4, 10}, {4, 2, 1}},
      {"out_max_val: true top_k: 4", {3, 2, 3, 2}, {3, 2, 4, 1}},
      {"top_k: 12", {2, 3, 2, 2}, {2, 1, 12, 1}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.fields);
    Blob x(c.bottom), y;
    FillUniform(&x, -1.f, 1.f, 81);
    ArgMaxLayer layer(ArgMaxParam(c.fields));
    layer.SetUp({&x}, {&y});
    ASSERT_EQ(y.shape(), c.top);
    layer.Forward({&x}, {&y});
    const bool with_values = c.fields.find("out_max_val") != std::string::npos;
    const int k = c.top[2];
    const int d = x.count(1);
    for (int n = 0; n < c.bottom[0]; ++n) {
      const std::vector<float> item(x.cpu_data() + n * d, x.cpu_data() + (n + 1) * d);
      const std::vector<int> best = Best(item, k);
      for (int j = 0; j < k; ++j) {
        const int base = n * (with_values ? 2 : 1) * k;
        ASSERT_EQ(y.cpu_data()[base + j], static_cast<float>(best[j])) << n << " " << j;
        if (with_values) {
          ASSERT_EQ(y.cpu_data()[base + k + j], item[best[j]]) << n << " " << j;
        }
      }
    }
  }
}

TEST(ArgMaxLayerTest, AlongAnAxis) {
  const std::vector<int> shape{2, 5, 3, 4};
  for (int axis : {0, 1, 2, 3, -1}) {
    for (int top_k : {1, 2}) {
      for (bool values : {false, true}) {
        const std::string fields = "axis: " + std::to_string(axis) + " top_k: " +
                                   std::to_string(top_k) +
                                   (values ? " out_max_val: true" : "");
        SCOPED_TRACE(fields);
        const int a = axis < 0 ? axis + 4 : axis;
        Blob x(shape), y;
        FillUniform(&x, -1.f, 1.f, 82);
        ArgMaxLayer layer(ArgMaxParam(fields));
        layer.SetUp({&x}, {&y});
        std::vector<int> top_shape = shape;
        top_shape[a] = top_k;
        ASSERT_EQ(y.shape(), top_shape);
        layer.Forward({&x}, {&y});
        const int outer = x.count(0, a), d = shape[a], inner = x.count(a + 1);
        for (int o = 0; o < outer; ++o) {
          for (int i = 0; i < inner; ++i) {
            std::vector<float> line;
            for (int j = 0; j < d; ++j) line.push_back(x.cpu_data()[(o * d + j) * inner + i]);
            const std::vector<int> best = Best(line, top_k);
            for (int j = 0; j < top_k; ++j) {
              const float expected = values ? line[best[j]] : static_cast<float>(best[j]);
              ASSERT_EQ(y.cpu_data()[(o * top_k + j) * inner + i], expected)
                  << "o " << o << " i " << i << " j " << j;
            }
          }
        }
      }
    }
  }
}

TEST(ArgMaxLayerTest, TiesRankTheLargerIndexFirst) {
  Blob x({1, 6}), y;
  const std::vector<float> v = {1, 3, 0, 3, 2, 3};
  for (int i = 0; i < 6; ++i) x.mutable_cpu_data()[i] = v[i];
  ArgMaxLayer layer(ArgMaxParam("top_k: 4"));
  layer.SetUp({&x}, {&y});
  layer.Forward({&x}, {&y});
  EXPECT_EQ(y.cpu_data()[0], 5.f);
  EXPECT_EQ(y.cpu_data()[1], 3.f);
  EXPECT_EQ(y.cpu_data()[2], 1.f);
  EXPECT_EQ(y.cpu_data()[3], 4.f);
  ArgMaxLayer one(ArgMaxParam(""));
  one.SetUp({&x}, {&y});
  one.Forward({&x}, {&y});
  EXPECT_EQ(y.cpu_data()[0], 5.f);
}

TEST(ArgMaxLayerTest, NoGradient) {
  Blob x({2, 3}), y;
  ArgMaxLayer layer(ArgMaxParam(""));
  EXPECT_FALSE(layer.AllowForceBackward(0));
  layer.SetUp({&x}, {&y});
  layer.Forward({&x}, {&y});
  for (int i = 0; i < x.count(); ++i) x.mutable_cpu_diff()[i] = 5.f;
  layer.Backward({&y}, {true}, {&x});
  for (int i = 0; i < x.count(); ++i) EXPECT_EQ(x.cpu_diff()[i], 0.f);
}

TEST(ArgMaxLayerTest, BadParametersNameTheLayer) {
  for (const auto& [fields, fragment] : std::vector<std::pair<std::string, std::string>>{
           {"top_k: 0", "top_k"},
           {"top_k: 7", "top_k 7"},
           {"axis: 1 top_k: 4", "top_k 4"},
           {"axis: 2", "axis 2"},
           {"axis: -3", "axis -3"}}) {
    SCOPED_TRACE(fields);
    Blob x({2, 3}), y;
    ArgMaxLayer layer(ArgMaxParam(fields));
    ExpectError([&] { layer.SetUp({&x}, {&y}); }, ErrorCode::kInvalidArgument,
                {"Layer 'argmax' (ArgMax)", fragment});
  }
}

}  // namespace
}  // namespace crema
