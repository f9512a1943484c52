#include "crema/solver/sgd_solver.h"

#include <cstring>

#include "crema/backend/cpu/blas.h"

namespace crema {

SgdSolver::SgdSolver(const caffe::SolverParameter& param) : Solver(param) { InitHistory(); }

void SgdSolver::ComputeUpdateValue(int param_id, float rate) {
  Blob* p = learnable_param(param_id);
  const int count = p->count();
  float* v = history_blob(0, param_id)->mutable_cpu_data();
  float* g = p->mutable_cpu_diff();
  cpu::Axpby(count, LocalRate(param_id, rate), g, param_.momentum(), v);
  std::memcpy(g, v, sizeof(float) * static_cast<size_t>(count));
}

}  // namespace crema
