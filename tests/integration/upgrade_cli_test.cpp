// `crema upgrade` end to end: V0 and V1 nets (text and binary) and a legacy solver come out
// in the current format, IN == OUT replaces the file whole, and mistakes are one sentence.
#include <gtest/gtest.h>
#include <google/protobuf/text_format.h>

#include <algorithm>
#include <filesystem>
#include <string>

#include "crema/io/proto_io.h"
#include "crema/proto/caffe.pb.h"
#include "test_helpers.h"

namespace crema {
namespace {

namespace fs = std::filesystem;
using testing::Crema;
using testing::TempDir;
using testing::WriteFile;

constexpr char kV1Net[] = R"(name: "v1_lenet"
layers {
  name: "mnist" type: DATA top: "data" top: "label"
  data_param { source: "mnist_train_lmdb" backend: LMDB batch_size: 64 scale: 0.00390625 }
  include: { phase: TRAIN }
}
layers {
  name: "conv1" type: CONVOLUTION bottom: "data" top: "conv1"
  blobs_lr: 1 blobs_lr: 2 weight_decay: 1 weight_decay: 0
  convolution_param { num_output: 20 kernel_size: 5 stride: 1
    weight_filler { type: "xavier" } bias_filler { type: "constant" } }
}
layers {
  name: "pool1" type: POOLING bottom: "conv1" top: "pool1"
  pooling_param { pool: MAX kernel_size: 2 stride: 2 }
}
layers { name: "relu1" type: RELU bottom: "pool1" top: "pool1" }
layers { name: "loss" type: SOFTMAX_LOSS bottom: "pool1" bottom: "label" top: "loss" }
)";

constexpr char kV1NetCurrent[] = R"(name: "v1_lenet"
layer {
  name: "mnist" type: "Data" top: "data" top: "label"
  include { phase: TRAIN }
  transform_param { scale: 0.00390625 }
  data_param { source: "mnist_train_lmdb" batch_size: 64 backend: LMDB }
}
layer {
  name: "conv1" type: "Convolution" bottom: "data" top: "conv1"
  param { lr_mult: 1 decay_mult: 1 } param { lr_mult: 2 decay_mult: 0 }
  convolution_param { num_output: 20 kernel_size: 5 stride: 1
    weight_filler { type: "xavier" } bias_filler { type: "constant" } }
}
layer {
  name: "pool1" type: "Pooling" bottom: "conv1" top: "pool1"
  pooling_param { pool: MAX kernel_size: 2 stride: 2 }
}
layer { name: "relu1" type: "ReLU" bottom: "pool1" top: "pool1" }
layer { name: "loss" type: "SoftmaxWithLoss" bottom: "pool1" bottom: "label" top: "loss" }
)";

constexpr char kV0Net[] = R"(name: "v0_net"
input: "data"
input_dim: 1 input_dim: 3 input_dim: 8 input_dim: 8
layers {
  layer { name: "pad1" type: "padding" pad: 1 }
  bottom: "data" top: "pad1"
}
layers {
  layer { name: "conv1" type: "conv" num_output: 4 kernelsize: 3 stride: 1
          blobs_lr: 1 blobs_lr: 2 weight_filler { type: "gaussian" std: 0.01 } }
  bottom: "pad1" top: "conv1"
}
layers {
  layer { name: "relu1" type: "relu" }
  bottom: "conv1" top: "conv1"
}
layers {
  layer { name: "prob" type: "softmax" }
  bottom: "conv1" top: "prob"
}
)";

constexpr char kV0NetCurrent[] = R"(name: "v0_net"
layer {
  name: "input" type: "Input" top: "data"
  input_param { shape { dim: 1 dim: 3 dim: 8 dim: 8 } }
}
layer {
  name: "conv1" type: "Convolution" bottom: "data" top: "conv1"
  param { lr_mult: 1 } param { lr_mult: 2 }
  convolution_param { num_output: 4 pad: 1 kernel_size: 3 stride: 1
    weight_filler { type: "gaussian" std: 0.01 } }
}
layer { name: "relu1" type: "ReLU" bottom: "conv1" top: "conv1" }
layer { name: "prob" type: "Softmax" bottom: "conv1" top: "prob" }
)";

// How `crema upgrade` prints a message: protobuf's text format.
template <typename Message>
std::string Printed(const std::string& text) {
  Message message;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &message)) << text;
  std::string printed;
  google::protobuf::TextFormat::PrintToString(message, &printed);
  return printed;
}

// Only `keep` is in `dir`: nothing was left under a temporary name.
void ExpectOnlyFiles(const TempDir& dir, std::vector<std::string> keep) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir.path())) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  std::sort(keep.begin(), keep.end());
  EXPECT_EQ(names, keep);
}

TEST(UpgradeCliTest, V1NetTextBecomesTheCurrentFormat) {
  TempDir dir;
  WriteFile(dir.file("v1.prototxt"), kV1Net);
  const auto r = Crema("upgrade net-text " + dir.file("v1.prototxt") + " " +
                       dir.file("new.prototxt"));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_CONTAINS(r.output, "upgraded V1 layers to the current format");
  EXPECT_CONTAINS(r.output, "Wrote upgraded NetParameter text proto to " + dir.file("new.prototxt"));
  EXPECT_EQ(ReadFileToString(dir.file("new.prototxt")), Printed<caffe::NetParameter>(kV1NetCurrent));
  // The input is untouched.
  EXPECT_EQ(ReadFileToString(dir.file("v1.prototxt")), kV1Net);
}

TEST(UpgradeCliTest, V0NetTextBecomesTheCurrentFormat) {
  TempDir dir;
  WriteFile(dir.file("v0.prototxt"), kV0Net);
  const auto r = Crema("upgrade net-text " + dir.file("v0.prototxt") + " " +
                       dir.file("new.prototxt"));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_CONTAINS(r.output, "upgraded V0 layers to the V1 format");
  EXPECT_EQ(ReadFileToString(dir.file("new.prototxt")), Printed<caffe::NetParameter>(kV0NetCurrent));
  // The result is a net Crema runs.
  const auto t = Crema("time -model " + dir.file("new.prototxt") + " -iterations 1");
  EXPECT_EQ(t.status, 0) << t.output;
}

TEST(UpgradeCliTest, InPlaceUpgradeReplacesTheFileWhole) {
  TempDir dir;
  WriteFile(dir.file("net.prototxt"), kV1Net);
  const auto r = Crema("upgrade net-text " + dir.file("net.prototxt") + " " +
                       dir.file("net.prototxt"));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(ReadFileToString(dir.file("net.prototxt")), Printed<caffe::NetParameter>(kV1NetCurrent));
  ExpectOnlyFiles(dir, {"net.prototxt"});
  // Upgrading a current file again copies it unchanged, with a note.
  const auto again = Crema("upgrade net-text " + dir.file("net.prototxt") + " " +
                           dir.file("net.prototxt"));
  ASSERT_EQ(again.status, 0) << again.output;
  EXPECT_CONTAINS(again.output, "already in the current format");
  EXPECT_EQ(ReadFileToString(dir.file("net.prototxt")), Printed<caffe::NetParameter>(kV1NetCurrent));
}

TEST(UpgradeCliTest, V1NetBinaryKeepsItsBlobs) {
  TempDir dir;
  caffe::NetParameter legacy;
  ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(R"(
    name: "m"
    layers { name: "ip" type: INNER_PRODUCT bottom: "x" top: "y" blobs_lr: 1 blobs_lr: 2
             inner_product_param { num_output: 2 }
             blobs { num: 1 channels: 1 height: 2 width: 3 data: 1 data: 2 data: 3 data: 4
                     data: 5 data: 6 }
             blobs { num: 1 channels: 1 height: 1 width: 2 data: 0.5 data: -0.5 } }
    layers { name: "r" type: RELU bottom: "y" top: "y" })",
                                                            &legacy));
  WriteBinaryProto(dir.file("old.caffemodel"), legacy);
  const auto r = Crema("upgrade net-binary " + dir.file("old.caffemodel") + " " +
                       dir.file("new.caffemodel"));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_CONTAINS(r.output, "Wrote upgraded NetParameter binary proto to " +
                                dir.file("new.caffemodel"));
  caffe::NetParameter raw;  // read without upgrading: it must already be current
  ReadBinaryProto(dir.file("new.caffemodel"), &raw);
  caffe::NetParameter expected;
  ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(R"(
    name: "m"
    layer { name: "ip" type: "InnerProduct" bottom: "x" top: "y"
            param { lr_mult: 1 } param { lr_mult: 2 }
            inner_product_param { num_output: 2 }
            blobs { num: 1 channels: 1 height: 2 width: 3 data: 1 data: 2 data: 3 data: 4
                    data: 5 data: 6 }
            blobs { num: 1 channels: 1 height: 1 width: 2 data: 0.5 data: -0.5 } }
    layer { name: "r" type: "ReLU" bottom: "y" top: "y" })",
                                                            &expected));
  EXPECT_TRUE(testing::SameMessage(expected, raw));
  // In place works for binary files too.
  ASSERT_EQ(Crema("upgrade net-binary " + dir.file("old.caffemodel") + " " +
                  dir.file("old.caffemodel"))
                .status,
            0);
  caffe::NetParameter in_place;
  ReadBinaryProto(dir.file("old.caffemodel"), &in_place);
  EXPECT_TRUE(testing::SameMessage(expected, in_place));
  ExpectOnlyFiles(dir, {"new.caffemodel", "old.caffemodel"});
}

TEST(UpgradeCliTest, SolverTypeEnumBecomesTheTypeString) {
  TempDir dir;
  WriteFile(dir.file("solver.prototxt"),
            "net: \"lenet.prototxt\"\nbase_lr: 0.001\nmomentum: 0.9\nmomentum2: 0.999\n"
            "solver_type: ADAM\nlr_policy: \"fixed\"\n");
  const auto r = Crema("upgrade solver-text " + dir.file("solver.prototxt") + " " +
                       dir.file("new.prototxt"));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_CONTAINS(r.output, "upgraded deprecated solver_type to type: \"Adam\"");
  // Nothing else is added: no snapshot_prefix default, the net path as written.
  EXPECT_EQ(ReadFileToString(dir.file("new.prototxt")),
            Printed<caffe::SolverParameter>("net: \"lenet.prototxt\" base_lr: 0.001 "
                                            "momentum: 0.9 momentum2: 0.999 type: \"Adam\" "
                                            "lr_policy: \"fixed\""));
}

TEST(UpgradeCliTest, MistakesAreOneSentence) {
  TempDir dir;
  WriteFile(dir.file("bad.prototxt"),
            "layers { layer { name: \"x\" type: \"warp\" } top: \"y\" }\n");
  const struct {
    std::string arguments;
    std::string needle;
  } cases[] = {
      {"upgrade", "usage: crema upgrade net-text|net-binary|solver-text IN OUT"},
      {"upgrade net-text " + dir.file("a"), "(got 2 arguments)"},
      {"upgrade model-text a b", "unknown upgrade 'model-text'"},
      {"upgrade net-text " + dir.file("missing.prototxt") + " " + dir.file("o"),
       dir.file("missing.prototxt")},
      {"upgrade net-text " + dir.file("bad.prototxt") + " " + dir.file("o"),
       "V0 layer 'x' has unknown type \"warp\""},
      {"upgrade net-binary " + dir.file("bad.prototxt") + " " + dir.file("o"),
       dir.file("bad.prototxt") + ": not a valid binary caffe.NetParameter"},
  };
  for (const auto& c : cases) {
    const auto r = Crema(c.arguments);
    EXPECT_EQ(r.status, 1) << c.arguments << "\n" << r.output;
    EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << c.arguments << "\n"
                                                                     << r.output;
    EXPECT_CONTAINS(r.output, c.needle);
  }
  EXPECT_FALSE(fs::exists(dir.file("o")));
}

}  // namespace
}  // namespace crema
