#include "crema/net/net_hdf5.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "crema/core/error.h"
#include "crema/data/hdf5_dataset.h"
#include "crema/io/proto_io.h"
#include "crema/net/net.h"
#include "test_helpers.h"

namespace crema {
namespace {

using testing::ExpectError;
using testing::TempDir;

// ip1 and ip2 share their weight by name ("w"); each has its own bias. "data" and "loss"
// hold no parameters.
const char kSharedNet[] = R"(
  name: "shared"
  layer { name: "data" type: "Input" top: "data" top: "label"
          input_param { shape { dim: 2 dim: 3 } shape { dim: 2 } } }
  layer { name: "ip1" type: "InnerProduct" bottom: "data" top: "ip1"
          param { name: "w" } inner_product_param { num_output: 3 } }
  layer { name: "ip2" type: "InnerProduct" bottom: "ip1" top: "ip2"
          param { name: "w" } inner_product_param { num_output: 3 } }
  layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip2" bottom: "label" top: "loss" }
)";

std::unique_ptr<Net> MakeNet(const char* text = kSharedNet) {
  return std::make_unique<Net>(testing::NetFromText(text));
}

// Distinct values in every parameter (and its diff), offset by `base`.
void FillParams(Net* net, float base) {
  float v = base;
  for (Blob* p : net->learnable_params()) {
    for (int i = 0; i < p->count(); ++i) {
      p->mutable_cpu_data()[i] = v;
      p->mutable_cpu_diff()[i] = -v;
      v += 0.125f;
    }
  }
}

std::vector<std::vector<float>> Values(Net* net) {
  std::vector<std::vector<float>> values;
  for (const auto& layer : net->layers()) {
    for (const auto& blob : layer->blobs()) {
      values.emplace_back(blob->cpu_data(), blob->cpu_data() + blob->count());
    }
  }
  return values;
}

TEST(NetHdf5Test, WritesCaffesLayout) {
  TempDir dir;
  auto net = MakeNet();
  FillParams(net.get(), 1.f);
  const std::string path = dir.file("m.caffemodel.h5");
  WriteNetToHdf5(*net, path);
  const Hdf5File file = Hdf5File::Open(path);
  EXPECT_EQ(file.List("/"), (std::vector<std::string>{"data"}));
  // A group per layer, parameter-less layers included.
  EXPECT_EQ(file.List("data"), (std::vector<std::string>{"data", "ip1", "ip2", "loss"}));
  EXPECT_TRUE(file.List("data/data").empty());
  EXPECT_EQ(file.List("data/ip1"), (std::vector<std::string>{"0", "1"}));
  // ip2's weight belongs to ip1: only its own bias is stored.
  EXPECT_EQ(file.List("data/ip2"), (std::vector<std::string>{"1"}));
  EXPECT_EQ(file.Shape("data/ip1/0"), (std::vector<int64_t>{3, 3}));
  EXPECT_EQ(file.Shape("data/ip1/1"), (std::vector<int64_t>{3}));
  const Blob& weight = *net->layer_by_name("ip1")->blobs()[0];
  const std::vector<float> stored = file.ReadFloat("data/ip1/0");
  EXPECT_EQ(0, std::memcmp(stored.data(), weight.cpu_data(), sizeof(float) * 9));
  // Nothing is left under a temporary name.
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    ++files;
    EXPECT_EQ(entry.path().filename(), "m.caffemodel.h5");
  }
  EXPECT_EQ(files, 1);
}

TEST(NetHdf5Test, WriteDiffAddsTheGradientsOfEveryParameter) {
  TempDir dir;
  auto net = MakeNet();
  FillParams(net.get(), 1.f);
  WriteNetToHdf5(*net, dir.file("d.h5"), /*write_diff=*/true);
  const Hdf5File file = Hdf5File::Open(dir.file("d.h5"));
  EXPECT_EQ(file.List("/"), (std::vector<std::string>{"data", "diff"}));
  // Diffs are written for shared parameters too.
  EXPECT_EQ(file.List("diff/ip2"), (std::vector<std::string>{"0", "1"}));
  const Blob& bias = *net->layer_by_name("ip2")->blobs()[1];
  const std::vector<float> diff = file.ReadFloat("diff/ip2/1");
  EXPECT_EQ(0, std::memcmp(diff.data(), bias.cpu_diff(), sizeof(float) * 3));
}

TEST(NetHdf5Test, RoundTripThroughEveryLoader) {
  TempDir dir;
  auto source = MakeNet();
  FillParams(source.get(), 1.f);
  const std::string path = dir.file("m.caffemodel.h5");
  WriteNetToHdf5(*source, path);

  auto direct = MakeNet();
  CopyTrainedLayersFromHdf5(direct.get(), path);
  EXPECT_EQ(Values(direct.get()), Values(source.get()));

  // Net's loader picks HDF5 by the .h5 name …
  auto by_name = MakeNet();
  by_name->CopyTrainedLayersFromFile(path);
  EXPECT_EQ(Values(by_name.get()), Values(source.get()));
  // … and by contents when the file is called .caffemodel.
  std::filesystem::copy_file(path, dir.file("renamed.caffemodel"));
  EXPECT_TRUE(IsHdf5File(dir.file("renamed.caffemodel")));
  auto by_contents = MakeNet();
  by_contents->CopyTrainedLayersFromFile(dir.file("renamed.caffemodel"));
  EXPECT_EQ(Values(by_contents.get()), Values(source.get()));
  // The shared weight arrived through its owner.
  EXPECT_TRUE(by_contents->layer_by_name("ip2")->blobs()[0]->SharesDataWith(
      *by_contents->layer_by_name("ip1")->blobs()[0]));
}

TEST(NetHdf5Test, BinaryProtoAndHdf5HoldTheSameWeights) {
  TempDir dir;
  auto source = MakeNet();
  FillParams(source.get(), -2.f);
  WriteNetToHdf5(*source, dir.file("m.caffemodel.h5"));
  caffe::NetParameter proto;
  source->ToProto(&proto);
  WriteBinaryProto(dir.file("m.caffemodel"), proto);
  EXPECT_FALSE(IsHdf5File(dir.file("m.caffemodel")));
  auto a = MakeNet();
  auto b = MakeNet();
  a->CopyTrainedLayersFromFile(dir.file("m.caffemodel"));
  b->CopyTrainedLayersFromFile(dir.file("m.caffemodel.h5"));
  EXPECT_EQ(Values(a.get()), Values(b.get()));
}

TEST(NetHdf5Test, LayersMatchByNameAndOthersAreLeftAlone) {
  TempDir dir;
  auto source = MakeNet();
  FillParams(source.get(), 1.f);
  WriteNetToHdf5(*source, dir.file("m.h5"));
  // A net with ip1 only, plus a layer the file does not know.
  auto target = MakeNet(R"(
    layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 2 dim: 3 } } }
    layer { name: "ip1" type: "InnerProduct" bottom: "data" top: "ip1"
            inner_product_param { num_output: 3 } }
    layer { name: "fresh" type: "InnerProduct" bottom: "ip1" top: "fresh"
            inner_product_param { num_output: 2 bias_filler { type: "constant" value: 7 } } })");
  target->CopyTrainedLayersFromFile(dir.file("m.h5"));
  const auto& ip1 = target->layer_by_name("ip1")->blobs();
  const auto& src = source->layer_by_name("ip1")->blobs();
  EXPECT_EQ(0, std::memcmp(ip1[0]->cpu_data(), src[0]->cpu_data(), sizeof(float) * 9));
  EXPECT_EQ(target->layer_by_name("fresh")->blobs()[1]->cpu_data()[0], 7.f);
}

TEST(NetHdf5Test, MismatchesNameTheFileTheLayerAndTheShapes) {
  TempDir dir;
  auto source = MakeNet();
  WriteNetToHdf5(*source, dir.file("m.h5"));
  auto wider = MakeNet(R"(
    layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 2 dim: 4 } } }
    layer { name: "ip1" type: "InnerProduct" bottom: "data" top: "ip1"
            inner_product_param { num_output: 3 } })");
  ExpectError([&] { wider->CopyTrainedLayersFromFile(dir.file("m.h5")); },
              ErrorCode::kInvalidArgument,
              {dir.file("m.h5"), "layer 'ip1'", "blob 0", "3 3 (9)", "3 4 (12)"});
  // A layer that lost its bias: the file holds more blobs than the layer has.
  auto no_bias = MakeNet(R"(
    layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 2 dim: 3 } } }
    layer { name: "ip1" type: "InnerProduct" bottom: "data" top: "ip1"
            inner_product_param { num_output: 3 bias_term: false } })");
  ExpectError([&] { no_bias->CopyTrainedLayersFromFile(dir.file("m.h5")); },
              ErrorCode::kInvalidArgument,
              {dir.file("m.h5"), "layer 'ip1'", "holds 2 blobs", "the net has 1"});
  // ip2 owns its weight in this net, but the file stored it only at ip1.
  auto unshared = MakeNet(R"(
    layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 2 dim: 3 } } }
    layer { name: "ip2" type: "InnerProduct" bottom: "data" top: "ip2"
            inner_product_param { num_output: 3 } })");
  ExpectError([&] { unshared->CopyTrainedLayersFromFile(dir.file("m.h5")); },
              ErrorCode::kInvalidArgument, {dir.file("m.h5"), "layer 'ip2'", "no blob 0"});
}

TEST(NetHdf5Test, CorruptFilesGiveOneErrorNamingTheFile) {
  TempDir dir;
  auto source = MakeNet();
  FillParams(source.get(), 1.f);
  WriteNetToHdf5(*source, dir.file("good.caffemodel.h5"));
  const std::string bytes = ReadFileToString(dir.file("good.caffemodel.h5"));
  // Truncated to a half, to its first 100 bytes, and bytes that are not HDF5 at all.
  testing::WriteFile(dir.file("half.caffemodel.h5"), bytes.substr(0, bytes.size() / 2));
  testing::WriteFile(dir.file("head.caffemodel.h5"), bytes.substr(0, 100));
  testing::WriteFile(dir.file("junk.caffemodel.h5"), "not an HDF5 file at all");
  for (const char* name : {"half.caffemodel.h5", "head.caffemodel.h5", "junk.caffemodel.h5"}) {
    auto net = MakeNet();
    try {
      net->CopyTrainedLayersFromFile(dir.file(name));
      ADD_FAILURE() << name << " loaded";
    } catch (const Error& e) {
      const std::string what = e.what();
      EXPECT_TRUE(e.code() == ErrorCode::kCorruption || e.code() == ErrorCode::kIOError)
          << what;
      EXPECT_NE(what.find(dir.file(name)), std::string::npos) << what;
      EXPECT_EQ(what.find('\n'), std::string::npos) << what;
    }
  }
  // An HDF5 file that is not a Caffe model.
  {
    Hdf5File other = Hdf5File::Create(dir.file("other.h5"));
    other.WriteInt("x", 1);
  }
  auto net = MakeNet();
  ExpectError([&] { net->CopyTrainedLayersFromFile(dir.file("other.h5")); },
              ErrorCode::kCorruption, {dir.file("other.h5"), "no group 'data'"});
  // A missing file is an IOError naming it.
  ExpectError([&] { net->CopyTrainedLayersFromFile(dir.file("missing.caffemodel.h5")); },
              ErrorCode::kIOError, {dir.file("missing.caffemodel.h5")});
}

TEST(NetHdf5Test, AFailedWriteLeavesNoFile) {
  TempDir dir;
  auto net = MakeNet();
  ExpectError([&] { WriteNetToHdf5(*net, dir.file("no-such-dir/m.caffemodel.h5")); },
              ErrorCode::kIOError, {"no-such-dir/m.caffemodel.h5"});
  // An existing model is replaced only by a complete one.
  WriteNetToHdf5(*net, dir.file("m.h5"));
  ExpectError(
      [&] {
        WriteHdf5FileAtomically(dir.file("m.h5"), [](Hdf5File* file) {
          file->WriteInt("partial", 1);
          throw IOError("disk full");
        });
      },
      ErrorCode::kIOError, {"disk full"});
  EXPECT_TRUE(Hdf5File::Open(dir.file("m.h5")).Exists("data/ip1/0"));
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()),
                          std::filesystem::directory_iterator()),
            1);
}

}  // namespace
}  // namespace crema
