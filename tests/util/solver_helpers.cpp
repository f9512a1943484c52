#include "solver_helpers.h"

#include <gtest/gtest.h>
#include <google/protobuf/text_format.h>

#include <cmath>
#include <cstring>

#include "crema/solver/lr_policy.h"
#include "crema/solver/solver_state_io.h"

namespace crema::testing {

const char kTinySolverNet[] = R"(
  name: "tiny"
  layer { name: "data" type: "Input" top: "data" top: "label"
          input_param { shape { dim: 4 dim: 3 } shape { dim: 4 } } }
  layer { name: "ip" type: "InnerProduct" bottom: "data" top: "ip"
          param { lr_mult: 1 decay_mult: 1 } param { lr_mult: 2 decay_mult: 0 }
          inner_product_param { num_output: 5
            weight_filler { type: "gaussian" std: 0.5 }
            bias_filler { type: "uniform" min: -0.5 max: 0.5 } } }
  layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip" bottom: "label" top: "loss" }
)";

caffe::SolverParameter TinySolverParamFrom(const std::string& defaults, const std::string& extra,
                                           const std::string& snapshot_prefix) {
  caffe::SolverParameter param, overrides;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(defaults, &param)) << defaults;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(extra, &overrides)) << extra;
  param.MergeFrom(overrides);
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(kTinySolverNet,
                                                            param.mutable_net_param()));
  param.set_snapshot_prefix(snapshot_prefix);
  return param;
}

caffe::SolverParameter TinySolverParam(const std::string& type, const std::string& extra,
                                       const std::string& snapshot_prefix) {
  caffe::SolverParameter param = TinySolverParamFrom(
      "base_lr: 0.1 lr_policy: 'inv' gamma: 0.01 power: 0.75 weight_decay: 0.05 max_iter: 6 "
      "random_seed: 1701 display: 0 snapshot_after_train: false",
      extra, snapshot_prefix);
  param.set_type(type);
  return param;
}

void FillTinyInputs(Net* net) {
  Blob* data = net->blob_by_name("data");
  Blob* label = net->blob_by_name("label");
  for (int i = 0; i < data->count(); ++i) data->mutable_cpu_data()[i] = std::sin(1.0f + i);
  for (int i = 0; i < label->count(); ++i) {
    label->mutable_cpu_data()[i] = static_cast<float>((3 * i) % 5);
  }
}

std::vector<std::vector<float>> ParamValues(Net* net) {
  std::vector<std::vector<float>> values;
  for (const Blob* p : net->learnable_params()) {
    values.emplace_back(p->cpu_data(), p->cpu_data() + p->count());
  }
  return values;
}

std::vector<std::vector<float>> HistoryValues(const Solver& solver) {
  std::vector<std::vector<float>> values;
  for (const auto& h : solver.history()) values.emplace_back(h->cpu_data(), h->cpu_data() + h->count());
  return values;
}

void ExpectBitEqual(const std::vector<std::vector<float>>& a,
                    const std::vector<std::vector<float>>& b, const std::string& what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  for (size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(a[i].size(), b[i].size()) << what << " " << i;
    EXPECT_EQ(0, std::memcmp(a[i].data(), b[i].data(), a[i].size() * sizeof(float)))
        << what << " " << i << " differs";
  }
}

void ExpectAllNear(const std::vector<std::vector<float>>& a,
                   const std::vector<std::vector<float>>& b, double tolerance) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(a[i].size(), b[i].size());
    for (size_t j = 0; j < a[i].size(); ++j) {
      EXPECT_NEAR(a[i][j], b[i][j], tolerance) << "param " << i << " element " << j;
    }
  }
}

double MaxDifference(const std::vector<std::vector<float>>& a,
                     const std::vector<std::vector<float>>& b) {
  double worst = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    for (size_t j = 0; j < a[i].size() && j < b[i].size(); ++j) {
      worst = std::max(worst, std::abs(static_cast<double>(a[i][j]) - b[i][j]));
    }
  }
  return worst;
}

std::vector<std::vector<float>> RunReference(const caffe::SolverParameter& param, int iters,
                                             int slots, const ElementRule& rule,
                                             const Multipliers& mult) {
  auto twin = CreateSolver(param);  // only for its identically initialised net
  Net* net = twin->net();
  FillTinyInputs(net);
  const auto& params = net->learnable_params();
  EXPECT_EQ(params.size(), mult.lr.size());
  std::vector<std::vector<double>> history(params.size());
  for (size_t i = 0; i < params.size(); ++i) {
    history[i].assign(static_cast<size_t>(params[i]->count() * slots), 0.0);
  }
  int step = 0;
  for (int iter = 0; iter < iters; ++iter) {
    net->ClearParamDiffs();
    net->ForwardBackward();
    const double rate = LearningRate(param, iter, &step);
    double clip_scale = 1;
    if (param.clip_gradients() >= 0) {
      double sumsq = 0;
      for (const Blob* p : params) {
        for (int j = 0; j < p->count(); ++j) sumsq += double{p->cpu_diff()[j]} * p->cpu_diff()[j];
      }
      const double norm = std::sqrt(sumsq);
      if (norm > param.clip_gradients()) clip_scale = param.clip_gradients() / norm;
    }
    for (size_t i = 0; i < params.size(); ++i) {
      float* w = params[i]->mutable_cpu_data();
      const float* diff = params[i]->cpu_diff();
      const double decay = double{param.weight_decay()} * mult.decay[i];
      const double local_rate = rate * mult.lr[i];
      for (int j = 0; j < params[i]->count(); ++j) {
        double g = clip_scale * diff[j];
        g += param.regularization_type() == "L1" ? decay * ((w[j] > 0) - (w[j] < 0))
                                                 : decay * w[j];
        double h[4];
        for (int k = 0; k < slots; ++k) h[k] = history[i][static_cast<size_t>(j * slots + k)];
        const double update = rule(g, local_rate, iter, h);
        for (int k = 0; k < slots; ++k) history[i][static_cast<size_t>(j * slots + k)] = h[k];
        w[j] = static_cast<float>(w[j] - update);
      }
    }
  }
  return ParamValues(net);
}

std::vector<std::vector<float>> ExpectTrainingMatchesReference(
    const caffe::SolverParameter& param, int iters, int slots, const ElementRule& rule,
    double tolerance, double decay_margin) {
  auto solver = CreateSolver(param);
  EXPECT_EQ(solver->type(), param.type());
  FillTinyInputs(solver->net());
  solver->Step(iters);
  const auto actual = ParamValues(solver->net());
  ExpectAllNear(actual, RunReference(param, iters, slots, rule), tolerance);
  Multipliers flat_lr, decayed_bias;
  flat_lr.lr = {1, 1};
  decayed_bias.decay = {1, 1};
  EXPECT_GT(MaxDifference(actual, RunReference(param, iters, slots, rule, flat_lr)), 1e-4);
  EXPECT_GT(MaxDifference(actual, RunReference(param, iters, slots, rule, decayed_bias)),
            decay_margin);
  return actual;
}

void ExpectResumeEqualsUninterrupted(caffe::SolverParameter param, const std::string& dir,
                                     int first, int total) {
  const bool hdf5 = param.snapshot_format() == caffe::SolverParameter::HDF5;
  param.set_snapshot_prefix(dir + "/straight");
  auto straight = CreateSolver(param);
  FillTinyInputs(straight->net());
  straight->Step(total);

  param.set_snapshot_prefix(dir + "/split");
  auto leg = CreateSolver(param);
  FillTinyInputs(leg->net());
  leg->Step(first);
  const std::string model = leg->Snapshot();
  const std::string stem = dir + "/split_iter_" + std::to_string(first);
  EXPECT_EQ(model, stem + (hdf5 ? ".caffemodel.h5" : ".caffemodel"));

  auto resumed = CreateSolver(param);
  FillTinyInputs(resumed->net());
  resumed->Restore(stem + (hdf5 ? ".solverstate.h5" : ".solverstate"));
  EXPECT_EQ(resumed->iter(), first);
  EXPECT_EQ(resumed->current_step(), leg->current_step());
  ExpectBitEqual(HistoryValues(*leg), HistoryValues(*resumed), "restored history blob");
  resumed->Step(total - first);
  EXPECT_EQ(resumed->iter(), total);
  ExpectBitEqual(ParamValues(straight->net()), ParamValues(resumed->net()), "parameter");
  ExpectBitEqual(HistoryValues(*straight), HistoryValues(*resumed), "history blob");
}

void ExpectSnapshotHistoryLayout(Solver* solver, int slots) {
  const std::string model = solver->Snapshot();
  const bool hdf5 = solver->param().snapshot_format() == caffe::SolverParameter::HDF5;
  const std::string state_file = solver->param().snapshot_prefix() + "_iter_" +
                                 std::to_string(solver->iter()) +
                                 (hdf5 ? ".solverstate.h5" : ".solverstate");
  const caffe::SolverState state = ReadSolverState(state_file);
  EXPECT_EQ(state.iter(), solver->iter());
  EXPECT_EQ(state.learned_net(), model);
  const auto& params = solver->net()->learnable_params();
  const int n = static_cast<int>(params.size());
  ASSERT_EQ(state.history_size(), slots * n) << solver->type();
  ASSERT_EQ(static_cast<int>(solver->history().size()), slots * n);
  for (int k = 0; k < slots * n; ++k) {
    const caffe::BlobProto& blob = state.history(k);
    EXPECT_EQ(Blob::ProtoShape(blob), params[static_cast<size_t>(k % n)]->shape())
        << "history blob " << k;
    const Blob& mine = *solver->history()[static_cast<size_t>(k)];
    ASSERT_EQ(blob.data_size(), mine.count()) << "history blob " << k;
    EXPECT_EQ(0, std::memcmp(blob.data().data(), mine.cpu_data(), sizeof(float) * mine.count()))
        << "history blob " << k << " is not the solver's history()[" << k << "]";
  }
}

std::vector<float> KnownWeightGradient() {
  std::vector<float> g(15);
  for (int j = 0; j < 15; ++j) g[static_cast<size_t>(j)] = 0.25f * static_cast<float>(j - 7);
  return g;
}

}  // namespace crema::testing
