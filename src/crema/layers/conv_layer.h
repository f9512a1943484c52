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
// and their weight gradients add up.
//
// This class is what `engine: CAFFE` selects; the oneDNN subclass
// (backend/cpu/dnnl_conv_layer.h) must agree with it. Errors: LayerSetUp and Reshape throw
// InvalidArgument (naming the layer) for bad parameters or shapes, and Unsupported for a
// number of spatial axes other than 2. A layer is used by one thread at a time.
#ifndef CREMA_LAYERS_CONV_LAYER_H_
#define CREMA_LAYERS_CONV_LAYER_H_

#include <vector>

#include "crema/layers/im2col.h"
#include "crema/layers/layer.h"

namespace crema {

class ConvolutionLayer : public Layer {
 public:
  explicit ConvolutionLayer(const caffe::LayerParameter& param) : Layer(param) {}

  // Shapes the tops and sizes the im2col buffer.
  void Reshape(const BlobVec& bottom, const BlobVec& top) override;

  const char* type() const override { return "Convolution"; }
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
  int channels_ = 0;
  int num_output_ = 0;
  int group_ = 1;
  bool bias_term_ = true;
  int kernel_h_ = 0, kernel_w_ = 0;
  int pad_h_ = 0, pad_w_ = 0;
  int stride_h_ = 1, stride_w_ = 1;
  int dilation_h_ = 1, dilation_w_ = 1;

  // Input geometry, set by ReshapeTops.
  int num_ = 0;  // product of the axes before the channel axis
  int height_ = 0, width_ = 0;
  int out_height_ = 0, out_width_ = 0;

 private:
  void ParseGeometry();
  // The column matrix of one input image (layers/im2col.h), set by Reshape.
  Im2ColGeometry col_geometry_;
  // A 1×1 kernel with stride 1 and no padding needs no im2col: the image is the matrix.
  bool IsPointwise() const;

  std::vector<float> col_buffer_;
};

}  // namespace crema

#endif  // CREMA_LAYERS_CONV_LAYER_H_
