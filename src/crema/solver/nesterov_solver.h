// Nesterov's accelerated gradient, Caffe's "Nesterov" solver:
//   v_old = v;   v ← momentum · v + local_rate · g;   step = (1 + momentum) · v − momentum · v_old
// with g the clipped, normalised, regularised gradient and local_rate = rate · lr_mult. The
// step looks ahead along the momentum: it is the new velocity plus momentum times the change
// of velocity. History: one blob (v) per learnable parameter, as SGD keeps, so the
// .solverstate files of the two have the same layout.
//
// Parameters: momentum (no default in the schema: unset means 0).
#ifndef CREMA_SOLVER_NESTEROV_SOLVER_H_
#define CREMA_SOLVER_NESTEROV_SOLVER_H_

#include "crema/solver/solver.h"

namespace crema {

class NesterovSolver : public Solver {
 public:
  explicit NesterovSolver(const caffe::SolverParameter& param);
  const char* type() const override { return "Nesterov"; }

 protected:
  void ComputeUpdateValue(int param_id, float rate) override;
};

}  // namespace crema

#endif  // CREMA_SOLVER_NESTEROV_SOLVER_H_
