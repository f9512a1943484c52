#include "crema/solver/solver.h"

#include <gtest/gtest.h>
#include <google/protobuf/text_format.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "crema/core/error.h"
#include "crema/io/proto_io.h"
#include "crema/solver/lr_policy.h"
#include "crema/solver/metrics_file.h"
#include "solver_helpers.h"
#include "test_helpers.h"

namespace crema {
namespace {

using testing::TempDir;

// Input -> InnerProduct -> SoftmaxWithLoss (testing::kTinySolverNet), SGD with momentum.
caffe::SolverParameter MakeSolverParam(const std::string& extra, const std::string& prefix) {
  return testing::TinySolverParamFrom(
      "base_lr: 0.1 lr_policy: 'inv' gamma: 0.01 power: 0.75 momentum: 0.9 "
      "weight_decay: 0.01 max_iter: 6 random_seed: 1701 display: 0 snapshot_after_train: false",
      extra, prefix);
}

void FillInputs(Net* net) {
  Blob* data = net->blob_by_name("data");
  Blob* label = net->blob_by_name("label");
  for (int i = 0; i < data->count(); ++i) data->mutable_cpu_data()[i] = std::sin(1.0f + i);
  for (int i = 0; i < label->count(); ++i) label->mutable_cpu_data()[i] = static_cast<float>(i % 5);
}


// Caffe's SGD rule, written out: g += decay·w (L2) or decay·sign(w) (L1);
// v = momentum·v + rate·lr_mult·g; w -= v.
std::vector<std::vector<float>> ReferenceSgd(const caffe::SolverParameter& param, int iters) {
  auto solver = CreateSolver(param);  // used only for its identically initialised net
  Net* net = solver->net();
  FillInputs(net);
  const auto& params = net->learnable_params();
  std::vector<std::vector<float>> history(params.size());
  for (size_t i = 0; i < params.size(); ++i) history[i].assign(params[i]->count(), 0.f);
  int step = 0;
  for (int iter = 0; iter < iters; ++iter) {
    net->ClearParamDiffs();
    net->ForwardBackward();
    const float rate = LearningRate(param, iter, &step);
    for (size_t i = 0; i < params.size(); ++i) {
      float* w = params[i]->mutable_cpu_data();
      const float* g = params[i]->cpu_diff();
      const float decay = param.weight_decay() * net->params_weight_decay()[i];
      const float local_rate = rate * net->params_lr()[i];
      for (int j = 0; j < params[i]->count(); ++j) {
        float grad = g[j];
        if (param.regularization_type() == "L1") {
          grad += decay * static_cast<float>((w[j] > 0) - (w[j] < 0));
        } else {
          grad += decay * w[j];
        }
        history[i][j] = local_rate * grad + param.momentum() * history[i][j];
        w[j] -= history[i][j];
      }
    }
  }
  return testing::ParamValues(net);
}

void ExpectParamsNear(const std::vector<std::vector<float>>& a,
                      const std::vector<std::vector<float>>& b, float tolerance) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(a[i].size(), b[i].size());
    for (size_t j = 0; j < a[i].size(); ++j) {
      EXPECT_NEAR(a[i][j], b[i][j], tolerance) << "param " << i << " element " << j;
    }
  }
}

TEST(SgdSolverTest, MatchesTheUpdateRuleWithMomentumDecayAndMultipliers) {
  TempDir dir;
  const auto param = MakeSolverParam("", dir.file("s"));
  auto solver = CreateSolver(param);
  FillInputs(solver->net());
  const auto before = testing::ParamValues(solver->net());
  solver->Step(5);
  EXPECT_EQ(solver->iter(), 5);
  const auto after = testing::ParamValues(solver->net());
  EXPECT_NE(before, after);
  ExpectParamsNear(after, ReferenceSgd(param, 5), 1e-6f);
}

TEST(SgdSolverTest, L1Regularization) {
  TempDir dir;
  const auto param = MakeSolverParam("regularization_type: 'L1' weight_decay: 0.05", dir.file("s"));
  auto solver = CreateSolver(param);
  FillInputs(solver->net());
  solver->Step(3);
  ExpectParamsNear(testing::ParamValues(solver->net()), ReferenceSgd(param, 3), 1e-6f);
}

TEST(SgdSolverTest, ClipGradientsBoundsTheGlobalNorm) {
  TempDir dir;
  const auto param = MakeSolverParam(
      "momentum: 0 weight_decay: 0 lr_policy: 'fixed' base_lr: 1 clip_gradients: 0.01",
      dir.file("s"));
  auto solver = CreateSolver(param);
  FillInputs(solver->net());
  const auto before = testing::ParamValues(solver->net());
  solver->Step(1);
  const auto after = testing::ParamValues(solver->net());
  // With lr 1, lr_mult 1 (weights) and 2 (bias) and no momentum, the step is the clipped
  // gradient scaled by lr_mult; undo the multiplier to recover the clipped norm.
  double sumsq = 0;
  for (size_t i = 0; i < before.size(); ++i) {
    const float mult = solver->net()->params_lr()[i];
    for (size_t j = 0; j < before[i].size(); ++j) {
      const double g = (before[i][j] - after[i][j]) / mult;
      sumsq += g * g;
    }
  }
  EXPECT_NEAR(std::sqrt(sumsq), 0.01, 1e-6);
}

TEST(SgdSolverTest, IterSizeAveragesAccumulatedGradients) {
  TempDir dir;
  // The same batch twice with iter_size 2 gives the same step as once with iter_size 1.
  auto once = CreateSolver(MakeSolverParam("", dir.file("a")));
  auto twice = CreateSolver(MakeSolverParam("iter_size: 2", dir.file("b")));
  FillInputs(once->net());
  FillInputs(twice->net());
  once->Step(2);
  twice->Step(2);
  ExpectParamsNear(testing::ParamValues(once->net()), testing::ParamValues(twice->net()), 1e-6f);
}

TEST(SgdSolverTest, SnapshotRestoreAndContinueEqualsUninterruptedRun) {
  TempDir dir;
  const auto param = MakeSolverParam("lr_policy: 'multistep' gamma: 0.5 stepvalue: 2 stepvalue: 4",
                                     dir.file("run"));
  auto straight = CreateSolver(param);
  FillInputs(straight->net());
  straight->Step(6);

  auto first = CreateSolver(param);
  FillInputs(first->net());
  first->Step(3);
  const std::string model = first->Snapshot();
  EXPECT_EQ(model, dir.file("run_iter_3.caffemodel"));
  ASSERT_TRUE(std::filesystem::exists(dir.file("run_iter_3.solverstate")));

  auto resumed = CreateSolver(param);
  FillInputs(resumed->net());
  resumed->Restore(dir.file("run_iter_3.solverstate"));
  EXPECT_EQ(resumed->iter(), 3);
  EXPECT_EQ(resumed->current_step(), first->current_step());
  resumed->Step(3);
  const auto a = testing::ParamValues(straight->net());
  const auto b = testing::ParamValues(resumed->net());
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(0, std::memcmp(a[i].data(), b[i].data(), a[i].size() * sizeof(float)))
        << "param " << i << " differs from the uninterrupted run";
  }
}

TEST(SgdSolverTest, ResumeWithDropoutEqualsUninterruptedRun) {
  // Dropout draws from the thread's generator at every pass: a resumed run must go on with
  // the masks the interrupted run would have drawn, not start them over.
  TempDir dir;
  caffe::SolverParameter param = testing::TinySolverParam("SGD", "momentum: 0.9", "");
  caffe::NetParameter* net = param.mutable_net_param();
  caffe::LayerParameter dropout;
  ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(
      "name: 'drop' type: 'Dropout' bottom: 'data' top: 'dropped' "
      "dropout_param { dropout_ratio: 0.3 }",
      &dropout));
  *net->mutable_layer()->Add() = dropout;
  net->mutable_layer()->SwapElements(1, 3);  // data, drop, ip, loss
  net->mutable_layer()->SwapElements(2, 3);
  net->mutable_layer(2)->set_bottom(0, "dropped");
  ASSERT_EQ(net->layer(1).name(), "drop");
  ASSERT_EQ(net->layer(2).name(), "ip");
  testing::ExpectResumeEqualsUninterrupted(param, dir.path(), 2, 5);
}

TEST(SgdSolverTest, SolverStateHoldsIterHistoryAndModelPath) {
  TempDir dir;
  auto solver = CreateSolver(MakeSolverParam("", dir.file("x")));
  FillInputs(solver->net());
  solver->Step(2);
  solver->Snapshot();
  caffe::SolverState state;
  ReadBinaryProto(dir.file("x_iter_2.solverstate"), &state);
  EXPECT_EQ(state.iter(), 2);
  EXPECT_EQ(state.learned_net(), dir.file("x_iter_2.caffemodel"));
  ASSERT_EQ(state.history_size(), 2);  // SGD: one blob per learnable parameter
  EXPECT_EQ(state.history(0).shape().dim_size(), 2);
  caffe::NetParameter model;
  ReadBinaryProto(dir.file("x_iter_2.caffemodel"), &model);
  ASSERT_EQ(model.layer_size(), 3);
  EXPECT_EQ(model.layer(1).name(), "ip");
  EXPECT_EQ(model.layer(1).blobs_size(), 2);
}

TEST(SgdSolverTest, RestoreFindsTheModelBesideAMovedState) {
  TempDir dir, moved;
  const auto param = MakeSolverParam("", dir.file("m"));
  auto solver = CreateSolver(param);
  FillInputs(solver->net());
  solver->Step(1);
  solver->Snapshot();
  for (const char* f : {"m_iter_1.caffemodel", "m_iter_1.solverstate"}) {
    std::filesystem::rename(dir.file(f), moved.file(f));
  }
  auto resumed = CreateSolver(param);
  resumed->Restore(moved.file("m_iter_1.solverstate"));
  ExpectParamsNear(testing::ParamValues(resumed->net()), testing::ParamValues(solver->net()), 0.f);
}

TEST(SgdSolverTest, RestoreRejectsHistoryOfAnotherNet) {
  TempDir dir;
  caffe::SolverState state;
  state.set_iter(3);
  state.add_history()->mutable_shape()->add_dim(1);
  WriteBinaryProto(dir.file("bad.solverstate"), state);
  auto solver = CreateSolver(MakeSolverParam("", dir.file("s")));
  try {
    solver->Restore(dir.file("bad.solverstate"));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("holds 1 history blobs"), std::string::npos) << e.what();
  }
}

class RecordingObserver : public SolverObserver {
 public:
  void OnIteration(const IterationStats& stats) override { iterations.push_back(stats); }
  void OnTest(const TestStats& stats) override { tests.push_back(stats); }
  void OnSnapshot(int iter, const std::string&, const std::string&) override {
    snapshots.push_back(iter);
  }
  std::vector<IterationStats> iterations;
  std::vector<TestStats> tests;
  std::vector<int> snapshots;
};

TEST(SolverTest, TestsAtIntervalsAndSnapshotsOnSchedule) {
  TempDir dir;
  auto param = MakeSolverParam(
      "test_iter: 2 test_interval: 2 display: 2 snapshot: 4 snapshot_after_train: true max_iter: 6",
      dir.file("sched"));
  auto solver = CreateSolver(param);
  ASSERT_EQ(solver->test_nets().size(), 1u);
  FillInputs(solver->net());
  RecordingObserver observer;
  solver->AddObserver(&observer);
  solver->Solve();
  // Tests at 0 (test_initialization), 2, 4 and the final one at 6.
  std::vector<int> test_iters;
  for (const auto& t : observer.tests) test_iters.push_back(t.iter);
  EXPECT_EQ(test_iters, (std::vector<int>{0, 2, 4, 6}));
  ASSERT_FALSE(observer.tests.empty());
  ASSERT_EQ(observer.tests[0].outputs.size(), 1u);
  EXPECT_EQ(observer.tests[0].outputs[0].first, "loss");
  std::vector<int> shown;
  for (const auto& s : observer.iterations) shown.push_back(s.iter);
  ASSERT_EQ(shown, (std::vector<int>{0, 2, 4}));
  EXPECT_GT(observer.iterations[0].learning_rate, 0.f);
  EXPECT_EQ(observer.snapshots, (std::vector<int>{4, 6}));
  EXPECT_TRUE(std::filesystem::exists(dir.file("sched_iter_6.caffemodel")));
}

TEST(SolverTest, DisplayedLossIsTheMeanOfTheLastAverageLossIterations) {
  TempDir dir;
  // Raw per-iteration losses, from a run that smooths over one iteration.
  auto raw = CreateSolver(MakeSolverParam("display: 1 max_iter: 7", dir.file("a")));
  auto smoothed = CreateSolver(MakeSolverParam("display: 1 average_loss: 3 max_iter: 7", dir.file("b")));
  RecordingObserver raw_losses, smoothed_losses;
  raw->AddObserver(&raw_losses);
  smoothed->AddObserver(&smoothed_losses);
  FillInputs(raw->net());
  FillInputs(smoothed->net());
  raw->Step(7);
  smoothed->Step(7);
  ASSERT_EQ(raw_losses.iterations.size(), 7u);
  ASSERT_EQ(smoothed_losses.iterations.size(), 7u);
  for (size_t i = 0; i < 7; ++i) {
    double mean = 0;
    const size_t first = i >= 2 ? i - 2 : 0;
    for (size_t j = first; j <= i; ++j) mean += raw_losses.iterations[j].loss;
    mean /= static_cast<double>(i - first + 1);
    EXPECT_NEAR(smoothed_losses.iterations[i].loss, mean, 1e-5) << "iteration " << i;
  }
  EXPECT_NE(raw_losses.iterations[6].loss, smoothed_losses.iterations[6].loss);
}

TEST(SolverTest, NoTestAtZeroWithoutTestInitialization) {
  TempDir dir;
  auto solver = CreateSolver(MakeSolverParam(
      "test_iter: 1 test_interval: 3 test_initialization: false max_iter: 3", dir.file("t")));
  FillInputs(solver->net());
  RecordingObserver observer;
  solver->AddObserver(&observer);
  solver->Solve();
  ASSERT_EQ(observer.tests.size(), 1u);
  EXPECT_EQ(observer.tests[0].iter, 3);
}

TEST(SolverTest, ActionFunctionStopsAndSnapshots) {
  TempDir dir;
  auto solver = CreateSolver(MakeSolverParam("max_iter: 100", dir.file("sig")));
  FillInputs(solver->net());
  int calls = 0;
  solver->SetActionFunction([&calls] {
    ++calls;
    if (calls == 2) return SolverAction::kSnapshot;
    if (calls == 4) return SolverAction::kStop;
    return SolverAction::kNone;
  });
  solver->Solve();
  EXPECT_TRUE(solver->requested_early_exit());
  EXPECT_EQ(solver->iter(), 4);
  EXPECT_TRUE(std::filesystem::exists(dir.file("sig_iter_2.caffemodel")));
}

TEST(SolverTest, MetricsFileHasOneJsonObjectPerEvent) {
  TempDir dir;
  auto solver = CreateSolver(
      MakeSolverParam("display: 1 test_iter: 1 test_interval: 2 max_iter: 2", dir.file("met")));
  FillInputs(solver->net());
  {
    MetricsFile metrics(dir.file("metrics.jsonl"));
    solver->AddObserver(&metrics);
    solver->Solve();
  }
  std::ifstream in(dir.file("metrics.jsonl"));
  std::string line;
  std::vector<std::string> lines;
  while (std::getline(in, line)) lines.push_back(line);
  ASSERT_GE(lines.size(), 4u);
  EXPECT_NE(lines[0].find("\"event\":\"test\""), std::string::npos) << lines[0];
  EXPECT_NE(lines[1].find("\"event\":\"train\""), std::string::npos) << lines[1];
  EXPECT_NE(lines[1].find("\"lr\":"), std::string::npos);
  EXPECT_NE(lines[1].find("\"images_per_second\":"), std::string::npos);
}

void ExpectSolverError(const caffe::SolverParameter& param, const std::string& fragment) {
  try {
    CreateSolver(param);
    FAIL() << "expected an error containing: " << fragment;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
  }
}

TEST(SolverTest, ConfigurationErrorsAreClear) {
  TempDir dir;
  auto param = MakeSolverParam("", dir.file("e"));
  auto no_net = param;
  no_net.clear_net_param();
  ExpectSolverError(no_net, "exactly one of net");
  auto two_nets = param;
  two_nets.set_net("x.prototxt");
  ExpectSolverError(two_nets, "it gives 2");
  auto bad_type = param;
  bad_type.set_type("Momentum");
  ExpectSolverError(bad_type,
                    "unknown solver type \"Momentum\" (known: AdaDelta, AdaGrad, Adam, "
                    "Nesterov, RMSProp, SGD)");
  auto bad_reg = param;
  bad_reg.set_regularization_type("L3");
  ExpectSolverError(bad_reg, "unknown regularization_type");
  auto no_interval = param;
  no_interval.add_test_iter(10);
  ExpectSolverError(no_interval, "test_interval");
  auto unwritable = param;
  unwritable.set_snapshot_after_train(true);
  unwritable.set_snapshot_prefix(dir.file("missing-dir/model"));
  ExpectSolverError(unwritable, "missing-dir");
  auto missing_weights = param;
  missing_weights.add_weights(dir.file("nope.caffemodel"));
  ExpectSolverError(missing_weights, "nope.caffemodel");
}

}  // namespace
}  // namespace crema
