#include "crema/layers/parameter_layer.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "crema/core/synced_memory.h"
#include "crema/layers/registry.h"
#include "crema/net/net.h"
#include "test_helpers.h"

namespace crema {
namespace {

using testing::ExpectError;
using testing::FillGaussian;
using testing::LayerFromText;

caffe::LayerParameter ParameterParam(const std::string& dims) {
  return LayerFromText("name: 'param' type: 'Parameter' parameter_param { shape { " + dims +
                       " } }");
}

TEST(ParameterLayerTest, IsRegistered) {
  EXPECT_STREQ(LayerRegistry::Global().Create(ParameterParam("dim: 2"))->type(), "Parameter");
}

TEST(ParameterLayerTest, TopIsTheParameter) {
  ParameterLayer layer(ParameterParam("dim: 2 dim: 3 dim: 4"));
  Blob y;
  layer.SetUp({}, {&y});
  ASSERT_EQ(layer.blobs().size(), 1u);
  Blob& param = *layer.blobs()[0];
  EXPECT_EQ(param.shape(), (std::vector<int>{2, 3, 4}));
  EXPECT_EQ(y.shape(), param.shape());
  for (int i = 0; i < param.count(); ++i) ASSERT_EQ(param.cpu_data()[i], 0.f);  // no filler
  FillGaussian(&param, 0, 1, 71);
  layer.Forward({}, {&y});
  EXPECT_TRUE(y.SharesDataWith(param));
  for (int i = 0; i < y.count(); ++i) ASSERT_EQ(y.cpu_data()[i], param.cpu_data()[i]);
  // A consumer's gradient written to the top is the parameter's gradient.
  for (int i = 0; i < y.count(); ++i) y.mutable_cpu_diff()[i] = static_cast<float>(i);
  layer.Backward({&y}, {}, {});
  for (int i = 0; i < y.count(); ++i) ASSERT_EQ(param.cpu_diff()[i], static_cast<float>(i));
  // What a .caffemodel stores: one blob of the given shape.
  caffe::LayerParameter saved;
  layer.ToProto(&saved);
  ASSERT_EQ(saved.blobs_size(), 1);
  EXPECT_EQ(saved.blobs(0).shape().dim_size(), 3);
  EXPECT_EQ(saved.blobs(0).data_size(), 24);
}

TEST(ParameterLayerTest, TopFollowsAMovedDiff) {
  ParameterLayer layer(ParameterParam("dim: 5"));
  Blob y;
  layer.SetUp({}, {&y});
  // A gradient-synchronisation buffer takes over the parameter's diff after SetUp.
  auto bucket = std::make_shared<SyncedMemory>(5 * sizeof(float));
  layer.blobs()[0]->SetDiffMemory(bucket);
  layer.Forward({}, {&y});
  y.mutable_cpu_diff()[3] = 2.5f;
  EXPECT_EQ(static_cast<const float*>(bucket->host_data())[3], 2.5f);
}

TEST(ParameterLayerTest, LearnsInANet) {
  // loss = Σ p²  ⇒  ∂loss/∂p = 2p, reaching the parameter through the top.
  Net net(testing::NetFromText(R"(
    name: 'p' state { phase: TRAIN }
    layer { name: 'param' type: 'Parameter' top: 'p' parameter_param { shape { dim: 2 dim: 3 } } }
    layer { name: 'sq' type: 'Reduction' bottom: 'p' top: 'loss' loss_weight: 1
            reduction_param { operation: SUMSQ } }
  )"));
  Blob& param = *net.layer_by_name("param")->blobs()[0];
  FillGaussian(&param, 0, 1, 72);
  float loss = 0;
  net.ClearParamDiffs();
  net.Forward(&loss);
  net.Backward();
  double expected_loss = 0;
  for (int i = 0; i < param.count(); ++i) {
    expected_loss += static_cast<double>(param.cpu_data()[i]) * param.cpu_data()[i];
    EXPECT_NEAR(param.cpu_diff()[i], 2 * param.cpu_data()[i], 1e-5) << i;
  }
  EXPECT_NEAR(loss, expected_loss, 1e-4);
}

TEST(ParameterLayerTest, BadShapeNamesTheLayer) {
  ParameterLayer layer(ParameterParam("dim: 2 dim: -3"));
  Blob y;
  ExpectError([&] { layer.SetUp({}, {&y}); }, ErrorCode::kInvalidArgument,
              {"Layer 'param' (Parameter)", "-3"});
}

}  // namespace
}  // namespace crema
