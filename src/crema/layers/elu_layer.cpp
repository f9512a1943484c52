#include "crema/layers/elu_layer.h"

#include <cmath>

namespace crema {

namespace {
// Below this many elements a parallel region costs more than it saves.
constexpr int kParallelMin = 1 << 14;
}  // namespace

ELULayer::ELULayer(const caffe::LayerParameter& param)
    : NeuronLayer(param), alpha_(param.elu_param().alpha()) {}

void ELULayer::ForwardCpu(const BlobVec& bottom, const BlobVec& top) {
  const int count = bottom[0]->count();
  const float* x = bottom[0]->cpu_data();
  float* y = top[0]->mutable_cpu_data();
  const float alpha = alpha_;
  // e^x − 1 rather than expm1: the values Caffe computes, and cheaper; the cancellation
  // near 0 costs at most ~1e-7 in absolute terms.
#pragma omp parallel for if (count >= kParallelMin) schedule(static)
  for (int i = 0; i < count; ++i) y[i] = x[i] > 0.f ? x[i] : alpha * (std::exp(x[i]) - 1.f);
}

void ELULayer::BackwardCpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                           const BlobVec& bottom) {
  if (!propagate_down[0]) return;
  const int count = bottom[0]->count();
  // In place x is the top data; for alpha >= 0 its sign is the sign of x, so the test holds.
  const float* x = bottom[0]->cpu_data();
  const float* y = top[0]->cpu_data();
  const float* dy = top[0]->cpu_diff();
  float* dx = bottom[0]->mutable_cpu_diff();
  const float alpha = alpha_;
  // For x <= 0, d/dx alpha·(e^x − 1) = alpha·e^x = y + alpha: no second exponential.
#pragma omp parallel for if (count >= kParallelMin) schedule(static)
  for (int i = 0; i < count; ++i) dx[i] = x[i] > 0.f ? dy[i] : dy[i] * (y[i] + alpha);
}

}  // namespace crema
