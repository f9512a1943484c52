#include "crema/layers/exp_layer.h"

#include <cmath>

namespace crema {

namespace {
// Below this many elements a parallel region costs more than it saves.
constexpr int kParallelMin = 1 << 14;
}  // namespace

void ExpLayer::LayerSetUp(const BlobVec& /*bottom*/, const BlobVec& /*top*/) {
  const caffe::ExpParameter& p = layer_param_.exp_param();
  const float base = p.base();
  if (base != -1.f && !(base > 0.f)) {
    Fail("exp_param.base must be positive, or -1 for e; got ", base);
  }
  // base^(shift + scale·x) = base^shift · e^(ln(base)·scale·x): one exp per element, and the
  // constants are computed once, in float, the way Caffe computes them.
  const float log_base = base == -1.f ? 1.f : std::log(base);
  inner_scale_ = log_base * p.scale();
  if (p.shift() == 0.f) {
    outer_scale_ = 1.f;
  } else {
    outer_scale_ = base == -1.f ? std::exp(p.shift()) : std::pow(base, p.shift());
  }
}

void ExpLayer::ForwardCpu(const BlobVec& bottom, const BlobVec& top) {
  const int count = bottom[0]->count();
  const float* x = bottom[0]->cpu_data();
  float* y = top[0]->mutable_cpu_data();
  const float inner = inner_scale_, outer = outer_scale_;
  if (outer == 1.f) {
#pragma omp parallel for if (count >= kParallelMin) schedule(static)
    for (int i = 0; i < count; ++i) y[i] = std::exp(inner * x[i]);
  } else {
#pragma omp parallel for if (count >= kParallelMin) schedule(static)
    for (int i = 0; i < count; ++i) y[i] = outer * std::exp(inner * x[i]);
  }
}

void ExpLayer::BackwardCpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                           const BlobVec& bottom) {
  if (!propagate_down[0]) return;
  const int count = bottom[0]->count();
  const float* y = top[0]->cpu_data();
  const float* dy = top[0]->cpu_diff();
  float* dx = bottom[0]->mutable_cpu_diff();
  const float inner = inner_scale_;
#pragma omp parallel for if (count >= kParallelMin) schedule(static)
  for (int i = 0; i < count; ++i) dx[i] = dy[i] * y[i] * inner;
}

}  // namespace crema
