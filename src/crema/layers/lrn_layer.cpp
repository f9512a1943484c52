#include "crema/layers/lrn_layer.h"

#include <omp.h>

#include <algorithm>
#include <cmath>

namespace crema {

namespace {

// Across channels the work is split into (image, run of kChunk spatial positions) tasks, so
// that small batches still spread over threads and each task's running sum fits on the
// stack.
constexpr int kChunk = 256;

// s^(−beta). With kThreeQuarters (beta = 0.75), s^(−3/4) = 1 / (√s · ⁴√s), which the compiler
// vectorises; pow it does not.
template <bool kThreeQuarters>
inline float NegPow(float s, float beta) {
  if constexpr (kThreeQuarters) {
    const float root = std::sqrt(s);
    return 1.f / (root * std::sqrt(root));
  } else {
    return std::pow(s, -beta);
  }
}

}  // namespace

void LRNLayer::LayerSetUp(const BlobVec& /*bottom*/, const BlobVec& /*top*/) {
  const caffe::LRNParameter& p = layer_param_.lrn_param();
  if (p.local_size() == 0 || p.local_size() % 2 == 0 || p.local_size() > 1u << 20) {
    Fail("local_size must be a positive odd number, got ", p.local_size());
  }
  size_ = static_cast<int>(p.local_size());
  radius_ = (size_ - 1) / 2;
  alpha_ = p.alpha();
  beta_ = p.beta();
  k_ = p.k();
  across_ = p.norm_region() == caffe::LRNParameter::ACROSS_CHANNELS;
}

void LRNLayer::Reshape(const BlobVec& bottom, const BlobVec& top) {
  const Blob& input = *bottom[0];
  if (input.num_axes() != 4) {
    Fail("needs a 4-D input (num, channels, height, width), got ", input.shape_string());
  }
  if (top[0] == bottom[0]) Fail("cannot run in place: its backward pass reads input and output");
  num_ = input.shape(0);
  channels_ = input.shape(1);
  height_ = input.shape(2);
  width_ = input.shape(3);
  top[0]->ReshapeLike(input);
  const size_t count = static_cast<size_t>(input.count());
  if (scale_.size() < count) scale_.resize(count);
  if (!across_) {
    threads_ = std::max(1, omp_get_max_threads());
    const size_t needed = static_cast<size_t>(threads_) * 3 * height_ * width_;
    if (scratch_.size() < needed) scratch_.resize(needed);
  }
}

template <bool kThreeQuarters>
void LRNLayer::AcrossForward(const float* x, float* y) {
  const int spatial = height_ * width_;
  const int chunks = (spatial + kChunk - 1) / kChunk;
  const float coef = alpha_ / static_cast<float>(size_);
  const int last = channels_ - 1;
  float* scale = scale_.data();
#pragma omp parallel for schedule(static)
  for (int task = 0; task < num_ * chunks; ++task) {
    const int n = task / chunks;
    const int s0 = (task % chunks) * kChunk;
    const int len = std::min(kChunk, spatial - s0);
    const size_t base = static_cast<size_t>(n) * channels_ * spatial + s0;
    const float* xs = x + base;
    float* ys = y + base;
    float* ss = scale + base;
    auto at = [spatial](int c) { return static_cast<size_t>(c) * spatial; };
    // acc = Σ x² over the channels of the current window, one entry per position.
    float acc[kChunk];
    std::fill(acc, acc + len, 0.f);
    for (int c = 0; c <= std::min(radius_, last); ++c) {
      const float* xc = xs + at(c);
      for (int i = 0; i < len; ++i) acc[i] += xc[i] * xc[i];
    }
    for (int c = 0; c < channels_; ++c) {
      if (c > 0) {
        if (c + radius_ <= last) {
          const float* xa = xs + at(c + radius_);
          for (int i = 0; i < len; ++i) acc[i] += xa[i] * xa[i];
        }
        if (c - radius_ - 1 >= 0) {
          const float* xr = xs + at(c - radius_ - 1);
          for (int i = 0; i < len; ++i) acc[i] -= xr[i] * xr[i];
        }
      }
      const float* xc = xs + at(c);
      float* yc = ys + at(c);
      float* sc = ss + at(c);
      for (int i = 0; i < len; ++i) {
        const float s = k_ + coef * acc[i];
        sc[i] = s;
        yc[i] = xc[i] * NegPow<kThreeQuarters>(s, beta_);
      }
    }
  }
}

template <bool kThreeQuarters>
void LRNLayer::AcrossBackward(const float* x, const float* y, const float* dy, float* dx) {
  const int spatial = height_ * width_;
  const int chunks = (spatial + kChunk - 1) / kChunk;
  const float coef = 2.f * alpha_ * beta_ / static_cast<float>(size_);
  const int last = channels_ - 1;
  const float* scale = scale_.data();
#pragma omp parallel for schedule(static)
  for (int task = 0; task < num_ * chunks; ++task) {
    const int n = task / chunks;
    const int s0 = (task % chunks) * kChunk;
    const int len = std::min(kChunk, spatial - s0);
    const size_t base = static_cast<size_t>(n) * channels_ * spatial + s0;
    auto at = [spatial](int c) { return static_cast<size_t>(c) * spatial; };
    // acc = Σ dy·y/scale over the channels of the current window.
    float acc[kChunk];
    std::fill(acc, acc + len, 0.f);
    auto add = [&](int c, float sign) {
      const float* dyc = dy + base + at(c);
      const float* yc = y + base + at(c);
      const float* sc = scale + base + at(c);
      for (int i = 0; i < len; ++i) acc[i] += sign * (dyc[i] * yc[i] / sc[i]);
    };
    for (int c = 0; c <= std::min(radius_, last); ++c) add(c, 1.f);
    for (int c = 0; c < channels_; ++c) {
      if (c > 0) {
        if (c + radius_ <= last) add(c + radius_, 1.f);
        if (c - radius_ - 1 >= 0) add(c - radius_ - 1, -1.f);
      }
      const float* xc = x + base + at(c);
      const float* dyc = dy + base + at(c);
      const float* sc = scale + base + at(c);
      float* dxc = dx + base + at(c);
      for (int i = 0; i < len; ++i) {
        dxc[i] = dyc[i] * NegPow<kThreeQuarters>(sc[i], beta_) - coef * xc[i] * acc[i];
      }
    }
  }
}

void LRNLayer::BoxSum(const float* in, float* row_sums, float* out) const {
  const int H = height_, W = width_, r = radius_;
  for (int h = 0; h < H; ++h) {
    const float* row = in + static_cast<size_t>(h) * W;
    float* sums = row_sums + static_cast<size_t>(h) * W;
    for (int w = 0; w < W; ++w) {
      float s = 0.f;
      for (int v = std::max(0, w - r); v <= std::min(W - 1, w + r); ++v) s += row[v];
      sums[w] = s;
    }
  }
  for (int h = 0; h < H; ++h) {
    float* o = out + static_cast<size_t>(h) * W;
    std::fill(o, o + W, 0.f);
    for (int u = std::max(0, h - r); u <= std::min(H - 1, h + r); ++u) {
      const float* sums = row_sums + static_cast<size_t>(u) * W;
      for (int w = 0; w < W; ++w) o[w] += sums[w];
    }
  }
}

template <bool kThreeQuarters>
void LRNLayer::WithinForward(const float* x, float* y) {
  const int spatial = height_ * width_;
  const float coef = alpha_ / static_cast<float>(size_ * size_);
  float* scale = scale_.data();
#pragma omp parallel for schedule(static) num_threads(threads_)
  for (int plane = 0; plane < num_ * channels_; ++plane) {
    float* squares = scratch_.data() + static_cast<size_t>(omp_get_thread_num()) * 3 * spatial;
    float* row_sums = squares + spatial;
    float* sums = row_sums + spatial;
    const size_t base = static_cast<size_t>(plane) * spatial;
    const float* xp = x + base;
    for (int i = 0; i < spatial; ++i) squares[i] = xp[i] * xp[i];
    BoxSum(squares, row_sums, sums);
    float* sp = scale + base;
    float* yp = y + base;
    for (int i = 0; i < spatial; ++i) {
      const float s = 1.f + coef * sums[i];
      sp[i] = s;
      yp[i] = xp[i] * NegPow<kThreeQuarters>(s, beta_);
    }
  }
}

template <bool kThreeQuarters>
void LRNLayer::WithinBackward(const float* x, const float* y, const float* dy, float* dx) {
  const int spatial = height_ * width_;
  const float coef = 2.f * alpha_ * beta_ / static_cast<float>(size_ * size_);
  const float* scale = scale_.data();
#pragma omp parallel for schedule(static) num_threads(threads_)
  for (int plane = 0; plane < num_ * channels_; ++plane) {
    float* ratio = scratch_.data() + static_cast<size_t>(omp_get_thread_num()) * 3 * spatial;
    float* row_sums = ratio + spatial;
    float* sums = row_sums + spatial;
    const size_t base = static_cast<size_t>(plane) * spatial;
    const float* sp = scale + base;
    const float* dyp = dy + base;
    const float* yp = y + base;
    for (int i = 0; i < spatial; ++i) ratio[i] = dyp[i] * yp[i] / sp[i];
    BoxSum(ratio, row_sums, sums);
    const float* xp = x + base;
    float* dxp = dx + base;
    for (int i = 0; i < spatial; ++i) {
      dxp[i] = dyp[i] * NegPow<kThreeQuarters>(sp[i], beta_) - coef * xp[i] * sums[i];
    }
  }
}

void LRNLayer::ForwardCpu(const BlobVec& bottom, const BlobVec& top) {
  const float* x = bottom[0]->cpu_data();
  float* y = top[0]->mutable_cpu_data();
  const bool three_quarters = beta_ == 0.75f;
  if (across_) {
    three_quarters ? AcrossForward<true>(x, y) : AcrossForward<false>(x, y);
  } else {
    three_quarters ? WithinForward<true>(x, y) : WithinForward<false>(x, y);
  }
}

void LRNLayer::BackwardCpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                           const BlobVec& bottom) {
  if (!propagate_down[0]) return;
  const float* x = bottom[0]->cpu_data();
  const float* y = top[0]->cpu_data();
  const float* dy = top[0]->cpu_diff();
  float* dx = bottom[0]->mutable_cpu_diff();
  const bool three_quarters = beta_ == 0.75f;
  if (across_) {
    three_quarters ? AcrossBackward<true>(x, y, dy, dx) : AcrossBackward<false>(x, y, dy, dx);
  } else {
    three_quarters ? WithinBackward<true>(x, y, dy, dx) : WithinBackward<false>(x, y, dy, dx);
  }
}

}  // namespace crema
