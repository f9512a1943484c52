#include "crema/layers/relu_layer.h"

namespace crema {

namespace {
// Below this many elements a parallel region costs more than it saves.
constexpr int kParallelMin = 1 << 15;
}  // namespace

ReLULayer::ReLULayer(const caffe::LayerParameter& param)
    : NeuronLayer(param), negative_slope_(param.relu_param().negative_slope()) {}

void ReLULayer::ForwardCpu(const BlobVec& bottom, const BlobVec& top) {
  const int count = bottom[0]->count();
  const float* x = bottom[0]->cpu_data();
  float* y = top[0]->mutable_cpu_data();
  const float slope = negative_slope_;
#pragma omp parallel for if (count >= kParallelMin) schedule(static)
  for (int i = 0; i < count; ++i) y[i] = x[i] > 0.f ? x[i] : slope * x[i];
}

void ReLULayer::BackwardCpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                            const BlobVec& bottom) {
  if (!propagate_down[0]) return;
  const int count = bottom[0]->count();
  // In place this is the top data; relu(x) > 0 exactly when x > 0, so the test still holds.
  const float* x = bottom[0]->cpu_data();
  const float* dy = top[0]->cpu_diff();
  float* dx = bottom[0]->mutable_cpu_diff();
  const float slope = negative_slope_;
#pragma omp parallel for if (count >= kParallelMin) schedule(static)
  for (int i = 0; i < count; ++i) dx[i] = x[i] > 0.f ? dy[i] : slope * dy[i];
}

}  // namespace crema
