#include "crema/solver/adam_solver.h"

#include <cmath>

namespace crema {

AdamSolver::AdamSolver(const caffe::SolverParameter& param) : Solver(param) { InitHistory(); }

void AdamSolver::ComputeUpdateValue(int param_id, float rate) {
  Blob* p = learnable_param(param_id);
  const float beta1 = param_.momentum();
  const float beta2 = param_.momentum2();
  const float eps = param_.delta();
  const float keep1 = 1.f - beta1;
  const float keep2 = 1.f - beta2;
  // The correction is computed in double and rounded once, as Caffe's float solver does
  // (std::pow(float, int) is a double there).
  const int t = iter_ + 1;
  const auto correction = static_cast<float>(std::sqrt(1.0 - std::pow(double{beta2}, t)) /
                                             (1.0 - std::pow(double{beta1}, t)));
  const float step_rate = LocalRate(param_id, rate) * correction;
  const int count = p->count();
  float* m = history_blob(0, param_id)->mutable_cpu_data();
  float* v = history_blob(1, param_id)->mutable_cpu_data();
  float* g = p->mutable_cpu_diff();
#pragma omp parallel for if (count >= kParallelMin) schedule(static)
  for (int i = 0; i < count; ++i) {
    m[i] = keep1 * g[i] + beta1 * m[i];
    v[i] = keep2 * (g[i] * g[i]) + beta2 * v[i];
    g[i] = step_rate * (m[i] / (std::sqrt(v[i]) + eps));
  }
}

}  // namespace crema
