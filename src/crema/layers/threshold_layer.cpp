#include "crema/layers/threshold_layer.h"

#include "crema/backend/cpu/blas.h"

namespace crema {

namespace {
// Below this many elements a parallel region costs more than it saves.
constexpr int kParallelMin = 1 << 15;
}  // namespace

ThresholdLayer::ThresholdLayer(const caffe::LayerParameter& param)
    : NeuronLayer(param), threshold_(param.threshold_param().threshold()) {}

void ThresholdLayer::ForwardCpu(const BlobVec& bottom, const BlobVec& top) {
  const int count = bottom[0]->count();
  const float* x = bottom[0]->cpu_data();
  float* y = top[0]->mutable_cpu_data();
  const float threshold = threshold_;
#pragma omp parallel for if (count >= kParallelMin) schedule(static)
  for (int i = 0; i < count; ++i) y[i] = x[i] > threshold ? 1.f : 0.f;
}

void ThresholdLayer::BackwardCpu(const BlobVec& /*top*/, const std::vector<bool>& propagate_down,
                                 const BlobVec& bottom) {
  // The derivative is 0 wherever it exists; zeros keep a net that back-propagates through
  // this layer well defined instead of leaving stale values in the diff.
  if (propagate_down[0]) cpu::Set(bottom[0]->count(), 0.f, bottom[0]->mutable_cpu_diff());
}

}  // namespace crema
