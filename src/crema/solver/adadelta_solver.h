// AdaDelta, Caffe's "AdaDelta" solver (Zeiler, 2012), with Caffe's choice of parameters:
// `momentum` is the decay ρ, `delta` the ε, and the learning rate still scales the step:
//   h_g ← ρ · h_g + (1 − ρ) · g²
//   u   = g · √((h_u + δ) / (h_g + δ))
//   h_u ← ρ · h_u + (1 − ρ) · u²
//   step = local_rate · u
// element-wise, with g the clipped, normalised, regularised gradient and local_rate =
// rate · lr_mult (Caffe's example: base_lr 1.0, lr_policy "fixed", momentum 0.95, delta 1e-6).
// History: 2N blobs for N learnable parameters, in Caffe's .solverstate order:
// history[i] = h_g (running mean of squared gradients) and history[N + i] = h_u (running mean
// of squared updates) of parameter i.
//
// Parameters: momentum (unset means 0), delta [1e-8]. Nothing is refused, as in Caffe.
#ifndef CREMA_SOLVER_ADADELTA_SOLVER_H_
#define CREMA_SOLVER_ADADELTA_SOLVER_H_

#include "crema/solver/solver.h"

namespace crema {

class AdaDeltaSolver : public Solver {
 public:
  explicit AdaDeltaSolver(const caffe::SolverParameter& param);
  const char* type() const override { return "AdaDelta"; }

 protected:
  void ComputeUpdateValue(int param_id, float rate) override;
  int HistoryBlobsPerParam() const override { return 2; }
};

}  // namespace crema

#endif  // CREMA_SOLVER_ADADELTA_SOLVER_H_
