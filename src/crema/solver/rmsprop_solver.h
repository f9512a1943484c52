// RMSProp, Caffe's "RMSProp" solver (Tieleman and Hinton, 2012):
//   h ← rms_decay · h + (1 − rms_decay) · g²;   step = local_rate · g / (√h + delta)
// element-wise, with g the clipped, normalised, regularised gradient and local_rate =
// rate · lr_mult. Like AdaGrad, but old squared gradients fade instead of adding up forever.
// History: one blob (h, the running mean of squared gradients) per learnable parameter.
//
// Parameters: rms_decay [0.99], which must lie in [0, 1); delta [1e-8]. momentum must be
// unset or 0. Caffe refuses the same settings; here they throw InvalidArgument from the
// constructor.
#ifndef CREMA_SOLVER_RMSPROP_SOLVER_H_
#define CREMA_SOLVER_RMSPROP_SOLVER_H_

#include "crema/solver/solver.h"

namespace crema {

class RmsPropSolver : public Solver {
 public:
  explicit RmsPropSolver(const caffe::SolverParameter& param);
  const char* type() const override { return "RMSProp"; }

 protected:
  void ComputeUpdateValue(int param_id, float rate) override;
};

}  // namespace crema

#endif  // CREMA_SOLVER_RMSPROP_SOLVER_H_
