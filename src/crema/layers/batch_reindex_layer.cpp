#include "crema/layers/batch_reindex_layer.h"

#include <algorithm>
#include <cstring>

namespace crema {

namespace {
// Below this many elements a parallel region costs more than it saves.
constexpr int kParallelMin = 1 << 14;
}  // namespace

void BatchReindexLayer::Reshape(const BlobVec& bottom, const BlobVec& top) {
  if (top[0] == bottom[0] || top[0] == bottom[1]) Fail("cannot run in place");
  const Blob& x = *bottom[0];
  const Blob& idx = *bottom[1];
  if (idx.num_axes() != 1) {
    Fail("the indices (bottom 1) must be 1-D, got shape ", idx.shape_string());
  }
  if (x.num_axes() == 0) Fail("bottom 0 must have a first axis to index, got a scalar");
  top_shape_ = x.shape();
  top_shape_[0] = idx.shape(0);
  inner_ = x.count(1);
  top[0]->Reshape(top_shape_);
}

void BatchReindexLayer::ForwardCpu(const BlobVec& bottom, const BlobVec& top) {
  const int items = bottom[0]->shape(0);
  const int picks = bottom[1]->count();
  const float* idx = bottom[1]->cpu_data();
  // Note [Index errors in Forward] (header): check everything before writing anything.
  for (int m = 0; m < picks; ++m) {
    if (!(idx[m] >= 0.f && idx[m] < static_cast<float>(items))) {
      Fail("index ", idx[m], " at position ", m, " of bottom 1 is outside [0, ", items,
           ") of bottom 0's first axis");
    }
  }
  const float* x = bottom[0]->cpu_data();
  float* y = top[0]->mutable_cpu_data();
  const size_t bytes = sizeof(float) * static_cast<size_t>(inner_);
#pragma omp parallel for if (top[0]->count() >= kParallelMin) schedule(static)
  for (int m = 0; m < picks; ++m) {
    std::memcpy(y + static_cast<size_t>(m) * inner_,
                x + static_cast<size_t>(static_cast<int>(idx[m])) * inner_, bytes);
  }
}

void BatchReindexLayer::BackwardCpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                                    const BlobVec& bottom) {
  if (propagate_down[1]) {
    std::fill(bottom[1]->mutable_cpu_diff(), bottom[1]->mutable_cpu_diff() + bottom[1]->count(),
              0.f);
  }
  if (!propagate_down[0]) return;
  float* dx = bottom[0]->mutable_cpu_diff();
  std::fill(dx, dx + bottom[0]->count(), 0.f);
  const float* dy = top[0]->cpu_diff();
  const float* idx = bottom[1]->cpu_data();
  const int picks = bottom[1]->count();
  // Serial: one item may be picked several times, and its gradients add up.
  for (int m = 0; m < picks; ++m) {
    float* row = dx + static_cast<size_t>(static_cast<int>(idx[m])) * inner_;
    const float* g = dy + static_cast<size_t>(m) * inner_;
    for (int i = 0; i < inner_; ++i) row[i] += g[i];
  }
}

}  // namespace crema
