#include "crema/layers/softmax_layer.h"

#include <algorithm>
#include <cmath>

namespace crema {

namespace {

// Work is split into (n, block of inner positions) tasks so that both a large batch and a
// large spatial extent (inner) spread over threads; inner positions are contiguous in memory.
constexpr int kInnerBlock = 512;
constexpr long kParallelMin = 1 << 15;

int NumBlocks(int inner) { return (inner + kInnerBlock - 1) / kInnerBlock; }

}  // namespace

void SoftmaxLayer::Reshape(const BlobVec& bottom, const BlobVec& top) {
  const Blob& x = *bottom[0];
  const int axis_param = layer_param_.softmax_param().axis();
  if (axis_param < -x.num_axes() || axis_param >= x.num_axes()) {
    Fail("softmax_param.axis ", axis_param, " is out of range for a bottom of shape ",
         x.shape_string());
  }
  const int axis = axis_param < 0 ? axis_param + x.num_axes() : axis_param;
  outer_ = x.count(0, axis);
  channels_ = x.shape(axis);
  inner_ = x.count(axis + 1);
  top[0]->ReshapeLike(x);
  const size_t needed = static_cast<size_t>(outer_) * inner_;
  if (scratch_.size() < needed) scratch_.resize(needed);
}

void SoftmaxLayer::ForwardCpu(const BlobVec& bottom, const BlobVec& top) {
  const int channels = channels_, inner = inner_;
  if (channels == 0) return;  // nothing to normalise; also keeps the max pass in bounds
  const float* x_all = bottom[0]->cpu_data();
  float* y_all = top[0]->mutable_cpu_data();
  const int blocks = NumBlocks(inner);
  const int tasks = outer_ * blocks;
  const long work = static_cast<long>(outer_) * channels * inner;
  if (inner == 1) {  // classifier outputs: one contiguous row per sample
#pragma omp parallel for if (work >= kParallelMin) schedule(static)
    for (int n = 0; n < outer_; ++n) {
      const float* x = x_all + static_cast<long>(n) * channels;
      float* y = y_all + static_cast<long>(n) * channels;
      float m = x[0];
      for (int c = 1; c < channels; ++c) m = std::max(m, x[c]);
      float sum = 0.f;
      for (int c = 0; c < channels; ++c) {
        y[c] = std::exp(x[c] - m);
        sum += y[c];
      }
      const float inv = 1.f / sum;
      for (int c = 0; c < channels; ++c) y[c] *= inv;
    }
    return;
  }
  float* scratch = scratch_.data();
#pragma omp parallel for if (work >= kParallelMin) schedule(static)
  for (int t = 0; t < tasks; ++t) {
    const int n = t / blocks;
    const int i0 = (t % blocks) * kInnerBlock;
    const int i1 = std::min(inner, i0 + kInnerBlock);
    const long base = static_cast<long>(n) * channels * inner;
    const float* x = x_all + base;
    float* y = y_all + base;
    float* s = scratch + static_cast<long>(n) * inner;
    // Row maximum, then exponentials (in place safe: each x is read before its y is written),
    // then the normalising sum.
    for (int i = i0; i < i1; ++i) s[i] = x[i];
    for (int c = 1; c < channels; ++c) {
      const float* xc = x + static_cast<long>(c) * inner;
      for (int i = i0; i < i1; ++i) s[i] = std::max(s[i], xc[i]);
    }
    for (int c = 0; c < channels; ++c) {
      const float* xc = x + static_cast<long>(c) * inner;
      float* yc = y + static_cast<long>(c) * inner;
      for (int i = i0; i < i1; ++i) yc[i] = std::exp(xc[i] - s[i]);
    }
    for (int i = i0; i < i1; ++i) s[i] = 0.f;
    for (int c = 0; c < channels; ++c) {
      const float* yc = y + static_cast<long>(c) * inner;
      for (int i = i0; i < i1; ++i) s[i] += yc[i];
    }
    for (int i = i0; i < i1; ++i) s[i] = 1.f / s[i];
    for (int c = 0; c < channels; ++c) {
      float* yc = y + static_cast<long>(c) * inner;
      for (int i = i0; i < i1; ++i) yc[i] *= s[i];
    }
  }
}

void SoftmaxLayer::BackwardCpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                               const BlobVec& bottom) {
  if (!propagate_down[0]) return;
  const int channels = channels_, inner = inner_;
  if (channels == 0) return;
  const float* y_all = top[0]->cpu_data();
  const float* dy_all = top[0]->cpu_diff();
  float* dx_all = bottom[0]->mutable_cpu_diff();
  const int blocks = NumBlocks(inner);
  const int tasks = outer_ * blocks;
  const long work = static_cast<long>(outer_) * channels * inner;
  if (inner == 1) {
#pragma omp parallel for if (work >= kParallelMin) schedule(static)
    for (int n = 0; n < outer_; ++n) {
      const long base = static_cast<long>(n) * channels;
      const float* y = y_all + base;
      const float* dy = dy_all + base;
      float* dx = dx_all + base;
      float dot = 0.f;
      for (int c = 0; c < channels; ++c) dot += dy[c] * y[c];
      for (int c = 0; c < channels; ++c) dx[c] = y[c] * (dy[c] - dot);
    }
    return;
  }
  float* scratch = scratch_.data();
#pragma omp parallel for if (work >= kParallelMin) schedule(static)
  for (int t = 0; t < tasks; ++t) {
    const int n = t / blocks;
    const int i0 = (t % blocks) * kInnerBlock;
    const int i1 = std::min(inner, i0 + kInnerBlock);
    const long base = static_cast<long>(n) * channels * inner;
    const float* y = y_all + base;
    const float* dy = dy_all + base;
    float* dx = dx_all + base;
    float* dot = scratch + static_cast<long>(n) * inner;
    for (int i = i0; i < i1; ++i) dot[i] = 0.f;
    for (int c = 0; c < channels; ++c) {
      const long off = static_cast<long>(c) * inner;
      for (int i = i0; i < i1; ++i) dot[i] += dy[off + i] * y[off + i];
    }
    // Element-wise from here, so dx may alias dy (in place).
    for (int c = 0; c < channels; ++c) {
      const long off = static_cast<long>(c) * inner;
      for (int i = i0; i < i1; ++i) dx[off + i] = y[off + i] * (dy[off + i] - dot[i]);
    }
  }
}

}  // namespace crema
