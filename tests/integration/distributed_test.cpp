// Training, testing and failing across real MPI ranks (mpirun, 2–4 ranks on this machine).
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <vector>

#include "crema/data/lmdb_dataset.h"
#include "crema/io/proto_io.h"
#include "crema/proto/caffe.pb.h"
#include "mpi_helpers.h"
#include "test_helpers.h"
#include "tiny_mnist.h"
#include "tiny_training.h"

namespace crema {
namespace {

using testing::Crema;
using testing::MpiCrema;
using testing::TempDir;
using testing::WriteFile;

std::string Key(int i) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%08d", i);
  return buf;
}

// Sample s: an 8x8 image with a bright row at s % 8, label s % 8, plus noise from s.
caffe::Datum Sample(int s) {
  caffe::Datum datum;
  datum.set_channels(1);
  datum.set_height(8);
  datum.set_width(8);
  std::string pixels(64, '\0');
  for (int p = 0; p < 64; ++p) {
    const int noise = (s * 131 + p * 17) % 40;
    pixels[static_cast<size_t>(p)] = static_cast<char>(p / 8 == s % 8 ? 200 + noise : noise);
  }
  datum.set_data(pixels);
  datum.set_label(s % 8);
  return datum;
}

// Writes `order` (sample numbers) as an LMDB.
void WriteDb(const std::string& path, const std::vector<int>& order) {
  LmdbWriter writer(path);
  for (size_t i = 0; i < order.size(); ++i) {
    writer.Put(Key(static_cast<int>(i)), Sample(order[i]).SerializeAsString());
  }
  writer.Finish();
}

std::string Net(const std::string& train_db, int batch, const std::string& test_db = "",
                int test_batch = 0) {
  std::string net = R"(name: "Small"
layer { name: "data" type: "Data" top: "data" top: "label" include { phase: TRAIN }
  transform_param { scale: 0.00390625 }
  data_param { source: ")" + train_db + R"(" batch_size: )" + std::to_string(batch) +
                    R"( backend: LMDB } }
)";
  if (!test_db.empty()) {
    net += R"(layer { name: "data" type: "Data" top: "data" top: "label" include { phase: TEST }
  transform_param { scale: 0.00390625 }
  data_param { source: ")" + test_db + R"(" batch_size: )" + std::to_string(test_batch) +
           R"( backend: LMDB } }
)";
  }
  net += R"(layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1"
  param { lr_mult: 1 } param { lr_mult: 2 }
  convolution_param { num_output: 4 kernel_size: 3 weight_filler { type: "xavier" } } }
layer { name: "relu1" type: "ReLU" bottom: "conv1" top: "conv1" }
layer { name: "ip1" type: "InnerProduct" bottom: "conv1" top: "ip1"
  inner_product_param { num_output: 16 weight_filler { type: "xavier" } } }
layer { name: "frozen" type: "InnerProduct" bottom: "ip1" top: "ip1b"
  param { lr_mult: 0 } param { lr_mult: 0 }
  inner_product_param { num_output: 16 weight_filler { type: "gaussian" std: 0.1 } } }
layer { name: "ip2" type: "InnerProduct" bottom: "ip1b" top: "ip2"
  inner_product_param { num_output: 8 weight_filler { type: "xavier" } } }
layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip2" bottom: "label" top: "loss" }
)";
  if (!test_db.empty()) {
    net += R"(layer { name: "accuracy" type: "Accuracy" bottom: "ip2" bottom: "label"
  top: "accuracy" include { phase: TEST } }
)";
  }
  return net;
}

std::string Solver(const std::string& net, const std::string& prefix, int max_iter,
                   const std::string& extra = "") {
  return "net: \"" + net + "\"\nbase_lr: 0.05\nmomentum: 0.9\nweight_decay: 0.0005\n"
         "lr_policy: \"fixed\"\ndisplay: 5\nmax_iter: " + std::to_string(max_iter) +
         "\nrandom_seed: 5\nsnapshot_prefix: \"" + prefix + "\"\n" + extra;
}

caffe::NetParameter Model(const std::string& path) {
  caffe::NetParameter model;
  ReadBinaryProto(path, &model);
  return model;
}

TEST(DistributedTest, TwoRanksOfHalfTheBatchEqualOneRankOfTheWholeBatch) {
  TempDir dir;
  const int batch = 32, batches = 6;  // per rank: batches of 32; one rank: batches of 64
  // Two ranks read contiguous halves; one rank's batch k must hold both ranks' batch k.
  std::vector<int> two_rank_order, one_rank_order;
  const int half = batch * batches;
  for (int s = 0; s < 2 * half; ++s) two_rank_order.push_back(s);
  for (int k = 0; k < batches; ++k) {
    for (int i = 0; i < batch; ++i) one_rank_order.push_back(k * batch + i);
    for (int i = 0; i < batch; ++i) one_rank_order.push_back(half + k * batch + i);
  }
  WriteDb(dir.file("two"), two_rank_order);
  WriteDb(dir.file("one"), one_rank_order);
  WriteFile(dir.file("net2.prototxt"), Net(dir.file("two"), batch));
  WriteFile(dir.file("net1.prototxt"), Net(dir.file("one"), 2 * batch));
  WriteFile(dir.file("s2.prototxt"), Solver(dir.file("net2.prototxt"), dir.file("r2"), 20));
  WriteFile(dir.file("s1.prototxt"), Solver(dir.file("net1.prototxt"), dir.file("r1"), 20));
  const auto one = Crema("train -solver " + dir.file("s1.prototxt"));
  ASSERT_EQ(one.status, 0) << one.output;
  const auto two = MpiCrema(2, "train -solver " + dir.file("s2.prototxt"));
  ASSERT_EQ(two.status, 0) << two.output;
  EXPECT_CONTAINS(two.output, "Training on 2 ranks");

  const auto a = Model(dir.file("r1_iter_20.caffemodel"));
  const auto b = Model(dir.file("r2_iter_20.caffemodel"));
  ASSERT_EQ(a.layer_size(), b.layer_size());
  int compared = 0;
  for (int l = 0; l < a.layer_size(); ++l) {
    for (int j = 0; j < a.layer(l).blobs_size(); ++j) {
      const auto& x = a.layer(l).blobs(j);
      const auto& y = b.layer(l).blobs(j);
      ASSERT_EQ(x.data_size(), y.data_size());
      double diff = 0, norm = 0;
      for (int i = 0; i < x.data_size(); ++i) {
        diff += std::pow(static_cast<double>(x.data(i)) - y.data(i), 2);
        norm += std::pow(static_cast<double>(x.data(i)), 2);
      }
      EXPECT_LE(std::sqrt(diff), 1e-5 * std::sqrt(norm)) << a.layer(l).name() << " blob " << j;
      ++compared;
    }
  }
  EXPECT_EQ(compared, 8);
}

class DistributedModesTest : public ::testing::TestWithParam<const char*> {};

TEST_P(DistributedModesTest, ConvergesOnTwoRanks) {
  TempDir dir;
  std::vector<int> order;
  for (int s = 0; s < 512; ++s) order.push_back(s);
  WriteDb(dir.file("train"), order);
  std::vector<int> test_order;
  for (int s = 1000; s < 1200; ++s) test_order.push_back(s);
  WriteDb(dir.file("test"), test_order);
  WriteFile(dir.file("net.prototxt"), Net(dir.file("train"), 16, dir.file("test"), 25));
  WriteFile(dir.file("s.prototxt"), Solver(dir.file("net.prototxt"), dir.file("m"), 80,
                                           "test_iter: 8\ntest_interval: 40\n"));
  const auto r = MpiCrema(2, "train -solver " + dir.file("s.prototxt") + " -sync " + GetParam());
  ASSERT_EQ(r.status, 0) << r.output;
  const auto last = r.output.rfind("Test net output #0: accuracy = ");
  ASSERT_NE(last, std::string::npos) << r.output;
  EXPECT_GT(std::stof(r.output.substr(last + 31)), 0.9f) << r.output;
}

INSTANTIATE_TEST_SUITE_P(Modes, DistributedModesTest,
                         ::testing::Values("bsp", "local_sgd:4", "async"));

TEST(DistributedTest, TestModeOnThreeRanksEqualsOneRank) {
  TempDir dir;
  std::vector<int> order;
  for (int s = 0; s < 120; ++s) order.push_back(s);
  WriteDb(dir.file("train"), order);
  std::vector<int> test_order;
  for (int s = 500; s < 600; ++s) test_order.push_back(s);  // 100 items, batches of 10
  WriteDb(dir.file("test"), test_order);
  WriteFile(dir.file("net.prototxt"), Net(dir.file("train"), 10, dir.file("test"), 10));
  WriteFile(dir.file("s.prototxt"), Solver(dir.file("net.prototxt"), dir.file("m"), 15));
  ASSERT_EQ(Crema("train -solver " + dir.file("s.prototxt")).status, 0);
  const std::string args = "test -model " + dir.file("net.prototxt") + " -weights " +
                           dir.file("m_iter_15.caffemodel") + " -iterations 10 -output ";
  const auto one = Crema(args + dir.file("one.txt"));
  ASSERT_EQ(one.status, 0) << one.output;
  const auto three = MpiCrema(3, args + dir.file("three.txt"));
  ASSERT_EQ(three.status, 0) << three.output;
  const std::string a = ReadFileToString(dir.file("one.txt"));
  const std::string b = ReadFileToString(dir.file("three.txt"));
  EXPECT_CONTAINS(a, "accuracy: ");
  EXPECT_CONTAINS(a, "loss: ");
  // The same batches are run, only split between ranks: equal up to the summation order.
  auto value = [](const std::string& text, const std::string& name) {
    const auto at = text.find(name + ": ");
    return std::stod(text.substr(at + name.size() + 2));
  };
  EXPECT_NEAR(value(a, "accuracy"), value(b, "accuracy"), 1e-6);
  EXPECT_NEAR(value(a, "loss"), value(b, "loss"), 1e-5);
}

// Trains `solver` on 2 ranks with -sync_timeout `timeout` (and `flags`); rank 1 first runs
// `rank1_hook`, shell commands in which $$ is rank 1's pid (end them with '&' to run them
// beside training). *seconds is how long the job took.
testing::CommandResult TrainWithRank1Hook(const TempDir& dir, const std::string& solver,
                                          const std::string& rank1_hook, int timeout,
                                          const std::string& flags, double* seconds) {
  const std::string script = dir.file("rank1_hook.sh");
  WriteFile(script,
            "#!/bin/sh\n"
            "if [ \"$OMPI_COMM_WORLD_RANK\" = 1 ]; then " + rank1_hook + "\nfi\n"
            "exec " + testing::CremaBinary() + " \"$@\"\n");
  std::filesystem::permissions(script, std::filesystem::perms::owner_all);
  const auto start = std::chrono::steady_clock::now();
  testing::CommandResult r;
  r.status = testing::RunCommand("timeout 120 " + testing::MpirunPrefix(2) + script +
                                     " train -solver " + solver + " -sync_timeout " +
                                     std::to_string(timeout) + " " + flags,
                                 &r.output);
  *seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
}

// Trains a long job on 2 ranks in which rank 1 sends itself `signal` once training runs (rank
// 0 has written its first metrics), with -sync_timeout `timeout`; *seconds is how long the
// job took. (A fixed delay is not enough: under a sanitizer the start-up alone can take it.)
testing::CommandResult TrainWhileRank1Gets(const TempDir& dir, const std::string& signal,
                                           int timeout, double* seconds) {
  std::vector<int> order;
  for (int s = 0; s < 256; ++s) order.push_back(s);
  WriteDb(dir.file("train"), order);
  WriteFile(dir.file("net.prototxt"), Net(dir.file("train"), 8));
  WriteFile(dir.file("s.prototxt"), Solver(dir.file("net.prototxt"), dir.file("m"), 100000000));
  return TrainWithRank1Hook(dir, dir.file("s.prototxt"),
                            "(while [ ! -s " + dir.file("m_metrics.jsonl") +
                                " ]; do sleep 0.01; done; sleep 0.2; kill -" + signal + " $$) &",
                            timeout, "", seconds);
}

TEST(DistributedTest, AStoppedRankEndsTheJobWithinTheTimeoutNamingIt) {
  // Rank 1 freezes itself (SIGSTOP) once training runs; rank 0 must give up within the
  // timeout, name rank 1, and the job must end non-zero.
  TempDir dir;
  double seconds = 0;
  const testing::CommandResult r = TrainWhileRank1Gets(dir, "STOP", 3, &seconds);
  EXPECT_NE(r.status, 0) << r.output;
  EXPECT_NE(r.status, 124) << "the job hung until the outer timeout:\n" << r.output;
  EXPECT_LT(seconds, 60);
  EXPECT_CONTAINS(r.output, "rank 0 waited 3 s for");
  EXPECT_CONTAINS(r.output, "rank 1 (last seen at step");
}

TEST(DistributedTest, ARankStoppedWhileStartingEndsTheJobWithinTheStartUpTimeout) {
  // Rank 1 freezes before it joins the job, so rank 0 waits inside MPI's start-up, which no
  // collective deadline covers.
  TempDir dir;
  std::vector<int> order(64);
  std::iota(order.begin(), order.end(), 0);
  WriteDb(dir.file("train"), order);
  WriteFile(dir.file("net.prototxt"), Net(dir.file("train"), 8));
  WriteFile(dir.file("s.prototxt"), Solver(dir.file("net.prototxt"), dir.file("m"), 100));
  double seconds = 0;
  const testing::CommandResult r = TrainWithRank1Hook(
      dir, dir.file("s.prototxt"), "kill -STOP $$", 300, "-startup_timeout 3", &seconds);
  EXPECT_NE(r.status, 0) << r.output;
  EXPECT_NE(r.status, 124) << "the job hung until the outer timeout:\n" << r.output;
  EXPECT_LT(seconds, 60);
  EXPECT_CONTAINS(r.output, "crema train: rank 0 waited 3 s for the job to start");
}

TEST(DistributedTest, AKilledRankEndsTheJob) {
  TempDir dir;
  double seconds = 0;
  const testing::CommandResult r = TrainWhileRank1Gets(dir, "KILL", 10, &seconds);
  EXPECT_NE(r.status, 0) << r.output;
  EXPECT_NE(r.status, 124) << "the job hung until the outer timeout:\n" << r.output;
  EXPECT_CONTAINS(r.output, "rank 1");
}

TEST(DistributedTest, AKilledRankEndsTheJobAndResumingEndsLikeAnUninterruptedRun) {
  TempDir dir;
  std::vector<int> order;
  for (int s = 0; s < 256; ++s) order.push_back(s);
  WriteDb(dir.file("train"), order);
  WriteFile(dir.file("net.prototxt"), Net(dir.file("train"), 8));
  constexpr int kMaxIter = 3000;
  WriteFile(dir.file("straight.prototxt"), Solver(dir.file("net.prototxt"), dir.file("s"),
                                                  kMaxIter, "snapshot: 50\n"));
  const auto straight = MpiCrema(2, "train -solver " + dir.file("straight.prototxt"));
  ASSERT_EQ(straight.status, 0) << straight.output;

  // Rank 1 dies (SIGKILL) once the snapshot at iteration 100 is on disk, somewhere in a later
  // iteration: rank 0 must end the job within the timeout, naming it.
  const std::string killed = dir.file("killed.prototxt");
  WriteFile(killed, Solver(dir.file("net.prototxt"), dir.file("k"), kMaxIter, "snapshot: 50\n"));
  double seconds = 0;
  const auto r = TrainWithRank1Hook(
      dir, killed,
      "(while [ ! -e " + dir.file("k_iter_100.solverstate") + " ]; do sleep 0.01; done; kill -KILL $$) &",
      5, "", &seconds);
  ASSERT_NE(r.status, 0) << "the job finished before rank 1 was killed:\n" << r.output;
  EXPECT_NE(r.status, 124) << "the job hung until the outer timeout:\n" << r.output;
  EXPECT_LT(seconds, 60);
  EXPECT_CONTAINS(r.output, "rank 1");
  EXPECT_FALSE(std::filesystem::exists(dir.file("k_iter_" + std::to_string(kMaxIter) + ".caffemodel")));

  // Resumed from the latest snapshot on 2 ranks, the run ends with the uninterrupted run's
  // weights, bit for bit.
  const auto resumed = MpiCrema(2, "train -solver " + killed + " -snapshot latest");
  ASSERT_EQ(resumed.status, 0) << resumed.output;
  EXPECT_CONTAINS(resumed.output, "Restoring previous solver status from " + dir.file("k_iter_"));
  const std::string final_model = "_iter_" + std::to_string(kMaxIter) + ".caffemodel";
  EXPECT_EQ(testing::ExpectSameWeights(dir.file("s" + final_model), dir.file("k" + final_model)), 8);
}

// BatchNorm's running statistics follow each rank's shard; the saved model holds their
// average over ranks, not rank 0's alone.
TEST(DistributedTest, BatchNormStatisticsAreAveragedOverRanks) {
  TempDir dir;
  {
    LmdbWriter writer(dir.file("train"));
    for (int i = 0; i < 64; ++i) {  // rank 0 reads [0, 32): pixels 50; rank 1: pixels 150
      caffe::Datum datum;
      datum.set_channels(1);
      datum.set_height(2);
      datum.set_width(2);
      datum.set_data(std::string(4, static_cast<char>(i < 32 ? 50 : 150)));
      datum.set_label(i % 2);
      writer.Put(Key(i), datum.SerializeAsString());
    }
    writer.Finish();
  }
  WriteFile(dir.file("net.prototxt"), R"(name: "BN"
layer { name: "data" type: "Data" top: "data" top: "label"
  data_param { source: ")" + dir.file("train") + R"(" batch_size: 8 backend: LMDB } }
layer { name: "bn" type: "BatchNorm" bottom: "data" top: "bn" }
layer { name: "ip" type: "InnerProduct" bottom: "bn" top: "ip"
  inner_product_param { num_output: 2 weight_filler { type: "xavier" } } }
layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip" bottom: "label" top: "loss" }
)");
  WriteFile(dir.file("s.prototxt"), Solver(dir.file("net.prototxt"), dir.file("m"), 4));
  const auto r = MpiCrema(2, "train -solver " + dir.file("s.prototxt"));
  ASSERT_EQ(r.status, 0) << r.output;
  const auto model = Model(dir.file("m_iter_4.caffemodel"));
  bool found = false;
  for (const auto& layer : model.layer()) {
    if (layer.name() != "bn") continue;
    ASSERT_EQ(layer.blobs_size(), 3);
    const float factor = layer.blobs(2).data(0);
    ASSERT_GT(factor, 0.f);
    EXPECT_NEAR(layer.blobs(0).data(0) / factor, 100.f, 1e-3f);  // (50 + 150) / 2
    found = true;
  }
  EXPECT_TRUE(found);
}

TEST(DistributedTest, ResumeFromTheLatestSnapshot) {
  TempDir dir;
  std::vector<int> order;
  for (int s = 0; s < 256; ++s) order.push_back(s);
  WriteDb(dir.file("train"), order);
  WriteFile(dir.file("net.prototxt"), Net(dir.file("train"), 8));
  // No snapshot yet: starts from scratch.
  WriteFile(dir.file("s.prototxt"),
            Solver(dir.file("net.prototxt"), dir.file("m"), 10, "snapshot: 5\n"));
  auto r = MpiCrema(2, "train -solver " + dir.file("s.prototxt") + " -snapshot latest");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_CONTAINS(r.output, "no complete snapshot");
  WriteFile(dir.file("s20.prototxt"),
            Solver(dir.file("net.prototxt"), dir.file("m"), 20, "snapshot: 5\n"));
  r = MpiCrema(2, "train -solver " + dir.file("s20.prototxt") + " -snapshot latest");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_CONTAINS(r.output, "Restoring previous solver status from " + dir.file("m_iter_10.solverstate"));
  EXPECT_TRUE(std::filesystem::exists(dir.file("m_iter_20.caffemodel")));
  EXPECT_EQ(r.output.find("Iteration 5,"), std::string::npos) << "did not resume at 10";
}

TEST(DistributedTest, CaffeOnSparkSpellingTrainsThenExtractsFeatures) {
  TempDir dir;
  std::vector<int> order;
  for (int s = 0; s < 64; ++s) order.push_back(s);
  WriteDb(dir.file("train"), order);
  std::vector<int> test_order;
  for (int s = 100; s < 123; ++s) test_order.push_back(s);
  WriteDb(dir.file("test"), test_order);
  WriteFile(dir.file("net.prototxt"), Net(dir.file("train"), 8, dir.file("test"), 5));
  WriteFile(dir.file("s.prototxt"), Solver(dir.file("net.prototxt"), "small", 6,
                                           "test_iter: 5\ntest_interval: 6\n"));
  const std::string cos = "-conf " + dir.file("s.prototxt") + " -model " +
                          dir.file("model/final.caffemodel");
  auto r = MpiCrema(2, "-train " + cos + " -features ip2 -label label -output " +
                           dir.file("features") + " -outputFormat json -clusterSize 2"
                           " -connection ethernet");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_TRUE(std::filesystem::exists(dir.file("model/final.caffemodel")));
  EXPECT_TRUE(std::filesystem::exists(dir.file("model/small_iter_6.solverstate")));
  EXPECT_TRUE(std::filesystem::exists(dir.file("features/_SUCCESS")));
  int records = 0;
  for (const char* part : {"features/part-00000.json", "features/part-00001.json"}) {
    std::ifstream in(dir.file(part));
    std::string line;
    while (std::getline(in, line)) {
      EXPECT_CONTAINS(line, "\"SampleID\":");
      EXPECT_CONTAINS(line, "\"label\":");
      ++records;
    }
  }
  EXPECT_EQ(records, 23);  // the whole test set, once
  // -test writes CaffeOnSpark's result file.
  r = MpiCrema(2, "-test " + cos + " -output " + dir.file("result.txt"));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_CONTAINS(ReadFileToString(dir.file("result.txt")), "accuracy: ");
  // A cluster size that is not the job's is refused.
  r = MpiCrema(2, "-train " + cos + " -clusterSize 4");
  EXPECT_NE(r.status, 0);
  EXPECT_CONTAINS(r.output, "-clusterSize 4 but the launcher started 2 ranks");
}

}  // namespace
}  // namespace crema
