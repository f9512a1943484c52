// 1×1 convolutions over NCHW batches as one GEMM for the whole batch.
//
// A 1×1 convolution without padding and with one group is y_n = W · x_n for every image n,
// W the (outputs × channels) weight and x_n the image's (channels × positions) matrix,
// subsampled by the stride. One GEMM per image runs at the GEMM rate while an image has many
// positions, but on small planes the GEMM's n = positions is too narrow for its kernels
// (7×7 planes: about 70 GFLOP/s on one thread where 1,000 columns reach 95). These functions
// first gather the batch's columns into one (channels × num·positions) matrix, make one GEMM
// of it and scatter the result back: the copies cost a pass over input and output, which
// pays only on small planes (PointwiseBatchedPays).
//
// The packed matrices live in the calling thread's scratch slots 0 and 1
// (backend/cpu/dnnl_context.h), so nothing is allocated once they have grown. Work is spread
// over OpenMP threads. The functions never throw, except Unsupported from a failed sgemm.
#ifndef CREMA_BACKEND_CPU_POINTWISE_CONV_H_
#define CREMA_BACKEND_CPU_POINTWISE_CONV_H_

namespace crema::cpu {

// A 1×1 convolution of `num` images: channels × height × width in, outputs × out_height ×
// out_width out, out_height = (height − 1) / stride_h + 1 (W alike).
struct PointwiseShape {
  int num = 0, channels = 0, height = 0, width = 0;
  int outputs = 0, out_height = 0, out_width = 0;
  int stride_h = 1, stride_w = 1;
};

// Whether the batched form beats one GEMM per image for `s`: planes of under 128 output
// positions, more than one image (measured on ResNet-50's shapes: 7×7 planes +30% forward,
// 14×14 no better).
bool PointwiseBatchedPays(const PointwiseShape& s);

// The columns of one image (s.num is ignored): its (channels × out_height·out_width) matrix,
// subsampled by the stride, written to `columns`. Spread over OpenMP threads, for the
// per-image GEMM of a strided layer.
void PointwiseImageColumns(const PointwiseShape& s, const float* image, float* columns);

// y = W · x + bias (null: none), then max(y, 0) + relu_slope·min(y, 0) when `relu`; `weight`
// is (outputs × channels) row-major. Overwrites y.
void PointwiseBatchedForward(const PointwiseShape& s, const float* x, const float* weight,
                             const float* bias, bool relu, float relu_slope, float* y);

// From dy = ∂E/∂y: adds ∂E/∂W into weight_diff and ∂E/∂bias into bias_diff, and overwrites
// dx with ∂E/∂x (zero at the positions a stride skips); a null output is not computed.
void PointwiseBatchedBackward(const PointwiseShape& s, const float* x, const float* dy,
                              const float* weight, float* weight_diff, float* bias_diff,
                              float* dx);

}  // namespace crema::cpu

#endif  // CREMA_BACKEND_CPU_POINTWISE_CONV_H_
