#include "crema/solver/nesterov_solver.h"

#include <gtest/gtest.h>

#include "solver_helpers.h"
#include "test_helpers.h"

namespace crema {
namespace {

using testing::Exposed;
using testing::TempDir;
using testing::TinySolverParam;

// step = (1 + m) · v_new − m · v_old, v_new = m · v_old + local_rate · g.
double NesterovStep(double g, double local_rate, double momentum, double* v) {
  const double v_old = *v;
  *v = momentum * v_old + local_rate * g;
  return (1 + momentum) * *v - momentum * v_old;
}

TEST(NesterovSolverTest, OneStepOnAKnownGradient) {
  TempDir dir;
  Exposed<NesterovSolver> solver(TinySolverParam("Nesterov", "momentum: 0.9", dir.file("s")));
  // A velocity already under way: v = 0.2 everywhere.
  Blob* v = solver.history_blob(0, 0);
  for (int j = 0; j < v->count(); ++j) v->mutable_cpu_data()[j] = 0.2f;
  const auto g = testing::KnownWeightGradient();
  const auto step = testing::DirectStep(&solver, 0, 0.1f, g);
  const auto velocity = testing::HistoryOf(solver, 0, 0);
  for (size_t j = 0; j < g.size(); ++j) {
    // By hand: v = 0.9·0.2 + 0.1·g = 0.18 + 0.1·g; step = 1.9·v − 0.9·0.2.
    const double v_new = 0.18 + 0.1 * g[j];
    EXPECT_NEAR(velocity[j], v_new, 1e-6) << j;
    EXPECT_NEAR(step[j], 1.9 * v_new - 0.18, 1e-6) << j;
  }
  // The zero gradient still moves: the look-ahead keeps the momentum going.
  EXPECT_NEAR(step[7], 1.9 * 0.18 - 0.18, 1e-6);
}

TEST(NesterovSolverTest, SeveralStepsAndLrMult) {
  TempDir dir;
  Exposed<NesterovSolver> solver(TinySolverParam("Nesterov", "momentum: 0.9", dir.file("s")));
  double v_weight = 0, v_bias = 0;
  const std::vector<float> rates = {0.1f, 0.05f, 0.2f};
  for (size_t t = 0; t < rates.size(); ++t) {
    const float g = 0.5f - static_cast<float>(t);  // 0.5, -0.5, -1.5
    const auto w = testing::DirectStep(&solver, 0, rates[t], std::vector<float>(15, g));
    // The bias has lr_mult 2: its local rate is twice the rate.
    const auto b = testing::DirectStep(&solver, 1, rates[t], std::vector<float>(5, g));
    const double expected_w = NesterovStep(g, rates[t], 0.9, &v_weight);
    const double expected_b = NesterovStep(g, 2.0 * rates[t], 0.9, &v_bias);
    EXPECT_NEAR(w[3], expected_w, 1e-6) << "step " << t;
    EXPECT_NEAR(b[3], expected_b, 1e-6) << "step " << t;
  }
}

TEST(NesterovSolverTest, TrainsAsTheRuleWrittenOut) {
  TempDir dir;
  const auto param = TinySolverParam("Nesterov", "momentum: 0.9", dir.file("s"));
  const testing::ElementRule rule = [](double g, double local_rate, int, double* h) {
    return NesterovStep(g, local_rate, 0.9, &h[0]);
  };
  testing::ExpectTrainingMatchesReference(param, 5, 1, rule, 2e-6, 1e-4);
}

TEST(NesterovSolverTest, SnapshotRestoreContinueIsBitExact) {
  TempDir dir;
  testing::ExpectResumeEqualsUninterrupted(
      TinySolverParam("Nesterov", "momentum: 0.9 lr_policy: 'multistep' gamma: 0.5 "
                                  "stepvalue: 2 stepvalue: 4",
                      ""),
      dir.path(), 3, 6);
}

TEST(NesterovSolverTest, SolverStateHoldsOneHistoryBlobPerParameter) {
  TempDir dir;
  auto solver = CreateSolver(TinySolverParam("Nesterov", "momentum: 0.9", dir.file("n")));
  testing::FillTinyInputs(solver->net());
  solver->Step(2);
  testing::ExpectSnapshotHistoryLayout(solver.get(), 1);
}

}  // namespace
}  // namespace crema
