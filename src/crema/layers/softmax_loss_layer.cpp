#include "crema/layers/softmax_loss_layer.h"

#include <algorithm>
#include <cfloat>
#include <cmath>

namespace crema {

SoftmaxWithLossLayer::SoftmaxWithLossLayer(const caffe::LayerParameter& param)
    : LossLayer(param) {}

void SoftmaxWithLossLayer::LayerSetUp(const BlobVec& /*bottom*/, const BlobVec& /*top*/) {
  softmax_.SetUp(layer_param_, layer_param_.softmax_param(),
                 ResolveLossNormalization(layer_param_.loss_param(), caffe::LossParameter::VALID));
}

void SoftmaxWithLossLayer::Reshape(const BlobVec& bottom, const BlobVec& top) {
  LossLayer::Reshape(bottom, top);
  const int axis = LabeledSoftmax::ClassAxis(*this, "softmax_param.axis",
                                             layer_param_.softmax_param().axis(), *bottom[0]);
  softmax_.Reshape(*this, axis, bottom, top);
}

void SoftmaxWithLossLayer::ForwardCpu(const BlobVec& bottom, const BlobVec& top) {
  const float* prob = softmax_.Forward();
  const int inner = softmax_.inner();
  top[0]->mutable_cpu_data()[0] =
      softmax_.Loss(*this, bottom[1]->cpu_data(), [prob, inner](int label, long base) {
        return std::log(std::max(prob[base + static_cast<long>(label) * inner], FLT_MIN));
      });
}

void SoftmaxWithLossLayer::BackwardCpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                                       const BlobVec& bottom) {
  if (propagate_down.size() > 1 && propagate_down[1]) {
    Fail("cannot backpropagate to the labels (bottom 1); set propagate_down: false for it");
  }
  if (!propagate_down[0]) return;
  const float* prob = softmax_.prob();
  softmax_.Backward(bottom[1]->cpu_data(), top[0]->cpu_diff()[0], bottom[0]->mutable_cpu_diff(),
                    [prob](int label, int c, long at) {
                      return prob[at] - (c == label ? 1.f : 0.f);
                    });
}

}  // namespace crema
