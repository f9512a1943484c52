#include "crema/layers/swish_layer.h"

#include <cmath>

namespace crema {

namespace {
// Below this many elements a parallel region costs more than it saves.
constexpr int kParallelMin = 1 << 14;
}  // namespace

SwishLayer::SwishLayer(const caffe::LayerParameter& param)
    : NeuronLayer(param), beta_(param.swish_param().beta()) {}

void SwishLayer::Reshape(const BlobVec& bottom, const BlobVec& top) {
  NeuronLayer::Reshape(bottom, top);
  sigmoid_.ReshapeLike(*bottom[0]);
}

void SwishLayer::ForwardCpu(const BlobVec& bottom, const BlobVec& top) {
  const int count = bottom[0]->count();
  const float* x = bottom[0]->cpu_data();
  float* y = top[0]->mutable_cpu_data();
  float* s = sigmoid_.mutable_cpu_data();
  const float beta = beta_;
  // x is read before y is written at the same index, so in place is safe. e^(−beta·x) may
  // overflow to +inf, which gives s = 0 exactly: no special case needed.
#pragma omp parallel for if (count >= kParallelMin) schedule(static)
  for (int i = 0; i < count; ++i) {
    const float xi = x[i];
    const float si = 1.f / (1.f + std::exp(-beta * xi));
    s[i] = si;
    y[i] = xi * si;
  }
}

void SwishLayer::BackwardCpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                             const BlobVec& bottom) {
  if (!propagate_down[0]) return;
  const int count = bottom[0]->count();
  const float* y = top[0]->cpu_data();
  const float* dy = top[0]->cpu_diff();
  const float* s = sigmoid_.cpu_data();
  float* dx = bottom[0]->mutable_cpu_diff();
  const float beta = beta_;
  // d/dx x·s(beta·x) = s + beta·x·s·(1 − s), written with y = x·s so x is not needed.
#pragma omp parallel for if (count >= kParallelMin) schedule(static)
  for (int i = 0; i < count; ++i) {
    const float by = beta * y[i];
    dx[i] = dy[i] * (by + s[i] * (1.f - by));
  }
}

}  // namespace crema
