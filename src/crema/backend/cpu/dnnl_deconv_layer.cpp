#include "crema/backend/cpu/dnnl_deconv_layer.h"

namespace crema {

// The depthwise kernels run the convolution this layer transposes: conv_geometry() sees the
// top as that convolution's image and the bottom as its output, so forward and backward data
// swap roles, and the weight gradient takes the top gradient as the image.

void DnnlDeconvolutionLayer::DepthwiseForward(const BlobVec& bottom, const BlobVec& top,
                                              const float* weight, const float* bias) {
  const size_t plane = static_cast<size_t>(out_height_) * out_width_;
  for (size_t i = 0; i < bottom.size(); ++i) {
    float* y = top[i]->mutable_cpu_data();
    cpu::DepthwiseBackwardData(conv_geometry(), num_, bottom[i]->cpu_data(), weight, y);
    if (bias == nullptr) continue;
    for (int n = 0; n < num_; ++n) {
      for (int c = 0; c < num_output_; ++c) {
        float* row = y + (static_cast<size_t>(n) * num_output_ + c) * plane;
        for (size_t s = 0; s < plane; ++s) row[s] += bias[c];
      }
    }
  }
}

void DnnlDeconvolutionLayer::DepthwiseBackward(const BlobVec& top,
                                               const std::vector<bool>& propagate_down,
                                               const BlobVec& bottom, float* weight_diff,
                                               float* bias_diff) {
  const size_t plane = static_cast<size_t>(out_height_) * out_width_;
  for (size_t i = 0; i < top.size(); ++i) {
    const float* dy = top[i]->cpu_diff();
    if (bias_diff != nullptr) {
      for (int n = 0; n < num_; ++n) {
        for (int c = 0; c < num_output_; ++c) {
          const float* row = dy + (static_cast<size_t>(n) * num_output_ + c) * plane;
          double sum = 0;
          for (size_t s = 0; s < plane; ++s) sum += row[s];
          bias_diff[c] += static_cast<float>(sum);
        }
      }
    }
    if (weight_diff != nullptr) {
      cpu::DepthwiseBackwardWeights(conv_geometry(), num_, dy, bottom[i]->cpu_data(),
                                    weight_diff, nullptr, depthwise_scratch());
    }
    if (propagate_down[i]) {
      cpu::DepthwiseForward(conv_geometry(), num_, dy, blobs_[0]->cpu_data(), nullptr,
                            bottom[i]->mutable_cpu_diff());
    }
  }
}

}  // namespace crema
