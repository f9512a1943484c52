#include "crema/layers/accuracy_layer.h"

#include <algorithm>
#include <climits>

namespace crema {

namespace {

// Labels arrive as floats and are truncated; non-int values map to INT_MIN (rejected).
inline int LabelValue(float v) {
  return (v > -2147483648.f && v < 2147483648.f) ? static_cast<int>(v) : INT_MIN;
}

}  // namespace

void AccuracyLayer::LayerSetUp(const BlobVec& /*bottom*/, const BlobVec& /*top*/) {
  const caffe::AccuracyParameter& p = layer_param_.accuracy_param();
  if (p.top_k() == 0 || p.top_k() > static_cast<unsigned>(INT_MAX)) {
    Fail("accuracy_param.top_k must be at least 1, got ", p.top_k());
  }
  top_k_ = static_cast<int>(p.top_k());
  has_ignore_label_ = p.has_ignore_label();
  ignore_label_ = p.ignore_label();
}

void AccuracyLayer::Reshape(const BlobVec& bottom, const BlobVec& top) {
  const Blob& x = *bottom[0];
  const int axis_param = layer_param_.accuracy_param().axis();
  if (axis_param < -x.num_axes() || axis_param >= x.num_axes()) {
    Fail("accuracy_param.axis ", axis_param, " is out of range for scores of shape ",
         x.shape_string());
  }
  const int axis = axis_param < 0 ? axis_param + x.num_axes() : axis_param;
  outer_ = x.count(0, axis);
  channels_ = x.shape(axis);
  inner_ = x.count(axis + 1);
  if (top_k_ > channels_) {
    Fail("accuracy_param.top_k ", top_k_, " exceeds the ", channels_,
         " classes of scores of shape ", x.shape_string());
  }
  if (bottom[1]->count() != outer_ * inner_) {
    Fail("needs one label per score vector along axis ", axis, ": scores of shape ",
         x.shape_string(), " need ", outer_ * inner_, " labels, got labels of shape ",
         bottom[1]->shape_string());
  }
  top[0]->Reshape(std::vector<int>{});
  if (top.size() >= 2) top[1]->Reshape(std::vector<int>{channels_});
  if (class_count_.size() < static_cast<size_t>(channels_)) {
    class_count_.resize(channels_);
    class_correct_.resize(channels_);
  }
}

void AccuracyLayer::ForwardCpu(const BlobVec& bottom, const BlobVec& top) {
  const float* scores = bottom[0]->cpu_data();
  const float* label = bottom[1]->cpu_data();
  const int channels = channels_, inner = inner_;
  const int n_labels = outer_ * inner_;
  std::fill(class_count_.begin(), class_count_.begin() + channels, 0);
  std::fill(class_correct_.begin(), class_correct_.begin() + channels, 0);
  int count = 0, correct = 0;
  for (int k = 0; k < n_labels; ++k) {
    const int l = LabelValue(label[k]);
    if (has_ignore_label_ && l == ignore_label_) continue;
    if (l < 0 || l >= channels) {
      Fail("label ", label[k], " at position ", k,
           " of the label blob is not a class index in [0, ", channels, ")",
           has_ignore_label_ ? StrCat(" nor ignore_label ", ignore_label_) : std::string());
    }
    const int n = k / inner, i = k % inner;
    const float* x = scores + static_cast<long>(n) * channels * inner + i;
    const float target = x[static_cast<long>(l) * inner];
    // Count strictly better classes, stopping as soon as the answer is known.
    int better = 0;
    for (int c = 0; c < channels && better < top_k_; ++c) {
      if (x[static_cast<long>(c) * inner] > target) ++better;
    }
    ++count;
    ++class_count_[l];
    if (better < top_k_) {
      ++correct;
      ++class_correct_[l];
    }
  }
  top[0]->mutable_cpu_data()[0] = count == 0 ? 0.f : static_cast<float>(correct) / count;
  if (top.size() >= 2) {
    float* per_class = top[1]->mutable_cpu_data();
    for (int c = 0; c < channels; ++c) {
      per_class[c] = class_count_[c] == 0
                         ? 0.f
                         : static_cast<float>(class_correct_[c]) / class_count_[c];
    }
  }
}

void AccuracyLayer::BackwardCpu(const BlobVec& /*top*/, const std::vector<bool>& propagate_down,
                                const BlobVec& /*bottom*/) {
  for (size_t i = 0; i < propagate_down.size(); ++i) {
    if (propagate_down[i]) Fail("has no gradient; cannot backpropagate to bottom ", i);
  }
}

}  // namespace crema
