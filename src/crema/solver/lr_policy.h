// Learning-rate policies, as Caffe defines them (iter = number of completed updates):
//
//   fixed      base_lr
//   step       base_lr · gamma^floor(iter / stepsize)
//   exp        base_lr · gamma^iter
//   inv        base_lr · (1 + gamma · iter)^(−power)
//   multistep  base_lr · gamma^current_step; current_step advances by one when
//              iter ≥ stepvalue[current_step] (stateful, saved in the .solverstate)
//   poly       base_lr · (1 − iter / max_iter)^power
//   sigmoid    base_lr / (1 + exp(−gamma · (iter − stepsize)))
#ifndef CREMA_SOLVER_LR_POLICY_H_
#define CREMA_SOLVER_LR_POLICY_H_

#include "crema/proto/caffe.pb.h"

namespace crema {

// Throws InvalidArgument when lr_policy is unknown or lacks a value it needs (stepsize > 0
// for step, stepvalue for multistep, max_iter > 0 for poly).
void ValidateLearningRatePolicy(const caffe::SolverParameter& param);

// The rate for iteration `iter`. `current_step` is the multistep/step state: read and advanced
// for multistep, set for step. REQUIRES: ValidateLearningRatePolicy(param) passed.
float LearningRate(const caffe::SolverParameter& param, int iter, int* current_step);

}  // namespace crema

#endif  // CREMA_SOLVER_LR_POLICY_H_
