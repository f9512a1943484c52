#include "crema/layers/split_layer.h"

#include <cstring>

namespace crema {

namespace {
constexpr int kParallelMin = 1 << 15;
}  // namespace

void SplitLayer::Reshape(const BlobVec& bottom, const BlobVec& top) {
  for (size_t k = 0; k < top.size(); ++k) {
    if (top[k] == bottom[0]) {
      Fail("cannot run in place: top ", k, " is its bottom");
    }
    top[k]->ReshapeLike(*bottom[0]);
    top[k]->ShareData(*bottom[0]);
  }
}

void SplitLayer::BackwardCpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                             const BlobVec& bottom) {
  if (!propagate_down[0]) return;
  const int count = bottom[0]->count();
  float* dx = bottom[0]->mutable_cpu_diff();
  const float* d0 = top[0]->cpu_diff();
  if (top.size() == 1) {
    std::memcpy(dx, d0, sizeof(float) * count);
    return;
  }
  // First two tops in one pass (no zeroing), then accumulate the rest.
  const float* d1 = top[1]->cpu_diff();
#pragma omp parallel for if (count >= kParallelMin) schedule(static)
  for (int i = 0; i < count; ++i) dx[i] = d0[i] + d1[i];
  for (size_t k = 2; k < top.size(); ++k) {
    const float* dk = top[k]->cpu_diff();
#pragma omp parallel for if (count >= kParallelMin) schedule(static)
    for (int i = 0; i < count; ++i) dx[i] += dk[i];
  }
}

}  // namespace crema
