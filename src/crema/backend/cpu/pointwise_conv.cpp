#include "crema/backend/cpu/pointwise_conv.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "crema/backend/cpu/blas.h"
#include "crema/backend/cpu/dnnl_context.h"

namespace crema::cpu {

namespace {

// Below this many floats moved a parallel region costs more than it saves.
constexpr int64_t kParallelMin = 1 << 15;

// Planes of fewer output positions than this are batched (see the header).
constexpr int kBatchBelowPositions = 128;

size_t Positions(const PointwiseShape& s) {
  return static_cast<size_t>(s.out_height) * static_cast<size_t>(s.out_width);
}

bool Strided(const PointwiseShape& s) { return s.stride_h != 1 || s.stride_w != 1; }

float* Scratch(int slot, size_t floats) {
  return static_cast<float*>(ThreadScratch(slot, floats * sizeof(float)));
}

// packed[r][n·plane + p] = images[n][r][p]: `num` images of `rows` planes of `plane` floats
// into one (rows × num·plane) matrix.
void PackPlanes(int num, int rows, size_t plane, const float* images, float* packed) {
  const size_t width = static_cast<size_t>(num) * plane;
#pragma omp parallel for collapse(2) schedule(static) \
    if (static_cast<int64_t>(rows) * static_cast<int64_t>(width) >= kParallelMin)
  for (int r = 0; r < rows; ++r) {
    for (int n = 0; n < num; ++n) {
      const float* src = images + (static_cast<size_t>(n) * rows + r) * plane;
      std::copy(src, src + plane, packed + r * width + n * plane);
    }
  }
}

// The input's packed columns: the stride's subsampled grid of every plane.
void PackInput(const PointwiseShape& s, const float* x, float* packed) {
  const size_t positions = Positions(s);
  if (!Strided(s)) {
    PackPlanes(s.num, s.channels, positions, x, packed);
    return;
  }
  const size_t in_plane = static_cast<size_t>(s.height) * s.width;
  const size_t width = static_cast<size_t>(s.num) * positions;
#pragma omp parallel for collapse(2) schedule(static) \
    if (static_cast<int64_t>(s.channels) * static_cast<int64_t>(width) >= kParallelMin)
  for (int c = 0; c < s.channels; ++c) {
    for (int n = 0; n < s.num; ++n) {
      const float* plane = x + (static_cast<size_t>(n) * s.channels + c) * in_plane;
      float* out = packed + c * width + n * positions;
      for (int oy = 0; oy < s.out_height; ++oy) {
        const float* row = plane + static_cast<size_t>(oy) * s.stride_h * s.width;
        for (int ox = 0; ox < s.out_width; ++ox) out[ox] = row[ox * s.stride_w];
        out += s.out_width;
      }
    }
  }
}

// The adjoint of PackInput: dx = the packed columns scattered back, zero where a stride
// skips.
void UnpackInput(const PointwiseShape& s, const float* packed, float* dx) {
  const size_t positions = Positions(s);
  const size_t in_plane = static_cast<size_t>(s.height) * s.width;
  const size_t width = static_cast<size_t>(s.num) * positions;
  const bool strided = Strided(s);
#pragma omp parallel for collapse(2) schedule(static) \
    if (static_cast<int64_t>(s.channels) * static_cast<int64_t>(width) >= kParallelMin)
  for (int n = 0; n < s.num; ++n) {
    for (int c = 0; c < s.channels; ++c) {
      float* plane = dx + (static_cast<size_t>(n) * s.channels + c) * in_plane;
      const float* in = packed + c * width + n * positions;
      if (!strided) {
        std::copy(in, in + positions, plane);
        continue;
      }
      std::fill(plane, plane + in_plane, 0.f);
      for (int oy = 0; oy < s.out_height; ++oy) {
        float* row = plane + static_cast<size_t>(oy) * s.stride_h * s.width;
        for (int ox = 0; ox < s.out_width; ++ox) row[ox * s.stride_w] = in[ox];
        in += s.out_width;
      }
    }
  }
}

}  // namespace

void PointwiseImageColumns(const PointwiseShape& s, const float* image, float* columns) {
  PointwiseShape one = s;
  one.num = 1;
  PackInput(one, image, columns);
}

bool PointwiseBatchedPays(const PointwiseShape& s) {
  return s.num > 1 && Positions(s) < static_cast<size_t>(kBatchBelowPositions);
}

void PointwiseBatchedForward(const PointwiseShape& s, const float* x, const float* weight,
                             const float* bias, bool relu, float relu_slope, float* y) {
  const size_t positions = Positions(s);
  const size_t width = static_cast<size_t>(s.num) * positions;
  float* packed_x = Scratch(0, static_cast<size_t>(s.channels) * width);
  float* packed_y = Scratch(1, static_cast<size_t>(s.outputs) * width);
  PackInput(s, x, packed_x);
  Gemm(false, false, s.outputs, static_cast<int>(width), s.channels, 1.f, weight, packed_x, 0.f,
       packed_y);
  // Scattered back with the bias and the ReLU in the same pass.
#pragma omp parallel for collapse(2) schedule(static) \
    if (static_cast<int64_t>(s.outputs) * static_cast<int64_t>(width) >= kParallelMin)
  for (int n = 0; n < s.num; ++n) {
    for (int o = 0; o < s.outputs; ++o) {
      const float* in = packed_y + o * width + n * positions;
      float* out = y + (static_cast<size_t>(n) * s.outputs + o) * positions;
      const float b = bias != nullptr ? bias[o] : 0.f;
      if (relu) {
        for (size_t p = 0; p < positions; ++p) {
          const float v = in[p] + b;
          out[p] = v > 0.f ? v : relu_slope * v;
        }
      } else {
        for (size_t p = 0; p < positions; ++p) out[p] = in[p] + b;
      }
    }
  }
}

void PointwiseBatchedBackward(const PointwiseShape& s, const float* x, const float* dy,
                              const float* weight, float* weight_diff, float* bias_diff,
                              float* dx) {
  const size_t width = static_cast<size_t>(s.num) * Positions(s);
  float* packed_dy = Scratch(1, static_cast<size_t>(s.outputs) * width);
  PackPlanes(s.num, s.outputs, Positions(s), dy, packed_dy);
  if (bias_diff != nullptr) {
    for (int o = 0; o < s.outputs; ++o) {
      const float* row = packed_dy + o * width;
      float sum = 0.f;
      for (size_t p = 0; p < width; ++p) sum += row[p];
      bias_diff[o] += sum;
    }
  }
  if (weight_diff == nullptr && dx == nullptr) return;
  float* packed_x = Scratch(0, static_cast<size_t>(s.channels) * width);
  if (weight_diff != nullptr) {
    PackInput(s, x, packed_x);
    Gemm(false, true, s.outputs, s.channels, static_cast<int>(width), 1.f, packed_dy, packed_x,
         1.f, weight_diff);
  }
  if (dx != nullptr) {
    Gemm(true, false, s.channels, static_cast<int>(width), s.outputs, 1.f, weight, packed_dy,
         0.f, packed_x);
    UnpackInput(s, packed_x, dx);
  }
}

}  // namespace crema::cpu
