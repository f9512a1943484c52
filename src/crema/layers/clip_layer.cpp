#include "crema/layers/clip_layer.h"

#include <algorithm>

namespace crema {

namespace {
// Below this many elements a parallel region costs more than it saves.
constexpr int kParallelMin = 1 << 15;
}  // namespace

void ClipLayer::LayerSetUp(const BlobVec& /*bottom*/, const BlobVec& /*top*/) {
  // Both bounds are required fields of the schema; a parameter built in code may still lack
  // them, and a silent clip to [0, 0] would zero the whole blob.
  const caffe::ClipParameter& p = layer_param_.clip_param();
  if (!layer_param_.has_clip_param() || !p.has_min() || !p.has_max()) {
    Fail("needs clip_param with both min and max");
  }
  if (p.min() > p.max()) Fail("clip_param.min ", p.min(), " exceeds clip_param.max ", p.max());
  min_ = p.min();
  max_ = p.max();
}

void ClipLayer::ForwardCpu(const BlobVec& bottom, const BlobVec& top) {
  const int count = bottom[0]->count();
  const float* x = bottom[0]->cpu_data();
  float* y = top[0]->mutable_cpu_data();
  const float lo = min_, hi = max_;
#pragma omp parallel for if (count >= kParallelMin) schedule(static)
  for (int i = 0; i < count; ++i) y[i] = std::max(lo, std::min(x[i], hi));
}

void ClipLayer::BackwardCpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                            const BlobVec& bottom) {
  if (!propagate_down[0]) return;
  const int count = bottom[0]->count();
  const float* dy = top[0]->cpu_diff();
  float* dx = bottom[0]->mutable_cpu_diff();
  const float lo = min_, hi = max_;
  if (bottom[0] == top[0]) {
    // x is gone; y equals a bound for every clipped input, so only a strictly interior y
    // proves that x was inside.
    const float* y = top[0]->cpu_data();
#pragma omp parallel for if (count >= kParallelMin) schedule(static)
    for (int i = 0; i < count; ++i) dx[i] = (y[i] > lo && y[i] < hi) ? dy[i] : 0.f;
  } else {
    const float* x = bottom[0]->cpu_data();
#pragma omp parallel for if (count >= kParallelMin) schedule(static)
    for (int i = 0; i < count; ++i) dx[i] = (x[i] >= lo && x[i] <= hi) ? dy[i] : 0.f;
  }
}

}  // namespace crema
