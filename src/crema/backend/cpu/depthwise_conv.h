// Depthwise 2-D convolution computed directly on NCHW data.
//
// A depthwise convolution is a Convolution with group = C = num_output: output channel c is
// input channel c correlated with its own kernel_h × kernel_w filter weight[c] (Caffe's
// weight blob (C, 1, kernel_h, kernel_w)), plus bias[c]. Each element needs only
// kernel_h·kernel_w multiply-adds, so the layer is bound by memory traffic; these loops make
// one pass over the input and one over the output per call, reading and writing the blobs in
// their own layout. (oneDNN's depthwise kernels need channel-blocked tensors, and reordering
// the NCHW blobs into and out of that layout costs about as much as the convolution itself.)
// 3×3 kernels get a fused loop for the forward pass and the stride-1 input gradient.
//
// `g` describes one image: g.channels = C, g.height × g.width the input, g.out_height ×
// g.out_width the output (the convolution's floor rule), and the kernel, pad, stride and
// dilation; `num` images follow each other. Work is spread over OpenMP threads (planes, or
// channels for the weight gradient). The functions never allocate and never throw.
#ifndef CREMA_BACKEND_CPU_DEPTHWISE_CONV_H_
#define CREMA_BACKEND_CPU_DEPTHWISE_CONV_H_

#include <cstddef>

#include "crema/layers/im2col.h"

namespace crema::cpu {

// The largest kernel (kernel_h·kernel_w cells) these functions take: all three REQUIRE
// g.kernel_h·g.kernel_w ≤ kDepthwiseMaxTaps.
inline constexpr int kDepthwiseMaxTaps = 256;

// y = depthwise(x, weight) + bias. `bias` may be null.
void DepthwiseForward(const Im2ColGeometry& g, int num, const float* x, const float* weight,
                      const float* bias, float* y);

// dx = ∂E/∂x from dy = ∂E/∂y (dx is overwritten).
void DepthwiseBackwardData(const Im2ColGeometry& g, int num, const float* dy,
                           const float* weight, float* dx);

// Adds ∂E/∂weight into weight_diff and ∂E/∂bias into bias_diff; either may be null (not
// wanted). REQUIRES: `scratch` holds DepthwiseScratchSize(g) floats.
void DepthwiseBackwardWeights(const Im2ColGeometry& g, int num, const float* x,
                              const float* dy, float* weight_diff, float* bias_diff,
                              float* scratch);

// Floats of scratch DepthwiseBackwardWeights needs: a row of partial sums per channel, per
// tap and for the bias.
inline size_t DepthwiseScratchSize(const Im2ColGeometry& g) {
  return static_cast<size_t>(g.channels) * static_cast<size_t>(g.kernel_h * g.kernel_w + 1) *
         static_cast<size_t>(g.out_width);
}

}  // namespace crema::cpu

#endif  // CREMA_BACKEND_CPU_DEPTHWISE_CONV_H_
