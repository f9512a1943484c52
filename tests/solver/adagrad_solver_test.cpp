#include "crema/solver/adagrad_solver.h"

#include <gtest/gtest.h>

#include <cmath>

#include "solver_helpers.h"
#include "test_helpers.h"

namespace crema {
namespace {

using testing::Exposed;
using testing::TempDir;
using testing::TinySolverParam;

// h += g²; step = local_rate · g / (√h + delta).
double AdaGradStep(double g, double local_rate, double delta, double* h) {
  *h += g * g;
  return local_rate * g / (std::sqrt(*h) + delta);
}

TEST(AdaGradSolverTest, OneStepOnAKnownGradient) {
  TempDir dir;
  Exposed<AdaGradSolver> solver(TinySolverParam("AdaGrad", "", dir.file("s")));
  const auto g = testing::KnownWeightGradient();
  const auto step = testing::DirectStep(&solver, 0, 0.1f, g);
  const auto h = testing::HistoryOf(solver, 0, 0);
  for (size_t j = 0; j < g.size(); ++j) {
    // By hand: h = g², so step = 0.1 · g / (|g| + 1e-8) = ±0.1 (0 where g is 0).
    EXPECT_FLOAT_EQ(h[j], g[j] * g[j]) << j;
    const double expected = g[j] == 0 ? 0.0 : 0.1 * g[j] / (std::abs(g[j]) + 1e-8);
    EXPECT_NEAR(step[j], expected, 1e-7) << j;
  }
  EXPECT_EQ(step[7], 0.f);
}

TEST(AdaGradSolverTest, SeveralStepsDeltaAndLrMult) {
  TempDir dir;
  // A large delta shows where it enters: added to √h, not to h.
  Exposed<AdaGradSolver> solver(TinySolverParam("AdaGrad", "delta: 0.5", dir.file("s")));
  double h_weight = 0, h_bias = 0;
  for (int t = 0; t < 3; ++t) {
    const float g = 0.75f - 0.5f * static_cast<float>(t);  // 0.75, 0.25, -0.25
    const auto w = testing::DirectStep(&solver, 0, 0.1f, std::vector<float>(15, g));
    const auto b = testing::DirectStep(&solver, 1, 0.1f, std::vector<float>(5, g));
    EXPECT_NEAR(w[0], AdaGradStep(g, 0.1, 0.5, &h_weight), 1e-7) << "step " << t;
    EXPECT_NEAR(b[0], AdaGradStep(g, 0.2, 0.5, &h_bias), 1e-7) << "step " << t;  // lr_mult 2
  }
  // h is the sum of the squares: 0.5625 + 0.0625 + 0.0625.
  EXPECT_NEAR(testing::HistoryOf(solver, 0, 0)[0], 0.6875, 1e-7);
}

TEST(AdaGradSolverTest, TrainsAsTheRuleWrittenOut) {
  TempDir dir;
  const auto param = TinySolverParam("AdaGrad", "", dir.file("s"));
  const testing::ElementRule rule = [](double g, double local_rate, int, double* h) {
    return AdaGradStep(g, local_rate, 1e-8, &h[0]);
  };
  testing::ExpectTrainingMatchesReference(param, 5, 1, rule, 2e-6);
}

TEST(AdaGradSolverTest, SnapshotRestoreContinueIsBitExact) {
  TempDir dir;
  testing::ExpectResumeEqualsUninterrupted(TinySolverParam("AdaGrad", "", ""), dir.path(), 2, 5);
}

TEST(AdaGradSolverTest, SolverStateHoldsOneHistoryBlobPerParameter) {
  TempDir dir;
  auto solver = CreateSolver(TinySolverParam("AdaGrad", "", dir.file("a")));
  testing::FillTinyInputs(solver->net());
  solver->Step(2);
  testing::ExpectSnapshotHistoryLayout(solver.get(), 1);
}

TEST(AdaGradSolverTest, MomentumIsRefused) {
  TempDir dir;
  testing::ExpectError(
      [&] { CreateSolver(TinySolverParam("AdaGrad", "momentum: 0.9", dir.file("s"))); },
      ErrorCode::kInvalidArgument,
      {"momentum cannot be used with the AdaGrad solver (got 0.9)"});
}

}  // namespace
}  // namespace crema
