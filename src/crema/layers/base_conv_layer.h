// BaseConvolutionLayer: what Convolution and Deconvolution share — parameters, blobs, shape
// checks, bias handling and the reference computation (im2col + GEMM per group).
//
// Both layers are described by one 2-D convolution: ConvolutionLayer computes it, and
// DeconvolutionLayer computes its transpose (adjoint). That convolution reads an "image" and
// writes an "output":
//
//                  image (the convolution reads)          output (the convolution writes)
//   Convolution    bottom (N..., C, H, W)                 top (N..., num_output, H_out, W_out)
//   Deconvolution  top (N..., num_output, H_out, W_out)   bottom (N..., C, H, W)
//
// and its weight blob is (output channels, image channels / group, kernel_h, kernel_w) in
// both cases: (num_output, C/group, kh, kw) for a Convolution, (C, num_output/group, kh, kw)
// for a Deconvolution — the layouts Caffe stores. blobs()[1] is the bias (num_output), present
// when bias_term (default true); it is added to the top in both layers.
//
// Parameters (ConvolutionParameter): num_output > 0; kernel_size, pad, stride, dilation each
// one value for both spatial axes or one per axis (pad 0, stride 1, dilation 1 by default), or
// the kernel_h/kernel_w, pad_h/pad_w, stride_h/stride_w forms (giving both forms of one
// quantity is an error); group divides C and num_output; axis (default 1) is the channel
// axis, the axes before it are flattened into N and exactly two spatial axes must follow it;
// weight_filler and bias_filler default to constant 0.
//
// Several bottoms are allowed, one top per bottom, all of one shape; they share the weights
// and their weight gradients add up.
//
// The base runs the lifecycle; a subclass supplies its output size (ComputeOutputSize) and
// what one image's forward and backward pass are in terms of the GEMM helpers below
// (ForwardImage, BackwardImage). Errors: LayerSetUp and Reshape throw InvalidArgument (naming
// the layer) for bad parameters or shapes, and Unsupported for a number of spatial axes other
// than 2. A layer is used by one thread at a time.
#ifndef CREMA_LAYERS_BASE_CONV_LAYER_H_
#define CREMA_LAYERS_BASE_CONV_LAYER_H_

#include <cstddef>
#include <vector>

#include "crema/layers/im2col.h"
#include "crema/layers/layer.h"

namespace crema {

class BaseConvolutionLayer : public Layer {
 public:
  // `transposed`: false for a layer that computes its convolution, true for one that
  // computes the convolution's transpose (Deconvolution).
  BaseConvolutionLayer(const caffe::LayerParameter& param, bool transposed)
      : Layer(param), transposed_(transposed) {}

  // Shapes the tops (ReshapeTops) and sizes the column buffer of the reference computation.
  void Reshape(const BlobVec& bottom, const BlobVec& top) override;

  // Backward reads the input (for the weight gradient), never the output.
  bool BackwardReadsTopData(int) const override { return false; }
  int MinBottomBlobs() const override { return 1; }
  int MinTopBlobs() const override { return 1; }
  bool EqualNumBottomTopBlobs() const override { return true; }

 protected:
  // Parses the geometry, checks it against bottom[0] and creates and fills the weight and
  // bias blobs.
  void LayerSetUp(const BlobVec& bottom, const BlobVec& top) override;
  // For every bottom and image n: ForwardImage, then the bias.
  void ForwardCpu(const BlobVec& bottom, const BlobVec& top) override;
  // For every top: the bias gradient, then BackwardImage for every image n.
  void BackwardCpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                   const BlobVec& bottom) override;

  // ---- Hooks ----
  // Sets out_height_ and out_width_ from height_, width_ and kernel_. Throws InvalidArgument,
  // naming the layer and `input` (bottom[0]), when the input gives no valid output.
  virtual void ComputeOutputSize(const Blob& input) = 0;
  // One image of one bottom: x (C·H·W floats) → y (num_output·H_out·W_out), bias left out.
  virtual void ForwardImage(const float* x, const float* weight, float* y) = 0;
  // One image of one bottom: adds the weight gradient into `weight_diff` unless it is null,
  // and overwrites `dx` with the input gradient unless it is null (not both null).
  virtual void BackwardImage(const float* x, const float* dy, const float* weight,
                             float* weight_diff, float* dx) = 0;

  // Checks every bottom against the set-up geometry, fills num_, height_, width_, out_* and
  // conv_geometry(), and reshapes every top. Shared by every implementation's Reshape.
  void ReshapeTops(const BlobVec& bottom, const BlobVec& top);

  // group = C = num_output: every channel is convolved on its own.
  bool IsDepthwise() const { return group_ == channels_ && num_output_ == channels_; }

  // The convolution's image and window (the table above), set by ReshapeTops.
  const Im2ColGeometry& conv_geometry() const { return conv_geometry_; }

  // ---- The reference computation, per image; REQUIRES: Reshape ran ----
  // The convolution's image as its column matrix (layers/im2col.h): `image` itself for a 1×1
  // kernel with stride 1 and no padding, else written to the column buffer and returned.
  const float* ImageColumns(const float* image);
  // output_g = W_g · columns_g for every group g: the convolution.
  void ConvolveColumns(const float* columns, const float* weight, float* output);
  // image = col2im(W_gᵀ · output_g for every group g): the transposed convolution; overwrites
  // `image`. Uses the column buffer (unless the kernel is 1×1 as above).
  void ConvolveTransposed(const float* output, const float* weight, float* image);
  // weight_diff_g += output_g · columns_gᵀ for every group g.
  void AccumulateWeightGradient(const float* output, const float* columns, float* weight_diff);

  // Geometry fixed by LayerSetUp.
  const bool transposed_;
  int channel_axis_ = 1;
  int channels_ = 0;  // C, the bottom's channels
  int num_output_ = 0;
  int group_ = 1;
  bool bias_term_ = true;
  ConvKernel kernel_;

  // Input geometry, set by ReshapeTops.
  int num_ = 0;  // product of the axes before the channel axis
  int height_ = 0, width_ = 0;
  int out_height_ = 0, out_width_ = 0;
  size_t bottom_image_size_ = 0;  // C·H·W
  size_t top_image_size_ = 0;     // num_output·H_out·W_out
  // A 1×1 kernel with stride 1 and no padding: the image is its own column matrix.
  bool pointwise_ = false;

 private:
  Im2ColGeometry conv_geometry_;
  // The convolution's output channels: num_output, or C when transposed.
  int conv_output_channels_ = 0;
  std::vector<float> col_buffer_;
};

}  // namespace crema

#endif  // CREMA_LAYERS_BASE_CONV_LAYER_H_
