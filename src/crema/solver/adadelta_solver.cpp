#include "crema/solver/adadelta_solver.h"

#include <cmath>

namespace crema {

AdaDeltaSolver::AdaDeltaSolver(const caffe::SolverParameter& param) : Solver(param) {
  InitHistory();
}

void AdaDeltaSolver::ComputeUpdateValue(int param_id, float rate) {
  Blob* p = learnable_param(param_id);
  const float local_rate = LocalRate(param_id, rate);
  const float delta = param_.delta();
  const float rho = param_.momentum();
  const float keep = 1.f - rho;
  const int count = p->count();
  float* grad_sq = history_blob(0, param_id)->mutable_cpu_data();
  float* update_sq = history_blob(1, param_id)->mutable_cpu_data();
  float* g = p->mutable_cpu_diff();
  // δ is added to both running means before the ratio: it keeps the ratio finite where the
  // gradient has always been 0, and lets the first step (h_u still 0) move at all.
#pragma omp parallel for if (count >= kParallelMin) schedule(static)
  for (int i = 0; i < count; ++i) {
    grad_sq[i] = keep * (g[i] * g[i]) + rho * grad_sq[i];
    const float u = g[i] * std::sqrt((update_sq[i] + delta) / (grad_sq[i] + delta));
    update_sq[i] = keep * (u * u) + rho * update_sq[i];
    g[i] = local_rate * u;
  }
}

}  // namespace crema
