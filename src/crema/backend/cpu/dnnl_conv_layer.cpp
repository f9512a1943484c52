#include "crema/backend/cpu/dnnl_conv_layer.h"

namespace crema {

void DnnlConvolutionLayer::DepthwiseForward(const BlobVec& bottom, const BlobVec& top,
                                            const float* weight, const float* bias) {
  for (size_t i = 0; i < bottom.size(); ++i) {
    cpu::DepthwiseForward(conv_geometry(), num_, bottom[i]->cpu_data(), weight, bias,
                          top[i]->mutable_cpu_data());
  }
}

void DnnlConvolutionLayer::DepthwiseBackward(const BlobVec& top,
                                             const std::vector<bool>& propagate_down,
                                             const BlobVec& bottom, float* weight_diff,
                                             float* bias_diff) {
  for (size_t i = 0; i < top.size(); ++i) {
    if (weight_diff != nullptr || bias_diff != nullptr) {
      cpu::DepthwiseBackwardWeights(conv_geometry(), num_, bottom[i]->cpu_data(),
                                    top[i]->cpu_diff(), weight_diff, bias_diff,
                                    depthwise_scratch());
    }
    if (propagate_down[i]) {
      cpu::DepthwiseBackwardData(conv_geometry(), num_, top[i]->cpu_diff(),
                                 blobs_[0]->cpu_data(), bottom[i]->mutable_cpu_diff());
    }
  }
}

}  // namespace crema
