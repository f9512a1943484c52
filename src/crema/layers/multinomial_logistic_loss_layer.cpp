#include "crema/layers/multinomial_logistic_loss_layer.h"

#include <algorithm>
#include <cmath>

#include "crema/backend/cpu/blas.h"
#include "crema/layers/loss_helpers.h"

namespace crema {

void MultinomialLogisticLossLayer::Reshape(const BlobVec& bottom, const BlobVec& top) {
  const Blob& p = *bottom[0];
  const Blob& labels = *bottom[1];
  if (p.num_axes() == 0 || labels.num_axes() == 0 || p.shape(0) != labels.shape(0) ||
      labels.count() != p.shape(0)) {
    Fail("needs one label per item: probabilities of shape ", p.shape_string(), " need ",
         p.num_axes() == 0 ? 1 : p.shape(0), " labels, got labels of shape ",
         labels.shape_string());
  }
  LossLayer::Reshape(bottom, top);
  num_ = p.shape(0);
  dim_ = p.count(1);
}

void MultinomialLogisticLossLayer::ForwardCpu(const BlobVec& bottom, const BlobVec& top) {
  const float* p = bottom[0]->cpu_data();
  const float* label = bottom[1]->cpu_data();
  double loss = 0;
  // One term per item: too little work to be worth threads.
  for (int n = 0; n < num_; ++n) {
    const int l = LossLabelValue(label[n]);
    if (l < 0 || l >= dim_) {
      Fail("label ", label[n], " at position ", n,
           " of the label blob is not a class index in [0, ", dim_, ")");
    }
    const float prob = std::max(p[static_cast<long>(n) * dim_ + l], kLogThreshold);
    loss -= std::log(static_cast<double>(prob));
  }
  top[0]->mutable_cpu_data()[0] = static_cast<float>(loss / num_);
}

void MultinomialLogisticLossLayer::BackwardCpu(const BlobVec& top,
                                               const std::vector<bool>& propagate_down,
                                               const BlobVec& bottom) {
  if (propagate_down.size() > 1 && propagate_down[1]) {
    Fail("cannot backpropagate to the labels (bottom 1); set propagate_down: false for it");
  }
  if (!propagate_down[0]) return;
  const float* p = bottom[0]->cpu_data();
  const float* label = bottom[1]->cpu_data();
  float* dp = bottom[0]->mutable_cpu_diff();
  cpu::Set(bottom[0]->count(), 0.f, dp);
  const float scale = -top[0]->cpu_diff()[0] / static_cast<float>(num_);
  for (int n = 0; n < num_; ++n) {
    const int l = LossLabelValue(label[n]);
    if (l < 0 || l >= dim_) continue;  // Forward rejected it; this only guards memory
    const long at = static_cast<long>(n) * dim_ + l;
    dp[at] = scale / std::max(p[at], kLogThreshold);
  }
}

}  // namespace crema
