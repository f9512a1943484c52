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
// and their weight gradients add up.
//
// This class is what `engine: CAFFE` selects; the oneDNN subclass
// (backend/cpu/dnnl_deconv_layer.h) must agree with it. Errors: LayerSetUp and Reshape throw
// InvalidArgument (naming the layer) for bad parameters or shapes — including an output size
// that is not positive — and Unsupported for a number of spatial axes other than 2. A layer is
// used by one thread at a time.
#ifndef CREMA_LAYERS_DECONV_LAYER_H_
#define CREMA_LAYERS_DECONV_LAYER_H_

#include <vector>

#include "crema/layers/im2col.h"
#include "crema/layers/layer.h"

namespace crema {

class DeconvolutionLayer : public Layer {
 public:
  explicit DeconvolutionLayer(const caffe::LayerParameter& param) : Layer(param) {}

  // Shapes the tops and sizes the column buffer.
  void Reshape(const BlobVec& bottom, const BlobVec& top) override;

  const char* type() const override { return "Deconvolution"; }
  int MinBottomBlobs() const override { return 1; }
  int MinTopBlobs() const override { return 1; }
  bool EqualNumBottomTopBlobs() const override { return true; }

 protected:
  // Parses the geometry, checks it against bottom[0] and creates and fills the parameters.
  void LayerSetUp(const BlobVec& bottom, const BlobVec& top) override;
  void ForwardCpu(const BlobVec& bottom, const BlobVec& top) override;
  void BackwardCpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                   const BlobVec& bottom) override;

  // Checks every bottom against the set-up geometry, fills num_/height_/width_/out_*, and
  // reshapes every top. Shared by every implementation's Reshape.
  void ReshapeTops(const BlobVec& bottom, const BlobVec& top);

  // Geometry fixed by LayerSetUp.
  int channel_axis_ = 1;
  int channels_ = 0;  // input channels
  int num_output_ = 0;
  int group_ = 1;
  bool bias_term_ = true;
  ConvKernel kernel_;

  // Input geometry, set by ReshapeTops.
  int num_ = 0;  // product of the axes before the channel axis
  int height_ = 0, width_ = 0;
  int out_height_ = 0, out_width_ = 0;

 private:
  // A 1×1 kernel with stride 1 and no padding needs no col2im: the column matrix is the top.
  bool IsPointwise() const;

  // The column matrix seen from the top: the top is the "image" a convolution would read,
  // the bottom's H × W cells are that convolution's output positions.
  Im2ColGeometry col_geometry_;
  std::vector<float> col_buffer_;
};

}  // namespace crema

#endif  // CREMA_LAYERS_DECONV_LAYER_H_
