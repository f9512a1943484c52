// AsyncSgd: "-sync async". A step never waits for communication: the gradients of iteration i
// are averaged over ranks by a non-blocking allreduce while iteration i+1 computes, and applied
// at iteration i+1. Every rank applies the same averaged gradients, so the ranks stay
// identical; the update is one step stale (iteration 0 applies no gradient).
//
// Helps when communication takes about as long as a step and cannot overlap within it (small
// buckets on a slow network): it hides a full step of communication. Costs: stale gradients
// behave like extra momentum — with a high momentum or learning rate, training can be less
// stable, and the final accuracy for a given number of iterations slightly lower.
#ifndef CREMA_DIST_ASYNC_SGD_H_
#define CREMA_DIST_ASYNC_SGD_H_

#include <vector>

#include "crema/dist/gradient_sync.h"

namespace crema {

class AsyncSgd : public GradientSync {
 public:
  AsyncSgd(const SyncOptions& options, Communicator* comm, Solver* solver);

 protected:
  void OnLayerBackward(int layer_id) override;
  void SynchronizeGradients() override;
  void Finish() override;

 private:
  std::vector<Blob*> params_;
  std::vector<float> in_flight_;  // gradients of the last iteration, being averaged
  std::vector<float> staged_;     // this iteration's gradients, scaled
  Communicator::Request request_;
  bool have_in_flight_ = false;
};

}  // namespace crema

#endif  // CREMA_DIST_ASYNC_SGD_H_
