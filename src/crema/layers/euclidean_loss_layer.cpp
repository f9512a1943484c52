#include "crema/layers/euclidean_loss_layer.h"

#include "crema/backend/cpu/blas.h"

namespace crema {

namespace {
// Below this many elements a parallel region costs more than it saves.
constexpr int kParallelMin = 1 << 14;
}  // namespace

void EuclideanLossLayer::Reshape(const BlobVec& bottom, const BlobVec& top) {
  const Blob& a = *bottom[0];
  const Blob& b = *bottom[1];
  if (a.num_axes() == 0 || b.num_axes() == 0 || a.shape(0) != b.shape(0) ||
      a.count(1) != b.count(1)) {
    Fail("needs two inputs with the same first dimension and the same count per item, got ",
         a.shape_string(), " and ", b.shape_string());
  }
  LossLayer::Reshape(bottom, top);
  diff_.ReshapeLike(a);
}

void EuclideanLossLayer::ForwardCpu(const BlobVec& bottom, const BlobVec& top) {
  const int count = bottom[0]->count();
  const float* a = bottom[0]->cpu_data();
  const float* b = bottom[1]->cpu_data();
  float* d = diff_.mutable_cpu_data();
#pragma omp parallel for if (count >= kParallelMin) schedule(static)
  for (int i = 0; i < count; ++i) d[i] = a[i] - b[i];
  // Dot accumulates in double, so a large batch does not lose the small terms.
  const float sum_sq = cpu::Dot(count, d, d);
  top[0]->mutable_cpu_data()[0] = sum_sq / static_cast<float>(bottom[0]->shape(0)) / 2.f;
}

void EuclideanLossLayer::BackwardCpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                                     const BlobVec& bottom) {
  const int count = diff_.count();
  const float* d = diff_.cpu_data();
  const float base = top[0]->cpu_diff()[0] / static_cast<float>(bottom[0]->shape(0));
  for (int i = 0; i < 2; ++i) {
    if (!propagate_down[i]) continue;
    const float alpha = i == 0 ? base : -base;  // ∂(a − b)/∂b = −1
    float* dx = bottom[i]->mutable_cpu_diff();
#pragma omp parallel for if (count >= kParallelMin) schedule(static)
    for (int k = 0; k < count; ++k) dx[k] = alpha * d[k];
  }
}

}  // namespace crema
