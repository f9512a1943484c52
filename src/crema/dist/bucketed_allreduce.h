// BucketedAllreduce: synchronous data parallelism ("-sync bsp"), gradients averaged every
// iteration with communication overlapped with backward.
//
// The parameters that learn (lr_mult != 0) are grouped, in the order backward completes them
// (last layers first), into buckets of about bucket_mb MB, the first one smaller
// (first_bucket_mb) so communication starts early. Their gradients live in one flat arena,
// bucket after bucket (Blob::SetDiffMemory), and the net's loss is scaled by 1/world_size
// (Net::SetLossScale), so backward writes each rank's share of the average straight into the
// buffers MPI sums: no copy and no scaling pass. When backward has finished every parameter of
// a bucket, a non-blocking in-place allreduce of it starts; buckets start strictly in index
// order, identical on every rank. Each later layer's backward gives MPI a chance to progress.
// Before the update, the remaining buckets are started and all are waited for. Frozen
// parameters (lr_mult: 0) are never sent.
// With iter_size > 1 the gradients of all passes are summed locally and averaged once, after
// the last pass (no overlap).
#ifndef CREMA_DIST_BUCKETED_ALLREDUCE_H_
#define CREMA_DIST_BUCKETED_ALLREDUCE_H_

#include <vector>

#include "crema/dist/gradient_sync.h"

namespace crema {

class BucketedAllreduce : public GradientSync {
 public:
  BucketedAllreduce(const SyncOptions& options, Communicator* comm, Solver* solver);

  // The bucket layout, for tests and logs: number of parameters in each bucket.
  std::vector<int> bucket_sizes() const;

  // Starts and completes every bucket's allreduce, without a training step: what the
  // synchronisation-cost benchmark measures against a bare allreduce of arena().
  void SynchronizeAllBuckets() { SynchronizeGradients(); }
  float* arena() { return arena_.data(); }
  int64_t arena_size() const { return static_cast<int64_t>(arena_.size()); }

  void OnStart() override;

 protected:
  void OnLayerBackward(int layer_id) override;
  void SynchronizeGradients() override;

 private:
  struct Bucket {
    std::vector<Blob*> params;
    int64_t offset = 0;  // first float of the bucket in the arena
    int64_t count = 0;   // floats
    int pending = 0;     // params whose gradient is not complete yet
    Communicator::Request request;
  };



  void StartReadyBuckets();

  std::vector<float> arena_;  // every trained parameter's gradient, bucket after bucket
  std::vector<Bucket> buckets_;
  // For each layer, the buckets that get a complete parameter when its backward ends.
  std::vector<std::vector<int>> buckets_completed_by_layer_;
  int next_to_start_ = 0;
  bool overlap_ = true;
};

}  // namespace crema

#endif  // CREMA_DIST_BUCKETED_ALLREDUCE_H_
