// DeconvolutionLayer: 2-D transposed convolution, the reference implementation (GEMM + col2im).
//
// The adjoint of ConvolutionLayer with the same kernel, stride, pad and dilation: every input
// cell scatters its value, weighted by the kernel, onto the output. Shapes (channel axis =
// convolution_param.axis, default 1; the axes before it are flattened into N, exactly two
// spatial axes follow it):
//   bottom[i]  (N..., C, H, W)
//   top[i]     (N..., num_output, H_out, W_out)
//   blobs()[0] weight (C, num_output / group, kernel_h, kernel_w)   — Caffe's layout
//   blobs()[1] bias (num_output), present when bias_term (default true)
//   H_out = stride_h·(H − 1) + dilation_h·(kernel_h − 1) + 1 − 2·pad_h, W alike.
//
// Input channel c of group g = c / (C / group) feeds output channels
// [g·num_output/group, (g+1)·num_output/group):
//   top[n, g·num_output/group + o, y·stride_h − pad_h + i·dilation_h,
//                                  x·stride_w − pad_w + j·dilation_w]
//       += weight[c, o, i, j] · bottom[n, c, y, x]
// over every input cell (y, x) and kernel tap (i, j); targets outside the output (the pad
// border) are dropped; then top[n, o, ·, ·] += bias[o]. Convolving the top with the same
// geometry gives H × W again.
//
// Parameters (ConvolutionParameter): num_output > 0; kernel_size, pad, stride, dilation each
// one value for both axes or one per axis (pad 0, stride 1, dilation 1 by default), or the
// kernel_h/kernel_w, pad_h/pad_w, stride_h/stride_w forms; group divides C and num_output;
// weight_filler and bias_filler default to constant 0.
//
// Several bottoms are allowed, one top per bottom, all of one shape; they share the weights
// and their weight gradients add up. Parsing, shapes and the bias live in
// BaseConvolutionLayer (layers/base_conv_layer.h), shared with ConvolutionLayer.
//
// This class is what `engine: CAFFE` selects; the oneDNN subclass
// (backend/cpu/dnnl_deconv_layer.h) must agree with it. Errors: LayerSetUp and Reshape throw
// InvalidArgument (naming the layer) for bad parameters or shapes — including an output size
// that is not positive — and Unsupported for a number of spatial axes other than 2. A layer is
// used by one thread at a time.
#ifndef CREMA_LAYERS_DECONV_LAYER_H_
#define CREMA_LAYERS_DECONV_LAYER_H_

#include "crema/layers/base_conv_layer.h"

namespace crema {

class DeconvolutionLayer : public BaseConvolutionLayer {
 public:
  explicit DeconvolutionLayer(const caffe::LayerParameter& param)
      : BaseConvolutionLayer(param, /*transposed=*/true) {}

  const char* type() const override { return "Deconvolution"; }

 protected:
  // H_out and W_out by the rule above; at most 2^30 each.
  void ComputeOutputSize(const Blob& input) override;
  // y = col2im(Wᵀ · x): the transposed convolution.
  void ForwardImage(const float* x, const float* weight, float* y) override;
  // With col = im2col(dy): dW += x · colᵀ; dx = W · col, a plain convolution of dy.
  void BackwardImage(const float* x, const float* dy, const float* weight, float* weight_diff,
                     float* dx) override;
};

}  // namespace crema

#endif  // CREMA_LAYERS_DECONV_LAYER_H_
