#include "crema/layers/dropout_layer.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "crema/core/rank.h"
#include "crema/core/rng.h"

namespace crema {

namespace {
constexpr int kParallelMin = 1 << 15;
}  // namespace

void DropoutLayer::LayerSetUp(const BlobVec& /*bottom*/, const BlobVec& /*top*/) {
  ratio_ = layer_param_.dropout_param().dropout_ratio();
  if (!(ratio_ >= 0.f && ratio_ < 1.f)) {
    Fail("dropout_ratio must be in [0, 1), got ", ratio_);
  }
  scale_ = 1.f / (1.f - ratio_);
  threshold_ =
      static_cast<uint32_t>(std::min(4294967295.0, std::ceil(ratio_ * 4294967296.0)));
}

void DropoutLayer::Reshape(const BlobVec& bottom, const BlobVec& top) {
  NeuronLayer::Reshape(bottom, top);
  // Grows only: a smaller batch followed by the original one does not reallocate.
  if (mask_.size() < static_cast<size_t>(bottom[0]->count())) mask_.resize(bottom[0]->count());
}

void DropoutLayer::ForwardCpu(const BlobVec& bottom, const BlobVec& top) {
  const int count = bottom[0]->count();
  const float* x = bottom[0]->cpu_data();
  float* y = top[0]->mutable_cpu_data();
  if (phase_ != caffe::TRAIN) {
    if (x != y) std::memcpy(y, x, sizeof(float) * count);
    return;
  }
  // Keep element i when the high 32 bits of SplitMix64(key + i) are at or above p·2^32:
  // P(keep) = 1 − p to within 2^-32, and each element independent of the others, so the
  // loop runs on any number of threads.
  unsigned* mask = mask_.data();
  const uint64_t key = RandomKey(ThreadRng()(), static_cast<uint64_t>(GetRankInfo().rank));
  const uint32_t threshold = threshold_;
  const float scale = scale_;
#pragma omp parallel for if (count >= kParallelMin) schedule(static)
  for (int i = 0; i < count; ++i) {
    mask[i] = static_cast<uint32_t>(SplitMix64(key + static_cast<uint64_t>(i)) >> 32) >= threshold;
    y[i] = mask[i] ? x[i] * scale : 0.f;
  }
}

void DropoutLayer::SkipBatches(int64_t batches) {
  // One draw per TRAIN Forward (and none elsewhere in training) keeps the thread's stream
  // where the interrupted run left it.
  ThreadRng().discard(static_cast<unsigned long long>(batches));
}

void DropoutLayer::BackwardCpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                               const BlobVec& bottom) {
  if (!propagate_down[0]) return;
  const int count = bottom[0]->count();
  const float* dy = top[0]->cpu_diff();
  float* dx = bottom[0]->mutable_cpu_diff();
  if (phase_ != caffe::TRAIN) {
    if (dx != dy) std::memcpy(dx, dy, sizeof(float) * count);
    return;
  }
  const unsigned* mask = mask_.data();
  const float scale = scale_;
#pragma omp parallel for if (count >= kParallelMin) schedule(static)
  for (int i = 0; i < count; ++i) dx[i] = mask[i] ? dy[i] * scale : 0.f;
}

}  // namespace crema
