#include "crema/backend/cpu/depthwise_conv.h"

#include <algorithm>
#include <cstddef>

namespace crema::cpu {

namespace {

// Below this many output elements a parallel region costs more than it saves.
constexpr size_t kParallelMin = 1 << 14;

// Output positions o in [0, count) whose input coordinate o·stride + offset lies in
// [0, limit), as the half-open range [*lo, *hi): the inner loops then need no bounds tests.
void ValidRange(int offset, int stride, int limit, int count, int* lo, int* hi) {
  *lo = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
  *hi = limit - offset > 0 ? std::min(count, (limit - offset + stride - 1) / stride) : 0;
  *lo = std::min(*lo, *hi);
}

// The geometry of CorrelatePlane: out[oy, ox] = bias + Σ_{i,j} w[i, j] · in[oy·sh − ph + i·dh,
// ox·sw − pw + j·dw], cells outside `in` reading as 0 — the forward pass, and (with the
// kernel flipped) the stride-1 backward-data pass.
struct Plane {
  int in_h, in_w, out_h, out_w;
  int kernel_h, kernel_w, pad_h, pad_w, stride_h, stride_w, dilation_h, dilation_w;
};

// out[o] += w · in[o·stride + offset] for o in [lo, hi); the stride-1 form vectorises.
inline void TapRow(const float* __restrict in, int offset, int stride, int lo, int hi, float w,
                   float* __restrict out) {
  if (stride == 1) {
    for (int o = lo; o < hi; ++o) out[o] += w * in[o + offset];
  } else {
    for (int o = lo; o < hi; ++o) out[o] += w * in[o * stride + offset];
  }
}

// The 3×3 kernel's interior: all nine taps in one pass, the sum in registers.
template <int kStride>
inline void Row3x3(const float* __restrict r0, const float* __restrict r1,
                   const float* __restrict r2, const float* __restrict w, float bias, int base,
                   int dilation, int stride, int lo, int hi, float* __restrict out) {
  const int s = kStride > 0 ? kStride : stride;
  const int d1 = dilation, d2 = 2 * dilation;
  for (int o = lo; o < hi; ++o) {
    const int x = o * s + base;
    out[o] = bias + w[0] * r0[x] + w[1] * r0[x + d1] + w[2] * r0[x + d2] + w[3] * r1[x] +
             w[4] * r1[x + d1] + w[5] * r1[x + d2] + w[6] * r2[x] + w[7] * r2[x + d1] +
             w[8] * r2[x + d2];
  }
}

void CorrelatePlane(const Plane& p, const float* in, const float* w, float bias, float* out) {
  // Columns where every tap of a row lands inside the input: [interior_lo, interior_hi).
  int interior_lo = 0, interior_hi = p.out_w;
  for (int j = 0; j < p.kernel_w; ++j) {
    int lo, hi;
    ValidRange(j * p.dilation_w - p.pad_w, p.stride_w, p.in_w, p.out_w, &lo, &hi);
    interior_lo = std::max(interior_lo, lo);
    interior_hi = std::min(interior_hi, hi);
  }
  const bool three_by_three = p.kernel_h == 3 && p.kernel_w == 3 && interior_lo < interior_hi;
  for (int oy = 0; oy < p.out_h; ++oy) {
    float* out_row = out + static_cast<size_t>(oy) * p.out_w;
    const int iy0 = oy * p.stride_h - p.pad_h;
    if (three_by_three && iy0 >= 0 && iy0 + 2 * p.dilation_h < p.in_h) {
      const float* r0 = in + static_cast<size_t>(iy0) * p.in_w;
      const float* r1 = r0 + static_cast<size_t>(p.dilation_h) * p.in_w;
      const float* r2 = r1 + static_cast<size_t>(p.dilation_h) * p.in_w;
      const int base = -p.pad_w;
      if (p.stride_w == 1) {
        Row3x3<1>(r0, r1, r2, w, bias, base, p.dilation_w, 1, interior_lo, interior_hi, out_row);
      } else if (p.stride_w == 2) {
        Row3x3<2>(r0, r1, r2, w, bias, base, p.dilation_w, 2, interior_lo, interior_hi, out_row);
      } else {
        Row3x3<0>(r0, r1, r2, w, bias, base, p.dilation_w, p.stride_w, interior_lo, interior_hi,
                  out_row);
      }
      // The few border columns, tap by tap.
      std::fill(out_row, out_row + interior_lo, bias);
      std::fill(out_row + interior_hi, out_row + p.out_w, bias);
      const float* rows[3] = {r0, r1, r2};
      for (int i = 0; i < 3; ++i) {
        for (int j = 0; j < 3; ++j) {
          const int offset = j * p.dilation_w - p.pad_w;
          int lo, hi;
          ValidRange(offset, p.stride_w, p.in_w, p.out_w, &lo, &hi);
          TapRow(rows[i], offset, p.stride_w, lo, std::min(hi, interior_lo), w[i * 3 + j],
                 out_row);
          TapRow(rows[i], offset, p.stride_w, std::max(lo, interior_hi), hi, w[i * 3 + j],
                 out_row);
        }
      }
      continue;
    }
    // Any kernel, or rows whose taps reach into the padding: one pass per tap, the output
    // row staying in L1.
    std::fill(out_row, out_row + p.out_w, bias);
    for (int i = 0; i < p.kernel_h; ++i) {
      const int iy = iy0 + i * p.dilation_h;
      if (iy < 0 || iy >= p.in_h) continue;
      const float* in_row = in + static_cast<size_t>(iy) * p.in_w;
      for (int j = 0; j < p.kernel_w; ++j) {
        const int offset = j * p.dilation_w - p.pad_w;
        int lo, hi;
        ValidRange(offset, p.stride_w, p.in_w, p.out_w, &lo, &hi);
        TapRow(in_row, offset, p.stride_w, lo, hi, w[i * p.kernel_w + j], out_row);
      }
    }
  }
}

// acc[o] += out[o] · in[o·stride + offset] for o in [lo, hi): a dot product kept as a row of
// partial sums, so that it vectorises (one float sum would be a long dependency chain the
// compiler may not reorder).
inline void TapProductRow(const float* __restrict in, int offset, int stride, int lo, int hi,
                          const float* __restrict out, float* __restrict acc) {
  if (stride == 1) {
    for (int o = lo; o < hi; ++o) acc[o] += out[o] * in[o + offset];
  } else {
    for (int o = lo; o < hi; ++o) acc[o] += out[o] * in[o * stride + offset];
  }
}

Plane ForwardPlane(const Im2ColGeometry& g) {
  return {g.height,   g.width,    g.out_height, g.out_width,  g.kernel_h,   g.kernel_w,
          g.pad_h,    g.pad_w,    g.stride_h,   g.stride_w,   g.dilation_h, g.dilation_w};
}

}  // namespace

void DepthwiseForward(const Im2ColGeometry& g, int num, const float* x, const float* weight,
                      const float* bias, float* y) {
  const int planes = num * g.channels;
  const size_t in_plane = static_cast<size_t>(g.height) * g.width;
  const size_t out_plane = static_cast<size_t>(g.out_height) * g.out_width;
  const int taps = g.kernel_h * g.kernel_w;
  const Plane plane = ForwardPlane(g);
#pragma omp parallel for if (planes * out_plane >= kParallelMin) schedule(static)
  for (int p = 0; p < planes; ++p) {
    const int c = p % g.channels;
    CorrelatePlane(plane, x + p * in_plane, weight + static_cast<size_t>(c) * taps,
                   bias != nullptr ? bias[c] : 0.f, y + p * out_plane);
  }
}

void DepthwiseBackwardData(const Im2ColGeometry& g, int num, const float* dy,
                           const float* weight, float* dx) {
  const int planes = num * g.channels;
  const size_t in_plane = static_cast<size_t>(g.height) * g.width;
  const size_t out_plane = static_cast<size_t>(g.out_height) * g.out_width;
  const int taps = g.kernel_h * g.kernel_w;
  if (g.stride_h == 1 && g.stride_w == 1) {
    // At stride 1 the input gradient is a correlation of dy with the flipped kernel, padded
    // by the kernel's extent minus the forward padding: the fused forward loops apply.
    const Plane plane{g.out_height,
                      g.out_width,
                      g.height,
                      g.width,
                      g.kernel_h,
                      g.kernel_w,
                      (g.kernel_h - 1) * g.dilation_h - g.pad_h,
                      (g.kernel_w - 1) * g.dilation_w - g.pad_w,
                      1,
                      1,
                      g.dilation_h,
                      g.dilation_w};
#pragma omp parallel for if (planes * out_plane >= kParallelMin) schedule(static)
    for (int p = 0; p < planes; ++p) {
      const float* w = weight + static_cast<size_t>(p % g.channels) * taps;
      float flipped[kDepthwiseMaxTaps];
      for (int t = 0; t < taps; ++t) flipped[t] = w[taps - 1 - t];
      CorrelatePlane(plane, dy + p * out_plane, flipped, 0.f, dx + p * in_plane);
    }
    return;
  }
#pragma omp parallel for if (planes * out_plane >= kParallelMin) schedule(static)
  for (int p = 0; p < planes; ++p) {
    const int c = p % g.channels;
    float* in = dx + p * in_plane;
    const float* out = dy + p * out_plane;
    const float* w = weight + static_cast<size_t>(c) * taps;
    // Strided: scatter every output gradient back along the taps; the input plane (one
    // image's channel) stays in cache meanwhile.
    std::fill(in, in + in_plane, 0.f);
    for (int oy = 0; oy < g.out_height; ++oy) {
      const float* out_row = out + static_cast<size_t>(oy) * g.out_width;
      for (int i = 0; i < g.kernel_h; ++i) {
        const int iy = oy * g.stride_h - g.pad_h + i * g.dilation_h;
        if (iy < 0 || iy >= g.height) continue;
        float* in_row = in + static_cast<size_t>(iy) * g.width;
        for (int j = 0; j < g.kernel_w; ++j) {
          const int offset = j * g.dilation_w - g.pad_w;
          int lo, hi;
          ValidRange(offset, g.stride_w, g.width, g.out_width, &lo, &hi);
          const float wv = w[i * g.kernel_w + j];
          if (g.stride_w == 2) {
            for (int o = lo; o < hi; ++o) in_row[o * 2 + offset] += wv * out_row[o];
          } else {
            for (int o = lo; o < hi; ++o) in_row[o * g.stride_w + offset] += wv * out_row[o];
          }
        }
      }
    }
  }
}

void DepthwiseBackwardWeights(const Im2ColGeometry& g, int num, const float* x,
                              const float* dy, float* weight_diff, float* bias_diff,
                              float* scratch) {
  const size_t in_plane = static_cast<size_t>(g.height) * g.width;
  const size_t out_plane = static_cast<size_t>(g.out_height) * g.out_width;
  const size_t image_in = in_plane * g.channels, image_out = out_plane * g.channels;
  const int taps = g.kernel_h * g.kernel_w;
  const int ow = g.out_width;
  const size_t rows_per_channel = static_cast<size_t>(taps + 1) * ow;
  const size_t work = static_cast<size_t>(num) * g.channels * out_plane;
  // One channel per iteration: its sums need no reduction across threads. Row t of the
  // channel's scratch collects tap t's products (row `taps` the bias's) over one image's
  // plane; each plane's rows are then added up in double.
#pragma omp parallel for if (work >= kParallelMin) schedule(static)
  for (int c = 0; c < g.channels; ++c) {
    float* rows = scratch + static_cast<size_t>(c) * rows_per_channel;
    float* bias_row = rows + static_cast<size_t>(taps) * ow;
    double sums[kDepthwiseMaxTaps + 1] = {};
    for (int n = 0; n < num; ++n) {
      std::fill(rows, rows + rows_per_channel, 0.f);
      const float* in = x + n * image_in + c * in_plane;
      const float* out = dy + n * image_out + c * out_plane;
      for (int oy = 0; oy < g.out_height; ++oy) {
        const float* out_row = out + static_cast<size_t>(oy) * ow;
        if (bias_diff != nullptr) {
          for (int ox = 0; ox < ow; ++ox) bias_row[ox] += out_row[ox];
        }
        if (weight_diff == nullptr) continue;
        for (int i = 0; i < g.kernel_h; ++i) {
          const int iy = oy * g.stride_h - g.pad_h + i * g.dilation_h;
          if (iy < 0 || iy >= g.height) continue;
          const float* in_row = in + static_cast<size_t>(iy) * g.width;
          for (int j = 0; j < g.kernel_w; ++j) {
            const int offset = j * g.dilation_w - g.pad_w;
            int lo, hi;
            ValidRange(offset, g.stride_w, g.width, ow, &lo, &hi);
            TapProductRow(in_row, offset, g.stride_w, lo, hi, out_row,
                          rows + static_cast<size_t>(i * g.kernel_w + j) * ow);
          }
        }
      }
      for (int t = 0; t <= taps; ++t) {
        const float* row = rows + static_cast<size_t>(t) * ow;
        double sum = 0;
        for (int ox = 0; ox < ow; ++ox) sum += row[ox];
        sums[t] += sum;
      }
    }
    if (weight_diff != nullptr) {
      float* w_diff = weight_diff + static_cast<size_t>(c) * taps;
      for (int t = 0; t < taps; ++t) w_diff[t] += static_cast<float>(sums[t]);
    }
    if (bias_diff != nullptr) bias_diff[c] += static_cast<float>(sums[taps]);
  }
}

}  // namespace crema::cpu
