#include "crema/layers/sigmoid_cross_entropy_loss_layer.h"

#include <algorithm>
#include <cmath>

#include "crema/layers/loss_helpers.h"

namespace crema {

namespace {
// Below this many elements a parallel region costs more than it saves.
constexpr int kParallelMin = 1 << 14;
}  // namespace

void SigmoidCrossEntropyLossLayer::LayerSetUp(const BlobVec& /*bottom*/,
                                              const BlobVec& /*top*/) {
  const caffe::LossParameter& loss = layer_param_.loss_param();
  has_ignore_label_ = loss.has_ignore_label();
  ignore_label_ = loss.ignore_label();
  // This layer once always divided by the batch size; nets that say nothing keep that.
  normalization_ = ResolveLossNormalization(loss, caffe::LossParameter::BATCH_SIZE);
}

void SigmoidCrossEntropyLossLayer::Reshape(const BlobVec& bottom, const BlobVec& top) {
  const Blob& x = *bottom[0];
  const Blob& t = *bottom[1];
  if (x.num_axes() == 0 || t.num_axes() == 0 || x.shape(0) != t.shape(0) ||
      x.count() != t.count()) {
    Fail("needs one target per score, with the same first dimension: scores have shape ",
         x.shape_string(), ", targets ", t.shape_string());
  }
  LossLayer::Reshape(bottom, top);
  outer_ = x.shape(0);
  inner_ = x.count(1);
}

void SigmoidCrossEntropyLossLayer::ForwardCpu(const BlobVec& bottom, const BlobVec& top) {
  const int count = bottom[0]->count();
  const float* x = bottom[0]->cpu_data();
  const float* t = bottom[1]->cpu_data();
  const bool has_ignore = has_ignore_label_;
  const int ignore = ignore_label_;
  double loss = 0;
  int valid = 0;
#pragma omp parallel for if (count >= kParallelMin) reduction(+ : loss, valid) schedule(static)
  for (int i = 0; i < count; ++i) {
    if (has_ignore && LossLabelValue(t[i]) == ignore) continue;
    const float v = x[i];
    // max(x, 0) − x·t + log(1 + e^(−|x|)): e^(−|x|) ≤ 1, so nothing overflows.
    loss += static_cast<double>(std::max(v, 0.f) - v * t[i] + std::log1p(std::exp(-std::fabs(v))));
    ++valid;
  }
  normalizer_ = LossNormalizer(normalization_, outer_, inner_, valid);
  top[0]->mutable_cpu_data()[0] = static_cast<float>(loss / normalizer_);
}

void SigmoidCrossEntropyLossLayer::BackwardCpu(const BlobVec& top,
                                               const std::vector<bool>& propagate_down,
                                               const BlobVec& bottom) {
  if (propagate_down.size() > 1 && propagate_down[1]) {
    Fail("cannot backpropagate to the targets (bottom 1); set propagate_down: false for it");
  }
  if (!propagate_down[0]) return;
  const int count = bottom[0]->count();
  const float* x = bottom[0]->cpu_data();
  const float* t = bottom[1]->cpu_data();
  float* dx = bottom[0]->mutable_cpu_diff();
  const bool has_ignore = has_ignore_label_;
  const int ignore = ignore_label_;
  const float scale = top[0]->cpu_diff()[0] / normalizer_;
  // σ(x) is recomputed from the scores rather than stored by Forward, so no buffer is kept.
#pragma omp parallel for if (count >= kParallelMin) schedule(static)
  for (int i = 0; i < count; ++i) {
    const bool ignored = has_ignore && LossLabelValue(t[i]) == ignore;
    dx[i] = ignored ? 0.f : scale * (1.f / (1.f + std::exp(-x[i])) - t[i]);
  }
}

}  // namespace crema
