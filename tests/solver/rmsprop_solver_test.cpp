#include "crema/solver/rmsprop_solver.h"

#include <gtest/gtest.h>

#include <cmath>

#include "solver_helpers.h"
#include "test_helpers.h"

namespace crema {
namespace {

using testing::Exposed;
using testing::TempDir;
using testing::TinySolverParam;

// h = d · h + (1 − d) · g²; step = local_rate · g / (√h + delta).
double RmsPropStep(double g, double local_rate, double decay, double delta, double* h) {
  *h = decay * *h + (1 - decay) * g * g;
  return local_rate * g / (std::sqrt(*h) + delta);
}

TEST(RmsPropSolverTest, OneStepOnAKnownGradientWithTheDefaultDecay) {
  TempDir dir;
  Exposed<RmsPropSolver> solver(TinySolverParam("RMSProp", "", dir.file("s")));
  const auto g = testing::KnownWeightGradient();
  const auto step = testing::DirectStep(&solver, 0, 0.01f, g);
  const auto h = testing::HistoryOf(solver, 0, 0);
  for (size_t j = 0; j < g.size(); ++j) {
    // By hand, rms_decay 0.99: h = 0.01 · g², √h = 0.1 · |g|, step = 0.01 · g / (0.1·|g|) = ±0.1.
    EXPECT_NEAR(h[j], 0.01 * g[j] * g[j], 1e-5 * 0.01 * g[j] * g[j] + 1e-12) << j;
    const double expected = g[j] == 0 ? 0.0 : 0.01 * g[j] / (0.1 * std::abs(g[j]) + 1e-8);
    EXPECT_NEAR(step[j], expected, 1e-6) << j;
  }
}

TEST(RmsPropSolverTest, SeveralStepsAndLrMult) {
  TempDir dir;
  Exposed<RmsPropSolver> solver(
      TinySolverParam("RMSProp", "rms_decay: 0.9 delta: 0.001", dir.file("s")));
  double h_weight = 0, h_bias = 0;
  for (int t = 0; t < 4; ++t) {
    const float g = t % 2 == 0 ? 0.5f : -0.25f;
    const auto w = testing::DirectStep(&solver, 0, 0.01f, std::vector<float>(15, g));
    const auto b = testing::DirectStep(&solver, 1, 0.01f, std::vector<float>(5, g));
    EXPECT_NEAR(w[2], RmsPropStep(g, 0.01, 0.9, 0.001, &h_weight), 1e-7) << "step " << t;
    EXPECT_NEAR(b[2], RmsPropStep(g, 0.02, 0.9, 0.001, &h_bias), 1e-7) << "step " << t;
  }
}

TEST(RmsPropSolverTest, TrainsAsTheRuleWrittenOut) {
  TempDir dir;
  const auto param = TinySolverParam("RMSProp", "base_lr: 0.01 rms_decay: 0.95", dir.file("s"));
  const testing::ElementRule rule = [](double g, double local_rate, int, double* h) {
    return RmsPropStep(g, local_rate, 0.95, 1e-8, &h[0]);
  };
  testing::ExpectTrainingMatchesReference(param, 5, 1, rule, 1e-6);
}

TEST(RmsPropSolverTest, SnapshotRestoreContinueIsBitExact) {
  TempDir dir;
  testing::ExpectResumeEqualsUninterrupted(TinySolverParam("RMSProp", "base_lr: 0.01", ""),
                                           dir.path(), 4, 6);
}

TEST(RmsPropSolverTest, SolverStateHoldsOneHistoryBlobPerParameter) {
  TempDir dir;
  auto solver = CreateSolver(TinySolverParam("RMSProp", "", dir.file("r")));
  testing::FillTinyInputs(solver->net());
  solver->Step(1);
  testing::ExpectSnapshotHistoryLayout(solver.get(), 1);
}

TEST(RmsPropSolverTest, MomentumAndDecayOutsideTheUnitIntervalAreRefused) {
  TempDir dir;
  testing::ExpectError(
      [&] { CreateSolver(TinySolverParam("RMSProp", "momentum: 0.5", dir.file("s"))); },
      ErrorCode::kInvalidArgument, {"momentum cannot be used with the RMSProp solver"});
  for (const char* decay : {"rms_decay: 1", "rms_decay: -0.1"}) {
    testing::ExpectError([&] { CreateSolver(TinySolverParam("RMSProp", decay, dir.file("s"))); },
                         ErrorCode::kInvalidArgument,
                         {"rms_decay must lie in [0, 1) for the RMSProp solver"});
  }
  // The edge that is allowed.
  EXPECT_NO_THROW(CreateSolver(TinySolverParam("RMSProp", "rms_decay: 0", dir.file("s"))));
}

}  // namespace
}  // namespace crema
