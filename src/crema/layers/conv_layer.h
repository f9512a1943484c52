// ConvolutionLayer: 2-D convolution, the reference implementation (im2col + GEMM).
//
// Shapes (channel axis = convolution_param.axis, default 1; the axes before it are
// flattened into N, exactly two spatial axes must follow it):
//   bottom[i]  (N..., C, H, W)
//   top[i]     (N..., num_output, H_out, W_out)
//   blobs()[0] weight (num_output, C / group, kernel_h, kernel_w)
//   blobs()[1] bias (num_output), present when bias_term (default true)
//   H_out = floor((H + 2·pad_h − (dilation_h·(kernel_h − 1) + 1)) / stride_h) + 1, W alike.
//
// Output channel o of group g = o / (num_output / group) sees input channels
// [g·C/group, (g+1)·C/group):
//   top[n, o, y, x] = bias[o] + Σ_{c, i, j} weight[o, c, i, j] ·
//       bottom[n, g·C/group + c, y·stride_h − pad_h + i·dilation_h,
//                                x·stride_w − pad_w + j·dilation_w]
// with input cells outside the image reading as 0.
//
// Parameters (ConvolutionParameter): num_output > 0; kernel_size, pad, stride, dilation each
// given as one value for both spatial axes or one value per axis (pad defaults to 0, stride
// and dilation to 1); or the 2-D forms kernel_h/kernel_w, pad_h/pad_w, stride_h/stride_w.
// Giving both forms of one quantity is an error. group divides C and num_output.
// weight_filler and bias_filler default to constant 0.
//
// Several bottoms are allowed, one top per bottom, all of one shape; they share the weights
// and their weight gradients add up. Parsing, shapes and the bias live in
// BaseConvolutionLayer (layers/base_conv_layer.h), shared with DeconvolutionLayer.
//
// This class is what `engine: CAFFE` selects; the oneDNN subclass
// (backend/cpu/dnnl_conv_layer.h) must agree with it. Errors: LayerSetUp and Reshape throw
// InvalidArgument (naming the layer) for bad parameters or shapes — including a kernel that
// spans more than the padded input — and Unsupported for a number of spatial axes other than
// 2. A layer is used by one thread at a time.
#ifndef CREMA_LAYERS_CONV_LAYER_H_
#define CREMA_LAYERS_CONV_LAYER_H_

#include "crema/layers/base_conv_layer.h"

namespace crema {

class ConvolutionLayer : public BaseConvolutionLayer {
 public:
  explicit ConvolutionLayer(const caffe::LayerParameter& param)
      : BaseConvolutionLayer(param, /*transposed=*/false) {}

  const char* type() const override { return "Convolution"; }

 protected:
  // H_out and W_out by the floor rule above.
  void ComputeOutputSize(const Blob& input) override;
  // y = W · im2col(x).
  void ForwardImage(const float* x, const float* weight, float* y) override;
  // dW += dy · im2col(x)ᵀ; dx = col2im(Wᵀ · dy).
  void BackwardImage(const float* x, const float* dy, const float* weight, float* weight_diff,
                     float* dx) override;
};

}  // namespace crema

#endif  // CREMA_LAYERS_CONV_LAYER_H_
