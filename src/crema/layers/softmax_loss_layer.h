// SoftmaxWithLoss: softmax followed by the multinomial logistic loss, with Caffe's
// normalisation rules.
//
// Bottoms: bottom[0] scores x viewed as outer × C × inner around axis = softmax_param.axis
// (default 1); bottom[1] labels, outer · inner values (any shape with that count and the same
// first dimension as the scores), each a class index in [0, C) stored as float, or
// loss_param.ignore_label. Tops: top[0] the scalar loss (loss_weight 1 by default);
// optional top[1] the probabilities p = softmax(x), shaped like bottom[0] (loss_weight 0).
//
//   loss = −Σ_{(n,i) not ignored} log(max(p[n, label(n,i), i], FLT_MIN)) / D
//   ∂loss/∂x[n, c, i] = (p[n, c, i] − [c == label(n,i)]) · ∂E/∂loss / D   (0 where ignored)
//
// D = max(1, d) with d by loss_param.normalization: FULL = outer·inner, VALID = number of
// labels not equal to ignore_label (the default), BATCH_SIZE = outer, NONE = 1. When
// normalization is unset but the deprecated loss_param.normalize is set, normalize: true
// means VALID and normalize: false means BATCH_SIZE. The probability top receives no
// gradient (its diff is ignored).
//
// Errors (InvalidArgument naming the layer): axis out of range, label count not outer·inner
// or a different first dimension (Reshape); a label that is neither in [0, C) nor
// ignore_label (Forward, naming the label and C); propagate_down on the labels (Backward).
// The softmax, the label checks and D are shared with InfogainLoss (layers/labeled_softmax.h).
// A layer is used by one thread at a time.
#ifndef CREMA_LAYERS_SOFTMAX_LOSS_LAYER_H_
#define CREMA_LAYERS_SOFTMAX_LOSS_LAYER_H_

#include <vector>

#include "crema/layers/labeled_softmax.h"
#include "crema/layers/layer.h"

namespace crema {

class SoftmaxWithLossLayer : public LossLayer {
 public:
  explicit SoftmaxWithLossLayer(const caffe::LayerParameter& param);
  const char* type() const override { return "SoftmaxWithLoss"; }
  // Backward reads its own probabilities and the labels.
  bool BackwardReadsBottomData(int bottom_index) const override { return bottom_index == 1; }
  bool BackwardReadsTopData(int) const override { return false; }
  int ExactNumTopBlobs() const override { return -1; }
  int MinTopBlobs() const override { return 1; }
  int MaxTopBlobs() const override { return 2; }
  void Reshape(const BlobVec& bottom, const BlobVec& top) override;

  // The normalisation mode in effect after resolving the deprecated `normalize` field.
  caffe::LossParameter::NormalizationMode normalization() const {
    return softmax_.normalization();
  }

 protected:
  void LayerSetUp(const BlobVec& bottom, const BlobVec& top) override;
  void ForwardCpu(const BlobVec& bottom, const BlobVec& top) override;
  void BackwardCpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                   const BlobVec& bottom) override;

 private:
  // The softmax, the label walk and D (layers/labeled_softmax.h).
  LabeledSoftmax softmax_;
};

}  // namespace crema

#endif  // CREMA_LAYERS_SOFTMAX_LOSS_LAYER_H_
