// LabeledSoftmax: the part of a softmax-based loss layer that does not depend on how the loss
// weighs the classes — shared by SoftmaxWithLoss and InfogainLoss.
//
// The owning layer's scores x = bottom[0] are viewed as outer × C × inner around its class
// axis; bottom[1] holds one label per (n, i): a class index in [0, C) stored as float
// (truncated toward zero, loss_helpers.h) or loss_param.ignore_label. LabeledSoftmax keeps
//   p = softmax(x) along the class axis
// in a blob of its own (which the owner's optional top[1] shares), sums a per-label term over
// the labels that are not ignored (rejecting invalid ones), writes a per-class gradient for
// every label, and divides both by the normalisation divisor D of loss_param (LossNormalizer
// in loss_helpers.h, from the number of labels not ignored in the last Forward).
//
// Class c of position (n, i) sits at index base + c·inner of x, p and x's diff, with
// base = n·C·inner + i; the callbacks below receive `base` or that index.
//
// Used by one thread at a time, like its owner.
#ifndef CREMA_LAYERS_LABELED_SOFTMAX_H_
#define CREMA_LAYERS_LABELED_SOFTMAX_H_

#include <algorithm>
#include <memory>

#include "crema/layers/layer.h"
#include "crema/layers/loss_helpers.h"
#include "crema/layers/softmax_layer.h"

namespace crema {

class LabeledSoftmax {
 public:
  // Below this many scores a parallel region costs more than it saves.
  static constexpr long kParallelMin = 1 << 14;

  // The class axis `axis` (negative counts from the end) as an index into `scores`' axes.
  // Throws InvalidArgument naming `owner` and `field` (the parameter that gave it) when it is
  // out of range.
  static int ClassAxis(const Layer& owner, const char* field, int axis, const Blob& scores);

  // From the owner's LayerSetUp. The inner softmax carries the owner's name and phase and
  // `softmax_param`, whose axis is the class axis; it has no loss and no blobs of its own.
  // Labels equal to owner.loss_param().ignore_label, when set, are ignored; `normalization`
  // is the owner's mode, already resolved.
  void SetUp(const caffe::LayerParameter& owner, const caffe::SoftmaxParameter& softmax_param,
             caffe::LossParameter::NormalizationMode normalization);

  // From the owner's Reshape, with `axis` from ClassAxis: takes outer, C and inner from
  // bottom[0], checks that bottom[1] holds outer·inner values, shapes p, and makes top[1]
  // (when given) share it. Throws InvalidArgument naming `owner` for a wrong label count.
  void Reshape(const Layer& owner, int axis, const BlobVec& bottom, const BlobVec& top);

  // p = softmax(x) for the bottom Reshape saw; returns p.
  const float* Forward() {
    softmax_->Forward(softmax_bottom_, softmax_top_);
    return prob_.cpu_data();
  }
  // p as the last Forward left it.
  const float* prob() const { return prob_.cpu_data(); }

  // −Σ term(label, base) / D over the labels not ignored, where term is the log-likelihood of
  // one position; remembers how many labels counted, for Backward. Throws InvalidArgument
  // naming `owner`, the first invalid label, its position and C when a label is neither in
  // [0, C) nor ignored. REQUIRES: Forward ran for these scores.
  template <typename LogLikelihood>
  float Loss(const Layer& owner, const float* label, LogLikelihood term);

  // dx[at] = (loss_diff / D) · gradient(label, c, at) for every class c of every position
  // with a label not ignored (at = base + c·inner), 0 for the others; D from the last Loss.
  template <typename Gradient>
  void Backward(const float* label, float loss_diff, float* dx, Gradient gradient) const;

  int outer() const { return outer_; }
  int channels() const { return channels_; }  // C
  int inner() const { return inner_; }
  caffe::LossParameter::NormalizationMode normalization() const { return normalization_; }

 private:
  [[noreturn]] void FailBadLabel(const Layer& owner, float value, int position) const;
  float Normalizer(int valid_count) const {
    return LossNormalizer(normalization_, outer_, inner_, valid_count);
  }

  std::unique_ptr<SoftmaxLayer> softmax_;
  Blob prob_;
  BlobVec softmax_bottom_{nullptr};
  BlobVec softmax_top_{&prob_};
  caffe::LossParameter::NormalizationMode normalization_ = caffe::LossParameter::VALID;
  bool has_ignore_label_ = false;
  int ignore_label_ = 0;
  int outer_ = 0;
  int channels_ = 0;
  int inner_ = 0;
  int valid_count_ = 0;  // from the last Loss, reused by Backward
};

template <typename LogLikelihood>
float LabeledSoftmax::Loss(const Layer& owner, const float* label, LogLikelihood term) {
  const int channels = channels_, inner = inner_;
  const int n_labels = outer_ * inner_;
  const bool has_ignore = has_ignore_label_;
  const int ignore = ignore_label_;
  double loss = 0;
  int valid = 0;
  int first_bad = n_labels;  // position of the first invalid label, n_labels if none
#pragma omp parallel for if (static_cast<long>(n_labels) * channels >= kParallelMin) \
    reduction(+ : loss, valid) reduction(min : first_bad) schedule(static)
  for (int k = 0; k < n_labels; ++k) {
    const int l = LossLabelValue(label[k]);
    if (has_ignore && l == ignore) continue;
    if (l < 0 || l >= channels) {
      first_bad = std::min(first_bad, k);
      continue;
    }
    loss -= term(l, static_cast<long>(k / inner) * channels * inner + k % inner);
    ++valid;
  }
  if (first_bad < n_labels) FailBadLabel(owner, label[first_bad], first_bad);
  valid_count_ = valid;
  return static_cast<float>(loss / Normalizer(valid));
}

template <typename Gradient>
void LabeledSoftmax::Backward(const float* label, float loss_diff, float* dx,
                              Gradient gradient) const {
  const int channels = channels_, inner = inner_;
  const int n_labels = outer_ * inner_;
  const bool has_ignore = has_ignore_label_;
  const int ignore = ignore_label_;
  const float scale = loss_diff / Normalizer(valid_count_);
#pragma omp parallel for if (static_cast<long>(n_labels) * channels >= kParallelMin) \
    schedule(static)
  for (int k = 0; k < n_labels; ++k) {
    const long base = static_cast<long>(k / inner) * channels * inner + k % inner;
    const int l = LossLabelValue(label[k]);
    // Loss rejected invalid labels; treating them as ignored here only guards memory.
    if ((has_ignore && l == ignore) || l < 0 || l >= channels) {
      for (int c = 0; c < channels; ++c) dx[base + static_cast<long>(c) * inner] = 0.f;
      continue;
    }
    for (int c = 0; c < channels; ++c) {
      const long at = base + static_cast<long>(c) * inner;
      dx[at] = scale * gradient(l, c, at);
    }
  }
}

}  // namespace crema

#endif  // CREMA_LAYERS_LABELED_SOFTMAX_H_
