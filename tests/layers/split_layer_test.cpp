#include "crema/layers/split_layer.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "gradient_checker.h"
#include "test_helpers.h"

namespace crema {
namespace {

using testing::FillGaussian;
using testing::GradientChecker;
using testing::LayerFromText;

caffe::LayerParameter SplitParam() { return LayerFromText("name: 'split' type: 'Split'"); }

TEST(SplitLayerTest, TopsShareTheBottomData) {
  Blob x({2, 3, 4}), a, b, c;
  FillGaussian(&x, 0, 1, 91);
  SplitLayer layer(SplitParam());
  layer.SetUp({&x}, {&a, &b, &c});
  layer.Forward({&x}, {&a, &b, &c});
  for (Blob* top : {&a, &b, &c}) {
    ASSERT_EQ(top->shape(), x.shape());
    EXPECT_TRUE(top->SharesDataWith(x));
    for (int i = 0; i < x.count(); ++i) ASSERT_EQ(top->cpu_data()[i], x.cpu_data()[i]);
  }
  // Diffs are separate.
  a.mutable_cpu_diff()[0] = 1.f;
  b.mutable_cpu_diff()[0] = 2.f;
  EXPECT_EQ(a.cpu_diff()[0], 1.f);
}

TEST(SplitLayerTest, BackwardSumsTopDiffs) {
  for (int tops : {1, 2, 3, 5}) {
    Blob x({3, 7});
    std::vector<Blob> storage(tops);
    BlobVec top;
    for (Blob& t : storage) top.push_back(&t);
    SplitLayer layer(SplitParam());
    layer.SetUp({&x}, top);
    layer.Forward({&x}, top);
    for (int k = 0; k < tops; ++k) {
      float* d = top[k]->mutable_cpu_diff();
      for (int i = 0; i < x.count(); ++i) d[i] = static_cast<float>((k + 1) * 100 + i);
    }
    layer.Backward(top, {true}, {&x});
    for (int i = 0; i < x.count(); ++i) {
      float expected = 0;
      for (int k = 0; k < tops; ++k) expected += static_cast<float>((k + 1) * 100 + i);
      ASSERT_EQ(x.cpu_diff()[i], expected) << tops << " tops, element " << i;
    }
  }
}

TEST(SplitLayerTest, FollowsBottomReshape) {
  Blob x({2, 3}), a, b;
  SplitLayer layer(SplitParam());
  layer.SetUp({&x}, {&a, &b});
  x.Reshape({20, 30});
  FillGaussian(&x, 0, 1, 92);
  layer.Forward({&x}, {&a, &b});
  ASSERT_EQ(a.shape(), x.shape());
  EXPECT_TRUE(a.SharesDataWith(x));
  EXPECT_TRUE(b.SharesDataWith(x));
  EXPECT_EQ(b.cpu_data()[599], x.cpu_data()[599]);
}

TEST(SplitLayerTest, Gradient) {
  Blob x({2, 3, 4}), a, b, c;
  FillGaussian(&x, 0, 1, 93);
  SplitLayer layer(SplitParam());
  GradientChecker checker(1e-2f, 1e-2f);
  checker.CheckGradient(&layer, {&x}, {&a, &b, &c});
}

TEST(SplitLayerTest, InPlaceIsError) {
  Blob x({2}), a;
  SplitLayer layer(SplitParam());
  try {
    layer.SetUp({&x}, {&a, &x});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("Layer 'split' (Split)"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace crema
