// SigmoidCrossEntropyLoss: the logistic (binary cross-entropy) loss of scores x against
// targets t ∈ [0, 1], with the sigmoid p = σ(x) applied inside the layer.
//
//   loss = Σ_{i not ignored} ℓ(x_i, t_i) / D
//   ℓ(x, t) = −t·log σ(x) − (1 − t)·log(1 − σ(x)) = max(x, 0) − x·t + log(1 + e^(−|x|))
//   ∂loss/∂x_i = (σ(x_i) − t_i) · ∂E/∂loss / D          (0 where ignored)
//
// The right-hand form of ℓ is what is computed: it never overflows and keeps full precision
// for large |x|, where log σ(x) computed directly would give −inf.
//
// Bottoms: bottom[0] scores x, any shape with first dimension N; bottom[1] targets t with the
// same first dimension and as many values (paired in memory order). Targets are usually 0 or
// 1 but any real value is accepted. Top: the scalar loss, loss_weight 1 by default. No
// parameters.
//
// loss_param:
//   ignore_label   [unset]  an element is skipped when its target, truncated toward zero to
//                           an int, equals it (so ignore_label: 0 also skips targets in
//                           (−1, 1); use a value like −1 for "no target here")
//   normalization  [BATCH_SIZE when neither it nor `normalize` is set: this layer always
//                  divided by the batch size before it had the field, and nets that say
//                  nothing keep that] D = max(1, d) with d = the number of scores (FULL), the
//                  number not ignored (VALID), N (BATCH_SIZE) or 1 (NONE)
//   normalize      deprecated: when normalization is unset, true means VALID, false BATCH_SIZE
//
// Errors (InvalidArgument naming the layer): different first dimensions or counts of scores
// and targets (Reshape); propagate_down on the targets (Backward).
// A layer is used by one thread at a time.
#ifndef CREMA_LAYERS_SIGMOID_CROSS_ENTROPY_LOSS_LAYER_H_
#define CREMA_LAYERS_SIGMOID_CROSS_ENTROPY_LOSS_LAYER_H_

#include <vector>

#include "crema/layers/layer.h"

namespace crema {

class SigmoidCrossEntropyLossLayer : public LossLayer {
 public:
  explicit SigmoidCrossEntropyLossLayer(const caffe::LayerParameter& param) : LossLayer(param) {}
  const char* type() const override { return "SigmoidCrossEntropyLoss"; }
  void Reshape(const BlobVec& bottom, const BlobVec& top) override;

  // The normalisation mode in effect after defaults and the deprecated `normalize` field.
  caffe::LossParameter::NormalizationMode normalization() const { return normalization_; }

 protected:
  void LayerSetUp(const BlobVec& bottom, const BlobVec& top) override;
  void ForwardCpu(const BlobVec& bottom, const BlobVec& top) override;
  void BackwardCpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                   const BlobVec& bottom) override;

 private:
  caffe::LossParameter::NormalizationMode normalization_ = caffe::LossParameter::BATCH_SIZE;
  bool has_ignore_label_ = false;
  int ignore_label_ = 0;
  int outer_ = 0;        // N
  int inner_ = 0;        // values per item
  float normalizer_ = 1.f;  // D from the last Forward, reused by Backward
};

}  // namespace crema

#endif  // CREMA_LAYERS_SIGMOID_CROSS_ENTROPY_LOSS_LAYER_H_
