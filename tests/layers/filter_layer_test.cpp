#include "crema/layers/filter_layer.h"

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

caffe::LayerParameter FilterParam() {
  return LayerFromText("name: 'filter' type: 'Filter' bottom: 'data' bottom: 'label' "
                       "bottom: 'select' top: 'fdata' top: 'flabel'");
}

void SetValues(Blob* blob, const std::vector<float>& values) {
  for (size_t i = 0; i < values.size(); ++i) blob->mutable_cpu_data()[i] = values[i];
}

TEST(FilterLayerTest, IsRegistered) {
  EXPECT_STREQ(LayerRegistry::Global().Create(FilterParam())->type(), "Filter");
}

TEST(FilterLayerTest, KeepsSelectedItemsInOrder) {
  Blob data({6, 3, 2}), label({6}), select({6, 1, 1, 1}), fdata, flabel;
  FillUniform(&data, -1.f, 1.f, 61);
  SetValues(&label, {10, 11, 12, 13, 14, 15});
  FilterLayer layer(FilterParam());
  layer.SetUp({&data, &label, &select}, {&fdata, &flabel});
  // Before any data, the tops take the whole batch.
  EXPECT_EQ(fdata.shape(), (std::vector<int>{6, 3, 2}));
  EXPECT_EQ(flabel.shape(), (std::vector<int>{6}));

  for (const std::vector<float>& s : std::vector<std::vector<float>>{
           {0, 1, 1, 0, -2.5f, 0}, {1, 1, 1, 1, 1, 1}, {0, 0, 0, 0, 0, 0}, {0, 0, 0, 0, 0, 3}}) {
    SetValues(&select, s);
    layer.Forward({&data, &label, &select}, {&fdata, &flabel});
    std::vector<int> kept;
    for (int n = 0; n < 6; ++n) {
      if (s[n] != 0) kept.push_back(n);
    }
    const int k = static_cast<int>(kept.size());
    ASSERT_EQ(fdata.shape(), (std::vector<int>{k, 3, 2}));
    ASSERT_EQ(flabel.shape(), (std::vector<int>{k}));
    for (int j = 0; j < k; ++j) {
      EXPECT_EQ(flabel.cpu_data()[j], 10.f + kept[j]);
      for (int i = 0; i < 6; ++i) {
        ASSERT_EQ(fdata.cpu_data()[j * 6 + i], data.cpu_data()[kept[j] * 6 + i]);
      }
    }
  }
}

TEST(FilterLayerTest, BackwardScattersAndZeroesTheRest) {
  Blob data({4, 2}), select({4}), fdata;
  SetValues(&select, {1, 0, 0, 1});
  FilterLayer layer(LayerFromText("name: 'filter' type: 'Filter'"));
  layer.SetUp({&data, &select}, {&fdata});
  layer.Forward({&data, &select}, {&fdata});
  ASSERT_EQ(fdata.shape(), (std::vector<int>{2, 2}));
  for (int i = 0; i < 4; ++i) fdata.mutable_cpu_diff()[i] = static_cast<float>(i + 1);
  for (int i = 0; i < 8; ++i) data.mutable_cpu_diff()[i] = 9.f;  // stale values
  for (int i = 0; i < 4; ++i) select.mutable_cpu_diff()[i] = 9.f;
  layer.Backward({&fdata}, {true, true}, {&data, &select});
  const std::vector<float> expected = {1, 2, 0, 0, 0, 0, 3, 4};
  for (int i = 0; i < 8; ++i) EXPECT_EQ(data.cpu_diff()[i], expected[i]) << i;
  for (int i = 0; i < 4; ++i) EXPECT_EQ(select.cpu_diff()[i], 0.f) << i;
}

TEST(FilterLayerTest, Gradient) {
  Blob data({5, 2, 2}), label({5, 1}), select({5}), fdata, flabel;
  FillUniform(&data, -1.f, 1.f, 62);
  FillUniform(&label, -1.f, 1.f, 63);
  SetValues(&select, {1, 0, 1, 1, 0});
  for (int b = 0; b < 2; ++b) {
    FilterLayer layer(FilterParam());
    testing::GradientChecker checker(1e-2f, 1e-3f);
    checker.CheckGradient(&layer, {&data, &label, &select}, {&fdata, &flabel}, b);
  }
}

TEST(FilterLayerTest, SelectorIsNotForceBackward) {
  FilterLayer layer(FilterParam());
  EXPECT_TRUE(layer.AllowForceBackward(0));
  EXPECT_TRUE(layer.AllowForceBackward(1));
  EXPECT_FALSE(layer.AllowForceBackward(2));
}

TEST(FilterLayerTest, BadShapesNameTheLayer) {
  Blob data({4, 2}), label({3}), select({4}), wide({4, 2}), a, b;
  {
    FilterLayer layer(FilterParam());
    ExpectError([&] { layer.SetUp({&data, &select}, {&a, &b}); }, ErrorCode::kInvalidArgument,
                {"Layer 'filter' (Filter)", "one top per filtered bottom"});
  }
  {
    FilterLayer layer(FilterParam());
    ExpectError([&] { layer.SetUp({&data, &label, &select}, {&a, &b}); },
                ErrorCode::kInvalidArgument, {"Layer 'filter' (Filter)", "bottom 1"});
  }
  {
    FilterLayer layer(FilterParam());
    ExpectError([&] { layer.SetUp({&data, &wide}, {&a}); }, ErrorCode::kInvalidArgument,
                {"Layer 'filter' (Filter)", "one value per item"});
  }
  {
    FilterLayer layer(FilterParam());
    ExpectError([&] { layer.SetUp({&data, &select}, {&data}); }, ErrorCode::kInvalidArgument,
                {"Layer 'filter' (Filter)", "in place"});
  }
}

}  // namespace
}  // namespace crema
