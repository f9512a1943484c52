// Adam, Caffe's "Adam" solver (Kingma and Ba, 2014), with β1 = momentum, β2 = momentum2 and
// ε = delta:
//   m ← β1 · m + (1 − β1) · g
//   v ← β2 · v + (1 − β2) · g²
//   step = local_rate · √(1 − β2^t) / (1 − β1^t) · m / (√v + ε),   t = iter + 1
// element-wise, with g the clipped, normalised, regularised gradient (weight decay is added
// to g, not to the weights) and local_rate = rate · lr_mult. The bias correction is folded
// into the rate and ε is added to the uncorrected √v, exactly as Caffe computes it; t comes
// from the solver's iteration count, so a restored run continues the same sequence.
// History: 2N blobs for N learnable parameters, in Caffe's .solverstate order:
// history[i] = m and history[N + i] = v of parameter i.
//
// Parameters: momentum (β1; unset means 0, Caffe's examples set 0.9), momentum2 [0.999],
// delta [1e-8]. Nothing is refused, as in Caffe.
#ifndef CREMA_SOLVER_ADAM_SOLVER_H_
#define CREMA_SOLVER_ADAM_SOLVER_H_

#include "crema/solver/solver.h"

namespace crema {

class AdamSolver : public Solver {
 public:
  explicit AdamSolver(const caffe::SolverParameter& param);
  const char* type() const override { return "Adam"; }

 protected:
  void ComputeUpdateValue(int param_id, float rate) override;
  int HistoryBlobsPerParam() const override { return 2; }
};

}  // namespace crema

#endif  // CREMA_SOLVER_ADAM_SOLVER_H_
