#include "crema/dist/local_sgd.h"

namespace crema {

void LocalSgd::OnUpdateApplied() {
  if (!comm_->distributed() || solver_->iter() % options_.local_steps != 0) return;
  AverageWeights("the periodic weight average");
  last_average_iter_ = solver_->iter();
}

void LocalSgd::OnSynchronizeModel() {
  GradientSync::OnSynchronizeModel();
  if (!comm_->distributed() || last_average_iter_ == solver_->iter()) return;
  AverageWeights("the weight average before a test or snapshot");
  last_average_iter_ = solver_->iter();
}

}  // namespace crema
