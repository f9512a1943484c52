#include "crema/solver/adadelta_solver.h"

#include <gtest/gtest.h>

#include <cmath>

#include "solver_helpers.h"
#include "test_helpers.h"

namespace crema {
namespace {

using testing::Exposed;
using testing::TempDir;
using testing::TinySolverParam;

// h_g = ρ·h_g + (1−ρ)·g²; u = g·√((h_u + δ)/(h_g + δ)); h_u = ρ·h_u + (1−ρ)·u²;
// step = local_rate · u. h[0] = h_g, h[1] = h_u.
double AdaDeltaStep(double g, double local_rate, double rho, double delta, double* h) {
  h[0] = rho * h[0] + (1 - rho) * g * g;
  const double u = g * std::sqrt((h[1] + delta) / (h[0] + delta));
  h[1] = rho * h[1] + (1 - rho) * u * u;
  return local_rate * u;
}

TEST(AdaDeltaSolverTest, OneStepOnAKnownGradient) {
  TempDir dir;
  Exposed<AdaDeltaSolver> solver(
      TinySolverParam("AdaDelta", "momentum: 0.95 delta: 1e-6", dir.file("s")));
  const auto g = testing::KnownWeightGradient();
  const auto step = testing::DirectStep(&solver, 0, 1.f, g);
  const auto grad_sq = testing::HistoryOf(solver, 0, 0);
  const auto update_sq = testing::HistoryOf(solver, 1, 0);
  for (size_t j = 0; j < g.size(); ++j) {
    // By hand: h_g = 0.05·g²; u = g·√(1e-6 / (0.05·g² + 1e-6)); h_u = 0.05·u²; lr 1.
    const double hg = 0.05 * g[j] * g[j];
    const double u = g[j] * std::sqrt(1e-6 / (hg + 1e-6));
    // Relative tolerances: 1 − ρ is rounded to float (0.050000012), as in Caffe.
    EXPECT_NEAR(grad_sq[j], hg, 1e-6 * hg + 1e-12) << j;
    EXPECT_NEAR(step[j], u, 1e-7) << j;
    EXPECT_NEAR(update_sq[j], 0.05 * u * u, 1e-6 * 0.05 * u * u + 1e-14) << j;
  }
  // The first step is about √(δ/(1−ρ)) in size whatever the gradient's scale.
  EXPECT_NEAR(step[14], std::sqrt(1e-6 / 0.05), 1e-5);
}

TEST(AdaDeltaSolverTest, SeveralStepsLearningRateAndLrMult) {
  TempDir dir;
  Exposed<AdaDeltaSolver> solver(
      TinySolverParam("AdaDelta", "momentum: 0.9 delta: 0.0001", dir.file("s")));
  double h_weight[2] = {0, 0}, h_bias[2] = {0, 0};
  for (int t = 0; t < 4; ++t) {
    const float g = 0.3f * static_cast<float>(t) - 0.4f;  // -0.4, -0.1, 0.2, 0.5
    // The learning rate scales Caffe's AdaDelta step (0.5 here, 1.0 for the lr_mult-2 bias).
    const auto w = testing::DirectStep(&solver, 0, 0.5f, std::vector<float>(15, g));
    const auto b = testing::DirectStep(&solver, 1, 0.5f, std::vector<float>(5, g));
    EXPECT_NEAR(w[4], AdaDeltaStep(g, 0.5, 0.9, 1e-4, h_weight), 1e-7) << "step " << t;
    EXPECT_NEAR(b[4], AdaDeltaStep(g, 1.0, 0.9, 1e-4, h_bias), 1e-7) << "step " << t;
  }
  EXPECT_NEAR(testing::HistoryOf(solver, 0, 0)[4], h_weight[0], 1e-8);
  EXPECT_NEAR(testing::HistoryOf(solver, 1, 0)[4], h_weight[1], 1e-8);
}

TEST(AdaDeltaSolverTest, TrainsAsTheRuleWrittenOut) {
  TempDir dir;
  const auto param = TinySolverParam(
      "AdaDelta", "base_lr: 1 lr_policy: 'fixed' momentum: 0.95 delta: 1e-6", dir.file("s"));
  const testing::ElementRule rule = [](double g, double local_rate, int, double* h) {
    return AdaDeltaStep(g, local_rate, 0.95, 1e-6, h);
  };
  testing::ExpectTrainingMatchesReference(param, 6, 2, rule, 1e-6);
}

TEST(AdaDeltaSolverTest, SnapshotRestoreContinueIsBitExact) {
  TempDir dir;
  testing::ExpectResumeEqualsUninterrupted(
      TinySolverParam("AdaDelta", "base_lr: 1 momentum: 0.95 delta: 1e-6", ""), dir.path(), 3,
      6);
}

TEST(AdaDeltaSolverTest, SolverStateHoldsGradientThenUpdateHistories) {
  TempDir dir;
  auto solver = CreateSolver(TinySolverParam("AdaDelta", "momentum: 0.95", dir.file("d")));
  testing::FillTinyInputs(solver->net());
  solver->Step(2);
  // 2N blobs: the squared-gradient means of both parameters, then the squared-update means.
  testing::ExpectSnapshotHistoryLayout(solver.get(), 2);
}

}  // namespace
}  // namespace crema
