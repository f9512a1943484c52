#include "crema/layers/log_layer.h"

#include <algorithm>
#include <cmath>

namespace crema {

namespace {
// Below this many elements a parallel region costs more than it saves.
constexpr int kParallelMin = 1 << 14;
}  // namespace

void LogLayer::LayerSetUp(const BlobVec& /*bottom*/, const BlobVec& /*top*/) {
  const caffe::LogParameter& p = layer_param_.log_param();
  const float base = p.base();
  if (base != -1.f && !(base > 0.f)) {
    Fail("log_param.base must be positive, or -1 for e; got ", base);
  }
  if (base == 1.f) Fail("log_param.base must not be 1");
  scale_ = p.scale();
  shift_ = p.shift();
  // The constants are computed in float, as Caffe computes them.
  base_scale_ = base == -1.f ? 1.f : 1.f / std::log(base);
  backward_num_scale_ = scale_ * base_scale_;
}

void LogLayer::Reshape(const BlobVec& bottom, const BlobVec& top) {
  NeuronLayer::Reshape(bottom, top);
  if (bottom[0] == top[0]) bottom_copy_.ReshapeLike(*bottom[0]);
}

void LogLayer::ForwardCpu(const BlobVec& bottom, const BlobVec& top) {
  const int count = bottom[0]->count();
  const float* x = bottom[0]->cpu_data();
  float* y = top[0]->mutable_cpu_data();
  if (bottom[0] == top[0]) std::copy(x, x + count, bottom_copy_.mutable_cpu_data());
  const float scale = scale_, shift = shift_, base_scale = base_scale_;
  if (base_scale == 1.f) {
#pragma omp parallel for if (count >= kParallelMin) schedule(static)
    for (int i = 0; i < count; ++i) y[i] = std::log(shift + scale * x[i]);
  } else {
#pragma omp parallel for if (count >= kParallelMin) schedule(static)
    for (int i = 0; i < count; ++i) y[i] = base_scale * std::log(shift + scale * x[i]);
  }
}

void LogLayer::BackwardCpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                           const BlobVec& bottom) {
  if (!propagate_down[0]) return;
  const int count = bottom[0]->count();
  const float* x = bottom[0] == top[0] ? bottom_copy_.cpu_data() : bottom[0]->cpu_data();
  const float* dy = top[0]->cpu_diff();
  float* dx = bottom[0]->mutable_cpu_diff();
  const float scale = scale_, shift = shift_, num = backward_num_scale_;
#pragma omp parallel for if (count >= kParallelMin) schedule(static)
  for (int i = 0; i < count; ++i) dx[i] = dy[i] * num / (shift + scale * x[i]);
}

}  // namespace crema
