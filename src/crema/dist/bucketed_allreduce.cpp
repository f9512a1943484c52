#include "crema/dist/bucketed_allreduce.h"

#include <glog/logging.h>

#include <algorithm>
#include <cstring>
#include <map>

namespace crema {

BucketedAllreduce::BucketedAllreduce(const SyncOptions& options, Communicator* comm,
                                     Solver* solver)
    : GradientSync(options, comm, solver) {
  overlap_ = solver->param().iter_size() == 1;
  // The layer after whose backward each learnable parameter is complete: the first layer
  // (in forward order) that uses it, since backward runs last to first.
  const auto& learnable = net_->learnable_params();
  std::vector<int> completing_layer(learnable.size(), INT32_MAX);
  for (size_t i = 0; i < net_->params().size(); ++i) {
    const int id = net_->learnable_param_ids()[i];
    completing_layer[static_cast<size_t>(id)] =
        std::min(completing_layer[static_cast<size_t>(id)], net_->param_layer_indices()[i].first);
  }
  std::vector<int> order;
  for (size_t i = 0; i < learnable.size(); ++i) {
    if (net_->params_lr()[i] != 0.f) order.push_back(static_cast<int>(i));
  }
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
    return completing_layer[static_cast<size_t>(a)] > completing_layer[static_cast<size_t>(b)];
  });

  const auto bytes_of = [](double mb) { return static_cast<int64_t>(mb * (1 << 20)); };
  buckets_completed_by_layer_.resize(net_->layers().size());
  int64_t total = 0;
  for (int id : order) {
    Blob* p = learnable[static_cast<size_t>(id)];
    const int64_t bytes = int64_t{p->count()} * static_cast<int64_t>(sizeof(float));
    // The bucket being filled is the first one while there is at most one.
    const int64_t cap = bytes_of(buckets_.size() <= 1 ? options.first_bucket_mb : options.bucket_mb);
    if (buckets_.empty() ||
        (buckets_.back().count > 0 && (buckets_.back().count * 4 + bytes > cap ||
                                       buckets_.back().count + p->count() > INT32_MAX))) {
      buckets_.emplace_back();
      buckets_.back().offset = total;
    }
    Bucket& bucket = buckets_.back();
    bucket.params.push_back(p);
    bucket.count += p->count();
    total += p->count();
    const int layer = completing_layer[static_cast<size_t>(id)];
    buckets_completed_by_layer_[static_cast<size_t>(layer)].push_back(
        static_cast<int>(buckets_.size()) - 1);
  }
  if (comm->distributed()) {
    // Gradients move into the arena; shared parameters follow their owners.
    arena_.assign(static_cast<size_t>(total), 0.f);
    int64_t offset = 0;
    for (const Bucket& bucket : buckets_) {
      for (Blob* p : bucket.params) {
        p->SetDiffMemory(std::make_shared<SyncedMemory>(
            arena_.data() + offset, sizeof(float) * static_cast<size_t>(p->count())));
        offset += p->count();
      }
    }
    for (size_t i = 0; i < net_->params().size(); ++i) {
      const int owner = net_->param_owners()[i];
      if (owner >= 0) net_->params()[i]->ShareDiff(*net_->params()[static_cast<size_t>(owner)]);
    }
    net_->SetLossScale(1.f / static_cast<float>(comm->world_size()));
  }
  LOG_IF(INFO, comm->rank() == 0 && comm->distributed())
      << "Gradient synchronisation: " << buckets_.size() << " bucket(s) over "
      << comm->world_size() << " ranks" << (overlap_ ? ", overlapped with backward" : "");
}

std::vector<int> BucketedAllreduce::bucket_sizes() const {
  std::vector<int> sizes;
  for (const Bucket& bucket : buckets_) sizes.push_back(static_cast<int>(bucket.params.size()));
  return sizes;
}

void BucketedAllreduce::OnStart() {
  GradientSync::OnStart();
  for (Bucket& bucket : buckets_) bucket.pending = static_cast<int>(bucket.params.size());
  next_to_start_ = 0;
}

void BucketedAllreduce::StartReadyBuckets() {
  while (next_to_start_ < static_cast<int>(buckets_.size()) &&
         buckets_[static_cast<size_t>(next_to_start_)].pending == 0) {
    Bucket& bucket = buckets_[static_cast<size_t>(next_to_start_)];
    comm_->StartAllreduceSum(arena_.data() + bucket.offset, static_cast<int>(bucket.count),
                             "the gradient allreduce of bucket", next_to_start_, &bucket.request);
    ++next_to_start_;
  }
}

void BucketedAllreduce::OnLayerBackward(int layer_id) {
  if (!overlap_ || !comm_->distributed()) return;
  for (int b : buckets_completed_by_layer_[static_cast<size_t>(layer_id)]) {
    --buckets_[static_cast<size_t>(b)].pending;
  }
  StartReadyBuckets();
  // Give MPI a chance to progress the buckets in flight.
  for (int b = 0; b < next_to_start_; ++b) comm_->Test(&buckets_[static_cast<size_t>(b)].request);
}

void BucketedAllreduce::SynchronizeGradients() {
  if (!comm_->distributed()) return;
  for (Bucket& bucket : buckets_) bucket.pending = 0;
  StartReadyBuckets();
  for (Bucket& bucket : buckets_) comm_->Wait(&bucket.request);
}

}  // namespace crema
