#include "tiny_training.h"

#include <gtest/gtest.h>

#include <cstring>

#include "crema/io/proto_io.h"
#include "crema/proto/caffe.pb.h"
#include "tiny_mnist.h"

namespace crema::testing {

namespace {

std::string TinyNet(const std::string& train_db, const std::string& test_db) {
  return R"(name: "TinyNet"
layer { name: "mnist" type: "Data" top: "data" top: "label" include { phase: TRAIN }
  transform_param { scale: 0.00390625 }
  data_param { source: ")" + train_db + R"(" batch_size: 10 backend: LMDB } }
layer { name: "mnist" type: "Data" top: "data" top: "label" include { phase: TEST }
  transform_param { scale: 0.00390625 }
  data_param { source: ")" + test_db + R"(" batch_size: 25 backend: LMDB } }
layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1"
  convolution_param { num_output: 4 kernel_size: 5 weight_filler { type: "xavier" } } }
layer { name: "pool1" type: "Pooling" bottom: "conv1" top: "pool1"
  pooling_param { pool: MAX kernel_size: 2 stride: 2 } }
layer { name: "ip1" type: "InnerProduct" bottom: "pool1" top: "ip1"
  inner_product_param { num_output: 10 weight_filler { type: "xavier" } } }
layer { name: "accuracy" type: "Accuracy" bottom: "ip1" bottom: "label" top: "accuracy"
  include { phase: TEST } }
layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip1" bottom: "label" top: "loss" }
)";
}

}  // namespace

TinyTrainingJob::TinyTrainingJob(const TempDir& dir) : dir_(dir), net_(dir.file("net.prototxt")) {
  WriteTinyMnist(dir.file("train-images"), dir.file("train-labels"), 200, 1);
  WriteTinyMnist(dir.file("test-images"), dir.file("test-labels"), 100, 2);
  for (const std::string split : {"train", "test"}) {
    const CommandResult r = Crema("convert mnist " + dir.file(split + "-images") + " " +
                                  dir.file(split + "-labels") + " " + dir.file(split + "_lmdb"));
    EXPECT_EQ(r.status, 0) << r.output;
  }
  WriteFile(net_, TinyNet(dir.file("train_lmdb"), dir.file("test_lmdb")));
}

std::string TinyTrainingJob::WriteSolver(const std::string& name, const std::string& extra,
                                         const std::string& prefix) const {
  const std::string path = dir_.file(name);
  WriteFile(path, "net: \"" + net_ +
                      "\"\ntest_iter: 4\ntest_interval: 20\nbase_lr: 0.01\nmomentum: 0.9\n"
                      "weight_decay: 0.0005\nlr_policy: \"inv\"\ngamma: 0.0001\npower: 0.75\n"
                      "display: 10\nrandom_seed: 7\nsnapshot_prefix: \"" +
                      dir_.file(prefix) + "\"\n" + extra);
  return path;
}

int ExpectSameWeights(const std::string& a_path, const std::string& b_path) {
  caffe::NetParameter a, b;
  ReadBinaryProto(a_path, &a);
  ReadBinaryProto(b_path, &b);
  EXPECT_EQ(a.layer_size(), b.layer_size());
  int compared = 0;
  for (int i = 0; i < std::min(a.layer_size(), b.layer_size()); ++i) {
    EXPECT_EQ(a.layer(i).name(), b.layer(i).name());
    EXPECT_EQ(a.layer(i).blobs_size(), b.layer(i).blobs_size()) << a.layer(i).name();
    for (int j = 0; j < std::min(a.layer(i).blobs_size(), b.layer(i).blobs_size()); ++j) {
      const auto& x = a.layer(i).blobs(j);
      const auto& y = b.layer(i).blobs(j);
      EXPECT_EQ(x.data_size(), y.data_size());
      if (x.data_size() != y.data_size()) continue;
      EXPECT_EQ(0, std::memcmp(x.data().data(), y.data().data(), sizeof(float) * x.data_size()))
          << a_path << " and " << b_path << " differ in layer " << a.layer(i).name() << " blob "
          << j;
      ++compared;
    }
  }
  return compared;
}

}  // namespace crema::testing
