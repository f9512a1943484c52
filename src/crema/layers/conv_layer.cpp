#include "crema/layers/conv_layer.h"

namespace crema {

void ConvolutionLayer::ComputeOutputSize(const Blob& input) {
  const ConvKernel& k = kernel_;
  const int extent_h = k.dilation_h * (k.kernel_h - 1) + 1;
  const int extent_w = k.dilation_w * (k.kernel_w - 1) + 1;
  if (height_ + 2 * k.pad_h < extent_h || width_ + 2 * k.pad_w < extent_w) {
    Fail("the kernel spans ", extent_h, "x", extent_w, " cells, more than the padded input ",
         height_ + 2 * k.pad_h, "x", width_ + 2 * k.pad_w, " of ", input.shape_string());
  }
  out_height_ = (height_ + 2 * k.pad_h - extent_h) / k.stride_h + 1;
  out_width_ = (width_ + 2 * k.pad_w - extent_w) / k.stride_w + 1;
}

void ConvolutionLayer::ForwardImage(const float* x, const float* weight, float* y) {
  ConvolveColumns(ImageColumns(x), weight, y);
}

void ConvolutionLayer::BackwardImage(const float* x, const float* dy, const float* weight,
                                     float* weight_diff, float* dx) {
  if (weight_diff != nullptr) AccumulateWeightGradient(dy, ImageColumns(x), weight_diff);
  // The column buffer is free again: the data gradient goes through it.
  if (dx != nullptr) ConvolveTransposed(dy, weight, dx);
}

}  // namespace crema
