#include "crema/layers/softmax_loss_layer.h"

#include <algorithm>
#include <cfloat>
#include <climits>
#include <cmath>

namespace crema {

namespace {

constexpr int kParallelMin = 1 << 14;

// Labels arrive as floats and are truncated as Caffe does. Values that cannot be an int
// (NaN, ±inf, huge) map to INT_MIN, which the range check then rejects.
inline int LabelValue(float v) {
  return (v > -2147483648.f && v < 2147483648.f) ? static_cast<int>(v) : INT_MIN;
}

}  // namespace

SoftmaxWithLossLayer::SoftmaxWithLossLayer(const caffe::LayerParameter& param)
    : LossLayer(param) {}

void SoftmaxWithLossLayer::LayerSetUp(const BlobVec& /*bottom*/, const BlobVec& /*top*/) {
  // The inner softmax has this layer's name and softmax_param, no loss and no blobs of its own.
  caffe::LayerParameter softmax_param;
  softmax_param.set_name(layer_param_.name());
  softmax_param.set_type("Softmax");
  softmax_param.set_phase(layer_param_.phase());
  *softmax_param.mutable_softmax_param() = layer_param_.softmax_param();
  softmax_ = std::make_unique<SoftmaxLayer>(softmax_param);

  const caffe::LossParameter& loss = layer_param_.loss_param();
  has_ignore_label_ = loss.has_ignore_label();
  ignore_label_ = loss.ignore_label();
  if (!loss.has_normalization() && loss.has_normalize()) {
    normalization_ = loss.normalize() ? caffe::LossParameter::VALID
                                      : caffe::LossParameter::BATCH_SIZE;
  } else {
    normalization_ = loss.normalization();
  }
}

void SoftmaxWithLossLayer::Reshape(const BlobVec& bottom, const BlobVec& top) {
  LossLayer::Reshape(bottom, top);
  const Blob& x = *bottom[0];
  const int axis_param = layer_param_.softmax_param().axis();
  if (axis_param < -x.num_axes() || axis_param >= x.num_axes()) {
    Fail("softmax_param.axis ", axis_param, " is out of range for scores of shape ",
         x.shape_string());
  }
  const int axis = axis_param < 0 ? axis_param + x.num_axes() : axis_param;
  outer_ = x.count(0, axis);
  channels_ = x.shape(axis);
  inner_ = x.count(axis + 1);
  if (bottom[1]->count() != outer_ * inner_) {
    Fail("needs one label per score vector along axis ", axis, ": scores of shape ",
         x.shape_string(), " need ", outer_ * inner_, " labels, got labels of shape ",
         bottom[1]->shape_string());
  }
  softmax_bottom_[0] = bottom[0];
  // The inner softmax has no parameters or loss weights, so Reshape is all its SetUp does.
  softmax_->Reshape(softmax_bottom_, softmax_top_);
  if (top.size() >= 2) {
    top[1]->ReshapeLike(x);
    top[1]->ShareData(prob_);
  }
}

float SoftmaxWithLossLayer::Normalizer(int valid_count) const {
  float d = 1.f;
  switch (normalization_) {
    case caffe::LossParameter::FULL: d = static_cast<float>(outer_) * inner_; break;
    case caffe::LossParameter::VALID: d = static_cast<float>(valid_count); break;
    case caffe::LossParameter::BATCH_SIZE: d = static_cast<float>(outer_); break;
    case caffe::LossParameter::NONE: d = 1.f; break;
  }
  // Never divide by zero (e.g. a batch whose labels are all ignored).
  return std::max(1.f, d);
}

void SoftmaxWithLossLayer::ForwardCpu(const BlobVec& bottom, const BlobVec& top) {
  softmax_->Forward(softmax_bottom_, softmax_top_);
  const float* prob = prob_.cpu_data();
  const float* label = bottom[1]->cpu_data();
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
    const int l = LabelValue(label[k]);
    if (has_ignore && l == ignore) continue;
    if (l < 0 || l >= channels) {
      first_bad = std::min(first_bad, k);
      continue;
    }
    const int n = k / inner, i = k % inner;
    const float p = prob[(static_cast<long>(n) * channels + l) * inner + i];
    loss -= std::log(std::max(p, FLT_MIN));
    ++valid;
  }
  if (first_bad < n_labels) {
    Fail("label ", label[first_bad], " at position ", first_bad,
         " of the label blob is not a class index in [0, ", channels, ")",
         has_ignore ? StrCat(" nor ignore_label ", ignore) : std::string());
  }
  valid_count_ = valid;
  top[0]->mutable_cpu_data()[0] = static_cast<float>(loss / Normalizer(valid));
}

void SoftmaxWithLossLayer::BackwardCpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                                       const BlobVec& bottom) {
  if (propagate_down.size() > 1 && propagate_down[1]) {
    Fail("cannot backpropagate to the labels (bottom 1); set propagate_down: false for it");
  }
  if (!propagate_down[0]) return;
  const int count = prob_.count();
  const float* prob = prob_.cpu_data();
  const float* label = bottom[1]->cpu_data();
  float* dx = bottom[0]->mutable_cpu_diff();
  const int channels = channels_, inner = inner_;
  const int n_labels = outer_ * inner_;
  const bool has_ignore = has_ignore_label_;
  const int ignore = ignore_label_;
  const float scale = top[0]->cpu_diff()[0] / Normalizer(valid_count_);
#pragma omp parallel for if (count >= kParallelMin) schedule(static)
  for (int k = 0; k < n_labels; ++k) {
    const int n = k / inner, i = k % inner;
    const long base = static_cast<long>(n) * channels * inner + i;
    const int l = LabelValue(label[k]);
    // Forward rejected invalid labels; treating them as ignored here only guards memory.
    if ((has_ignore && l == ignore) || l < 0 || l >= channels) {
      for (int c = 0; c < channels; ++c) dx[base + static_cast<long>(c) * inner] = 0.f;
      continue;
    }
    for (int c = 0; c < channels; ++c) {
      const long at = base + static_cast<long>(c) * inner;
      dx[at] = scale * (prob[at] - (c == l ? 1.f : 0.f));
    }
  }
}

}  // namespace crema
