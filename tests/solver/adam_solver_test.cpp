#include "crema/solver/adam_solver.h"

#include <gtest/gtest.h>

#include <cmath>

#include "solver_helpers.h"
#include "test_helpers.h"

namespace crema {
namespace {

using testing::Exposed;
using testing::TempDir;
using testing::TinySolverParam;

// m = β1·m + (1−β1)·g; v = β2·v + (1−β2)·g²;
// step = local_rate · √(1−β2^t)/(1−β1^t) · m/(√v + ε), t = iter + 1. h[0] = m, h[1] = v.
double AdamStep(double g, double local_rate, int iter, double beta1, double beta2, double eps,
                double* h) {
  h[0] = beta1 * h[0] + (1 - beta1) * g;
  h[1] = beta2 * h[1] + (1 - beta2) * g * g;
  const int t = iter + 1;
  const double correction = std::sqrt(1 - std::pow(beta2, t)) / (1 - std::pow(beta1, t));
  return local_rate * correction * h[0] / (std::sqrt(h[1]) + eps);
}

TEST(AdamSolverTest, OneStepOnAKnownGradient) {
  TempDir dir;
  Exposed<AdamSolver> solver(TinySolverParam("Adam", "momentum: 0.9", dir.file("s")));
  const auto g = testing::KnownWeightGradient();
  const auto step = testing::DirectStep(&solver, 0, 0.001f, g);
  const auto m = testing::HistoryOf(solver, 0, 0);
  const auto v = testing::HistoryOf(solver, 1, 0);
  for (size_t j = 0; j < g.size(); ++j) {
    // By hand at t = 1: m = 0.1·g, v = 0.001·g², correction = √0.001 / 0.1, so
    // step = 0.001 · (√0.001/0.1) · 0.1·g / (√0.001·|g| + 1e-8) ≈ 0.001 · sign(g).
    EXPECT_NEAR(m[j], 0.1 * g[j], 1e-7) << j;
    // Relative: 1 − β2 is rounded to float (0.00099998713), as in Caffe.
    EXPECT_NEAR(v[j], 0.001 * g[j] * g[j], 2e-5 * 0.001 * g[j] * g[j] + 1e-12) << j;
    const double expected = 0.001 * (std::sqrt(0.001) / 0.1) * (0.1 * g[j]) /
                            (std::sqrt(0.001) * std::abs(g[j]) + 1e-8);
    EXPECT_NEAR(step[j], expected, 1e-9) << j;
  }
  EXPECT_NEAR(step[14], 0.001, 1e-8);
  EXPECT_EQ(step[7], 0.f);
}

TEST(AdamSolverTest, BiasCorrectionFollowsTheIterationCount) {
  TempDir dir;
  Exposed<AdamSolver> solver(
      TinySolverParam("Adam", "momentum: 0.8 momentum2: 0.99 delta: 0.01", dir.file("s")));
  double h_weight[2] = {0, 0}, h_bias[2] = {0, 0};
  // Iterations 0, 1, 2 and then a jump to 10: t = iter + 1 comes from the solver's iter.
  const int iters[] = {0, 1, 2, 10};
  for (int k = 0; k < 4; ++k) {
    solver.SetState(iters[k], 0);
    const float g = k % 2 == 0 ? 0.4f : -0.1f;
    const auto w = testing::DirectStep(&solver, 0, 0.01f, std::vector<float>(15, g));
    const auto b = testing::DirectStep(&solver, 1, 0.01f, std::vector<float>(5, g));
    EXPECT_NEAR(w[9], AdamStep(g, 0.01, iters[k], 0.8, 0.99, 0.01, h_weight), 1e-8) << k;
    EXPECT_NEAR(b[3], AdamStep(g, 0.02, iters[k], 0.8, 0.99, 0.01, h_bias), 1e-8) << k;
  }
}

TEST(AdamSolverTest, TrainsAsTheRuleWrittenOutWithCoupledDecayAndClipping) {
  TempDir dir;
  // Caffe's Adam adds weight decay to the gradient, like every other solver; clip_gradients
  // acts on the gradient before decay.
  const auto param = TinySolverParam(
      "Adam", "base_lr: 0.01 lr_policy: 'fixed' momentum: 0.9 clip_gradients: 0.5",
      dir.file("s"));
  const testing::ElementRule rule = [](double g, double local_rate, int iter, double* h) {
    return AdamStep(g, local_rate, iter, 0.9, 0.999, 1e-8, h);
  };
  const auto actual = testing::ExpectTrainingMatchesReference(param, 6, 2, rule, 1e-6);
  // Clipping took effect: without it the run differs.
  auto unclipped = param;
  unclipped.set_clip_gradients(-1);
  EXPECT_GT(testing::MaxDifference(actual, testing::RunReference(unclipped, 6, 2, rule)), 1e-5);
}

TEST(AdamSolverTest, SnapshotRestoreContinueIsBitExact) {
  TempDir dir;
  testing::ExpectResumeEqualsUninterrupted(
      TinySolverParam("Adam", "base_lr: 0.01 momentum: 0.9", ""), dir.path(), 2, 6);
}

TEST(AdamSolverTest, SolverStateHoldsFirstThenSecondMoments) {
  TempDir dir;
  Exposed<AdamSolver> solver(TinySolverParam("Adam", "momentum: 0.9", dir.file("m")));
  testing::FillTinyInputs(solver.net());
  solver.Step(1);
  testing::ExpectSnapshotHistoryLayout(&solver, 2);
  // history[i] is m, history[N + i] is v: after one step m = 0.1·g and v = 0.001·g², so
  // v = m² / 10 element by element.
  const auto m = testing::HistoryOf(solver, 0, 0);
  const auto v = testing::HistoryOf(solver, 1, 0);
  EXPECT_EQ(solver.history()[2].get(), solver.history_blob(1, 0));
  for (size_t j = 0; j < m.size(); ++j) {
    EXPECT_NEAR(v[j], m[j] * m[j] / 10, 2e-5 * v[j] + 1e-12) << j;
  }
}

TEST(AdamSolverTest, LegacySolverTypeEnumSelectsAdam) {
  TempDir dir;
  auto param = TinySolverParam("SGD", "momentum: 0.9", dir.file("s"));
  param.clear_type();
  param.set_solver_type(caffe::SolverParameter::ADAM);
  auto solver = CreateSolver(param);
  EXPECT_STREQ(solver->type(), "Adam");
  EXPECT_EQ(solver->history().size(), 4u);
}

}  // namespace
}  // namespace crema
