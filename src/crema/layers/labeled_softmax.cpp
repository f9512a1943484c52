#include "crema/layers/labeled_softmax.h"

#include <string>

namespace crema {

int LabeledSoftmax::ClassAxis(const Layer& owner, const char* field, int axis,
                              const Blob& scores) {
  if (axis < -scores.num_axes() || axis >= scores.num_axes()) {
    throw InvalidArgument(StrCat(owner.Describe(), ": ", field, " ", axis,
                                 " is out of range for scores of shape ",
                                 scores.shape_string()));
  }
  return axis < 0 ? axis + scores.num_axes() : axis;
}

void LabeledSoftmax::SetUp(const caffe::LayerParameter& owner,
                           const caffe::SoftmaxParameter& softmax_param,
                           caffe::LossParameter::NormalizationMode normalization) {
  caffe::LayerParameter param;
  param.set_name(owner.name());
  param.set_type("Softmax");
  param.set_phase(owner.phase());
  *param.mutable_softmax_param() = softmax_param;
  softmax_ = std::make_unique<SoftmaxLayer>(param);
  has_ignore_label_ = owner.loss_param().has_ignore_label();
  ignore_label_ = owner.loss_param().ignore_label();
  normalization_ = normalization;
}

void LabeledSoftmax::Reshape(const Layer& owner, int axis, const BlobVec& bottom,
                             const BlobVec& top) {
  const Blob& x = *bottom[0];
  outer_ = x.count(0, axis);
  channels_ = x.shape(axis);
  inner_ = x.count(axis + 1);
  if (bottom[1]->count() != outer_ * inner_) {
    throw InvalidArgument(StrCat(owner.Describe(), ": needs one label per score vector along axis ",
                                 axis, ": scores of shape ", x.shape_string(), " need ",
                                 outer_ * inner_, " labels, got labels of shape ",
                                 bottom[1]->shape_string()));
  }
  softmax_bottom_[0] = bottom[0];
  // The inner softmax has no parameters or loss weights, so Reshape is all its SetUp does.
  softmax_->Reshape(softmax_bottom_, softmax_top_);
  if (top.size() >= 2) {
    top[1]->ReshapeLike(x);
    top[1]->ShareData(prob_);
  }
}

void LabeledSoftmax::FailBadLabel(const Layer& owner, float value, int position) const {
  throw InvalidArgument(StrCat(owner.Describe(), ": label ", value, " at position ", position,
                               " of the label blob is not a class index in [0, ", channels_, ")",
                               has_ignore_label_ ? StrCat(" nor ignore_label ", ignore_label_)
                                                 : std::string()));
}

}  // namespace crema
