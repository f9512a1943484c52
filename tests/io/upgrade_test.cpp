#include "crema/io/upgrade.h"

#include <glog/logging.h>
#include <google/protobuf/descriptor.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "crema/core/error.h"
#include "crema/io/proto_io.h"
#include "test_helpers.h"

namespace crema {
namespace {

using testing::SameMessage;

using caffe::NetParameter;
using caffe::SolverParameter;

NetParameter ParseNet(const std::string& text) {
  NetParameter param;
  ParseTextProto(text, "test.prototxt", &param);
  return param;
}

// Upgrades `legacy` and returns the result, failing the test when nothing changed.
NetParameter Upgraded(const std::string& legacy) {
  NetParameter param = ParseNet(legacy);
  EXPECT_TRUE(UpgradeNetAsNeeded("legacy.prototxt", &param));
  return param;
}

// The message of the Error thrown by upgrading `legacy`; empty (and a failure) if none.
std::string UpgradeError(const std::string& legacy, ErrorCode expected_code) {
  NetParameter param = ParseNet(legacy);
  try {
    UpgradeNetAsNeeded("legacy.prototxt", &param);
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), expected_code) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "no error for:\n" << legacy;
  return "";
}

// Collects what the code under test logs at INFO and above.
class CapturingSink : public google::LogSink {
 public:
  CapturingSink() { google::AddLogSink(this); }
  ~CapturingSink() override { google::RemoveLogSink(this); }
  using google::LogSink::send;
  void send(google::LogSeverity, const char*, const char*, int, const google::LogMessageTime&,
            const char* message, size_t length) override {
    std::lock_guard<std::mutex> lock(mu_);
    text_.append(message, length).append("\n");
  }
  std::string text() {
    std::lock_guard<std::mutex> lock(mu_);
    return text_;
  }

 private:
  std::mutex mu_;
  std::string text_;
};

// ---------------------------------------------------------------------------------------
// V0
// ---------------------------------------------------------------------------------------

constexpr char kV0Net[] = R"(
name: "v0_lenet"
layers {
  layer {
    name: "mnist" type: "data" source: "mnist_train_lmdb" batchsize: 64
    scale: 0.00390625 meanfile: "mean.binaryproto" cropsize: 24 mirror: true rand_skip: 7
  }
  top: "data" top: "label"
}
layers {
  layer { name: "pad1" type: "padding" pad: 2 }
  bottom: "data" top: "pad1"
}
layers {
  layer {
    name: "conv1" type: "conv" num_output: 20 kernelsize: 5 stride: 1 group: 2
    biasterm: false weight_filler { type: "xavier" }
    blobs_lr: 1 blobs_lr: 2 weight_decay: 1 weight_decay: 0
  }
  bottom: "pad1" top: "conv1"
}
layers {
  layer { name: "pool1" type: "pool" pool: AVE kernelsize: 2 stride: 2 pad: 1 }
  bottom: "conv1" top: "pool1"
}
layers {
  layer { name: "norm1" type: "lrn" local_size: 3 alpha: 0.0001 beta: 0.5 k: 2 }
  bottom: "pool1" top: "norm1"
}
layers {
  layer { name: "cat" type: "concat" concat_dim: 1 }
  bottom: "norm1" bottom: "pool1" top: "cat"
}
layers {
  layer { name: "flat" type: "flatten" }
  bottom: "cat" top: "flat"
}
layers {
  layer {
    name: "ip1" type: "innerproduct" num_output: 500 biasterm: true
    weight_filler { type: "gaussian" std: 0.01 } bias_filler { type: "constant" value: 0.1 }
  }
  bottom: "flat" top: "ip1"
}
layers {
  layer { name: "relu1" type: "relu" }
  bottom: "ip1" top: "ip1"
}
layers {
  layer { name: "drop1" type: "dropout" dropout_ratio: 0.25 }
  bottom: "ip1" top: "ip1"
}
layers {
  layer { name: "accuracy" type: "accuracy" }
  bottom: "ip1" bottom: "label" top: "accuracy"
}
layers {
  layer { name: "loss" type: "softmax_loss" }
  bottom: "ip1" bottom: "label"
}
)";

constexpr char kV0NetUpgraded[] = R"(
name: "v0_lenet"
layer {
  name: "mnist" type: "Data" top: "data" top: "label"
  transform_param { scale: 0.00390625 mean_file: "mean.binaryproto" crop_size: 24 mirror: true }
  data_param { source: "mnist_train_lmdb" batch_size: 64 rand_skip: 7 }
}
layer {
  name: "conv1" type: "Convolution" bottom: "data" top: "conv1"
  param { lr_mult: 1 decay_mult: 1 } param { lr_mult: 2 decay_mult: 0 }
  convolution_param {
    num_output: 20 bias_term: false pad: 2 kernel_size: 5 group: 2 stride: 1
    weight_filler { type: "xavier" }
  }
}
layer {
  name: "pool1" type: "Pooling" bottom: "conv1" top: "pool1"
  pooling_param { pool: AVE kernel_size: 2 stride: 2 pad: 1 }
}
layer {
  name: "norm1" type: "LRN" bottom: "pool1" top: "norm1"
  lrn_param { local_size: 3 alpha: 0.0001 beta: 0.5 k: 2 }
}
layer {
  name: "cat" type: "Concat" bottom: "norm1" bottom: "pool1" top: "cat"
  concat_param { concat_dim: 1 }
}
layer { name: "flat" type: "Flatten" bottom: "cat" top: "flat" }
layer {
  name: "ip1" type: "InnerProduct" bottom: "flat" top: "ip1"
  inner_product_param {
    num_output: 500 bias_term: true
    weight_filler { type: "gaussian" std: 0.01 } bias_filler { type: "constant" value: 0.1 }
  }
}
layer { name: "relu1" type: "ReLU" bottom: "ip1" top: "ip1" }
layer {
  name: "drop1" type: "Dropout" bottom: "ip1" top: "ip1"
  dropout_param { dropout_ratio: 0.25 }
}
layer { name: "accuracy" type: "Accuracy" bottom: "ip1" bottom: "label" top: "accuracy" }
layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip1" bottom: "label" }
)";

TEST(UpgradeV0Test, LeNetLikeNetWithPaddingLayer) {
  NetParameter param = ParseNet(kV0Net);
  EXPECT_TRUE(NetNeedsV0ToV1Upgrade(param));
  EXPECT_TRUE(NetNeedsV1ToV2Upgrade(param));
  EXPECT_TRUE(UpgradeNetAsNeeded("v0.prototxt", &param));
  EXPECT_TRUE(SameMessage(ParseNet(kV0NetUpgraded), param));
  // Already current: a second pass changes nothing.
  EXPECT_FALSE(UpgradeNetAsNeeded("v0.prototxt", &param));
}

TEST(UpgradeV0Test, DeployNetWithInputDims) {
  const NetParameter param = Upgraded(R"(
    name: "v0_deploy"
    input: "data"
    input_dim: 10 input_dim: 3 input_dim: 227 input_dim: 227
    layers {
      layer { name: "pad1" type: "padding" pad: 1 }
      bottom: "data" top: "pad1"
    }
    layers {
      layer { name: "pool1" type: "pool" pool: MAX kernelsize: 3 stride: 2 }
      bottom: "pad1" top: "pool1"
    }
    layers {
      layer { name: "prob" type: "softmax" }
      bottom: "pool1" top: "prob"
    })");
  EXPECT_TRUE(SameMessage(ParseNet(R"(
    name: "v0_deploy"
    layer {
      name: "input" type: "Input" top: "data"
      input_param { shape { dim: 10 dim: 3 dim: 227 dim: 227 } }
    }
    layer {
      name: "pool1" type: "Pooling" bottom: "data" top: "pool1"
      pooling_param { pool: MAX kernel_size: 3 stride: 2 pad: 1 }
    }
    layer { name: "prob" type: "Softmax" bottom: "pool1" top: "prob" })"),
                          param));
}

TEST(UpgradeV0Test, DataLayersOfEveryKind) {
  const NetParameter param = Upgraded(R"(
    layers {
      layer {
        name: "images" type: "images" source: "list.txt" batchsize: 8 shuffle_images: true
        new_height: 256 new_width: 128 rand_skip: 2 cropsize: 227 mirror: true
      }
      top: "a" top: "la"
    }
    layers {
      layer {
        name: "windows" type: "window_data" source: "windows.txt" batchsize: 16
        det_fg_threshold: 0.6 det_bg_threshold: 0.4 det_fg_fraction: 0.3
        det_context_pad: 16 det_crop_mode: "square" meanfile: "m.binaryproto"
      }
      top: "b" top: "lb"
    }
    layers {
      layer { name: "h5" type: "hdf5_data" source: "h5.txt" batchsize: 4 }
      top: "c" top: "lc"
    }
    layers {
      layer { name: "gain" type: "infogain_loss" source: "H.binaryproto" }
      bottom: "c" bottom: "lc"
    }
    layers {
      layer { name: "out" type: "hdf5_output" hdf5_output_param { file_name: "out.h5" } }
      bottom: "a" bottom: "la"
    })");
  EXPECT_TRUE(SameMessage(ParseNet(R"(
    layer {
      name: "images" type: "ImageData" top: "a" top: "la"
      transform_param { crop_size: 227 mirror: true }
      image_data_param {
        source: "list.txt" batch_size: 8 rand_skip: 2 shuffle: true new_height: 256
        new_width: 128
      }
    }
    layer {
      name: "windows" type: "WindowData" top: "b" top: "lb"
      transform_param { mean_file: "m.binaryproto" }
      window_data_param {
        source: "windows.txt" batch_size: 16 fg_threshold: 0.6 bg_threshold: 0.4
        fg_fraction: 0.3 context_pad: 16 crop_mode: "square"
      }
    }
    layer {
      name: "h5" type: "HDF5Data" top: "c" top: "lc"
      hdf5_data_param { source: "h5.txt" batch_size: 4 }
    }
    layer {
      name: "gain" type: "InfogainLoss" bottom: "c" bottom: "lc"
      infogain_loss_param { source: "H.binaryproto" }
    }
    layer {
      name: "out" type: "HDF5Output" bottom: "a" bottom: "la"
      hdf5_output_param { file_name: "out.h5" }
    })"),
                          param));
}

TEST(UpgradeV0Test, FieldOnWrongTypeIsAnErrorNamingLayerAndField) {
  std::string message = UpgradeError(R"(
    layers {
      layer { name: "relu1" type: "relu" num_output: 10 }
      bottom: "x" top: "x"
    })",
                                     ErrorCode::kInvalidArgument);
  EXPECT_NE(message.find("legacy.prototxt"), std::string::npos) << message;
  EXPECT_NE(message.find("'relu1'"), std::string::npos) << message;
  EXPECT_NE(message.find("num_output"), std::string::npos) << message;

  message = UpgradeError(R"(
    layers { layer { name: "ip" type: "innerproduct" kernelsize: 3 } bottom: "x" top: "y" })",
                         ErrorCode::kInvalidArgument);
  EXPECT_NE(message.find("'ip'"), std::string::npos) << message;
  EXPECT_NE(message.find("kernelsize"), std::string::npos) << message;

  message = UpgradeError(R"(
    layers { layer { name: "c" type: "conv" cropsize: 3 } bottom: "x" top: "y" })",
                         ErrorCode::kInvalidArgument);
  EXPECT_NE(message.find("cropsize"), std::string::npos) << message;

  message = UpgradeError(R"(
    layers { layer { name: "d" type: "data" det_crop_mode: "warp" } top: "y" })",
                         ErrorCode::kInvalidArgument);
  EXPECT_NE(message.find("det_crop_mode"), std::string::npos) << message;
}

TEST(UpgradeV0Test, PaddingIntoNonConvIsAnError) {
  const std::string message = UpgradeError(R"(
    layers { layer { name: "pad1" type: "padding" pad: 2 } bottom: "data" top: "pad1" }
    layers { layer { name: "relu1" type: "relu" } bottom: "pad1" top: "relu1" })",
                                           ErrorCode::kInvalidArgument);
  EXPECT_NE(message.find("'pad1'"), std::string::npos) << message;
  EXPECT_NE(message.find("'relu1'"), std::string::npos) << message;
}

TEST(UpgradeV0Test, UnknownTypeIsAnError) {
  const std::string message = UpgradeError(R"(
    layers { layer { name: "odd" type: "warp_drive" } bottom: "x" top: "y" })",
                                           ErrorCode::kInvalidArgument);
  EXPECT_NE(message.find("'odd'"), std::string::npos) << message;
  EXPECT_NE(message.find("warp_drive"), std::string::npos) << message;
  EXPECT_NE(message.find("innerproduct"), std::string::npos) << message;
}

// ---------------------------------------------------------------------------------------
// V1
// ---------------------------------------------------------------------------------------

constexpr char kV1Net[] = R"(
name: "v1_net"
layers {
  name: "mnist" type: DATA top: "data" top: "label"
  data_param { source: "train_lmdb" backend: LMDB batch_size: 64 }
  transform_param { scale: 0.00390625 }
  include { phase: TRAIN }
}
layers {
  name: "conv1" type: CONVOLUTION bottom: "data" top: "conv1"
  blobs_lr: 1 blobs_lr: 2 weight_decay: 1 weight_decay: 0
  param: "conv1_w" param: "conv1_b"
  blob_share_mode: STRICT blob_share_mode: PERMISSIVE
  convolution_param { num_output: 20 kernel_size: 5 weight_filler { type: "xavier" } }
}
layers {
  name: "conv1b" type: CONVOLUTION bottom: "data" top: "conv1b"
  param: "conv1_w"
  convolution_param { num_output: 20 kernel_size: 5 bias_term: false }
}
layers {
  name: "sum" type: ELTWISE bottom: "conv1" bottom: "conv1b" top: "sum"
  eltwise_param { operation: SUM }
}
layers {
  name: "pool1" type: POOLING bottom: "sum" top: "pool1"
  pooling_param { pool: MAX kernel_size: 2 stride: 2 }
}
layers { name: "norm1" type: LRN bottom: "pool1" top: "norm1" lrn_param { local_size: 5 } }
layers { name: "sig" type: SIGMOID bottom: "norm1" top: "sig" }
layers { name: "tanh" type: TANH bottom: "norm1" top: "tanh" }
layers {
  name: "cat" type: CONCAT bottom: "sig" bottom: "tanh" top: "cat" concat_param { axis: 1 }
}
layers {
  name: "ip1" type: INNER_PRODUCT bottom: "cat" top: "ip1"
  blobs_lr: 1 blobs_lr: 2
  inner_product_param { num_output: 10 }
}
layers { name: "relu1" type: RELU bottom: "ip1" top: "ip1" relu_param { negative_slope: 0.1 } }
layers { name: "drop1" type: DROPOUT bottom: "ip1" top: "ip1" dropout_param { dropout_ratio: 0.3 } }
layers { name: "prob" type: SOFTMAX bottom: "ip1" top: "prob" exclude { stage: "deploy" } }
layers {
  name: "accuracy" type: ACCURACY bottom: "ip1" bottom: "label" top: "accuracy"
  accuracy_param { top_k: 1 }
  include { phase: TEST }
}
layers {
  name: "loss" type: SOFTMAX_LOSS bottom: "ip1" bottom: "label" top: "loss"
  loss_weight: 2
  loss_param { ignore_label: -1 }
}
)";

constexpr char kV1NetUpgraded[] = R"(
name: "v1_net"
layer {
  name: "mnist" type: "Data" top: "data" top: "label"
  include { phase: TRAIN }
  transform_param { scale: 0.00390625 }
  data_param { source: "train_lmdb" backend: LMDB batch_size: 64 }
}
layer {
  name: "conv1" type: "Convolution" bottom: "data" top: "conv1"
  param { name: "conv1_w" share_mode: STRICT lr_mult: 1 decay_mult: 1 }
  param { name: "conv1_b" share_mode: PERMISSIVE lr_mult: 2 decay_mult: 0 }
  convolution_param { num_output: 20 kernel_size: 5 weight_filler { type: "xavier" } }
}
layer {
  name: "conv1b" type: "Convolution" bottom: "data" top: "conv1b"
  param { name: "conv1_w" }
  convolution_param { num_output: 20 kernel_size: 5 bias_term: false }
}
layer {
  name: "sum" type: "Eltwise" bottom: "conv1" bottom: "conv1b" top: "sum"
  eltwise_param { operation: SUM }
}
layer {
  name: "pool1" type: "Pooling" bottom: "sum" top: "pool1"
  pooling_param { pool: MAX kernel_size: 2 stride: 2 }
}
layer { name: "norm1" type: "LRN" bottom: "pool1" top: "norm1" lrn_param { local_size: 5 } }
layer { name: "sig" type: "Sigmoid" bottom: "norm1" top: "sig" }
layer { name: "tanh" type: "TanH" bottom: "norm1" top: "tanh" }
layer {
  name: "cat" type: "Concat" bottom: "sig" bottom: "tanh" top: "cat" concat_param { axis: 1 }
}
layer {
  name: "ip1" type: "InnerProduct" bottom: "cat" top: "ip1"
  param { lr_mult: 1 } param { lr_mult: 2 }
  inner_product_param { num_output: 10 }
}
layer { name: "relu1" type: "ReLU" bottom: "ip1" top: "ip1" relu_param { negative_slope: 0.1 } }
layer {
  name: "drop1" type: "Dropout" bottom: "ip1" top: "ip1" dropout_param { dropout_ratio: 0.3 }
}
layer { name: "prob" type: "Softmax" bottom: "ip1" top: "prob" exclude { stage: "deploy" } }
layer {
  name: "accuracy" type: "Accuracy" bottom: "ip1" bottom: "label" top: "accuracy"
  include { phase: TEST }
  accuracy_param { top_k: 1 }
}
layer {
  name: "loss" type: "SoftmaxWithLoss" bottom: "ip1" bottom: "label" top: "loss"
  loss_weight: 2
  loss_param { ignore_label: -1 }
}
)";

TEST(UpgradeV1Test, CommonTypesAndParamSpecs) {
  NetParameter param = ParseNet(kV1Net);
  EXPECT_FALSE(NetNeedsV0ToV1Upgrade(param));
  EXPECT_TRUE(NetNeedsV1ToV2Upgrade(param));
  EXPECT_FALSE(NetNeedsDataUpgrade(param));
  EXPECT_TRUE(UpgradeNetAsNeeded("v1.prototxt", &param));
  EXPECT_TRUE(SameMessage(ParseNet(kV1NetUpgraded), param));
  EXPECT_EQ(param.layers_size(), 0);
  EXPECT_FALSE(UpgradeNetAsNeeded("v1.prototxt", &param));
}

TEST(UpgradeV1Test, EveryLayerTypeGetsItsRegistryName) {
  const std::map<std::string, std::string> expected = {
      {"ABSVAL", "AbsVal"},
      {"ACCURACY", "Accuracy"},
      {"ARGMAX", "ArgMax"},
      {"BNLL", "BNLL"},
      {"CONCAT", "Concat"},
      {"CONTRASTIVE_LOSS", "ContrastiveLoss"},
      {"CONVOLUTION", "Convolution"},
      {"DATA", "Data"},
      {"DECONVOLUTION", "Deconvolution"},
      {"DROPOUT", "Dropout"},
      {"DUMMY_DATA", "DummyData"},
      {"EUCLIDEAN_LOSS", "EuclideanLoss"},
      {"ELTWISE", "Eltwise"},
      {"EXP", "Exp"},
      {"FLATTEN", "Flatten"},
      {"HDF5_DATA", "HDF5Data"},
      {"HDF5_OUTPUT", "HDF5Output"},
      {"HINGE_LOSS", "HingeLoss"},
      {"IM2COL", "Im2col"},
      {"IMAGE_DATA", "ImageData"},
      {"INFOGAIN_LOSS", "InfogainLoss"},
      {"INNER_PRODUCT", "InnerProduct"},
      {"LRN", "LRN"},
      {"MEMORY_DATA", "MemoryData"},
      {"MULTINOMIAL_LOGISTIC_LOSS", "MultinomialLogisticLoss"},
      {"MVN", "MVN"},
      {"POOLING", "Pooling"},
      {"POWER", "Power"},
      {"RELU", "ReLU"},
      {"SIGMOID", "Sigmoid"},
      {"SIGMOID_CROSS_ENTROPY_LOSS", "SigmoidCrossEntropyLoss"},
      {"SILENCE", "Silence"},
      {"SOFTMAX", "Softmax"},
      {"SOFTMAX_LOSS", "SoftmaxWithLoss"},
      {"SPLIT", "Split"},
      {"SLICE", "Slice"},
      {"TANH", "TanH"},
      {"WINDOW_DATA", "WindowData"},
      {"THRESHOLD", "Threshold"},
  };
  const google::protobuf::EnumDescriptor* types = caffe::V1LayerParameter::LayerType_descriptor();
  ASSERT_EQ(types->value_count(), static_cast<int>(expected.size()) + 1);  // + NONE
  for (int i = 0; i < types->value_count(); ++i) {
    const std::string enum_name = types->value(i)->name();
    NetParameter param =
        ParseNet(StrCat("layers { name: \"l\" type: ", enum_name, " bottom: \"x\" top: \"y\" }"));
    ASSERT_TRUE(UpgradeNetAsNeeded("types.prototxt", &param));
    ASSERT_EQ(param.layer_size(), 1);
    if (enum_name == "NONE") {
      EXPECT_FALSE(param.layer(0).has_type());
    } else {
      ASSERT_TRUE(expected.count(enum_name)) << enum_name;
      EXPECT_EQ(param.layer(0).type(), expected.at(enum_name)) << enum_name;
    }
  }
}

TEST(UpgradeV1Test, PerLayerParamsAreCarriedOver) {
  // One parameter message per V1 field that has one.
  const NetParameter param = Upgraded(R"(
    layers {
      name: "all" type: NONE
      argmax_param { top_k: 2 } contrastive_loss_param { margin: 2 }
      dummy_data_param { shape { dim: 1 } } exp_param { base: 2 }
      hdf5_data_param { batch_size: 3 } hinge_loss_param { norm: L2 }
      image_data_param { new_height: 5 } memory_data_param { batch_size: 6 }
      mvn_param { across_channels: true } power_param { power: 2 }
      sigmoid_param { engine: CAFFE } softmax_param { axis: 2 } slice_param { axis: 2 }
      tanh_param { engine: CAFFE } threshold_param { threshold: 0.5 }
      window_data_param { fg_fraction: 0.5 } infogain_loss_param { source: "H" }
      hdf5_output_param { file_name: "f" }
    })");
  EXPECT_TRUE(SameMessage(ParseNet(R"(
    layer {
      name: "all"
      argmax_param { top_k: 2 } contrastive_loss_param { margin: 2 }
      dummy_data_param { shape { dim: 1 } } exp_param { base: 2 }
      hdf5_data_param { batch_size: 3 } hinge_loss_param { norm: L2 }
      image_data_param { new_height: 5 } memory_data_param { batch_size: 6 }
      mvn_param { across_channels: true } power_param { power: 2 }
      sigmoid_param { engine: CAFFE } softmax_param { axis: 2 } slice_param { axis: 2 }
      tanh_param { engine: CAFFE } threshold_param { threshold: 0.5 }
      window_data_param { fg_fraction: 0.5 } infogain_loss_param { source: "H" }
      hdf5_output_param { file_name: "f" }
    })"),
                          param));
}

TEST(UpgradeV1Test, BlobsAreKept) {
  const NetParameter param = Upgraded(R"(
    layers {
      name: "ip" type: INNER_PRODUCT
      blobs {
        num: 1 channels: 1 height: 2 width: 3 data: 1 data: 2 data: 3 data: 4 data: 5 data: 6
      }
      blobs { shape { dim: 2 } data: 7 data: 8 }
    })");
  ASSERT_EQ(param.layer_size(), 1);
  ASSERT_EQ(param.layer(0).blobs_size(), 2);
  EXPECT_EQ(param.layer(0).blobs(0).width(), 3);
  EXPECT_EQ(param.layer(0).blobs(0).data(5), 6.f);
  EXPECT_EQ(param.layer(0).blobs(1).shape().dim(0), 2);
}

TEST(UpgradeV1Test, MixedLayerAndLayersIsRefused) {
  const std::string message = UpgradeError(R"(
    layer { name: "a" type: "ReLU" bottom: "x" top: "x" }
    layers { name: "b" type: RELU bottom: "x" top: "x" })",
                                           ErrorCode::kInvalidArgument);
  EXPECT_EQ(message.rfind("legacy.prototxt: the net mixes 'layer' and 'layers' entries; ", 0), 0u)
      << message;
}

TEST(UpgradeV1Test, LogsThatTheFileIsLegacy) {
  CapturingSink sink;
  NetParameter param = ParseNet(kV1Net);
  UpgradeNetAsNeeded("old/v1.prototxt", &param);
  EXPECT_NE(sink.text().find("old/v1.prototxt: upgraded V1 layers to the current format"),
            std::string::npos)
      << sink.text();
}

// ---------------------------------------------------------------------------------------
// Data transformation
// ---------------------------------------------------------------------------------------

TEST(UpgradeDataTest, TransformFieldsMoveOutOfDataParams) {
  NetParameter param = ParseNet(R"(
    layers {
      name: "d" type: DATA top: "a"
      data_param { source: "db" batch_size: 2 scale: 0.5 mean_file: "m" crop_size: 3 mirror: true }
    }
    layers {
      name: "i" type: IMAGE_DATA top: "b"
      image_data_param { source: "list" scale: 2 crop_size: 4 }
    }
    layers {
      name: "w" type: WINDOW_DATA top: "c"
      window_data_param { source: "win" mean_file: "wm" mirror: false }
      transform_param { scale: 3 }
    })");
  EXPECT_TRUE(NetNeedsDataUpgrade(param));
  EXPECT_TRUE(UpgradeNetAsNeeded("data.prototxt", &param));
  EXPECT_TRUE(SameMessage(ParseNet(R"(
    layer {
      name: "d" type: "Data" top: "a"
      transform_param { scale: 0.5 mean_file: "m" crop_size: 3 mirror: true }
      data_param { source: "db" batch_size: 2 }
    }
    layer {
      name: "i" type: "ImageData" top: "b"
      transform_param { scale: 2 crop_size: 4 }
      image_data_param { source: "list" }
    }
    layer {
      name: "w" type: "WindowData" top: "c"
      transform_param { scale: 3 mean_file: "wm" mirror: false }
      window_data_param { source: "win" }
    })"),
                          param));
}

TEST(UpgradeDataTest, NothingToDoWithoutDeprecatedFields) {
  const NetParameter param = ParseNet(R"(
    layers { name: "d" type: DATA top: "a" data_param { source: "db" } })");
  EXPECT_FALSE(NetNeedsDataUpgrade(param));
}

// ---------------------------------------------------------------------------------------
// Inputs
// ---------------------------------------------------------------------------------------

TEST(UpgradeInputTest, InputDimBecomesInputLayerFirst) {
  NetParameter param = ParseNet(R"(
    name: "resnet_like"
    input: "data" input: "im_info"
    input_dim: 1 input_dim: 3 input_dim: 224 input_dim: 224
    input_dim: 1 input_dim: 3 input_dim: 1 input_dim: 1
    layer { name: "relu" type: "ReLU" bottom: "data" top: "data" })");
  EXPECT_TRUE(NetNeedsInputUpgrade(param));
  EXPECT_TRUE(UpgradeNetAsNeeded("deploy.prototxt", &param));
  EXPECT_TRUE(SameMessage(ParseNet(R"(
    name: "resnet_like"
    layer {
      name: "input" type: "Input" top: "data" top: "im_info"
      input_param {
        shape { dim: 1 dim: 3 dim: 224 dim: 224 }
        shape { dim: 1 dim: 3 dim: 1 dim: 1 }
      }
    }
    layer { name: "relu" type: "ReLU" bottom: "data" top: "data" })"),
                          param));
}

TEST(UpgradeInputTest, InputShapeBecomesInputLayer) {
  const NetParameter param = Upgraded(R"(
    input: "data"
    input_shape { dim: 2 dim: 5 }
    layer { name: "a" type: "ReLU" bottom: "data" top: "a" }
    layer { name: "b" type: "ReLU" bottom: "a" top: "b" })");
  EXPECT_TRUE(SameMessage(ParseNet(R"(
    layer { name: "input" type: "Input" top: "data" input_param { shape { dim: 2 dim: 5 } } }
    layer { name: "a" type: "ReLU" bottom: "data" top: "a" }
    layer { name: "b" type: "ReLU" bottom: "a" top: "b" })"),
                          param));
}

TEST(UpgradeInputTest, InputNamesWithoutDimsAreDropped) {
  // What an old Net::ToProto wrote into a caffemodel.
  const NetParameter param = Upgraded(R"(
    name: "old_model"
    input: "data"
    layers { name: "conv1" type: CONVOLUTION bottom: "data" top: "conv1" })");
  EXPECT_TRUE(SameMessage(ParseNet(R"(
    name: "old_model"
    layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1" })"),
                          param));
}

TEST(UpgradeInputTest, InconsistentCountsAreErrors) {
  std::string message = UpgradeError(R"(
    input: "data" input: "label" input_dim: 1 input_dim: 2 input_dim: 3 input_dim: 4)",
                                     ErrorCode::kInvalidArgument);
  EXPECT_NE(message.find("legacy.prototxt"), std::string::npos) << message;
  EXPECT_NE(message.find("input_dim"), std::string::npos) << message;

  message = UpgradeError(R"(input: "data" input_dim: 1 input_dim: 2 input_dim: 3)",
                         ErrorCode::kInvalidArgument);
  EXPECT_NE(message.find("input_dim"), std::string::npos) << message;

  message = UpgradeError(R"(
    input: "a" input: "b" input_shape { dim: 1 })",
                         ErrorCode::kInvalidArgument);
  EXPECT_NE(message.find("input_shape"), std::string::npos) << message;

  message = UpgradeError(R"(
    input: "a" input_shape { dim: 1 } input_dim: 1 input_dim: 1 input_dim: 1 input_dim: 1)",
                         ErrorCode::kInvalidArgument);
  EXPECT_NE(message.find("both"), std::string::npos) << message;

  message = UpgradeError(R"(input_dim: 1 input_dim: 1 input_dim: 1 input_dim: 1)",
                         ErrorCode::kInvalidArgument);
  EXPECT_NE(message.find("no input names"), std::string::npos) << message;
}

// ---------------------------------------------------------------------------------------
// BatchNorm
// ---------------------------------------------------------------------------------------

TEST(UpgradeBatchNormTest, ThreeParamSpecsGetZeroMultipliers) {
  NetParameter param = ParseNet(R"(
    layer {
      name: "bn" type: "BatchNorm" bottom: "x" top: "x"
      param { lr_mult: 1 } param { lr_mult: 1 decay_mult: 2 } param { name: "shared" }
    }
    layer {
      name: "bn2" type: "BatchNorm" bottom: "x" top: "x"
      param { lr_mult: 1 } param { lr_mult: 1 }
    })");
  EXPECT_TRUE(NetNeedsBatchNormUpgrade(param));
  CapturingSink sink;
  EXPECT_TRUE(UpgradeNetAsNeeded("bn.prototxt", &param));
  EXPECT_TRUE(SameMessage(ParseNet(R"(
    layer {
      name: "bn" type: "BatchNorm" bottom: "x" top: "x"
      param { lr_mult: 0 decay_mult: 0 } param { lr_mult: 0 decay_mult: 0 }
      param { name: "shared" lr_mult: 0 decay_mult: 0 }
    }
    layer {
      name: "bn2" type: "BatchNorm" bottom: "x" top: "x"
      param { lr_mult: 1 } param { lr_mult: 1 }
    })"),
                          param));
  EXPECT_NE(sink.text().find("'bn'"), std::string::npos) << sink.text();
  EXPECT_FALSE(NetNeedsBatchNormUpgrade(param));
  EXPECT_FALSE(UpgradeNetAsNeeded("bn.prototxt", &param));
}

TEST(UpgradeNetTest, CurrentNetIsUntouched) {
  const NetParameter original = ParseNet(R"(
    name: "current"
    layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 1 } } }
    layer { name: "bn" type: "BatchNorm" bottom: "data" top: "data" })");
  NetParameter param = original;
  EXPECT_FALSE(UpgradeNetAsNeeded("current.prototxt", &param));
  EXPECT_TRUE(SameMessage(original, param));
}

// ---------------------------------------------------------------------------------------
// Files on disk: the upgrade runs on text and binary reads
// ---------------------------------------------------------------------------------------

TEST(UpgradeNetTest, TextAndBinaryReadsUpgrade) {
  testing::TempDir dir;
  const std::string text_path = dir.file("v1.prototxt");
  testing::WriteFile(text_path, kV1Net);
  EXPECT_TRUE(SameMessage(ParseNet(kV1NetUpgraded), ReadNetParamsFromTextFile(text_path)));

  NetParameter v1_model = ParseNet(R"(
    name: "v1_model"
    layers {
      name: "ip" type: INNER_PRODUCT blobs_lr: 1 blobs_lr: 2
      blobs { num: 1 channels: 1 height: 2 width: 2 data: 1 data: 2 data: 3 data: 4 }
      blobs { num: 1 channels: 1 height: 1 width: 2 data: 5 data: 6 }
    })");
  const std::string binary_path = dir.file("v1.caffemodel");
  WriteBinaryProto(binary_path, v1_model);
  EXPECT_TRUE(SameMessage(ParseNet(R"(
    name: "v1_model"
    layer {
      name: "ip" type: "InnerProduct" param { lr_mult: 1 } param { lr_mult: 2 }
      blobs { num: 1 channels: 1 height: 2 width: 2 data: 1 data: 2 data: 3 data: 4 }
      blobs { num: 1 channels: 1 height: 1 width: 2 data: 5 data: 6 }
    })"),
                          ReadNetParamsFromBinaryFile(binary_path)));
}

// ---------------------------------------------------------------------------------------
// Solver
// ---------------------------------------------------------------------------------------

SolverParameter Solver(const std::string& text) {
  SolverParameter param;
  ParseTextProto(text, "solver.prototxt", &param);
  return param;
}

TEST(UpgradeSolverTest, SolverTypeBecomesTypeString) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"SGD", "SGD"},           {"NESTEROV", "Nesterov"}, {"ADAGRAD", "AdaGrad"},
      {"RMSPROP", "RMSProp"},   {"ADADELTA", "AdaDelta"}, {"ADAM", "Adam"},
  };
  for (const auto& [legacy, current] : cases) {
    SolverParameter param = Solver(StrCat("base_lr: 0.1 solver_type: ", legacy));
    EXPECT_TRUE(SolverNeedsTypeUpgrade(param));
    EXPECT_TRUE(UpgradeSolverAsNeeded("solver.prototxt", &param));
    EXPECT_FALSE(param.has_solver_type()) << legacy;
    EXPECT_EQ(param.type(), current);
    EXPECT_FALSE(UpgradeSolverAsNeeded("solver.prototxt", &param));
  }
}

TEST(UpgradeSolverTest, BothFieldsAgreeingIsAccepted) {
  SolverParameter param = Solver(R"(solver_type: ADAM type: "Adam")");
  EXPECT_TRUE(UpgradeSolverAsNeeded("solver.prototxt", &param));
  EXPECT_EQ(param.type(), "Adam");
  EXPECT_FALSE(param.has_solver_type());
}

TEST(UpgradeSolverTest, BothFieldsDisagreeingIsAnError) {
  SolverParameter param = Solver(R"(solver_type: NESTEROV type: "Adam")");
  try {
    UpgradeSolverAsNeeded("solver.prototxt", &param);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
    const std::string message = e.what();
    EXPECT_NE(message.find("solver.prototxt"), std::string::npos) << message;
    EXPECT_NE(message.find("solver_type"), std::string::npos) << message;
    EXPECT_NE(message.find("Adam"), std::string::npos) << message;
  }
}

TEST(UpgradeSolverTest, CurrentSolverIsUntouchedAndInlineNetsUpgrade) {
  SolverParameter param = Solver(R"(type: "Adam" base_lr: 0.001)");
  EXPECT_FALSE(UpgradeSolverAsNeeded("solver.prototxt", &param));

  param = Solver(R"(
    net_param { layers { name: "r" type: RELU bottom: "x" top: "x" } }
    test_net_param { input: "x" input_dim: 1 input_dim: 1 input_dim: 1 input_dim: 1 })");
  EXPECT_TRUE(UpgradeSolverAsNeeded("solver.prototxt", &param));
  ASSERT_EQ(param.net_param().layer_size(), 1);
  EXPECT_EQ(param.net_param().layer(0).type(), "ReLU");
  ASSERT_EQ(param.test_net_param(0).layer_size(), 1);
  EXPECT_EQ(param.test_net_param(0).layer(0).type(), "Input");
}

TEST(UpgradeSolverTest, ReadSolverFileUpgrades) {
  testing::TempDir dir;
  const std::string path = dir.file("solver.prototxt");
  testing::WriteFile(path, "base_lr: 0.01\nsolver_type: ADAGRAD\n");
  const SolverParameter param = ReadSolverParamsFromTextFile(path);
  EXPECT_EQ(param.type(), "AdaGrad");
  EXPECT_FALSE(param.has_solver_type());
}

}  // namespace
}  // namespace crema
