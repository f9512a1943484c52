#include "crema/layers/mvn_layer.h"

#include <cmath>
#include <cstddef>

namespace crema {

namespace {
// Below this many elements a parallel region costs more than it saves.
constexpr int kParallelMin = 1 << 14;
}  // namespace

void MVNLayer::LayerSetUp(const BlobVec& /*bottom*/, const BlobVec& /*top*/) {
  const caffe::MVNParameter& p = layer_param_.mvn_param();
  normalize_variance_ = p.normalize_variance();
  across_channels_ = p.across_channels();
  eps_ = p.eps();
  if (!(eps_ >= 0.f)) Fail("eps must be non-negative, got ", eps_);
}

void MVNLayer::Reshape(const BlobVec& bottom, const BlobVec& top) {
  const Blob& input = *bottom[0];
  if (input.num_axes() == 0) Fail("needs an input with at least one axis");
  // Groups as Caffe's legacy (num, channels, height, width) view makes them: a 1-D or 2-D
  // input has 1×1 planes.
  const int num = input.shape(0);
  const int channels = input.num_axes() == 1 ? 1 : input.shape(1);
  groups_ = across_channels_ ? num : num * channels;
  dim_ = groups_ == 0 ? 0 : input.count() / groups_;
  top[0]->ReshapeLike(input);
  if (normalize_variance_) std_eps_.resize(static_cast<size_t>(groups_));
}

void MVNLayer::ForwardCpu(const BlobVec& bottom, const BlobVec& top) {
  const int count = bottom[0]->count();
  const float* x = bottom[0]->cpu_data();
  float* y = top[0]->mutable_cpu_data();  // may be x itself
  const int dim = dim_;
  const double inv_dim = dim > 0 ? 1.0 / dim : 0.0;
  const bool normalize = normalize_variance_;
  const double eps = eps_;
  float* std_eps = std_eps_.data();
#pragma omp parallel for if (count >= kParallelMin) schedule(static)
  for (int g = 0; g < groups_; ++g) {
    const float* in = x + static_cast<size_t>(g) * dim;
    float* out = y + static_cast<size_t>(g) * dim;
    double sum = 0;
    for (int i = 0; i < dim; ++i) sum += in[i];
    const float mean = static_cast<float>(sum * inv_dim);
    if (!normalize) {
      for (int i = 0; i < dim; ++i) out[i] = in[i] - mean;
      continue;
    }
    // Two passes, as var = E[(x − E x)²]: no cancellation when the mean is large.
    double sq = 0;
    for (int i = 0; i < dim; ++i) {
      const double d = in[i] - mean;
      sq += d * d;
    }
    const float s = static_cast<float>(std::sqrt(sq * inv_dim) + eps);
    std_eps[g] = s;
    const float inv = 1.f / s;
    for (int i = 0; i < dim; ++i) out[i] = (in[i] - mean) * inv;
  }
}

void MVNLayer::BackwardCpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                           const BlobVec& bottom) {
  if (!propagate_down[0]) return;
  const int count = bottom[0]->count();
  const float* y = top[0]->cpu_data();
  const float* dy = top[0]->cpu_diff();
  float* dx = bottom[0]->mutable_cpu_diff();  // may be dy itself: each element is read first
  const int dim = dim_;
  const double inv_dim = dim > 0 ? 1.0 / dim : 0.0;
  const bool normalize = normalize_variance_;
  const float* std_eps = std_eps_.data();
#pragma omp parallel for if (count >= kParallelMin) schedule(static)
  for (int g = 0; g < groups_; ++g) {
    const size_t base = static_cast<size_t>(g) * dim;
    double sum_dy = 0, sum_dy_y = 0;
    for (int i = 0; i < dim; ++i) sum_dy += dy[base + i];
    if (normalize) {
      for (int i = 0; i < dim; ++i) sum_dy_y += static_cast<double>(dy[base + i]) * y[base + i];
    }
    const float mean_dy = static_cast<float>(sum_dy * inv_dim);
    if (!normalize) {
      for (int i = 0; i < dim; ++i) dx[base + i] = dy[base + i] - mean_dy;
      continue;
    }
    const float mean_dy_y = static_cast<float>(sum_dy_y * inv_dim);
    const float inv = 1.f / std_eps[g];
    for (int i = 0; i < dim; ++i) {
      dx[base + i] = (dy[base + i] - mean_dy - y[base + i] * mean_dy_y) * inv;
    }
  }
}

}  // namespace crema
