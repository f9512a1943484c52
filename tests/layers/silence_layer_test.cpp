#include "crema/layers/silence_layer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "test_helpers.h"

namespace crema {
namespace {

using testing::FillGaussian;
using testing::LayerFromText;

caffe::LayerParameter SilenceParam() { return LayerFromText("name: 'quiet' type: 'Silence'"); }

TEST(SilenceLayerTest, ForwardLeavesBottomsAlone) {
  Blob a({2, 3}), b({4});
  FillGaussian(&a, 0, 1, 141);
  const float before = a.cpu_data()[5];
  SilenceLayer layer(SilenceParam());
  layer.SetUp({&a, &b}, {});
  EXPECT_EQ(layer.Forward({&a, &b}, {}), 0.f);
  EXPECT_EQ(a.cpu_data()[5], before);
}

TEST(SilenceLayerTest, BackwardZeroesRequestedDiffs) {
  Blob a({2, 3}), b({4}), c({1});
  for (Blob* blob : {&a, &b, &c}) {
    std::fill(blob->mutable_cpu_diff(), blob->mutable_cpu_diff() + blob->count(), 3.f);
  }
  SilenceLayer layer(SilenceParam());
  layer.SetUp({&a, &b, &c}, {});
  layer.Forward({&a, &b, &c}, {});
  layer.Backward({}, {true, false, true}, {&a, &b, &c});
  for (int i = 0; i < a.count(); ++i) EXPECT_EQ(a.cpu_diff()[i], 0.f);
  for (int i = 0; i < b.count(); ++i) EXPECT_EQ(b.cpu_diff()[i], 3.f);
  EXPECT_EQ(c.cpu_diff()[0], 0.f);
}

TEST(SilenceLayerTest, BlobCountErrors) {
  Blob a({2}), top;
  SilenceLayer layer(SilenceParam());
  for (bool with_top : {false, true}) {
    try {
      if (with_top) {
        layer.SetUp({&a}, {&top});
      } else {
        layer.SetUp({}, {});
      }
      FAIL() << "expected an error";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("Layer 'quiet' (Silence)"), std::string::npos)
          << e.what();
    }
  }
}

}  // namespace
}  // namespace crema
