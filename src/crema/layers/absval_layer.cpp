#include "crema/layers/absval_layer.h"

#include <cmath>

namespace crema {

namespace {
// Below this many elements a parallel region costs more than it saves.
constexpr int kParallelMin = 1 << 15;
}  // namespace

void AbsValLayer::LayerSetUp(const BlobVec& bottom, const BlobVec& top) {
  if (bottom[0] == top[0]) Fail("cannot run in place: its backward pass needs the sign of x");
}

void AbsValLayer::ForwardCpu(const BlobVec& bottom, const BlobVec& top) {
  const int count = bottom[0]->count();
  const float* x = bottom[0]->cpu_data();
  float* y = top[0]->mutable_cpu_data();
#pragma omp parallel for if (count >= kParallelMin) schedule(static)
  for (int i = 0; i < count; ++i) y[i] = std::fabs(x[i]);
}

void AbsValLayer::BackwardCpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                              const BlobVec& bottom) {
  if (!propagate_down[0]) return;
  const int count = bottom[0]->count();
  const float* x = bottom[0]->cpu_data();
  const float* dy = top[0]->cpu_diff();
  float* dx = bottom[0]->mutable_cpu_diff();
#pragma omp parallel for if (count >= kParallelMin) schedule(static)
  for (int i = 0; i < count; ++i) {
    const float sign = static_cast<float>((x[i] > 0.f) - (x[i] < 0.f));
    dx[i] = sign * dy[i];
  }
}

}  // namespace crema
