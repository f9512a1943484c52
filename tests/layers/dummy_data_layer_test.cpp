#include "crema/layers/dummy_data_layer.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "crema/layers/registry.h"
#include "test_helpers.h"

namespace crema {
namespace {

using testing::ExpectError;
using testing::LayerFromText;

caffe::LayerParameter DummyParam(const std::string& fields) {
  return LayerFromText("name: 'dummy' type: 'DummyData' dummy_data_param { " + fields + " }");
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

bool AllEqual(const Blob& blob, float value) {
  for (int i = 0; i < blob.count(); ++i) {
    if (blob.cpu_data()[i] != value) return false;
  }
  return true;
}

std::vector<float> Values(const Blob& blob) {
  return std::vector<float>(blob.cpu_data(), blob.cpu_data() + blob.count());
}

TEST(DummyDataLayerTest, IsRegistered) {
  EXPECT_STREQ(
      LayerRegistry::Global().Create(DummyParam("shape { dim: 1 }"))->type(), "DummyData");
}

TEST(DummyDataLayerTest, ShapesFromShapeFields) {
  Tops tops(3);
  DummyDataLayer layer(DummyParam("shape { dim: 2 dim: 3 } shape { dim: 4 } shape { }"));
  layer.SetUp({}, tops.vec);
  EXPECT_EQ(tops.vec[0]->shape(), (std::vector<int>{2, 3}));
  EXPECT_EQ(tops.vec[1]->shape(), (std::vector<int>{4}));
  EXPECT_EQ(tops.vec[2]->shape(), (std::vector<int>{}));
  // No filler: constant 0.
  for (Blob* top : tops.vec) EXPECT_TRUE(AllEqual(*top, 0.f));

  Tops shared(2);
  DummyDataLayer one(DummyParam("shape { dim: 5 dim: 1 }"));
  one.SetUp({}, shared.vec);
  for (Blob* top : shared.vec) EXPECT_EQ(top->shape(), (std::vector<int>{5, 1}));
}

TEST(DummyDataLayerTest, ShapesFromLegacyFields) {
  Tops tops(2);
  DummyDataLayer layer(
      DummyParam("num: 5 num: 2 channels: 3 height: 4 height: 1 width: 2 width: 6"));
  layer.SetUp({}, tops.vec);
  EXPECT_EQ(tops.vec[0]->shape(), (std::vector<int>{5, 3, 4, 2}));
  EXPECT_EQ(tops.vec[1]->shape(), (std::vector<int>{2, 3, 1, 6}));
}

TEST(DummyDataLayerTest, ConstantTopsAreFilledOnceOthersEveryForward) {
  Tops tops(3);
  DummyDataLayer layer(DummyParam(
      "shape { dim: 4 dim: 5 } "
      "data_filler { type: 'constant' value: 1.5 } "
      "data_filler { type: 'uniform' min: 2 max: 3 } "
      "data_filler { type: 'gaussian' mean: -4 std: 0.5 }"));
  layer.SetUp({}, tops.vec);
  Blob& constant = *tops.vec[0];
  Blob& uniform = *tops.vec[1];
  Blob& gaussian = *tops.vec[2];
  EXPECT_TRUE(AllEqual(constant, 1.5f));
  std::vector<float> previous_uniform = Values(uniform);
  std::vector<float> previous_gaussian = Values(gaussian);
  for (int pass = 0; pass < 3; ++pass) {
    constant.mutable_cpu_data()[0] = 7.f;  // a constant top is not refilled
    layer.Forward({}, tops.vec);
    EXPECT_EQ(constant.cpu_data()[0], 7.f);
    EXPECT_EQ(constant.cpu_data()[1], 1.5f);
    double mean = 0;
    for (int i = 0; i < uniform.count(); ++i) {
      ASSERT_GE(uniform.cpu_data()[i], 2.f);
      ASSERT_LE(uniform.cpu_data()[i], 3.f);
      mean += gaussian.cpu_data()[i] / gaussian.count();
    }
    EXPECT_NEAR(mean, -4.0, 0.5);
    EXPECT_NE(Values(uniform), previous_uniform);
    EXPECT_NE(Values(gaussian), previous_gaussian);
    previous_uniform = Values(uniform);
    previous_gaussian = Values(gaussian);
  }
}

TEST(DummyDataLayerTest, OneFillerServesEveryTop) {
  Tops tops(2);
  DummyDataLayer layer(
      DummyParam("shape { dim: 3 } shape { dim: 6 } data_filler { type: 'constant' value: -2 }"));
  layer.SetUp({}, tops.vec);
  layer.Forward({}, tops.vec);
  EXPECT_TRUE(AllEqual(*tops.vec[0], -2.f));
  EXPECT_TRUE(AllEqual(*tops.vec[1], -2.f));
}

void ExpectSetUpError(const std::string& fields, int tops, const std::string& fragment) {
  SCOPED_TRACE(fields);
  Tops t(static_cast<size_t>(tops));
  DummyDataLayer layer(DummyParam(fields));
  ExpectError([&] { layer.SetUp({}, t.vec); }, ErrorCode::kInvalidArgument,
              {"Layer 'dummy' (DummyData)", fragment});
}

TEST(DummyDataLayerTest, BadParametersNameTheLayer) {
  const std::string f = "data_filler { type: 'constant' } ";
  ExpectSetUpError("shape { dim: 1 } " + f + f, 3, "data_filler");
  ExpectSetUpError("shape { dim: 1 } num: 1 channels: 1 height: 1 width: 1", 1, "legacy");
  ExpectSetUpError("shape { dim: 1 } shape { dim: 2 }", 3, "shape");
  ExpectSetUpError("", 1, "shape");
  ExpectSetUpError("num: 1 channels: 1 height: 1", 1, "width");
  ExpectSetUpError("num: 1 num: 2 channels: 1 height: 1 width: 1", 3, "num");
  ExpectSetUpError("shape { dim: 2 dim: -1 }", 1, "top 0");
  ExpectSetUpError("shape { dim: 2 } data_filler { type: 'nonsense' }", 1, "nonsense");
}

}  // namespace
}  // namespace crema
