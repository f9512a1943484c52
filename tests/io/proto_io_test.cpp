#include "crema/io/proto_io.h"

#include <gtest/gtest.h>
#include <google/protobuf/util/message_differencer.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <numeric>
#include <set>
#include <random>
#include <string>
#include <vector>

#include "crema/core/error.h"
#include "test_helpers.h"

namespace crema {
namespace {

using google::protobuf::util::MessageDifferencer;

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

std::vector<std::string> DirectoryEntries(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

// A net with every kind of content a caffemodel carries: strings, enums, nested messages,
// packed floats, legacy blob dims.
caffe::NetParameter SampleNet() {
  caffe::NetParameter net = testing::NetFromText(R"(
    name: "sample"
    state { phase: TRAIN stage: "s" }
    layer {
      name: "data" type: "Input" top: "data"
      input_param { shape { dim: 2 dim: 3 dim: 4 dim: 5 } }
    }
    layer {
      name: "conv1" type: "Convolution" bottom: "data" top: "conv1"
      param { lr_mult: 1 } param { lr_mult: 2 decay_mult: 0 }
      convolution_param { num_output: 4 kernel_size: 3 weight_filler { type: "xavier" } }
      include { phase: TRAIN }
    }
    layer {
      name: "loss" type: "SoftmaxWithLoss" bottom: "conv1" bottom: "data" loss_weight: 0.5
    })");
  caffe::LayerParameter* conv = net.mutable_layer(1);
  caffe::BlobProto* weights = conv->add_blobs();
  for (int d : {4, 3, 3, 3}) weights->mutable_shape()->add_dim(d);
  std::mt19937 gen(7);
  std::uniform_real_distribution<float> dist(-1.f, 1.f);
  for (int i = 0; i < 4 * 3 * 3 * 3; ++i) weights->add_data(dist(gen));
  caffe::BlobProto* bias = conv->add_blobs();
  bias->set_num(1);
  bias->set_channels(1);
  bias->set_height(1);
  bias->set_width(4);
  for (int i = 0; i < 4; ++i) bias->add_data(0.25f * static_cast<float>(i));
  return net;
}

std::string ThrowsMessage(const std::function<void()>& body, ErrorCode expected_code) {
  try {
    body();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), expected_code) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "no crema::Error thrown";
  return "";
}

TEST(ProtoIoTest, TextRoundTrip) {
  testing::TempDir dir;
  const caffe::NetParameter net = SampleNet();
  WriteTextProto(dir.file("net.prototxt"), net);
  caffe::NetParameter read;
  ReadTextProto(dir.file("net.prototxt"), &read);
  EXPECT_TRUE(MessageDifferencer::Equals(net, read)) << read.DebugString();
}

TEST(ProtoIoTest, BinaryRoundTrip) {
  testing::TempDir dir;
  const caffe::NetParameter net = SampleNet();
  WriteBinaryProto(dir.file("net.caffemodel"), net);
  caffe::NetParameter read;
  ReadBinaryProto(dir.file("net.caffemodel"), &read);
  EXPECT_TRUE(MessageDifferencer::Equals(net, read));
  // The file is exactly the wire encoding.
  std::string expected;
  ASSERT_TRUE(net.SerializeToString(&expected));
  EXPECT_EQ(ReadFileToString(dir.file("net.caffemodel")), expected);
}

TEST(ProtoIoTest, UnpackedFloatsAreAccepted) {
  // BlobProto.data (field 5) written element by element (wire type 5) instead of packed.
  std::string bytes;
  for (float value : {1.5f, -2.f, 3.25f}) {
    bytes.push_back(static_cast<char>((5 << 3) | 5));
    char raw[4];
    std::memcpy(raw, &value, 4);
    bytes.append(raw, 4);
  }
  testing::TempDir dir;
  testing::WriteFile(dir.file("blob.binaryproto"), bytes);
  caffe::BlobProto blob;
  ReadBinaryProto(dir.file("blob.binaryproto"), &blob);
  ASSERT_EQ(blob.data_size(), 3);
  EXPECT_EQ(blob.data(0), 1.5f);
  EXPECT_EQ(blob.data(1), -2.f);
  EXPECT_EQ(blob.data(2), 3.25f);
}

TEST(ProtoIoTest, SyntaxErrorNamesFileLineAndColumn) {
  testing::TempDir dir;
  const std::string path = dir.file("bad.prototxt");
  // Line 4, column 3 holds the unknown field name.
  // A value of the wrong kind: line 2, column 35 is where "many" starts.
  testing::WriteFile(path,
                     "layer {\n"
                     "  convolution_param { num_output: many }\n"
                     "}\n");
  caffe::NetParameter net;
  std::string message =
      ThrowsMessage([&] { ReadTextProto(path, &net); }, ErrorCode::kInvalidArgument);
  EXPECT_EQ(message.rfind(path + ":2:35: ", 0), 0u) << message;
  EXPECT_TRUE(Contains(message, "many")) << message;

  // A missing colon: line 3, column 8 holds the value that came too early.
  testing::WriteFile(path,
                     "layer {\n"
                     "  name: \"a\"\n"
                     "  type \"b\"\n"
                     "}\n");
  message = ThrowsMessage([&] { ReadTextProto(path, &net); }, ErrorCode::kInvalidArgument);
  EXPECT_EQ(message.rfind(path + ":3:8: ", 0), 0u) << message;

  // An unknown field on line 4 (the parser notices it once the name is read, so the column
  // is the one just past the name).
  testing::WriteFile(path,
                     "name: \"net\"\n"
                     "layer {\n"
                     "  name: \"a\"\n"
                     "  colour: 3\n"
                     "}\n");
  message = ThrowsMessage([&] { ReadTextProto(path, &net); }, ErrorCode::kInvalidArgument);
  EXPECT_EQ(message.rfind(path + ":4:", 0), 0u) << message;
  EXPECT_TRUE(Contains(message, "colour")) << message;

  // A block left open: the parser reaches the end of the text, and says so (issue 7).
  testing::WriteFile(path, "name: \"net\"\nlayer {\n  name: \"a\"\n");
  message = ThrowsMessage([&] { ReadTextProto(path, &net); }, ErrorCode::kInvalidArgument);
  EXPECT_EQ(message.rfind(path + ":4:1: ", 0), 0u) << message;
  EXPECT_TRUE(Contains(message, "got: the end of the file")) << message;

  // In-memory text names its source the same way.
  message = ThrowsMessage([&] { ParseTextProto("name: 3 4", "inline", &net); },
                          ErrorCode::kInvalidArgument);
  EXPECT_EQ(message.rfind("inline:1:", 0), 0u) << message;
}

TEST(ProtoIoTest, MissingFileIsAnIOErrorNamingThePath) {
  testing::TempDir dir;
  const std::string path = dir.file("no_such.prototxt");
  caffe::NetParameter net;
  std::string message =
      ThrowsMessage([&] { ReadTextProto(path, &net); }, ErrorCode::kIOError);
  EXPECT_TRUE(Contains(message, path)) << message;
  message = ThrowsMessage([&] { ReadBinaryProto(path, &net); }, ErrorCode::kIOError);
  EXPECT_TRUE(Contains(message, path)) << message;
  message = ThrowsMessage([&] { ReadNetParamsFromBinaryFile(path); }, ErrorCode::kIOError);
  EXPECT_TRUE(Contains(message, path)) << message;
}

TEST(ProtoIoTest, TruncatedCaffemodelIsCorruptionNamingTheFile) {
  testing::TempDir dir;
  std::string bytes;
  ASSERT_TRUE(SampleNet().SerializeToString(&bytes));
  // A cut at a field boundary leaves a valid, shorter message; every other cut leaves a
  // field shorter than its declared length. The boundaries are the sizes of the prefixes.
  std::set<size_t> boundaries = {0};
  caffe::NetParameter prefix = SampleNet();
  prefix.clear_layer();
  prefix.clear_state();
  boundaries.insert(prefix.ByteSizeLong());
  prefix.mutable_state()->CopyFrom(SampleNet().state());
  for (int k = 0; k <= SampleNet().layer_size(); ++k) {
    boundaries.insert(prefix.ByteSizeLong());
    if (k < SampleNet().layer_size()) *prefix.add_layer() = SampleNet().layer(k);
  }
  ASSERT_EQ(*boundaries.rbegin(), bytes.size());
  const std::string path = dir.file("cut.caffemodel");
  std::vector<size_t> cuts;
  for (size_t cut = 1; cut < bytes.size(); cut += 7) {
    if (!boundaries.count(cut)) cuts.push_back(cut);
  }
  cuts.push_back(bytes.size() - 1);
  ASSERT_GT(cuts.size(), 50u);
  for (size_t cut : cuts) {
    testing::WriteFile(path, bytes.substr(0, cut));
    caffe::NetParameter net;
    const std::string message =
        ThrowsMessage([&] { ReadNetParamsFromBinaryFile(path); }, ErrorCode::kCorruption);
    EXPECT_TRUE(Contains(message, path)) << "cut at " << cut << ": " << message;
  }
}

TEST(ProtoIoTest, TruncatedRealCaffemodelIsCorruption) {
  const std::string bytes =
      ReadFileToString(testing::SourceDir() + "/tests/testdata/lenet_iter_10000.caffemodel");
  testing::TempDir dir;
  const std::string path = dir.file("lenet_cut.caffemodel");
  for (size_t cut : {bytes.size() - 1, bytes.size() - 1000, bytes.size() / 2, bytes.size() / 5}) {
    testing::WriteFile(path, bytes.substr(0, cut));
    const std::string message =
        ThrowsMessage([&] { ReadNetParamsFromBinaryFile(path); }, ErrorCode::kCorruption);
    EXPECT_TRUE(Contains(message, path)) << "cut at " << cut << ": " << message;
  }
}

TEST(ProtoIoTest, RandomGarbageIsCorruption) {
  testing::TempDir dir;
  const std::string path = dir.file("garbage.caffemodel");
  for (unsigned seed = 1; seed <= 20; ++seed) {
    std::mt19937 gen(seed);
    std::uniform_int_distribution<int> byte(0, 255);
    std::string bytes(100 + 50 * seed, '\0');
    for (char& c : bytes) c = static_cast<char>(byte(gen));
    testing::WriteFile(path, bytes);
    const std::string message =
        ThrowsMessage([&] { ReadNetParamsFromBinaryFile(path); }, ErrorCode::kCorruption);
    EXPECT_TRUE(Contains(message, path)) << "seed " << seed << ": " << message;
  }
}

TEST(ProtoIoTest, WriteStringToFileLeavesNoTemporaryFile) {
  testing::TempDir dir;
  const std::string path = dir.file("out.txt");
  WriteStringToFile(path, "first");
  EXPECT_EQ(DirectoryEntries(dir.path()), std::vector<std::string>{"out.txt"});
  EXPECT_EQ(ReadFileToString(path), "first");
  WriteTextProto(dir.file("net.prototxt"), SampleNet());
  WriteBinaryProto(dir.file("net.caffemodel"), SampleNet());
  EXPECT_EQ(DirectoryEntries(dir.path()),
            (std::vector<std::string>{"net.caffemodel", "net.prototxt", "out.txt"}));
}

TEST(ProtoIoTest, WriteStringToFileReplacesAtomically) {
  testing::TempDir dir;
  const std::string path = dir.file("model.caffemodel");
  WriteStringToFile(path, "old contents");
  struct stat before {};
  ASSERT_EQ(::stat(path.c_str(), &before), 0);
  // A reader that opened the old file keeps seeing it whole: the new contents arrive as a new
  // file renamed over the name, never as an in-place rewrite.
  std::ifstream reader(path, std::ios::binary);
  ASSERT_TRUE(reader.good());
  WriteStringToFile(path, "new");
  struct stat after {};
  ASSERT_EQ(::stat(path.c_str(), &after), 0);
  EXPECT_NE(before.st_ino, after.st_ino);
  std::string old_view((std::istreambuf_iterator<char>(reader)), std::istreambuf_iterator<char>());
  EXPECT_EQ(old_view, "old contents");
  EXPECT_EQ(ReadFileToString(path), "new");
  EXPECT_EQ(DirectoryEntries(dir.path()), std::vector<std::string>{"model.caffemodel"});
}

TEST(ProtoIoTest, WriteIntoMissingDirectoryIsAnIOError) {
  testing::TempDir dir;
  const std::string path = dir.file("no_dir/out.txt");
  const std::string message =
      ThrowsMessage([&] { WriteStringToFile(path, "x"); }, ErrorCode::kIOError);
  EXPECT_TRUE(Contains(message, dir.file("no_dir/"))) << message;
  EXPECT_TRUE(DirectoryEntries(dir.path()).empty());
}

// The real file written by BVLC Caffe.
TEST(ProtoIoTest, ReadsTheCaffeLeNetModel) {
  const caffe::NetParameter net =
      ReadNetParamsFromBinaryFile(testing::SourceDir() + "/tests/testdata/lenet_iter_10000.caffemodel");
  std::vector<std::string> names;
  for (const auto& layer : net.layer()) names.push_back(layer.name());
  EXPECT_EQ(names, (std::vector<std::string>{"mnist", "conv1", "pool1", "conv2", "pool2", "ip1",
                                             "relu1", "ip2", "loss"}));
  EXPECT_EQ(net.layers_size(), 0);

  const auto shape_of = [&](const std::string& layer, int blob) {
    for (const auto& l : net.layer()) {
      if (l.name() != layer) continue;
      EXPECT_LT(blob, l.blobs_size()) << layer;
      if (blob >= l.blobs_size()) return std::vector<int64_t>{};
      const auto& dims = l.blobs(blob).shape().dim();
      EXPECT_EQ(l.blobs(blob).data_size(),
                std::accumulate(dims.begin(), dims.end(), int64_t{1}, std::multiplies<>()))
          << layer;
      return std::vector<int64_t>(dims.begin(), dims.end());
    }
    ADD_FAILURE() << "no layer " << layer;
    return std::vector<int64_t>{};
  };
  EXPECT_EQ(shape_of("conv1", 0), (std::vector<int64_t>{20, 1, 5, 5}));
  EXPECT_EQ(shape_of("conv1", 1), (std::vector<int64_t>{20}));
  EXPECT_EQ(shape_of("conv2", 0), (std::vector<int64_t>{50, 20, 5, 5}));
  EXPECT_EQ(shape_of("conv2", 1), (std::vector<int64_t>{50}));
  EXPECT_EQ(shape_of("ip1", 0), (std::vector<int64_t>{500, 800}));
  EXPECT_EQ(shape_of("ip1", 1), (std::vector<int64_t>{500}));
  EXPECT_EQ(shape_of("ip2", 0), (std::vector<int64_t>{10, 500}));
  EXPECT_EQ(shape_of("ip2", 1), (std::vector<int64_t>{10}));
  for (const char* no_blobs : {"mnist", "pool1", "pool2", "relu1", "loss"}) {
    for (const auto& l : net.layer()) {
      if (l.name() == no_blobs) {
        EXPECT_EQ(l.blobs_size(), 0) << no_blobs;
      }
    }
  }
  EXPECT_EQ(net.layer(1).type(), "Convolution");
  EXPECT_EQ(net.layer(8).type(), "SoftmaxWithLoss");
}

TEST(ProtoIoTest, ReadsTheLeNetDeployNet) {
  const caffe::NetParameter net =
      ReadNetParamsFromTextFile(testing::SourceDir() + "/tests/testdata/lenet_deploy.prototxt");
  EXPECT_EQ(net.name(), "LeNet");
  ASSERT_EQ(net.layer_size(), 9);
  EXPECT_EQ(net.layer(0).type(), "Input");
  EXPECT_EQ(net.layer(8).type(), "Softmax");
}

}  // namespace
}  // namespace crema
