#include "crema/layers/batch_reindex_layer.h"

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

caffe::LayerParameter ReindexParam() {
  return LayerFromText("name: 'reindex' type: 'BatchReindex'");
}

void SetIndices(Blob* blob, const std::vector<float>& values) {
  blob->Reshape({static_cast<int>(values.size())});
  for (size_t i = 0; i < values.size(); ++i) blob->mutable_cpu_data()[i] = values[i];
}

TEST(BatchReindexLayerTest, IsRegistered) {
  EXPECT_STREQ(LayerRegistry::Global().Create(ReindexParam())->type(), "BatchReindex");
}

TEST(BatchReindexLayerTest, ForwardPicksItems) {
  Blob x({5, 2, 3}), idx, y;
  FillUniform(&x, -1.f, 1.f, 51);
  // Repeats, any order, fewer and more picks than items; 3.9 truncates to 3.
  for (const std::vector<float>& picks : std::vector<std::vector<float>>{
           {4, 0, 2}, {1, 1, 1, 3, 0, 4, 2}, {3.9f}, {}}) {
    SetIndices(&idx, picks);
    BatchReindexLayer layer(ReindexParam());
    layer.SetUp({&x, &idx}, {&y});
    layer.Forward({&x, &idx}, {&y});
    ASSERT_EQ(y.shape(), (std::vector<int>{static_cast<int>(picks.size()), 2, 3}));
    for (size_t m = 0; m < picks.size(); ++m) {
      const int n = static_cast<int>(picks[m]);
      for (int i = 0; i < 6; ++i) {
        ASSERT_EQ(y.cpu_data()[m * 6 + i], x.cpu_data()[n * 6 + i]) << "pick " << m;
      }
    }
  }
}

TEST(BatchReindexLayerTest, BackwardAccumulatesRepeats) {
  Blob x({4, 3}), idx, y;
  SetIndices(&idx, {2, 0, 2, 2});
  BatchReindexLayer layer(ReindexParam());
  layer.SetUp({&x, &idx}, {&y});
  layer.Forward({&x, &idx}, {&y});
  for (int i = 0; i < y.count(); ++i) y.mutable_cpu_diff()[i] = static_cast<float>(i + 1);
  for (int i = 0; i < x.count(); ++i) x.mutable_cpu_diff()[i] = 7.f;  // stale values
  idx.mutable_cpu_diff()[0] = 7.f;
  layer.Backward({&y}, {true, true}, {&x, &idx});
  // Item 2 was picked at positions 0, 2 and 3; item 0 at position 1; items 1 and 3 never.
  const std::vector<float> expected = {4, 5, 6, 0, 0, 0, 1 + 7 + 10, 2 + 8 + 11, 3 + 9 + 12,
                                       0, 0, 0};
  for (int i = 0; i < x.count(); ++i) EXPECT_EQ(x.cpu_diff()[i], expected[i]) << i;
  for (int i = 0; i < idx.count(); ++i) EXPECT_EQ(idx.cpu_diff()[i], 0.f) << i;
}

TEST(BatchReindexLayerTest, Gradient) {
  Blob x({4, 2, 2}), idx, y;
  FillUniform(&x, -1.f, 1.f, 52);
  SetIndices(&idx, {3, 1, 1, 0, 3});
  BatchReindexLayer layer(ReindexParam());
  testing::GradientChecker checker(1e-2f, 1e-3f);
  checker.CheckGradient(&layer, {&x, &idx}, {&y}, /*check_bottom=*/0);
}

TEST(BatchReindexLayerTest, IndicesAreNotForceBackward) {
  BatchReindexLayer layer(ReindexParam());
  EXPECT_TRUE(layer.AllowForceBackward(0));
  EXPECT_FALSE(layer.AllowForceBackward(1));
}

TEST(BatchReindexLayerTest, OutOfRangeIndexIsAnErrorAtForward) {
  for (const std::vector<float>& picks :
       std::vector<std::vector<float>>{{0, 5}, {-1}, {1, 2, 7.5f}}) {
    Blob x({5, 2}), idx, y;
    SetIndices(&idx, {0});
    BatchReindexLayer layer(ReindexParam());
    layer.SetUp({&x, &idx}, {&y});
    SetIndices(&idx, picks);
    ExpectError([&] { layer.Forward({&x, &idx}, {&y}); }, ErrorCode::kInvalidArgument,
                {"Layer 'reindex' (BatchReindex)", "position " + std::to_string(picks.size() - 1),
                 "[0, 5)"});
  }
}

TEST(BatchReindexLayerTest, BadShapesNameTheLayer) {
  Blob x({5, 2}), idx({2, 1}), y;
  BatchReindexLayer layer(ReindexParam());
  ExpectError([&] { layer.SetUp({&x, &idx}, {&y}); }, ErrorCode::kInvalidArgument,
              {"Layer 'reindex' (BatchReindex)", "1-D"});
  Blob scalar(std::vector<int>{}), idx1({1});
  BatchReindexLayer layer2(ReindexParam());
  ExpectError([&] { layer2.SetUp({&scalar, &idx1}, {&y}); }, ErrorCode::kInvalidArgument,
              {"Layer 'reindex' (BatchReindex)", "scalar"});
}

}  // namespace
}  // namespace crema
