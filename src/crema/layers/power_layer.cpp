#include "crema/layers/power_layer.h"

#include <algorithm>
#include <cmath>

#include "crema/backend/cpu/blas.h"

namespace crema {

namespace {
// Below this many elements a parallel region costs more than it saves.
constexpr int kParallelMin = 1 << 14;
}  // namespace

PowerLayer::PowerLayer(const caffe::LayerParameter& param)
    : NeuronLayer(param),
      power_(param.power_param().power()),
      scale_(param.power_param().scale()),
      shift_(param.power_param().shift()),
      diff_scale_(power_ * scale_) {}

void PowerLayer::Reshape(const BlobVec& bottom, const BlobVec& top) {
  NeuronLayer::Reshape(bottom, top);
  if (bottom[0] == top[0] && BackwardNeedsInput()) bottom_copy_.ReshapeLike(*bottom[0]);
}

void PowerLayer::ForwardCpu(const BlobVec& bottom, const BlobVec& top) {
  const int count = bottom[0]->count();
  float* y = top[0]->mutable_cpu_data();
  if (diff_scale_ == 0.f) {
    // y does not depend on x: b^0 = 1 for every b, or scale 0 leaves b = shift.
    cpu::Set(count, power_ == 0.f ? 1.f : std::pow(shift_, power_), y);
    return;
  }
  const float* x = bottom[0]->cpu_data();
  if (bottom[0] == top[0] && BackwardNeedsInput()) {
    std::copy(x, x + count, bottom_copy_.mutable_cpu_data());
  }
  const float power = power_, scale = scale_, shift = shift_;
  if (power == 1.f) {
#pragma omp parallel for if (count >= kParallelMin) schedule(static)
    for (int i = 0; i < count; ++i) y[i] = shift + scale * x[i];
  } else if (power == 2.f) {
    // A product instead of pow: faster, and the same correctly rounded square.
#pragma omp parallel for if (count >= kParallelMin) schedule(static)
    for (int i = 0; i < count; ++i) {
      const float b = shift + scale * x[i];
      y[i] = b * b;
    }
  } else {
#pragma omp parallel for if (count >= kParallelMin) schedule(static)
    for (int i = 0; i < count; ++i) y[i] = std::pow(shift + scale * x[i], power);
  }
}

void PowerLayer::BackwardCpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                             const BlobVec& bottom) {
  if (!propagate_down[0]) return;
  const int count = bottom[0]->count();
  const float* dy = top[0]->cpu_diff();
  float* dx = bottom[0]->mutable_cpu_diff();
  const float diff_scale = diff_scale_;
  if (diff_scale == 0.f) {
    cpu::Set(count, 0.f, dx);
    return;
  }
  if (power_ == 1.f) {
#pragma omp parallel for if (count >= kParallelMin) schedule(static)
    for (int i = 0; i < count; ++i) dx[i] = diff_scale * dy[i];
    return;
  }
  const float* x = bottom[0] == top[0] ? bottom_copy_.cpu_data() : bottom[0]->cpu_data();
  const float power = power_, scale = scale_, shift = shift_;
  if (power == 2.f) {
#pragma omp parallel for if (count >= kParallelMin) schedule(static)
    for (int i = 0; i < count; ++i) dx[i] = dy[i] * diff_scale * (shift + scale * x[i]);
  } else {
    // b^(power − 1) rather than y / b: the same value for b != 0, and the right limit at
    // b == 0 (0 for power > 1) where y / b would be 0/0.
    const float reduced = power - 1.f;
#pragma omp parallel for if (count >= kParallelMin) schedule(static)
    for (int i = 0; i < count; ++i) {
      dx[i] = dy[i] * diff_scale * std::pow(shift + scale * x[i], reduced);
    }
  }
}

}  // namespace crema
