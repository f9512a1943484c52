#include "crema/layers/batch_norm_layer.h"

#include <cmath>
#include <cstddef>

#include "crema/backend/cpu/blas.h"

namespace crema {

namespace {
// Below this many elements a parallel region costs more than it saves.
constexpr int kParallelMin = 1 << 14;

// Sums of one row, in float lanes the compiler may reorder (vectorised); callers add the rows
// in double, so a sum over a whole channel keeps its precision.
float RowSum(const float* x, size_t n) {
  float sum = 0.f;
#pragma omp simd reduction(+ : sum)
  for (size_t i = 0; i < n; ++i) sum += x[i];
  return sum;
}

float RowSquaredDeviation(const float* x, size_t n, float mean) {
  float sum = 0.f;
#pragma omp simd reduction(+ : sum)
  for (size_t i = 0; i < n; ++i) sum += (x[i] - mean) * (x[i] - mean);
  return sum;
}

float RowDot(const float* x, const float* y, size_t n) {
  float sum = 0.f;
#pragma omp simd reduction(+ : sum)
  for (size_t i = 0; i < n; ++i) sum += x[i] * y[i];
  return sum;
}
}  // namespace

void BatchNormLayer::LayerSetUp(const BlobVec& bottom, const BlobVec& /*top*/) {
  const caffe::BatchNormParameter& p = layer_param_.batch_norm_param();
  use_global_stats_ = p.has_use_global_stats() ? p.use_global_stats()
                                               : phase_ == caffe::TEST;
  moving_average_fraction_ = p.moving_average_fraction();
  eps_ = p.eps();
  if (!(eps_ >= 0.f)) Fail("eps must be non-negative, got ", eps_);
  if (bottom[0]->num_axes() == 0) Fail("needs an input with at least one axis");
  channels_ = bottom[0]->num_axes() == 1 ? 1 : bottom[0]->shape(1);

  blobs_.clear();
  blobs_.push_back(std::make_shared<Blob>(std::vector<int>{channels_}));
  blobs_.push_back(std::make_shared<Blob>(std::vector<int>{channels_}));
  blobs_.push_back(std::make_shared<Blob>(std::vector<int>{1}));
  for (auto& blob : blobs_) cpu::Set(blob->count(), 0.f, blob->mutable_cpu_data());

  // The statistics are not parameters to learn: a missing param spec becomes one with zero
  // multipliers, which is what the net reads (it takes the specs from the layer after SetUp)
  // and what ToProto writes into a model. A spec that asks to learn them is a mistake.
  if (layer_param_.param_size() > 3) {
    Fail("has ", layer_param_.param_size(), " param specs for its 3 statistics blobs");
  }
  for (int i = 0; i < 3; ++i) {
    if (i == layer_param_.param_size()) {
      caffe::ParamSpec* spec = layer_param_.add_param();
      spec->set_lr_mult(0.f);
      spec->set_decay_mult(0.f);
    } else if (layer_param_.param(i).lr_mult() != 0.f) {
      Fail("param ", i, " has lr_mult ", layer_param_.param(i).lr_mult(),
           ", but the statistics blobs cannot be learned; give lr_mult: 0 or no param specs");
    }
  }
  param_propagate_down_.assign(blobs_.size(), false);
}

void BatchNormLayer::Reshape(const BlobVec& bottom, const BlobVec& top) {
  const Blob& input = *bottom[0];
  const int channels = input.num_axes() == 0 ? -1 : input.num_axes() == 1 ? 1 : input.shape(1);
  if (channels != channels_) {
    Fail("input ", input.shape_string(), " must have the ", channels_,
         " channels (axis 1) the layer was set up with");
  }
  num_ = input.shape(0);
  spatial_ = channels_ == 0 || num_ == 0 ? 0 : input.count() / (num_ * channels_);
  top[0]->ReshapeLike(input);
  mean_.resize(static_cast<size_t>(channels_));
  inv_std_.resize(static_cast<size_t>(channels_));
  if (!use_global_stats_) x_norm_.ReshapeLike(input);
}

void BatchNormLayer::GlobalStatistics(float* mean, float* inv_std) const {
  // The stored sums are divided by the accumulated factor; Caffe reads a zero factor as zero
  // statistics rather than dividing by it.
  const float factor = blobs_[2]->cpu_data()[0];
  const float scale = factor == 0.f ? 0.f : 1.f / factor;
  const float* mean_sum = blobs_[0]->cpu_data();
  const float* var_sum = blobs_[1]->cpu_data();
  for (int c = 0; c < channels_; ++c) {
    mean[c] = scale * mean_sum[c];
    inv_std[c] = static_cast<float>(1.0 / std::sqrt(static_cast<double>(scale * var_sum[c]) +
                                                    static_cast<double>(eps_)));
  }
}

bool BatchNormLayer::PerChannelAffine(int channels, float* scale, float* shift) const {
  if (!use_global_stats_ || channels != channels_) return false;
  if (scale == nullptr || shift == nullptr) return true;
  GlobalStatistics(shift, scale);
  for (int c = 0; c < channels_; ++c) shift[c] = -shift[c] * scale[c];
  return true;
}

void BatchNormLayer::ForwardCpu(const BlobVec& bottom, const BlobVec& top) {
  const int count = bottom[0]->count();
  const float* x = bottom[0]->cpu_data();
  float* y = top[0]->mutable_cpu_data();  // may be x itself
  const size_t plane = static_cast<size_t>(spatial_);
  const size_t image = static_cast<size_t>(channels_) * plane;
  const int num = num_;

  if (use_global_stats_) {
    GlobalStatistics(mean_.data(), inv_std_.data());
#pragma omp parallel for if (count >= kParallelMin) schedule(static)
    for (int c = 0; c < channels_; ++c) {
      const float mean = mean_[c], inv_std = inv_std_[c];
      for (int n = 0; n < num; ++n) {
        const size_t base = n * image + c * plane;
        for (size_t s = 0; s < plane; ++s) y[base + s] = (x[base + s] - mean) * inv_std;
      }
    }
    return;
  }

  const int m = num_ * spatial_;
  const double inv_m = m > 0 ? 1.0 / m : 0.0;
  // Caffe stores the unbiased variance in the running sum.
  const float correction = m > 1 ? static_cast<float>(m) / static_cast<float>(m - 1) : 1.f;
  const float maf = moving_average_fraction_;
  float* mean_sum = blobs_[0]->mutable_cpu_data();
  float* var_sum = blobs_[1]->mutable_cpu_data();
  float* x_norm = x_norm_.mutable_cpu_data();
  // One channel per iteration: its statistics, the running sums, then its outputs, so the
  // channel's values are still in cache for the second and third pass.
#pragma omp parallel for if (count >= kParallelMin) schedule(static)
  for (int c = 0; c < channels_; ++c) {
    double sum = 0;
    for (int n = 0; n < num; ++n) sum += RowSum(x + n * image + c * plane, plane);
    const float mean = static_cast<float>(sum * inv_m);
    // var = E[(x − E x)²], two passes: no cancellation when the mean is large.
    double sq = 0;
    for (int n = 0; n < num; ++n) sq += RowSquaredDeviation(x + n * image + c * plane, plane, mean);
    const float var = static_cast<float>(sq * inv_m);
    mean_sum[c] = maf * mean_sum[c] + mean;
    var_sum[c] = maf * var_sum[c] + correction * var;
    const float inv_std =
        static_cast<float>(1.0 / std::sqrt(static_cast<double>(var) + static_cast<double>(eps_)));
    mean_[c] = mean;
    inv_std_[c] = inv_std;
    for (int n = 0; n < num; ++n) {
      const size_t base = n * image + c * plane;
      for (size_t s = 0; s < plane; ++s) {
        const float v = (x[base + s] - mean) * inv_std;
        y[base + s] = v;
        x_norm[base + s] = v;
      }
    }
  }
  float* factor = blobs_[2]->mutable_cpu_data();
  factor[0] = maf * factor[0] + 1.f;
}

void BatchNormLayer::BackwardCpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                                 const BlobVec& bottom) {
  if (!propagate_down[0]) return;
  const int count = bottom[0]->count();
  const float* dy = top[0]->cpu_diff();
  float* dx = bottom[0]->mutable_cpu_diff();  // may be dy itself: each element is read first
  const size_t plane = static_cast<size_t>(spatial_);
  const size_t image = static_cast<size_t>(channels_) * plane;
  const int num = num_;

  if (use_global_stats_) {
    // The statistics are constants here: the layer is a per-channel affine map.
#pragma omp parallel for if (count >= kParallelMin) schedule(static)
    for (int c = 0; c < channels_; ++c) {
      const float inv_std = inv_std_[c];
      for (int n = 0; n < num; ++n) {
        const size_t base = n * image + c * plane;
        for (size_t s = 0; s < plane; ++s) dx[base + s] = dy[base + s] * inv_std;
      }
    }
    return;
  }

  const int m = num_ * spatial_;
  const double inv_m = m > 0 ? 1.0 / m : 0.0;
  const float* x_norm = x_norm_.cpu_data();
#pragma omp parallel for if (count >= kParallelMin) schedule(static)
  for (int c = 0; c < channels_; ++c) {
    double sum_dy = 0, sum_dy_y = 0;
    for (int n = 0; n < num; ++n) {
      const size_t base = n * image + c * plane;
      sum_dy += RowSum(dy + base, plane);
      sum_dy_y += RowDot(dy + base, x_norm + base, plane);
    }
    const float mean_dy = static_cast<float>(sum_dy * inv_m);
    const float mean_dy_y = static_cast<float>(sum_dy_y * inv_m);
    const float inv_std = inv_std_[c];
    for (int n = 0; n < num; ++n) {
      const size_t base = n * image + c * plane;
      for (size_t s = 0; s < plane; ++s) {
        dx[base + s] = (dy[base + s] - mean_dy - x_norm[base + s] * mean_dy_y) * inv_std;
      }
    }
  }
}

}  // namespace crema
