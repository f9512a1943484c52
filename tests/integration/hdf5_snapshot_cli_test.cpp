// snapshot_format: HDF5 through the `crema` command: training writes .caffemodel.h5 and
// .solverstate.h5, `-snapshot latest` finds them (and mixes with binary snapshots), and every
// command that takes -weights loads an HDF5 model.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <string>

#include "crema/net/net.h"
#include "crema/proto/caffe.pb.h"
#include "test_helpers.h"
#include "tiny_mnist.h"

namespace crema {
namespace {

namespace fs = std::filesystem;
using testing::Crema;
using testing::TempDir;
using testing::WriteFile;

class Hdf5SnapshotCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::WriteTinyMnist(dir_.file("train-images"), dir_.file("train-labels"), 100, 1);
    testing::WriteTinyMnist(dir_.file("test-images"), dir_.file("test-labels"), 50, 2);
    for (const std::string split : {"train", "test"}) {
      const auto r = Crema("convert mnist " + dir_.file(split + "-images") + " " +
                           dir_.file(split + "-labels") + " " + dir_.file(split + "_lmdb"));
      ASSERT_EQ(r.status, 0) << r.output;
    }
    WriteFile(dir_.file("net.prototxt"), R"(name: "Tiny"
layer { name: "mnist" type: "Data" top: "data" top: "label" include { phase: TRAIN }
  transform_param { scale: 0.00390625 }
  data_param { source: ")" + dir_.file("train_lmdb") + R"(" batch_size: 10 backend: LMDB } }
layer { name: "mnist" type: "Data" top: "data" top: "label" include { phase: TEST }
  transform_param { scale: 0.00390625 }
  data_param { source: ")" + dir_.file("test_lmdb") + R"(" batch_size: 25 backend: LMDB } }
layer { name: "ip1" type: "InnerProduct" bottom: "data" top: "ip1"
  inner_product_param { num_output: 10 weight_filler { type: "xavier" } } }
layer { name: "accuracy" type: "Accuracy" bottom: "ip1" bottom: "label" top: "accuracy"
  include { phase: TEST } }
layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip1" bottom: "label" top: "loss" }
)");
  }

  std::string Solver(const std::string& name, const std::string& prefix, int max_iter,
                     const std::string& extra) {
    WriteFile(dir_.file(name),
              "net: \"" + dir_.file("net.prototxt") +
                  "\"\ntest_iter: 2\ntest_interval: 1000\ntype: \"Adam\"\nbase_lr: 0.01\n"
                  "momentum: 0.9\nlr_policy: \"fixed\"\ndisplay: 0\nrandom_seed: 3\n"
                  "snapshot: 10\nsnapshot_prefix: \"" +
                  dir_.file(prefix) + "\"\nmax_iter: " + std::to_string(max_iter) + "\n" + extra);
    return dir_.file(name);
  }

  // The weights of a model file, through the loader every command uses.
  std::vector<float> Weights(const std::string& model) {
    Net net(testing::NetFromText(R"(
      layer { name: "d" type: "Input" top: "data" input_param { shape { dim: 1 dim: 1 dim: 28 dim: 28 } } }
      layer { name: "ip1" type: "InnerProduct" bottom: "data" top: "ip1"
              inner_product_param { num_output: 10 } })"));
    net.CopyTrainedLayersFromFile(model);
    std::vector<float> values;
    for (const Blob* p : net.learnable_params()) {
      values.insert(values.end(), p->cpu_data(), p->cpu_data() + p->count());
    }
    return values;
  }

  TempDir dir_;
};

TEST_F(Hdf5SnapshotCliTest, TrainResumeAcrossFormatsAndLoadEverywhere) {
  // One uninterrupted binary run to 30 iterations …
  ASSERT_EQ(Crema("train -solver " + Solver("straight.prototxt", "straight", 30, "")).status, 0);
  // … against HDF5 to 20, binary from the latest snapshot to 30.
  const auto first = Crema("train -solver " +
                           Solver("h5.prototxt", "chain", 20, "snapshot_format: HDF5\n"));
  ASSERT_EQ(first.status, 0) << first.output;
  EXPECT_CONTAINS(first.output, "Snapshotting to HDF5 file " + dir_.file("chain_iter_10.caffemodel.h5"));
  EXPECT_CONTAINS(first.output, "Snapshotting solver state to HDF5 file " +
                                    dir_.file("chain_iter_20.solverstate.h5"));
  EXPECT_CONTAINS(first.output, "Model written to " + dir_.file("chain_iter_20.caffemodel.h5"));
  EXPECT_FALSE(fs::exists(dir_.file("chain_iter_20.caffemodel")));

  const auto second =
      Crema("train -snapshot latest -solver " + Solver("bin.prototxt", "chain", 30, ""));
  ASSERT_EQ(second.status, 0) << second.output;
  EXPECT_CONTAINS(second.output, "Restoring previous solver status from " +
                                     dir_.file("chain_iter_20.solverstate.h5"));
  ASSERT_TRUE(fs::exists(dir_.file("chain_iter_30.caffemodel")));
  const std::vector<float> straight = Weights(dir_.file("straight_iter_30.caffemodel"));
  const std::vector<float> chained = Weights(dir_.file("chain_iter_30.caffemodel"));
  ASSERT_EQ(straight.size(), chained.size());
  EXPECT_EQ(0, std::memcmp(straight.data(), chained.data(), sizeof(float) * straight.size()))
      << "resuming from an HDF5 snapshot changed the run";

  // The newest snapshot now is the binary one at 30; an HDF5 run resumes from it.
  const auto third = Crema("train -snapshot latest -solver " +
                           Solver("h5b.prototxt", "chain", 35, "snapshot_format: HDF5\n"));
  ASSERT_EQ(third.status, 0) << third.output;
  EXPECT_CONTAINS(third.output, "Restoring previous solver status from " +
                                    dir_.file("chain_iter_30.solverstate"));
  EXPECT_TRUE(fs::exists(dir_.file("chain_iter_35.caffemodel.h5")));

  // -weights takes the HDF5 model in test, features and fine-tuning.
  const std::string h5 = dir_.file("chain_iter_20.caffemodel.h5");
  const auto test = Crema("test -model " + dir_.file("net.prototxt") + " -weights " + h5 +
                          " -iterations 2");
  ASSERT_EQ(test.status, 0) << test.output;
  EXPECT_CONTAINS(test.output, "accuracy = ");
  const auto features = Crema("features -model " + dir_.file("net.prototxt") + " -weights " +
                              h5 + " -features ip1 -output " + dir_.file("features"));
  ASSERT_EQ(features.status, 0) << features.output;
  EXPECT_TRUE(fs::exists(dir_.file("features/_SUCCESS")));
  const auto tune = Crema("train -weights " + h5 + " -solver " +
                          Solver("tune.prototxt", "tune", 1, "snapshot_after_train: false\n"));
  ASSERT_EQ(tune.status, 0) << tune.output;
  EXPECT_CONTAINS(tune.output, "Loading weights from " + h5);

  // A truncated HDF5 model is one sentence naming it.
  const std::string cut = dir_.file("cut.caffemodel.h5");
  fs::copy_file(h5, cut);
  fs::resize_file(cut, fs::file_size(cut) / 2);
  const auto bad = Crema("test -model " + dir_.file("net.prototxt") + " -weights " + cut);
  EXPECT_EQ(bad.status, 1) << bad.output;
  EXPECT_CONTAINS(bad.output, cut);
  EXPECT_EQ(std::count(bad.output.begin(), bad.output.end(), '\n'), 1) << bad.output;
}

}  // namespace
}  // namespace crema
