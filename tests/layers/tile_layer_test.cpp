#include "crema/layers/tile_layer.h"

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

caffe::LayerParameter TileParam(const std::string& fields) {
  return LayerFromText("name: 'tile' type: 'Tile' tile_param { " + fields + " }");
}

std::string Fields(int axis, int tiles) {
  return "axis: " + std::to_string(axis) + " tiles: " + std::to_string(tiles);
}

TEST(TileLayerTest, IsRegistered) {
  EXPECT_STREQ(LayerRegistry::Global().Create(TileParam("tiles: 2"))->type(), "Tile");
}

TEST(TileLayerTest, ForwardMatchesIndexing) {
  const std::vector<int> shape{2, 3, 4, 2};
  for (int axis : {0, 1, 2, 3, -1, -3}) {
    for (int tiles : {1, 2, 3}) {
      SCOPED_TRACE(Fields(axis, tiles));
      const int a = axis < 0 ? axis + 4 : axis;
      Blob x(shape), y;
      FillUniform(&x, -1.f, 1.f, 41);
      TileLayer layer(TileParam(Fields(axis, tiles)));
      layer.SetUp({&x}, {&y});
      std::vector<int> top_shape = shape;
      top_shape[a] *= tiles;
      ASSERT_EQ(y.shape(), top_shape);
      layer.Forward({&x}, {&y});
      // top index (.., k, ..) on the axis reads bottom (.., k mod d, ..).
      for (int i = 0; i < y.count(); ++i) {
        std::vector<int> index(4);
        int flat = i;
        for (int k = 3; k >= 0; --k) {
          index[k] = flat % top_shape[k];
          flat /= top_shape[k];
        }
        index[a] %= shape[a];
        const int src = ((index[0] * shape[1] + index[1]) * shape[2] + index[2]) * shape[3] +
                        index[3];
        ASSERT_EQ(y.cpu_data()[i], x.cpu_data()[src]) << "top element " << i;
      }
    }
  }
}

TEST(TileLayerTest, Gradient) {
  for (int axis : {0, 1, 3}) {
    for (int tiles : {1, 3}) {
      SCOPED_TRACE(Fields(axis, tiles));
      Blob x({2, 3, 2, 2}), y;
      FillUniform(&x, -1.f, 1.f, 42);
      TileLayer layer(TileParam(Fields(axis, tiles)));
      testing::GradientChecker checker(1e-2f, 1e-3f);
      checker.CheckGradient(&layer, {&x}, {&y});
    }
  }
}

TEST(TileLayerTest, BackwardSumsTheTiles) {
  Blob x({2, 2}), y;
  TileLayer layer(TileParam(Fields(1, 3)));
  layer.SetUp({&x}, {&y});
  layer.Forward({&x}, {&y});
  for (int i = 0; i < y.count(); ++i) y.mutable_cpu_diff()[i] = static_cast<float>(i);
  layer.Backward({&y}, {true}, {&x});
  // Row 0 of the top's diff: 0 1 | 2 3 | 4 5; row 1: 6 7 | 8 9 | 10 11.
  EXPECT_EQ(x.cpu_diff()[0], 0.f + 2 + 4);
  EXPECT_EQ(x.cpu_diff()[1], 1.f + 3 + 5);
  EXPECT_EQ(x.cpu_diff()[2], 6.f + 8 + 10);
  EXPECT_EQ(x.cpu_diff()[3], 7.f + 9 + 11);
}

TEST(TileLayerTest, BadParametersNameTheLayer) {
  for (const auto& [fields, fragment] :
       std::vector<std::pair<std::string, std::string>>{{"axis: 1", "tiles"},
                                                        {"tiles: 0", "positive"},
                                                        {"tiles: -2", "positive"},
                                                        {"tiles: 2 axis: 2", "axis 2"},
                                                        {"tiles: 2 axis: -3", "axis -3"}}) {
    SCOPED_TRACE(fields);
    Blob x({2, 3}), y;
    TileLayer layer(TileParam(fields));
    ExpectError([&] { layer.SetUp({&x}, {&y}); }, ErrorCode::kInvalidArgument,
                {"Layer 'tile' (Tile)", fragment});
  }
}

}  // namespace
}  // namespace crema
