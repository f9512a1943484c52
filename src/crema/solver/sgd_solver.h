// Stochastic gradient descent with momentum, Caffe's "SGD" solver:
//   v ← momentum · v + local_rate · g;   step = v
// where local_rate = rate · lr_mult. The learning rate sits inside the momentum buffer, so a
// rate change affects only new contributions. History: one blob (v) per learnable parameter.
#ifndef CREMA_SOLVER_SGD_SOLVER_H_
#define CREMA_SOLVER_SGD_SOLVER_H_

#include "crema/solver/solver.h"

namespace crema {

class SgdSolver : public Solver {
 public:
  explicit SgdSolver(const caffe::SolverParameter& param);
  const char* type() const override { return "SGD"; }

 protected:
  void ComputeUpdateValue(int param_id, float rate) override;
};

}  // namespace crema

#endif  // CREMA_SOLVER_SGD_SOLVER_H_
