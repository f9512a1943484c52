#include "crema/net/net.h"

#include <gtest/gtest.h>
#include <google/protobuf/util/message_differencer.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "crema/core/error.h"
#include "crema/io/proto_io.h"
#include "crema/net/net_file.h"
#include "crema/net/net_rules.h"
#include "test_helpers.h"

namespace crema {
namespace {

using testing::SameMessage;

using caffe::NetParameter;
using testing::NetFromText;

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// The error thrown while building a net from `text`; fails the test when none is.
Error BuildError(const std::string& text) {
  try {
    Net net(NetFromText(text));
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "no error building:\n" << text;
  return InvalidArgument("");
}

int BlobId(const Net& net, const std::string& name) {
  const auto& names = net.blob_names();
  const auto it = std::find(names.begin(), names.end(), name);
  EXPECT_NE(it, names.end()) << name;
  return static_cast<int>(it - names.begin());
}

std::vector<std::string> LayerNames(const NetParameter& param) {
  std::vector<std::string> names;
  for (const auto& layer : param.layer()) names.push_back(layer.name());
  return names;
}

// ---------------------------------------------------------------------------------------
// FilterNet
// ---------------------------------------------------------------------------------------

constexpr char kFilterNet[] = R"(
  layer { name: "always" type: "Input" top: "a" }
  layer { name: "train_only" type: "ReLU" bottom: "a" top: "b" include { phase: TRAIN } }
  layer { name: "test_only" type: "ReLU" bottom: "a" top: "b" include { phase: TEST } }
  layer { name: "not_test" type: "ReLU" bottom: "a" top: "c" exclude { phase: TEST } }
  layer { name: "level_2_up" type: "ReLU" bottom: "a" top: "d" include { min_level: 2 } }
  layer { name: "level_up_to_1" type: "ReLU" bottom: "a" top: "e" include { max_level: 1 } }
  layer { name: "stage_x" type: "ReLU" bottom: "a" top: "f" include { stage: "x" } }
  layer {
    name: "stages_x_and_y" type: "ReLU" bottom: "a" top: "g"
    include { stage: "x" stage: "y" }
  }
  layer { name: "not_stage_x" type: "ReLU" bottom: "a" top: "h" include { not_stage: "x" } }
  layer {
    name: "train_or_stage_y" type: "ReLU" bottom: "a" top: "i"
    include { phase: TRAIN } include { stage: "y" }
  }
  layer { name: "exclude_stage_y" type: "ReLU" bottom: "a" top: "j" exclude { stage: "y" } }
)";

std::vector<std::string> Kept(const std::string& state) {
  NetParameter param = NetFromText(kFilterNet);
  *param.mutable_state() = NetFromText(StrCat("state { ", state, " }")).state();
  return LayerNames(FilterNet(param));
}

TEST(FilterNetTest, PhaseLevelAndStages) {
  EXPECT_EQ(Kept("phase: TRAIN"),
            (std::vector<std::string>{"always", "train_only", "not_test", "level_up_to_1",
                                      "not_stage_x", "train_or_stage_y", "exclude_stage_y"}));
  EXPECT_EQ(Kept("phase: TEST"),
            (std::vector<std::string>{"always", "test_only", "level_up_to_1", "not_stage_x",
                                      "exclude_stage_y"}));
  EXPECT_EQ(Kept("phase: TEST level: 2"),
            (std::vector<std::string>{"always", "test_only", "level_2_up", "not_stage_x",
                                      "exclude_stage_y"}));
  EXPECT_EQ(Kept("phase: TEST level: 1 stage: \"x\""),
            (std::vector<std::string>{"always", "test_only", "level_up_to_1", "stage_x",
                                      "exclude_stage_y"}));
  EXPECT_EQ(Kept("phase: TEST stage: \"y\" stage: \"x\""),
            (std::vector<std::string>{"always", "test_only", "level_up_to_1", "stage_x",
                                      "stages_x_and_y", "train_or_stage_y"}));
}

TEST(FilterNetTest, StateMeetsRule) {
  caffe::NetState state;
  state.set_phase(caffe::TRAIN);
  state.set_level(3);
  state.add_stage("a");
  caffe::NetStateRule rule;
  EXPECT_TRUE(StateMeetsRule(state, rule));
  rule.set_min_level(3);
  rule.set_max_level(3);
  EXPECT_TRUE(StateMeetsRule(state, rule));
  rule.set_max_level(2);
  EXPECT_FALSE(StateMeetsRule(state, rule));
  rule.clear_max_level();
  rule.add_not_stage("a");
  EXPECT_FALSE(StateMeetsRule(state, rule));
  rule.clear_not_stage();
  rule.set_phase(caffe::TEST);
  EXPECT_FALSE(StateMeetsRule(state, rule));
}

TEST(FilterNetTest, IncludeAndExcludeTogetherIsAnError) {
  const NetParameter param = NetFromText(R"(
    layer { name: "both" type: "ReLU" include { phase: TRAIN } exclude { stage: "x" } })");
  try {
    FilterNet(param);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
    EXPECT_TRUE(Contains(e.what(), "'both'")) << e.what();
  }
}

// ---------------------------------------------------------------------------------------
// InsertSplits: the names Caffe gives
// ---------------------------------------------------------------------------------------

TEST(InsertSplitsTest, BlobFeedingTwoLayers) {
  const NetParameter split = InsertSplits(NetFromText(R"(
    layer { name: "data" type: "Input" top: "data" top: "label" }
    layer { name: "ip1" type: "InnerProduct" bottom: "data" top: "ip1" }
    layer { name: "ip2" type: "InnerProduct" bottom: "data" top: "ip2" }
    layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip1" bottom: "label" })"));
  EXPECT_TRUE(SameMessage(NetFromText(R"(
    layer { name: "data" type: "Input" top: "data" top: "label" }
    layer {
      name: "data_data_0_split" type: "Split" bottom: "data"
      top: "data_data_0_split_0" top: "data_data_0_split_1"
    }
    layer { name: "ip1" type: "InnerProduct" bottom: "data_data_0_split_0" top: "ip1" }
    layer { name: "ip2" type: "InnerProduct" bottom: "data_data_0_split_1" top: "ip2" }
    layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip1" bottom: "label" })"),
                          split));
}

TEST(InsertSplitsTest, SecondTopAndInPlaceProducer) {
  // The split is named after the last layer to write the blob (here the in-place ReLU) and
  // the top's index in that layer.
  const NetParameter split = InsertSplits(NetFromText(R"(
    layer { name: "in" type: "Input" top: "x" top: "y" }
    layer { name: "relu" type: "ReLU" bottom: "y" top: "y" }
    layer { name: "a" type: "ReLU" bottom: "y" top: "a" }
    layer { name: "b" type: "ReLU" bottom: "y" top: "b" }
    layer { name: "c" type: "Concat" bottom: "x" bottom: "y" bottom: "x" top: "c" })"));
  EXPECT_TRUE(SameMessage(NetFromText(R"(
    layer { name: "in" type: "Input" top: "x" top: "y" }
    layer {
      name: "x_in_0_split" type: "Split" bottom: "x" top: "x_in_0_split_0" top: "x_in_0_split_1"
    }
    layer { name: "relu" type: "ReLU" bottom: "y" top: "y" }
    layer {
      name: "y_relu_0_split" type: "Split" bottom: "y"
      top: "y_relu_0_split_0" top: "y_relu_0_split_1" top: "y_relu_0_split_2"
    }
    layer { name: "a" type: "ReLU" bottom: "y_relu_0_split_0" top: "a" }
    layer { name: "b" type: "ReLU" bottom: "y_relu_0_split_1" top: "b" }
    layer {
      name: "c" type: "Concat" bottom: "x_in_0_split_0" bottom: "y_relu_0_split_2"
      bottom: "x_in_0_split_1" top: "c"
    })"),
                          split));
}

TEST(InsertSplitsTest, WeightedLossTopAlsoConsumedElsewhere) {
  // A top with a loss weight counts as one more consumer; the split's first top carries the
  // weight and the producer's own loss_weight moves there.
  const NetParameter split = InsertSplits(NetFromText(R"(
    layer { name: "data" type: "Input" top: "data" top: "label" }
    layer { name: "ip" type: "InnerProduct" bottom: "data" top: "ip" loss_weight: 0.5 }
    layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip" bottom: "label" })"));
  EXPECT_TRUE(SameMessage(NetFromText(R"(
    layer { name: "data" type: "Input" top: "data" top: "label" }
    layer { name: "ip" type: "InnerProduct" bottom: "data" top: "ip" }
    layer {
      name: "ip_ip_0_split" type: "Split" bottom: "ip"
      top: "ip_ip_0_split_0" top: "ip_ip_0_split_1" loss_weight: 0.5 loss_weight: 0
    }
    layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip_ip_0_split_1" bottom: "label" })"),
                          split));
}

TEST(InsertSplitsTest, SingleConsumerGetsNoSplit) {
  const NetParameter param = NetFromText(R"(
    layer { name: "data" type: "Input" top: "data" }
    layer { name: "relu" type: "ReLU" bottom: "data" top: "data" }
    layer { name: "out" type: "ReLU" bottom: "data" top: "out" })");
  EXPECT_TRUE(SameMessage(param, InsertSplits(param)));
}

// ---------------------------------------------------------------------------------------
// Construction
// ---------------------------------------------------------------------------------------

TEST(NetTest, InPlaceLayersShareTheBlob) {
  Net net(NetFromText(R"(
    layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 2 dim: 3 } } }
    layer { name: "relu" type: "ReLU" bottom: "data" top: "data" }
    layer { name: "sig" type: "Sigmoid" bottom: "data" top: "data" })"));
  EXPECT_EQ(net.blobs().size(), 1u);
  Blob* data = net.blob_by_name("data");
  for (int i = 1; i <= 2; ++i) {
    EXPECT_EQ(net.bottom_vecs()[i][0], data);
    EXPECT_EQ(net.top_vecs()[i][0], data);
  }
  float* x = data->mutable_cpu_data();
  for (int i = 0; i < 6; ++i) x[i] = static_cast<float>(i) - 2.5f;
  net.Forward();
  for (int i = 0; i < 6; ++i) {
    const float expected = 1.f / (1.f + std::exp(-std::max(0.f, static_cast<float>(i) - 2.5f)));
    EXPECT_NEAR(data->cpu_data()[i], expected, 1e-6f);
  }
  ASSERT_EQ(net.output_blobs().size(), 1u);
  EXPECT_EQ(net.output_blobs()[0], data);
}

TEST(NetTest, DuplicateTopIsAnErrorNamingTheLayer) {
  const Error e = BuildError(R"(
    layer { name: "first" type: "Input" top: "data" input_param { shape { dim: 1 } } }
    layer { name: "second" type: "Input" top: "data" input_param { shape { dim: 1 } } })");
  EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(Contains(e.what(), "'second'")) << e.what();
  EXPECT_TRUE(Contains(e.what(), "'data'")) << e.what();
}

TEST(NetTest, MissingBottomIsAnErrorNamingLayerAndBlob) {
  const Error e = BuildError(R"(
    layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 1 } } }
    layer { name: "relu" type: "ReLU" bottom: "dtaa" top: "out" })");
  EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(Contains(e.what(), "'relu'")) << e.what();
  EXPECT_TRUE(Contains(e.what(), "'dtaa'")) << e.what();
}

TEST(NetTest, UnknownTypeListsKnownTypes) {
  const Error e = BuildError(R"(
    layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 1 } } }
    layer { name: "odd" type: "Frobnicate" bottom: "data" top: "out" })");
  EXPECT_EQ(e.code(), ErrorCode::kNotFound);
  EXPECT_TRUE(Contains(e.what(), "'odd'")) << e.what();
  EXPECT_TRUE(Contains(e.what(), "Frobnicate")) << e.what();
  EXPECT_TRUE(Contains(e.what(), "Convolution")) << e.what();
  EXPECT_TRUE(Contains(e.what(), "SoftmaxWithLoss")) << e.what();
}

TEST(NetTest, DuplicateLayerNameIsAnError) {
  const Error e = BuildError(R"(
    layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 1 } } }
    layer { name: "data" type: "ReLU" bottom: "data" top: "out" })");
  EXPECT_TRUE(Contains(e.what(), "'data'")) << e.what();
}

// Reference multinomial logistic loss of softmax(scores) averaged over rows.
double ReferenceSoftmaxLoss(const float* scores, const float* labels, int rows, int classes) {
  double total = 0;
  for (int n = 0; n < rows; ++n) {
    double max_score = scores[n * classes];
    for (int c = 1; c < classes; ++c) {
      max_score = std::max<double>(max_score, scores[n * classes + c]);
    }
    double sum = 0;
    for (int c = 0; c < classes; ++c) sum += std::exp(scores[n * classes + c] - max_score);
    const int label = static_cast<int>(labels[n]);
    total -= scores[n * classes + label] - max_score - std::log(sum);
  }
  return total / rows;
}

TEST(NetTest, WeightedLossesSum) {
  Net net(NetFromText(R"(
    layer {
      name: "data" type: "Input" top: "scores" top: "label"
      input_param { shape { dim: 4 dim: 5 } shape { dim: 4 } }
    }
    layer {
      name: "loss" type: "SoftmaxWithLoss" bottom: "scores" bottom: "label" top: "loss"
      loss_weight: 2
    }
    layer { name: "relu" type: "ReLU" bottom: "scores" top: "relu" loss_weight: 0.5 })"));
  Blob* scores = net.blob_by_name("scores");
  Blob* label = net.blob_by_name("label");
  testing::FillUniform(scores, -2.f, 2.f, 11);
  for (int n = 0; n < 4; ++n) label->mutable_cpu_data()[n] = static_cast<float>(n % 5);
  double relu_sum = 0;
  for (int i = 0; i < scores->count(); ++i) relu_sum += std::max(0.f, scores->cpu_data()[i]);
  const double expected =
      2 * ReferenceSoftmaxLoss(scores->cpu_data(), label->cpu_data(), 4, 5) + 0.5 * relu_sum;
  float loss = 0;
  net.Forward(&loss);
  EXPECT_NEAR(loss, expected, 1e-5 * std::abs(expected));

  // The weights are visible per blob; the split that feeds both losses carries none.
  EXPECT_FLOAT_EQ(net.blob_loss_weights()[BlobId(net, "relu")], 0.5f);
  EXPECT_FLOAT_EQ(net.blob_loss_weights()[BlobId(net, "loss")], 2.f);
  EXPECT_FLOAT_EQ(net.blob_loss_weights()[BlobId(net, "scores_data_0_split_0")], 0.f);
  EXPECT_TRUE(net.has_layer("scores_data_0_split"));
}

constexpr char kSharedNet[] = R"(
  layer {
    name: "data" type: "Input" top: "x" top: "y"
    input_param { shape { dim: 2 dim: 6 } shape { dim: 2 dim: 6 } }
  }
  layer {
    name: "ip1" type: "InnerProduct" bottom: "x" top: "a"
    param { name: "w" } param { name: "b1" }
    inner_product_param { num_output: 4 weight_filler { type: "gaussian" std: 1 } }
  }
  layer {
    name: "ip2" type: "InnerProduct" bottom: "y" top: "b"
    param { name: "w" }
    inner_product_param { num_output: 4 }
  }
  layer { name: "sum" type: "Eltwise" bottom: "a" bottom: "b" top: "sum" loss_weight: 1 }
)";

TEST(NetTest, ParamsSharedByName) {
  Net net(NetFromText(kSharedNet));
  ASSERT_EQ(net.params().size(), 4u);         // w, b1, w (shared), ip2's bias
  EXPECT_EQ(net.learnable_params().size(), 3u);  // the shared weight counts once
  EXPECT_EQ(net.param_owners()[0], -1);
  EXPECT_EQ(net.param_owners()[2], 0);
  Blob* w1 = net.layer_by_name("ip1")->blobs()[0].get();
  Blob* w2 = net.layer_by_name("ip2")->blobs()[0].get();
  EXPECT_EQ(w1->cpu_data(), w2->cpu_data());
  EXPECT_EQ(w1->cpu_diff(), w2->cpu_diff());
  // ip2's weights were filled with zeros but now show ip1's Gaussian values.
  EXPECT_GT(w2->asum_data(), 0.f);

  // Gradients from both users accumulate in the one diff: with x = y, the shared weight's
  // gradient is twice what one layer alone gives.
  Blob* x = net.blob_by_name("x");
  Blob* y = net.blob_by_name("y");
  testing::FillUniform(x, -1.f, 1.f, 3);
  std::memcpy(y->mutable_cpu_data(), x->cpu_data(), sizeof(float) * x->count());
  net.ClearParamDiffs();
  net.ForwardBackward();
  for (int n = 0; n < 4; ++n) {
    for (int k = 0; k < 6; ++k) {
      const float one_layer = x->cpu_data()[k] + x->cpu_data()[6 + k];  // Σ over the batch
      EXPECT_NEAR(w1->cpu_diff()[n * 6 + k], 2 * one_layer, 1e-5f);
    }
  }
}

TEST(NetTest, SharedShapeMismatchStrictAndPermissive) {
  // ip2 sees 4 inputs and 6 outputs: a 6×4 weight, the same count as ip1's 4×6.
  const std::string strict = R"(
    layer {
      name: "data" type: "Input" top: "x" top: "y"
      input_param { shape { dim: 2 dim: 6 } shape { dim: 2 dim: 4 } }
    }
    layer {
      name: "ip1" type: "InnerProduct" bottom: "x" top: "a" param { name: "w" }
      inner_product_param { num_output: 4 }
    }
    layer {
      name: "ip2" type: "InnerProduct" bottom: "y" top: "b" param { name: "w" MODE }
      inner_product_param { num_output: 6 }
    })";
  std::string text = strict;
  text.replace(text.find("MODE"), 4, "");
  const Error e = BuildError(text);
  EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(Contains(e.what(), "'ip2'")) << e.what();
  EXPECT_TRUE(Contains(e.what(), "'w'")) << e.what();
  EXPECT_TRUE(Contains(e.what(), "6 4")) << e.what();
  EXPECT_TRUE(Contains(e.what(), "4 6")) << e.what();

  text = strict;
  text.replace(text.find("MODE"), 4, "share_mode: PERMISSIVE");
  Net net(NetFromText(text));
  EXPECT_EQ(net.layer_by_name("ip1")->blobs()[0]->cpu_data(),
            net.layer_by_name("ip2")->blobs()[0]->cpu_data());
  EXPECT_EQ(net.learnable_params().size(), 3u);

  // Counts that differ are refused even when permissive.
  text = strict;
  text.replace(text.find("MODE"), 4, "share_mode: PERMISSIVE");
  text.replace(text.find("num_output: 6"), 13, "num_output: 5");
  EXPECT_TRUE(Contains(BuildError(text).what(), "'ip2'"));
}

TEST(NetTest, SharedParamWithMismatchedLrMultIsAnError) {
  const Error e = BuildError(R"(
    layer {
      name: "data" type: "Input" top: "x" top: "y"
      input_param { shape { dim: 2 dim: 6 } shape { dim: 2 dim: 6 } }
    }
    layer {
      name: "ip1" type: "InnerProduct" bottom: "x" top: "a" param { name: "w" lr_mult: 1 }
      inner_product_param { num_output: 4 }
    }
    layer {
      name: "ip2" type: "InnerProduct" bottom: "y" top: "b" param { name: "w" lr_mult: 2 }
      inner_product_param { num_output: 4 }
    })");
  EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(Contains(e.what(), "lr_mult")) << e.what();
  EXPECT_TRUE(Contains(e.what(), "'ip2'")) << e.what();
  EXPECT_TRUE(Contains(e.what(), "'w'")) << e.what();
}

// data → ip1 → ip2 → loss, with ip1's multipliers chosen by the test.
std::string ChainNet(const std::string& ip1_params, const std::string& ip2_extra = "",
                     bool force_backward = false) {
  return StrCat(force_backward ? "force_backward: true\n" : "", R"(
    layer {
      name: "data" type: "Input" top: "data" top: "label"
      input_param { shape { dim: 3 dim: 4 } shape { dim: 3 } }
    }
    layer {
      name: "ip1" type: "InnerProduct" bottom: "data" top: "ip1" )",
                ip1_params, R"(
      inner_product_param { num_output: 5 weight_filler { type: "gaussian" std: 1 } }
    }
    layer {
      name: "ip2" type: "InnerProduct" bottom: "ip1" top: "ip2" )",
                ip2_extra, R"(
      inner_product_param { num_output: 3 weight_filler { type: "gaussian" std: 1 } }
    }
    layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip2" bottom: "label" })");
}

TEST(NetTest, FrozenLayerWithNothingBelowSkipsBackward) {
  Net frozen(NetFromText(ChainNet("param { lr_mult: 0 } param { lr_mult: 0 }")));
  EXPECT_FALSE(frozen.layer_need_backward()[frozen.layer_index("data")]);
  EXPECT_FALSE(frozen.layer_need_backward()[frozen.layer_index("ip1")]);
  EXPECT_TRUE(frozen.layer_need_backward()[frozen.layer_index("ip2")]);
  // ip2 need not send a gradient into ip1's output.
  EXPECT_FALSE(frozen.bottom_need_backward()[frozen.layer_index("ip2")][0]);
  EXPECT_TRUE(frozen.layer_need_backward()[frozen.layer_index("loss")]);
  EXPECT_FALSE(frozen.bottom_need_backward()[frozen.layer_index("loss")][1]);

  // Freezing only the bias still leaves the weight to learn.
  Net half(NetFromText(ChainNet("param { lr_mult: 1 } param { lr_mult: 0 }")));
  EXPECT_TRUE(half.layer_need_backward()[half.layer_index("ip1")]);
  EXPECT_TRUE(half.bottom_need_backward()[half.layer_index("ip2")][0]);
  EXPECT_FALSE(half.layer_by_name("ip1")->param_propagate_down(1));
  EXPECT_TRUE(half.layer_by_name("ip1")->param_propagate_down(0));
}

TEST(NetTest, FrozenLayerAboveALearningLayerStillPropagates) {
  // ip2 is frozen, but ip1 below it learns, so ip2 must pass the gradient through.
  Net net(NetFromText(ChainNet("", "param { lr_mult: 0 } param { lr_mult: 0 }")));
  EXPECT_TRUE(net.layer_need_backward()[net.layer_index("ip2")]);
  EXPECT_TRUE(net.bottom_need_backward()[net.layer_index("ip2")][0]);
  EXPECT_FALSE(net.layer_by_name("ip2")->param_propagate_down(0));
}

TEST(NetTest, ForceBackward) {
  Net net(NetFromText(ChainNet("param { lr_mult: 0 } param { lr_mult: 0 }", "", true)));
  for (size_t i = 0; i < net.layers().size(); ++i) {
    EXPECT_TRUE(net.layer_need_backward()[i]) << net.layer_names()[i];
  }
  EXPECT_TRUE(net.bottom_need_backward()[net.layer_index("ip1")][0]);
  EXPECT_TRUE(net.bottom_need_backward()[net.layer_index("ip2")][0]);
  // Labels never get a gradient.
  EXPECT_FALSE(net.bottom_need_backward()[net.layer_index("loss")][1]);

  // The input now receives a gradient.
  testing::FillUniform(net.blob_by_name("data"), -1.f, 1.f, 5);
  for (int n = 0; n < 3; ++n) {
    net.blob_by_name("label")->mutable_cpu_data()[n] = static_cast<float>(n);
  }
  net.ForwardBackward();
  EXPECT_GT(net.blob_by_name("data")->asum_diff(), 0.f);
}

TEST(NetTest, PropagateDownFalseStopsTheGradient) {
  Net net(NetFromText(ChainNet("", "propagate_down: false")));
  EXPECT_FALSE(net.bottom_need_backward()[net.layer_index("ip2")][0]);
  EXPECT_TRUE(net.layer_need_backward()[net.layer_index("ip2")]);
  EXPECT_FALSE(net.layer_need_backward()[net.layer_index("ip1")]);

  testing::FillUniform(net.blob_by_name("data"), -1.f, 1.f, 5);
  for (int n = 0; n < 3; ++n) {
    net.blob_by_name("label")->mutable_cpu_data()[n] = static_cast<float>(n);
  }
  net.ClearParamDiffs();
  net.ForwardBackward();
  EXPECT_EQ(net.layer_by_name("ip1")->blobs()[0]->asum_diff(), 0.f);
  EXPECT_GT(net.layer_by_name("ip2")->blobs()[0]->asum_diff(), 0.f);
}

// ---------------------------------------------------------------------------------------
// ToProto and weight loading
// ---------------------------------------------------------------------------------------

constexpr char kSmallNet[] = R"(
  name: "small"
  layer {
    name: "data" type: "Input" top: "data" top: "label"
    input_param { shape { dim: 2 dim: 3 } shape { dim: 2 } }
  }
  layer {
    name: "ip" type: "InnerProduct" bottom: "data" top: "ip"
    inner_product_param { num_output: 4 weight_filler { type: "gaussian" std: 1 }
                          bias_filler { type: "uniform" } }
  }
  layer { name: "relu" type: "ReLU" bottom: "data" top: "relu" }
  layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip" bottom: "label" }
)";

TEST(NetTest, ToProtoIncludesSplitsAndBlobs) {
  Net net(NetFromText(kSmallNet));
  NetParameter proto;
  net.ToProto(&proto);
  EXPECT_EQ(proto.name(), "small");
  EXPECT_EQ(LayerNames(proto),
            (std::vector<std::string>{"data", "data_data_0_split", "ip", "relu", "loss"}));
  EXPECT_EQ(proto.layer(1).type(), "Split");
  EXPECT_EQ(proto.layer(1).blobs_size(), 0);
  const caffe::LayerParameter& ip = proto.layer(2);
  EXPECT_EQ(ip.bottom(0), "data_data_0_split_0");
  ASSERT_EQ(ip.blobs_size(), 2);
  const caffe::BlobProto& w = ip.blobs(0);
  ASSERT_EQ(w.shape().dim_size(), 2);
  EXPECT_EQ(w.shape().dim(0), 4);
  EXPECT_EQ(w.shape().dim(1), 3);
  EXPECT_FALSE(w.has_num() || w.has_channels() || w.has_height() || w.has_width());
  ASSERT_EQ(w.data_size(), 12);
  EXPECT_EQ(w.diff_size(), 0);
  const Blob& weights = *net.layer_by_name("ip")->blobs()[0];
  for (int i = 0; i < 12; ++i) EXPECT_EQ(w.data(i), weights.cpu_data()[i]);
  EXPECT_EQ(ip.blobs(1).shape().dim(0), 4);

  NetParameter with_diff;
  net.ToProto(&with_diff, /*write_diff=*/true);
  EXPECT_EQ(with_diff.layer(2).blobs(0).diff_size(), 12);
}

TEST(NetTest, CopyTrainedLayersByName) {
  Net source(NetFromText(kSmallNet));
  NetParameter trained;
  source.ToProto(&trained);
  // A layer the target lacks is ignored.
  caffe::LayerParameter* extra = trained.add_layer();
  extra->set_name("not_in_target");
  extra->add_blobs()->add_data(1.f);

  std::string target_text = kSmallNet;
  target_text.replace(target_text.find("std: 1"), 6, "std: 5");
  Net target(NetFromText(target_text));
  target.CopyTrainedLayersFrom(trained);
  for (int j = 0; j < 2; ++j) {
    const Blob& from = *source.layer_by_name("ip")->blobs()[j];
    const Blob& to = *target.layer_by_name("ip")->blobs()[j];
    ASSERT_EQ(from.count(), to.count());
    EXPECT_EQ(0, std::memcmp(from.cpu_data(), to.cpu_data(), sizeof(float) * from.count()));
    EXPECT_NE(from.cpu_data(), to.cpu_data());  // copied, not shared
  }
}

TEST(NetTest, CopyTrainedLayersShapeMismatchNamesLayerAndShapes) {
  Net source(NetFromText(kSmallNet));
  NetParameter trained;
  source.ToProto(&trained);
  std::string target_text = kSmallNet;
  target_text.replace(target_text.find("num_output: 4"), 13, "num_output: 7");
  Net target(NetFromText(target_text));
  try {
    target.CopyTrainedLayersFrom(trained);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
    EXPECT_TRUE(Contains(e.what(), "'ip'")) << e.what();
    EXPECT_TRUE(Contains(e.what(), "4 3")) << e.what();  // the model's
    EXPECT_TRUE(Contains(e.what(), "7 3")) << e.what();  // the net's
  }
}

TEST(NetTest, CopyTrainedLayersAcceptsLegacyDims) {
  // Old caffemodels store an InnerProduct weight as 1×1×N×K and a bias as 1×1×1×N.
  Net target(NetFromText(kSmallNet));
  NetParameter trained = NetFromText(R"(
    layer {
      name: "ip"
      blobs { num: 1 channels: 1 height: 4 width: 3
              data: 1 data: 2 data: 3 data: 4 data: 5 data: 6 data: 7 data: 8 data: 9 data: 10
              data: 11 data: 12 }
      blobs { num: 1 channels: 1 height: 1 width: 4 data: -1 data: -2 data: -3 data: -4 }
    })");
  target.CopyTrainedLayersFrom(trained);
  const Blob& w = *target.layer_by_name("ip")->blobs()[0];
  EXPECT_EQ(w.shape(), (std::vector<int>{4, 3}));
  EXPECT_EQ(w.cpu_data()[11], 12.f);
  EXPECT_EQ(target.layer_by_name("ip")->blobs()[1]->cpu_data()[3], -4.f);
}

TEST(NetTest, CopyTrainedLayersNamesTheBlobAModelDeclaresWrongly) {
  // Issue 7: a blob's own complaint ("holds 5 values") names its layer and index.
  Net target(NetFromText(kSmallNet));
  NetParameter trained;
  target.ToProto(&trained);
  caffe::LayerParameter* ip = nullptr;
  for (auto& layer : *trained.mutable_layer()) {
    if (layer.name() == "ip") ip = &layer;
  }
  ASSERT_NE(ip, nullptr);
  ip->mutable_blobs(0)->mutable_data()->Truncate(5);
  testing::ExpectError([&] { target.CopyTrainedLayersFrom(trained); }, ErrorCode::kCorruption,
                       {"cannot copy weights into layer 'ip': blob 0: ", "holds 5 values"});
  ip->mutable_blobs(0)->Clear();
  ip->mutable_blobs(0)->mutable_shape()->add_dim(-4);
  testing::ExpectError([&] { target.CopyTrainedLayersFrom(trained); }, ErrorCode::kCorruption,
                       {"cannot copy weights into layer 'ip': blob 0: ", "-4"});
}

TEST(NetTest, AModelSharingNoLayerWithTheNetIsRefused) {
  testing::TempDir dir;
  Net target(NetFromText(kSmallNet));
  NetParameter model;
  target.ToProto(&model);
  for (auto& layer : *model.mutable_layer()) layer.set_name("other_" + layer.name());
  WriteBinaryProto(dir.file("other.caffemodel"), model);
  testing::ExpectError([&] { target.CopyTrainedLayersFromFile(dir.file("other.caffemodel")); },
                       ErrorCode::kInvalidArgument,
                       {dir.file("other.caffemodel") + ": ", "net 'small'", "'ip'", "'other_ip'",
                        "another net"});
  testing::WriteFile(dir.file("empty.caffemodel"), "");
  testing::ExpectError([&] { target.CopyTrainedLayersFromFile(dir.file("empty.caffemodel")); },
                       ErrorCode::kInvalidArgument, {"empty.caffemodel", "another net"});
  // One shared layer is enough: fine-tuning renames the layers it learns afresh.
  for (auto& layer : *model.mutable_layer()) {
    if (layer.name() == "other_ip") layer.set_name("ip");
  }
  WriteBinaryProto(dir.file("partial.caffemodel"), model);
  EXPECT_NO_THROW(target.CopyTrainedLayersFromFile(dir.file("partial.caffemodel")));
}

TEST(NetTest, BuildNetFromFileSaysOnWhichLineTheLayerIs) {
  testing::TempDir dir;
  const std::string path = dir.file("net.prototxt");
  testing::WriteFile(path,
                     "name: \"n\"\n"
                     "layer { name: \"data\" type: \"Input\" top: \"x\"\n"
                     "        input_param { shape { dim: 2 dim: 3 dim: 4 dim: 4 } } }\n"
                     "layer { name: \"conv\" type: \"Convolution\" bottom: \"x\" top: \"y\"\n"
                     "        include { phase: TRAIN }\n"
                     "        convolution_param { num_output: 2 kernel_size: 3 } }\n"
                     "layer { name: \"conv\" type: \"Convolution\" bottom: \"x\" top: \"y\"\n"
                     "        include { phase: TEST }\n"
                     "        convolution_param { num_output: 2 kernel_size: 3 group: 2 } }\n");
  NetParameter param = ReadNetFile(path);
  param.mutable_state()->set_phase(caffe::TEST);
  // Of the two layers named 'conv', the one the TEST net includes, on line 7.
  testing::ExpectError([&] { BuildNetFromFile(path, param); }, ErrorCode::kInvalidArgument,
                       {path + ":7: Layer 'conv' (Convolution): group 2"});
  param.mutable_state()->set_phase(caffe::TRAIN);
  EXPECT_NO_THROW(BuildNetFromFile(path, param));
  // A wiring error is placed on its layer's line too.
  param.mutable_layer(1)->set_bottom(0, "nothing");
  try {
    BuildNetFromFile(path, param);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).rfind(path + ":4: layer 'conv'", 0), 0u) << e.what();
  }
}

// ---------------------------------------------------------------------------------------
// The real LeNet written by BVLC Caffe
// ---------------------------------------------------------------------------------------

std::string DataFile(const std::string& name) {
  return testing::SourceDir() + "/tests/testdata/" + name;
}

TEST(NetTest, LeNetDeployLoadsCaffeWeightsAndRoundTrips) {
  const NetParameter deploy = ReadNetParamsFromTextFile(DataFile("lenet_deploy.prototxt"));
  Net net(deploy);
  net.CopyTrainedLayersFromFile(DataFile("lenet_iter_10000.caffemodel"));

  // The weights are the file's, value for value.
  const NetParameter model = ReadNetParamsFromBinaryFile(DataFile("lenet_iter_10000.caffemodel"));
  int checked = 0;
  for (const auto& layer : model.layer()) {
    if (!net.has_layer(layer.name())) continue;
    const auto& blobs = net.layer_by_name(layer.name())->blobs();
    ASSERT_EQ(static_cast<int>(blobs.size()), layer.blobs_size()) << layer.name();
    for (int j = 0; j < layer.blobs_size(); ++j) {
      ASSERT_EQ(blobs[j]->count(), layer.blobs(j).data_size());
      EXPECT_EQ(0, std::memcmp(blobs[j]->cpu_data(), layer.blobs(j).data().data(),
                               sizeof(float) * blobs[j]->count()))
          << layer.name() << " blob " << j;
      ++checked;
    }
  }
  EXPECT_EQ(checked, 8);

  // A forward pass gives probabilities.
  testing::FillUniform(net.blob_by_name("data"), 0.f, 1.f, 17);
  net.Forward();
  const Blob& prob = *net.blob_by_name("prob");
  ASSERT_EQ(prob.shape(), (std::vector<int>{64, 10}));
  for (int n = 0; n < 64; n += 21) {
    double sum = 0;
    for (int c = 0; c < 10; ++c) sum += prob.cpu_data()[n * 10 + c];
    EXPECT_NEAR(sum, 1.0, 1e-5);
  }

  // What this net writes, read back into a fresh net, gives the same blobs bit for bit.
  NetParameter written;
  net.ToProto(&written);
  std::string bytes;
  ASSERT_TRUE(written.SerializeToString(&bytes));
  NetParameter parsed;
  ASSERT_TRUE(parsed.ParseFromString(bytes));
  Net fresh(deploy);
  fresh.CopyTrainedLayersFrom(parsed);
  ASSERT_EQ(fresh.params().size(), net.params().size());
  for (size_t i = 0; i < net.params().size(); ++i) {
    const Blob& a = *net.params()[i];
    const Blob& b = *fresh.params()[i];
    ASSERT_EQ(a.shape(), b.shape());
    EXPECT_EQ(0, std::memcmp(a.cpu_data(), b.cpu_data(), sizeof(float) * a.count())) << i;
  }
  testing::FillUniform(fresh.blob_by_name("data"), 0.f, 1.f, 17);
  fresh.Forward();
  EXPECT_EQ(0, std::memcmp(prob.cpu_data(), fresh.blob_by_name("prob")->cpu_data(),
                           sizeof(float) * prob.count()));
}

}  // namespace
}  // namespace crema
