#include "crema/layers/scale_layer.h"

#include <algorithm>
#include <memory>

#include "crema/backend/cpu/blas.h"
#include "crema/core/filler.h"

namespace crema {

namespace {
// Below this many elements a parallel region costs more than it saves.
constexpr int kParallelMin = 1 << 15;

// out[d] (+)= Σ_n sums[n·dim + d]: folds per-(n, d) partial sums over n.
void FoldRows(int outer, int dim, const float* sums, bool accumulate, float* out) {
  if (!accumulate) cpu::Set(dim, 0.f, out);
  for (int n = 0; n < outer; ++n) cpu::Axpy(dim, 1.f, sums + static_cast<size_t>(n) * dim, out);
}
}  // namespace

int ScaleLayer::Axis(const Blob& input) const {
  const int axis = layer_param_.scale_param().axis();
  const int n = input.num_axes();
  if (axis < -n || axis >= n) {
    Fail("scale_param.axis ", axis, " is out of range for bottom ", input.shape_string());
  }
  return axis < 0 ? axis + n : axis;
}

void ScaleLayer::LayerSetUp(const BlobVec& bottom, const BlobVec& /*top*/) {
  const caffe::ScaleParameter& p = layer_param_.scale_param();
  const Blob& input = *bottom[0];
  blobs_.clear();
  std::vector<int> param_shape;
  if (bottom.size() > 1) {
    param_shape = bottom[1]->shape();  // Reshape checks it against bottom[0]
  } else {
    const int axis = Axis(input);
    const int num_axes = p.num_axes();
    if (num_axes < -1) {
      Fail("scale_param.num_axes must be non-negative, or -1 for every axis from axis on; got ",
           num_axes);
    }
    if (num_axes >= 0 && axis + num_axes > input.num_axes()) {
      Fail("a scale of ", num_axes, " axes from axis ", axis,
           " reaches past the last axis of bottom ", input.shape_string());
    }
    const auto first = input.shape().begin() + axis;
    const auto last = num_axes < 0 ? input.shape().end() : first + num_axes;
    param_shape.assign(first, last);
    blobs_.push_back(std::make_shared<Blob>(param_shape));
    caffe::FillerParameter filler = p.filler();
    if (!p.has_filler()) {  // multiplying by 1 leaves the input as it is
      filler.set_type("constant");
      filler.set_value(1.f);
    }
    FillBlob(filler, blobs_[0].get(), Describe() + " filler");
  }
  bias_term_ = p.bias_term();
  bias_index_ = -1;
  if (bias_term_) {
    bias_index_ = static_cast<int>(blobs_.size());
    blobs_.push_back(std::make_shared<Blob>(param_shape));
    FillBlob(p.bias_filler(), blobs_.back().get(), Describe() + " bias_filler");
  }
  param_propagate_down_.assign(blobs_.size(), true);
}

void ScaleLayer::Reshape(const BlobVec& bottom, const BlobVec& top) {
  const Blob& input = *bottom[0];
  const Blob& scale = bottom.size() > 1 ? *bottom[1] : *blobs_[0];
  // A scale with no axes is one value for everything; its axis then does not matter.
  const int axis = scale.num_axes() == 0 ? 0 : Axis(input);
  if (axis + scale.num_axes() > input.num_axes()) {
    Fail("scale ", scale.shape_string(), " from axis ", axis,
         " reaches past the last axis of bottom ", input.shape_string());
  }
  for (int i = 0; i < scale.num_axes(); ++i) {
    if (input.shape(axis + i) != scale.shape(i)) {
      Fail("scale ", scale.shape_string(), " does not match bottom ", input.shape_string(),
           " from axis ", axis, ": dimension ", i, " is ", scale.shape(i), ", bottom's axis ",
           axis + i, " is ", input.shape(axis + i));
    }
  }
  if (bias_term_ && blobs_[bias_index_]->count() != scale.count()) {
    Fail("bias ", blobs_[bias_index_]->shape_string(), " does not match scale ",
         scale.shape_string());
  }
  outer_ = input.count(0, axis);
  dim_ = scale.count();
  inner_ = input.count(axis + scale.num_axes());
  in_place_ = bottom[0] == top[0];
  learned_scale_ = bottom.size() == 1;
  axis_ = axis;
  if (!in_place_) top[0]->ReshapeLike(input);
  if (KeepsInput(bottom, top)) bottom_copy_.ReshapeLike(input);
  scale_row_sums_.Reshape({outer_ * dim_});
  if (bias_term_) bias_row_sums_.Reshape({outer_ * dim_});
}

bool ScaleLayer::PerChannelAffine(int channels, float* scale, float* shift) const {
  if (!learned_scale_ || axis_ != 1 || blobs_[0]->num_axes() != 1 ||
      blobs_[0]->count() != channels) {
    return false;
  }
  if (scale == nullptr || shift == nullptr) return true;
  std::copy(blobs_[0]->cpu_data(), blobs_[0]->cpu_data() + channels, scale);
  if (bias_term_) {
    std::copy(blobs_[bias_index_]->cpu_data(), blobs_[bias_index_]->cpu_data() + channels, shift);
  } else {
    std::fill(shift, shift + channels, 0.f);
  }
  return true;
}

void ScaleLayer::ForwardCpu(const BlobVec& bottom, const BlobVec& top) {
  const int count = bottom[0]->count();
  const float* x = bottom[0]->cpu_data();
  if (KeepsInput(bottom, top)) std::copy(x, x + count, bottom_copy_.mutable_cpu_data());
  const float* s = (bottom.size() > 1 ? bottom[1] : blobs_[0].get())->cpu_data();
  float* y = top[0]->mutable_cpu_data();
  const int rows = outer_ * dim_, dim = dim_, inner = inner_;
  if (bias_term_) {
    // Scale and bias in one pass over the data.
    const float* b = blobs_[bias_index_]->cpu_data();
#pragma omp parallel for if (count >= kParallelMin) schedule(static)
    for (int r = 0; r < rows; ++r) {
      const float sd = s[r % dim], bd = b[r % dim];
      const size_t offset = static_cast<size_t>(r) * inner;
      for (int i = 0; i < inner; ++i) y[offset + i] = x[offset + i] * sd + bd;
    }
  } else {
#pragma omp parallel for if (count >= kParallelMin) schedule(static)
    for (int r = 0; r < rows; ++r) {
      const float sd = s[r % dim];
      const size_t offset = static_cast<size_t>(r) * inner;
      for (int i = 0; i < inner; ++i) y[offset + i] = x[offset + i] * sd;
    }
  }
}

void ScaleLayer::BackwardCpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                             const BlobVec& bottom) {
  const int count = bottom[0]->count();
  const float* dy = top[0]->cpu_diff();
  const bool learned_scale = bottom.size() == 1;
  const bool want_scale = learned_scale ? param_propagate_down(0) : propagate_down[1];
  const bool want_bias = bias_term_ && param_propagate_down(bias_index_);
  const int rows = outer_ * dim_, dim = dim_, inner = inner_;
  // Parameter gradients first: in place, the bottom diff written below is the top diff.
  // Each (n, d) row is reduced over i (contiguous, rows in parallel, one pass for both
  // gradients), then the rows are folded over n; no product array is formed.
  if (want_scale || want_bias) {
    const float* x = bottom[0] != top[0]       ? bottom[0]->cpu_data()
                     : kept_bottom_ != nullptr ? kept_bottom_->cpu_data()
                                               : bottom_copy_.cpu_data();
    float* scale_sums = scale_row_sums_.mutable_cpu_data();
    float* bias_sums = want_bias ? bias_row_sums_.mutable_cpu_data() : nullptr;
#pragma omp parallel for if (count >= kParallelMin) schedule(static)
    for (int r = 0; r < rows; ++r) {
      const size_t offset = static_cast<size_t>(r) * inner;
      const float* dyr = dy + offset;
      const float* xr = x + offset;
      if (want_scale && want_bias) {
        float acc_scale = 0.f, acc_bias = 0.f;
#pragma omp simd reduction(+ : acc_scale, acc_bias)
        for (int i = 0; i < inner; ++i) {
          acc_scale += dyr[i] * xr[i];
          acc_bias += dyr[i];
        }
        scale_sums[r] = acc_scale;
        bias_sums[r] = acc_bias;
      } else if (want_scale) {
        float acc = 0.f;
#pragma omp simd reduction(+ : acc)
        for (int i = 0; i < inner; ++i) acc += dyr[i] * xr[i];
        scale_sums[r] = acc;
      } else {
        float acc = 0.f;
#pragma omp simd reduction(+ : acc)
        for (int i = 0; i < inner; ++i) acc += dyr[i];
        bias_sums[r] = acc;
      }
    }
    // A learned blob accumulates its gradient; a scale from bottom[1] gets it written.
    if (want_scale) {
      float* scale_diff = (learned_scale ? blobs_[0].get() : bottom[1])->mutable_cpu_diff();
      FoldRows(outer_, dim, scale_sums, learned_scale, scale_diff);
    }
    if (want_bias) {
      FoldRows(outer_, dim, bias_sums, true, blobs_[bias_index_]->mutable_cpu_diff());
    }
  }
  if (propagate_down[0]) {
    const float* s = (bottom.size() > 1 ? bottom[1] : blobs_[0].get())->cpu_data();
    float* dx = bottom[0]->mutable_cpu_diff();
#pragma omp parallel for if (count >= kParallelMin) schedule(static)
    for (int r = 0; r < rows; ++r) {
      const float sd = s[r % dim];
      const size_t offset = static_cast<size_t>(r) * inner;
      for (int i = 0; i < inner; ++i) dx[offset + i] = dy[offset + i] * sd;
    }
  }
}

}  // namespace crema
