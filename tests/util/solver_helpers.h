// Shared pieces of the solver tests: a net small enough to follow by hand, a reference
// trainer that applies an update rule written out in the test, and the snapshot checks every
// solver type must pass.
#ifndef CREMA_TESTS_UTIL_SOLVER_HELPERS_H_
#define CREMA_TESTS_UTIL_SOLVER_HELPERS_H_

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "crema/proto/caffe.pb.h"
#include "crema/solver/solver.h"

namespace crema::testing {

// Input (data 4×3, label 4) → InnerProduct (5 outputs) → SoftmaxWithLoss. The weight (5×3)
// has lr_mult 1, decay_mult 1; the bias (5) lr_mult 2, decay_mult 0, as Caffe's examples set.
extern const char kTinySolverNet[];

// The multipliers of kTinySolverNet's two learnable parameters, as written in it (not read
// back from the net, so a solver that ignored them would disagree with the reference).
struct Multipliers {
  std::vector<float> lr = {1.f, 2.f};
  std::vector<float> decay = {1.f, 0.f};
};

// A solver of `type` over kTinySolverNet: base_lr 0.1, lr_policy inv (gamma 0.01, power
// 0.75), weight_decay 0.05, max_iter 6, random_seed 1701, no display, no snapshots; `extra`
// (solver prototxt text) adds or replaces fields.
caffe::SolverParameter TinySolverParam(const std::string& type, const std::string& extra,
                                       const std::string& snapshot_prefix);
// A solver over kTinySolverNet from `defaults` and then `extra` (both solver prototxt text;
// extra's fields replace the defaults'), writing snapshots to `snapshot_prefix`.
caffe::SolverParameter TinySolverParamFrom(const std::string& defaults, const std::string& extra,
                                           const std::string& snapshot_prefix);

// Deterministic inputs for the Input layer's blobs (kept across iterations: Input does not
// overwrite them).
void FillTinyInputs(Net* net);

// Every learnable parameter's values, in learnable order.
std::vector<std::vector<float>> ParamValues(Net* net);
std::vector<std::vector<float>> HistoryValues(const Solver& solver);

// Element-wise equality of the bits (memcmp) / closeness within `tolerance`.
void ExpectBitEqual(const std::vector<std::vector<float>>& a,
                    const std::vector<std::vector<float>>& b, const std::string& what);
void ExpectAllNear(const std::vector<std::vector<float>>& a,
                   const std::vector<std::vector<float>>& b, double tolerance);
// The largest element-wise difference (to show a reference is sensitive to a setting).
double MaxDifference(const std::vector<std::vector<float>>& a,
                     const std::vector<std::vector<float>>& b);

// One element of an update rule, written out in the test: `g` is the clipped, regularised
// gradient, `local_rate` = rate · lr_mult, `iter` the iteration being applied (0 first) and
// `h` the element's history values (`slots` of them, in the solver's history order). Returns
// the step, which is subtracted from the weight.
using ElementRule = std::function<double(double g, double local_rate, int iter, double* h)>;

// Trains a twin of `param`'s solver (built only for its identically initialised net) for
// `iters` iterations with the rule: gradients from the net, clip_gradients, L2 or L1 decay
// with weight_decay · mult.decay[i], rate from lr_policy times mult.lr[i]. Arithmetic in
// double. Returns the parameters afterwards.
std::vector<std::vector<float>> RunReference(const caffe::SolverParameter& param, int iters,
                                             int slots, const ElementRule& rule,
                                             const Multipliers& mult = Multipliers());

// Trains `param`'s solver (expecting its type() to be param.type()) for `iters` iterations
// on FillTinyInputs and expects its parameters to equal RunReference(param, iters, slots,
// rule) within `tolerance`; and, so the comparison can fail, that references ignoring
// lr_mult (differing by more than 1e-4) or decay_mult (by more than `decay_margin`) do not
// match. Returns the parameters.
std::vector<std::vector<float>> ExpectTrainingMatchesReference(
    const caffe::SolverParameter& param, int iters, int slots, const ElementRule& rule,
    double tolerance, double decay_margin = 1e-5);

// Trains `param` `total` iterations straight, and `first` iterations, Snapshot, a fresh
// solver, Restore, `total` − `first` more; expects the two runs' weights and histories to be
// equal bit for bit. Snapshots go under `dir`, in param's snapshot_format.
void ExpectResumeEqualsUninterrupted(caffe::SolverParameter param, const std::string& dir,
                                     int first, int total);

// Snapshots `solver` (stepped at least once) and checks the written state: iter, the model
// path, and `slots` × N history blobs in Caffe's order (slot k of parameter i at k·N + i),
// each of parameter i's shape and equal to solver.history().
void ExpectSnapshotHistoryLayout(Solver* solver, int slots);

// A solver type with its update rule callable directly on one parameter.
template <typename SolverType>
class Exposed : public SolverType {
 public:
  using SolverType::SolverType;
  using SolverType::ComputeUpdateValue;
  using SolverType::history_blob;
};

// Sets learnable parameter `param_id`'s gradient to `gradient`, runs the update rule at
// `rate` and returns the step it leaves in the diff.
template <typename SolverType>
std::vector<float> DirectStep(Exposed<SolverType>* solver, int param_id, float rate,
                              const std::vector<float>& gradient) {
  Blob* p = solver->net()->learnable_params()[param_id];
  EXPECT_EQ(static_cast<int>(gradient.size()), p->count());
  std::copy(gradient.begin(), gradient.end(), p->mutable_cpu_diff());
  solver->ComputeUpdateValue(param_id, rate);
  return std::vector<float>(p->cpu_diff(), p->cpu_diff() + p->count());
}

// History blob `k` of learnable parameter `param_id`, as values.
template <typename SolverType>
std::vector<float> HistoryOf(const Exposed<SolverType>& solver, int k, int param_id) {
  const Blob* h = solver.history_blob(k, param_id);
  return std::vector<float>(h->cpu_data(), h->cpu_data() + h->count());
}

// A gradient for the tiny net's 5×3 weight with positive, negative and zero entries.
std::vector<float> KnownWeightGradient();

}  // namespace crema::testing

#endif  // CREMA_TESTS_UTIL_SOLVER_HELPERS_H_
