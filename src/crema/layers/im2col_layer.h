// Im2col: unrolls the sliding-window patches of an image into channels (layers/im2col.h).
//
// Shapes (channel axis = convolution_param.axis, default 1; the axes before it are flattened
// into N; exactly two spatial axes follow it):
//   bottom[0]  (N…, C, H, W)
//   top[0]     (N…, C·kernel_h·kernel_w, H_out, W_out)
//   H_out = floor((H + 2·pad_h − (dilation_h·(kernel_h − 1) + 1)) / stride_h) + 1, W alike
//   top[n, (c·kernel_h + i)·kernel_w + j, y, x] =
//       bottom[n, c, y·stride_h − pad_h + i·dilation_h, x·stride_w − pad_w + j·dilation_w]
// with cells outside the image reading as 0: each image's top is exactly the column matrix
// Convolution multiplies with its weights. Backward is col2im: each bottom cell's gradient is
// the sum of the top gradients of every patch cell that read it.
//
// Parameters (ConvolutionParameter, as Convolution reads them): kernel_size or kernel_h +
// kernel_w; pad or pad_h/pad_w [0]; stride or stride_h + stride_w [1]; dilation [1]; axis [1].
// num_output, group, bias_term and the fillers are ignored; force_nd_im2col changes nothing
// (2-D only).
//
// Errors: InvalidArgument naming the layer for bad window parameters (see ParseConvKernel),
// an axis out of range, a kernel wider than the padded input, the top being the bottom;
// Unsupported for a number of spatial axes other than 2. A layer is used by one thread at a
// time.
#ifndef CREMA_LAYERS_IM2COL_LAYER_H_
#define CREMA_LAYERS_IM2COL_LAYER_H_

#include <vector>

#include "crema/layers/im2col.h"
#include "crema/layers/layer.h"

namespace crema {

class Im2colLayer : public Layer {
 public:
  using Layer::Layer;
  const char* type() const override { return "Im2col"; }
  int ExactNumBottomBlobs() const override { return 1; }
  int ExactNumTopBlobs() const override { return 1; }
  void Reshape(const BlobVec& bottom, const BlobVec& top) override;

 protected:
  void LayerSetUp(const BlobVec& bottom, const BlobVec& top) override;
  void ForwardCpu(const BlobVec& bottom, const BlobVec& top) override;
  void BackwardCpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                   const BlobVec& bottom) override;

 private:
  ConvKernel kernel_;
  Im2ColGeometry geometry_;  // one image's; set by Reshape
  int channel_axis_ = 1;
  int num_ = 0;  // images: product of the axes before the channel axis
  std::vector<int> top_shape_;
};

}  // namespace crema

#endif  // CREMA_LAYERS_IM2COL_LAYER_H_
