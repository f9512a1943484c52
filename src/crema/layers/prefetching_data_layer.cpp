#include "crema/layers/prefetching_data_layer.h"

#include <algorithm>

namespace crema {

PrefetchingDataLayer::~PrefetchingDataLayer() { StopPrefetching(); }

void PrefetchingDataLayer::StopPrefetching() { prefetcher_.reset(); }

int PrefetchingDataLayer::num_workers() const {
  return static_cast<int>(std::max<uint32_t>(1, layer_param_.crema_data_param().threads()));
}

void PrefetchingDataLayer::StartPrefetching(int batch_size, int default_depth) {
  batch_size_ = batch_size;
  const uint32_t queue_depth = layer_param_.crema_data_param().queue_depth();
  const int depth = queue_depth > 0 ? static_cast<int>(queue_depth) : default_depth;
  if (depth < 1) Fail("needs at least one batch of prefetch (queue_depth or prefetch), got 0");
  prefetcher_ = std::make_unique<BatchPrefetcher>(
      depth, num_workers(),
      BatchPrefetcher::Stages{
          [this](int64_t index, Batch* batch) { ReadBatch(index, batch); },
          [this](int64_t index, Batch* batch, int worker) { FillBatch(index, batch, worker); }});
  prefetcher_->SetNextIndex(skipped_batches_);
}

void PrefetchingDataLayer::SkipBatches(int64_t n) {
  if (n < 0) Fail("cannot skip a negative number of batches (", n, ")");
  if (prefetcher_ == nullptr) Fail("SkipBatches needs SetUp to have run");
  if (prefetcher_->started()) Fail("SkipBatches must be called before the first Forward");
  if (n > INT64_MAX / batch_size_) Fail("cannot skip ", n, " batches of ", batch_size_);
  SkipItems(n * batch_size_);
  skipped_batches_ += n;
  prefetcher_->SetNextIndex(skipped_batches_);
}

double PrefetchingDataLayer::last_data_wait_seconds() const {
  return prefetcher_ != nullptr ? prefetcher_->last_pop_wait_seconds() : 0.0;
}

void PrefetchingDataLayer::ForwardCpu(const BlobVec& /*bottom*/, const BlobVec& top) {
  Batch* batch = prefetcher_->Pop();  // starts the workers; rethrows a stage's error
  if (batch == nullptr) Fail("the prefetch threads were stopped");
  top[0]->ReshapeLike(batch->data);
  std::copy_n(batch->data.cpu_data(), batch->data.count(), top[0]->mutable_cpu_data());
  if (output_labels_) {
    top[1]->ReshapeLike(batch->label);
    std::copy_n(batch->label.cpu_data(), batch->label.count(), top[1]->mutable_cpu_data());
  }
  if (keep_batch_ids_) {
    batch_ids_.resize(batch->items.size());
    for (size_t i = 0; i < batch->items.size(); ++i) batch_ids_[i].assign(batch->items[i].key);
  }
  prefetcher_->Release(batch);
}

}  // namespace crema
