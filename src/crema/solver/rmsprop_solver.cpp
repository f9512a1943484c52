#include "crema/solver/rmsprop_solver.h"

#include <cmath>

#include "crema/core/error.h"

namespace crema {

namespace {

// Checked before the base class builds any net, so a bad setting fails fast.
const caffe::SolverParameter& Checked(const caffe::SolverParameter& param) {
  CREMA_REQUIRE(param.momentum() == 0.f, "momentum cannot be used with the RMSProp solver (got ",
                param.momentum(), "); remove momentum from the solver");
  CREMA_REQUIRE(param.rms_decay() >= 0.f && param.rms_decay() < 1.f,
                "rms_decay must lie in [0, 1) for the RMSProp solver, got ", param.rms_decay());
  return param;
}

}  // namespace

RmsPropSolver::RmsPropSolver(const caffe::SolverParameter& param) : Solver(Checked(param)) {
  InitHistory();
}

void RmsPropSolver::ComputeUpdateValue(int param_id, float rate) {
  Blob* p = learnable_param(param_id);
  const float local_rate = LocalRate(param_id, rate);
  const float delta = param_.delta();
  const float decay = param_.rms_decay();
  const float keep = 1.f - decay;
  const int count = p->count();
  float* h = history_blob(0, param_id)->mutable_cpu_data();
  float* g = p->mutable_cpu_diff();
#pragma omp parallel for if (count >= kParallelMin) schedule(static)
  for (int i = 0; i < count; ++i) {
    h[i] = keep * (g[i] * g[i]) + decay * h[i];
    g[i] = local_rate * (g[i] / (std::sqrt(h[i]) + delta));
  }
}

}  // namespace crema
