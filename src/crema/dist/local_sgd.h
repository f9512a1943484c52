// LocalSgd: "-sync local_sgd:K". Every rank steps on its own gradients; every K iterations
// (and before each test pass or snapshot, so those see one model) the weights are averaged
// over ranks. Momentum histories stay local.
//
// Helps when a full synchronisation is costly relative to a step (a slow network, a large
// model): K times fewer synchronisations. Costs: between averages the ranks train on
// diverging weights, which usually means somewhat lower accuracy for a given number of
// iterations, more so the larger K and the learning rate.
#ifndef CREMA_DIST_LOCAL_SGD_H_
#define CREMA_DIST_LOCAL_SGD_H_

#include "crema/dist/gradient_sync.h"

namespace crema {

class LocalSgd : public GradientSync {
 public:
  LocalSgd(const SyncOptions& options, Communicator* comm, Solver* solver)
      : GradientSync(options, comm, solver) {}

  void OnUpdateApplied() override;
  void OnSynchronizeModel() override;

 protected:
  void SynchronizeGradients() override {}

 private:
  int last_average_iter_ = 0;
};

}  // namespace crema

#endif  // CREMA_DIST_LOCAL_SGD_H_
