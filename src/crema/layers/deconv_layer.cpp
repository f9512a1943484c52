#include "crema/layers/deconv_layer.h"

namespace crema {

void DeconvolutionLayer::ComputeOutputSize(const Blob& input) {
  const ConvKernel& k = kernel_;
  const int extent_h = k.dilation_h * (k.kernel_h - 1) + 1;
  const int extent_w = k.dilation_w * (k.kernel_w - 1) + 1;
  // 64-bit: a large stride times a large input must not wrap around before the check.
  const long long out_h = static_cast<long long>(k.stride_h) * (height_ - 1) + extent_h -
                          2LL * k.pad_h;
  const long long out_w = static_cast<long long>(k.stride_w) * (width_ - 1) + extent_w -
                          2LL * k.pad_w;
  if (height_ <= 0 || width_ <= 0 || out_h <= 0 || out_w <= 0) {
    Fail("input ", input.shape_string(), " gives an output of ", out_h, "x", out_w,
         " cells (stride·(size − 1) + dilated kernel − 2·pad); it must be positive");
  }
  if (out_h > (1 << 30) || out_w > (1 << 30)) {
    Fail("input ", input.shape_string(), " gives an output of ", out_h, "x", out_w,
         " cells, too many");
  }
  out_height_ = static_cast<int>(out_h);
  out_width_ = static_cast<int>(out_w);
}

void DeconvolutionLayer::ForwardImage(const float* x, const float* weight, float* y) {
  ConvolveTransposed(x, weight, y);
}

void DeconvolutionLayer::BackwardImage(const float* x, const float* dy, const float* weight,
                                       float* weight_diff, float* dx) {
  // The top gradient gathered back into columns once, for both products.
  const float* columns = ImageColumns(dy);
  if (weight_diff != nullptr) AccumulateWeightGradient(x, columns, weight_diff);
  if (dx != nullptr) ConvolveColumns(columns, weight, dx);
}

}  // namespace crema
