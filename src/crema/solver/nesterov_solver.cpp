#include "crema/solver/nesterov_solver.h"

namespace crema {

NesterovSolver::NesterovSolver(const caffe::SolverParameter& param) : Solver(param) {
  InitHistory();
}

void NesterovSolver::ComputeUpdateValue(int param_id, float rate) {
  Blob* p = learnable_param(param_id);
  const float local_rate = LocalRate(param_id, rate);
  const float momentum = param_.momentum();
  const int count = p->count();
  float* v = history_blob(0, param_id)->mutable_cpu_data();
  float* g = p->mutable_cpu_diff();
  // One pass instead of Caffe's four vector calls: the old velocity lives in a register, so
  // no scratch blob is needed.
#pragma omp parallel for if (count >= kParallelMin) schedule(static)
  for (int i = 0; i < count; ++i) {
    const float v_old = v[i];
    v[i] = momentum * v[i] + local_rate * g[i];
    g[i] = (1.f + momentum) * v[i] - momentum * v_old;
  }
}

}  // namespace crema
