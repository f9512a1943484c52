// AdaGrad, Caffe's "AdaGrad" solver (Duchi et al., 2011):
//   h ← h + g²;   step = local_rate · g / (√h + delta)
// element-wise, with g the clipped, normalised, regularised gradient and local_rate =
// rate · lr_mult. Each weight's rate shrinks with the squared gradients it has seen. History:
// one blob (h, the sum of squared gradients) per learnable parameter.
//
// Parameters: delta [1e-8] (keeps the division finite). momentum must be unset or 0 (AdaGrad
// has none; Caffe refuses it too): anything else throws InvalidArgument from the constructor.
#ifndef CREMA_SOLVER_ADAGRAD_SOLVER_H_
#define CREMA_SOLVER_ADAGRAD_SOLVER_H_

#include "crema/solver/solver.h"

namespace crema {

class AdaGradSolver : public Solver {
 public:
  explicit AdaGradSolver(const caffe::SolverParameter& param);
  const char* type() const override { return "AdaGrad"; }

 protected:
  void ComputeUpdateValue(int param_id, float rate) override;
};

}  // namespace crema

#endif  // CREMA_SOLVER_ADAGRAD_SOLVER_H_
