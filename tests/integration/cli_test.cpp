// The `crema` command end to end: flags in Caffe's forms, training on a tiny LMDB, resuming,
// and one clear sentence with a non-zero exit for each kind of bad input.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "crema/io/proto_io.h"
#include "crema/proto/caffe.pb.h"
#include "test_helpers.h"
#include "tiny_training.h"

namespace crema {
namespace {

using testing::CremaBinary;
using testing::RunCommand;
using testing::TempDir;
using testing::WriteFile;

using Result = testing::CommandResult;
using testing::Crema;

class CliTrainTest : public ::testing::Test {
 protected:
  std::string WriteSolver(const std::string& name, const std::string& extra,
                          const std::string& prefix = "tiny") {
    return job_.WriteSolver(name, extra, prefix);
  }

  TempDir dir_;
  testing::TinyTrainingJob job_{dir_};
};

TEST_F(CliTrainTest, TrainsLogsLikeCaffeAndWritesModelAndMetrics) {
  const Result r = Crema("train -solver " + WriteSolver("solver.prototxt", "max_iter: 60\n"));
  ASSERT_EQ(r.status, 0) << r.output;
  // The lines Caffe's log parsers look for.
  EXPECT_CONTAINS(r.output, "Iteration 0, Testing net (#0)");
  EXPECT_CONTAINS(r.output, "Test net output #0: accuracy = ");
  EXPECT_CONTAINS(r.output, "Test net output #1: loss = ");
  EXPECT_CONTAINS(r.output, "Train net output #0: loss = ");
  EXPECT_CONTAINS(r.output, "Iteration 10, lr = ");
  EXPECT_CONTAINS(r.output, "Optimization Done.");
  EXPECT_CONTAINS(r.output, "Model written to " + dir_.file("tiny_iter_60.caffemodel"));
  EXPECT_TRUE(std::filesystem::exists(dir_.file("tiny_iter_60.solverstate")));
  // The bands are easy: the net must have learnt them.
  const auto last = r.output.rfind("Test net output #0: accuracy = ");
  ASSERT_NE(last, std::string::npos);
  const float accuracy = std::stof(r.output.substr(last + std::strlen("Test net output #0: accuracy = ")));
  EXPECT_GT(accuracy, 0.9f) << r.output;
  std::ifstream metrics(dir_.file("tiny_metrics.jsonl"));
  std::string first_metric;
  ASSERT_TRUE(std::getline(metrics, first_metric)) << "no metrics file";
  EXPECT_CONTAINS(first_metric, "\"event\":\"test\"");

  // What Crema writes is Caffe's format: protoc decodes it against the schema.
  std::string decoded;
  const int protoc = RunCommand("protoc --decode=caffe.NetParameter -I " + testing::SourceDir() +
                                    "/proto " + testing::SourceDir() + "/proto/caffe.proto < " +
                                    dir_.file("tiny_iter_60.caffemodel"),
                                &decoded);
  ASSERT_EQ(protoc, 0) << decoded;
  EXPECT_CONTAINS(decoded, "name: \"conv1\"");
  EXPECT_CONTAINS(decoded, "shape {\n      dim: 4\n      dim: 1\n      dim: 5\n      dim: 5\n    }");

  // Fine-tuning from the trained weights starts where training ended: the test at
  // iteration 0 already scores well.
  const Result tune = Crema("train -solver " + WriteSolver("tune.prototxt", "max_iter: 1\n", "tune") +
                            " -weights " + dir_.file("tiny_iter_60.caffemodel"));
  ASSERT_EQ(tune.status, 0) << tune.output;
  EXPECT_CONTAINS(tune.output, "Loading weights from " + dir_.file("tiny_iter_60.caffemodel"));
  const auto first = tune.output.find("Test net output #0: accuracy = ");
  ASSERT_NE(first, std::string::npos);
  EXPECT_GT(std::stof(tune.output.substr(first + std::strlen("Test net output #0: accuracy = "))),
            0.9f);

  // The trained model scores the same through `crema test`.
  const Result t = Crema("test -model " + dir_.file("net.prototxt") + " -weights " +
                         dir_.file("tiny_iter_60.caffemodel") + " -iterations 4");
  ASSERT_EQ(t.status, 0) << t.output;
  EXPECT_CONTAINS(t.output, "accuracy = ");
  EXPECT_CONTAINS(t.output, "loss = ");
  EXPECT_CONTAINS(t.output, "(* 1 = ");
}

TEST_F(CliTrainTest, ResumeFromSnapshotEqualsAnUninterruptedRunBitForBit) {
  const std::string straight = WriteSolver("straight.prototxt", "max_iter: 30\n", "straight");
  ASSERT_EQ(Crema("train -solver " + straight).status, 0);

  const std::string split = WriteSolver("split.prototxt", "max_iter: 30\n", "split");
  // Train to 13 (snapshot at the end), then resume from that snapshot to 30.
  const std::string first_leg = WriteSolver("first.prototxt", "max_iter: 13\n", "split");
  ASSERT_EQ(Crema("train -solver " + first_leg).status, 0);
  const Result resumed =
      Crema("train -solver " + split + " -snapshot " + dir_.file("split_iter_13.solverstate"));
  ASSERT_EQ(resumed.status, 0) << resumed.output;
  EXPECT_CONTAINS(resumed.output, "Data layers skip 13 batches");

  EXPECT_EQ(testing::ExpectSameWeights(dir_.file("straight_iter_30.caffemodel"),
                                        dir_.file("split_iter_30.caffemodel")),
            4);
}

TEST_F(CliTrainTest, SighupSnapshotsAndSigintStops) {
  const std::string solver = WriteSolver("long.prototxt", "max_iter: 100000000\n", "long");
  std::string output;
  // Signal the run once it is training: SIGHUP (snapshot), then SIGINT (stop).
  const int status = RunCommand(
      "OMP_NUM_THREADS=1 " + CremaBinary() + " train -solver " + solver + " > " +
          dir_.file("long.log") + " 2>&1 & pid=$!; "
          "for i in $(seq 100); do grep -q 'Iteration 10,' " + dir_.file("long.log") +
          " 2>/dev/null && break; sleep 0.1; done; "
          "kill -HUP $pid; "
          "for i in $(seq 100); do grep -q 'Snapshotting solver state' " + dir_.file("long.log") +
          " && break; sleep 0.1; done; "
          // SIGINT once training has moved past the snapshot's iteration, so that the stop
          // writes a snapshot of its own.
          "n=$(grep -c 'lr = ' " + dir_.file("long.log") + "); "
          "for i in $(seq 100); do [ $(grep -c 'lr = ' " + dir_.file("long.log") +
          ") -gt $n ] && break; sleep 0.05; done; "
          "kill -INT $pid; wait $pid",
      &output);
  const std::string log = ReadFileToString(dir_.file("long.log"));
  ASSERT_EQ(status, 0) << output << log;
  EXPECT_CONTAINS(log, "SIGHUP received: snapshotting");
  EXPECT_CONTAINS(log, "SIGINT received: stopping");
  EXPECT_CONTAINS(log, "Optimization stopped early.");
  EXPECT_CONTAINS(log, "Model written to " + dir_.file("long_iter_"));
  int snapshots = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir_.path())) {
    snapshots += entry.path().extension() == ".caffemodel";
  }
  EXPECT_EQ(snapshots, 2) << log;  // one on SIGHUP, one when stopping
}

TEST_F(CliTrainTest, SigintEffectValuesAreChecked) {
  const Result r = Crema("train -solver " + WriteSolver("s.prototxt", "max_iter: 1\n") +
                         " -sigint_effect pause");
  EXPECT_EQ(r.status, 1);
  EXPECT_CONTAINS(r.output, "-sigint_effect must be stop, snapshot or none, got 'pause'");
}

TEST_F(CliTrainTest, WeightsAndSnapshotTogetherAreRefused) {
  const Result r = Crema("train -solver x.prototxt -weights a.caffemodel -snapshot b.solverstate");
  EXPECT_EQ(r.status, 1);
  EXPECT_CONTAINS(r.output, "not both");
}

TEST(CliTest, UsageAndUnknownCommand) {
  Result r = Crema("");
  EXPECT_EQ(r.status, 1);
  EXPECT_CONTAINS(r.output, "usage:");
  r = Crema("fly");
  EXPECT_EQ(r.status, 1);
  EXPECT_CONTAINS(r.output, "unknown command 'fly'");
  r = Crema("train");
  EXPECT_EQ(r.status, 1);
  EXPECT_CONTAINS(r.output, "train needs -solver");
  r = Crema("train -solver s.prototxt -gpu 0");
  EXPECT_EQ(r.status, 1);
  EXPECT_CONTAINS(r.output, "CPU only");
}

const char kInputNet[] = R"(name: "small"
layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 2 dim: 3 } } }
layer { name: "ip" type: "InnerProduct" bottom: "data" top: "ip"
        inner_product_param { num_output: 4 weight_filler { type: "gaussian" } } }
)";

TEST(CliTest, AcceptsAllThreeFlagForms) {
  TempDir dir;
  WriteFile(dir.file("net.prototxt"), kInputNet);
  for (const std::string& form : {"-model " + dir.file("net.prototxt") + " -iterations 2",
                                  "-model=" + dir.file("net.prototxt") + " -iterations=2",
                                  "--model " + dir.file("net.prototxt") + " --iterations 2"}) {
    const Result r = Crema("time " + form);
    EXPECT_EQ(r.status, 0) << form << "\n" << r.output;
    EXPECT_CONTAINS(r.output, "Average Forward-Backward");
    EXPECT_CONTAINS(r.output, "Iteration: 2 forward-backward time");
  }
}

TEST(CliTest, TimeInTestPhaseTimesInferenceWithFoldedLayers) {
  TempDir dir;
  WriteFile(dir.file("net.prototxt"), R"(name: "fused"
layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 2 dim: 3 dim: 8 dim: 8 } } }
layer { name: "conv" type: "Convolution" bottom: "data" top: "conv"
        convolution_param { num_output: 4 kernel_size: 3 weight_filler { type: "gaussian" } } }
layer { name: "bn" type: "BatchNorm" bottom: "conv" top: "conv" }
layer { name: "scale" type: "Scale" bottom: "conv" top: "conv" scale_param { bias_term: true } }
layer { name: "relu" type: "ReLU" bottom: "conv" top: "conv" }
)");
  const Result test = Crema("time -iterations 2 -phase TEST -model " + dir.file("net.prototxt"));
  ASSERT_EQ(test.status, 0) << test.output;
  EXPECT_CONTAINS(test.output, "bn\tforward: folded into the layer before it");
  EXPECT_CONTAINS(test.output, "relu\tforward: folded into the layer before it");
  EXPECT_CONTAINS(test.output, "Iteration: 2 forward time");
  EXPECT_CONTAINS(test.output, "Average Forward pass");
  EXPECT_EQ(test.output.find("backward"), std::string::npos) << test.output;

  const Result train = Crema("time -iterations 1 -model " + dir.file("net.prototxt"));
  ASSERT_EQ(train.status, 0) << train.output;
  EXPECT_EQ(train.output.find("folded"), std::string::npos) << train.output;
  EXPECT_CONTAINS(train.output, "bn\tbackward: ");
}

TEST(CliTest, SyntaxErrorNamesFileLineAndColumn) {
  TempDir dir;
  WriteFile(dir.file("bad.prototxt"), "name: \"x\"\nlayer {\n  name: \"a\"\n  tpye: \"Input\"\n}\n");
  const Result r = Crema("time -model " + dir.file("bad.prototxt"));
  EXPECT_EQ(r.status, 1);
  EXPECT_CONTAINS(r.output, dir.file("bad.prototxt") + ":4:3: ");
  EXPECT_CONTAINS(r.output, "tpye");
}

TEST(CliTest, UnknownLayerTypeListsKnownTypes) {
  TempDir dir;
  WriteFile(dir.file("net.prototxt"),
            "layer { name: \"d\" type: \"Input\" top: \"x\" input_param { shape { dim: 1 } } }\n"
            "layer { name: \"z\" type: \"Frobnicate\" bottom: \"x\" top: \"y\" }\n");
  const Result r = Crema("time -model " + dir.file("net.prototxt"));
  EXPECT_EQ(r.status, 1);
  EXPECT_CONTAINS(r.output, dir.file("net.prototxt") +
                                ":2: layer 'z' has unknown type 'Frobnicate' (known types: ");
  EXPECT_CONTAINS(r.output, "Convolution");
}

TEST(CliTest, UnknownLayerTypeInATrainNetNamesTheLine) {
  TempDir dir;
  WriteFile(dir.file("net.prototxt"),
            "name: \"n\"\n"
            "layer { name: \"d\" type: \"Input\" top: \"x\" input_param { shape { dim: 1 } } }\n"
            "\n"
            "layer {\n  name: \"z\"\n  type: \"Frobnicate\"\n  bottom: \"x\" top: \"y\"\n}\n");
  WriteFile(dir.file("solver.prototxt"), "net: \"" + dir.file("net.prototxt") +
                                             "\"\nbase_lr: 0.1\nlr_policy: \"fixed\"\nmax_iter: 1\n");
  const Result r = Crema("train -solver " + dir.file("solver.prototxt"));
  EXPECT_EQ(r.status, 1);
  EXPECT_CONTAINS(r.output, dir.file("net.prototxt") + ":4: layer 'z' has unknown type");
}

TEST(CliTest, MissingBottomNamesLayerAndBlob) {
  TempDir dir;
  WriteFile(dir.file("net.prototxt"),
            "layer { name: \"r\" type: \"ReLU\" bottom: \"nothing\" top: \"y\" }\n");
  const Result r = Crema("time -model " + dir.file("net.prototxt"));
  EXPECT_EQ(r.status, 1);
  EXPECT_CONTAINS(r.output, "layer 'r' (ReLU) reads bottom blob 'nothing'");
}

TEST(CliTest, MissingFileIsOneSentence) {
  const Result r = Crema("time -model /nonexistent/net.prototxt");
  EXPECT_EQ(r.status, 1);
  EXPECT_CONTAINS(r.output, "cannot open '/nonexistent/net.prototxt'");
}

TEST(CliTest, TruncatedCaffemodelAndShapeMismatchAreClear) {
  TempDir dir;
  WriteFile(dir.file("net.prototxt"), kInputNet);
  // A model whose ip weight has the wrong shape.
  caffe::NetParameter model;
  model.set_name("small");
  auto* layer = model.add_layer();
  layer->set_name("ip");
  layer->set_type("InnerProduct");
  for (const auto& shape : {std::vector<int>{5, 3}, std::vector<int>{5}}) {
    auto* blob = layer->add_blobs();
    int count = 1;
    for (int d : shape) {
      blob->mutable_shape()->add_dim(d);
      count *= d;
    }
    for (int i = 0; i < count; ++i) blob->add_data(0.5f);
  }
  WriteBinaryProto(dir.file("wrong.caffemodel"), model);
  Result r = Crema("test -model " + dir.file("net.prototxt") + " -weights " +
                   dir.file("wrong.caffemodel") + " -iterations 1");
  EXPECT_EQ(r.status, 1);
  EXPECT_CONTAINS(r.output, "layer 'ip'");
  EXPECT_CONTAINS(r.output, "5 3 (15)");
  EXPECT_CONTAINS(r.output, "4 3 (12)");

  std::string bytes;
  ASSERT_TRUE(model.SerializeToString(&bytes));
  WriteFile(dir.file("truncated.caffemodel"), bytes.substr(0, bytes.size() / 2));
  r = Crema("test -model " + dir.file("net.prototxt") + " -weights " +
            dir.file("truncated.caffemodel") + " -iterations 1");
  EXPECT_EQ(r.status, 1);
  EXPECT_CONTAINS(r.output, "truncated.caffemodel");
  EXPECT_CONTAINS(r.output, "not a valid binary caffe.NetParameter");
}

TEST(CliTest, ConvertMnistChecksItsArguments) {
  Result r = Crema("convert mnist a b");
  EXPECT_EQ(r.status, 1);
  EXPECT_CONTAINS(r.output, "usage: crema convert mnist IMAGES LABELS DB");
  r = Crema("convert tfrecord x");
  EXPECT_EQ(r.status, 1);
  EXPECT_CONTAINS(r.output, "unknown format 'tfrecord'");
  TempDir dir;
  WriteFile(dir.file("junk"), "not an idx file at all");
  r = Crema("convert mnist " + dir.file("junk") + " " + dir.file("junk") + " " + dir.file("db"));
  EXPECT_EQ(r.status, 1);
  EXPECT_CONTAINS(r.output, dir.file("junk"));
  EXPECT_FALSE(std::filesystem::exists(dir.file("db") + "/data.mdb"));
}

}  // namespace
}  // namespace crema
