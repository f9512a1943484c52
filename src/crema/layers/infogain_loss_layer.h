// InfogainLoss: a generalisation of SoftmaxWithLoss in which an infogain matrix H weighs the
// log-probability of every class against every true label (H = identity gives
// SoftmaxWithLoss with its clamp at 1e-20 instead of FLT_MIN).
//
// Scores x are viewed as outer × C × inner around axis = infogain_loss_param.axis; p is their
// softmax along that axis, computed inside the layer. For every (n, i) whose label y = y(n,i)
// is not ignored:
//
//   loss = −Σ_{(n,i)} Σ_k H[y, k] · log(max(p[n, k, i], 1e-20)) / D
//   ∂loss/∂x[n, c, i] = (p[n, c, i] · Σ_k H[y, k] − H[y, c]) · ∂E/∂loss / D    (0 where ignored)
//
// Bottoms: bottom[0] scores x (raw, before any softmax); bottom[1] labels, outer · inner
// values with the same first dimension as the scores, each a class index in [0, C) stored as
// float (truncated toward zero) or loss_param.ignore_label; optional bottom[2] the C × C
// infogain matrix H (any shape with C² values, read row-major: row = true label), which then
// may change from batch to batch. Without bottom[2], H is read once, at SetUp, from
// infogain_loss_param.source, a binary BlobProto file (any shape with C² values, typically
// 1×1×C×C). Tops: top[0] the scalar loss (loss_weight 1 by default); optional top[1] the
// probabilities p, shaped like bottom[0] (loss_weight 0). No parameter blobs: H is not saved
// in a .caffemodel.
//
// infogain_loss_param: source [none; required without bottom[2], ignored with it],
// axis [1] (negative counts from the end).
// loss_param: ignore_label [unset]; normalization [VALID]: D = max(1, d) with d = outer·inner
// (FULL), the number of labels not ignored (VALID), outer (BATCH_SIZE) or 1 (NONE). The
// deprecated `normalize` is refused for this layer.
// Neither the labels nor H receive gradients, and force_backward reaches neither.
//
// Errors: InvalidArgument naming the layer for `normalize` set, no source and no bottom[2],
// axis out of range, a label count other than outer·inner or a different first dimension, or
// an H whose count is not C² (SetUp/Reshape, naming where H came from); the source file's
// IOError (unreadable) or Corruption (not a BlobProto) with the layer and file named (SetUp);
// InvalidArgument for a label neither in [0, C) nor ignore_label (Forward, naming the label and
// C) and for propagate_down on the labels or H (Backward).
// The softmax, the label checks and D are shared with SoftmaxWithLoss
// (layers/labeled_softmax.h). A layer is used by one thread at a time.
#ifndef CREMA_LAYERS_INFOGAIN_LOSS_LAYER_H_
#define CREMA_LAYERS_INFOGAIN_LOSS_LAYER_H_

#include <vector>

#include "crema/layers/labeled_softmax.h"
#include "crema/layers/layer.h"

namespace crema {

class InfogainLossLayer : public LossLayer {
 public:
  // Probabilities below this are raised to it before the log.
  static constexpr float kLogThreshold = 1e-20f;

  explicit InfogainLossLayer(const caffe::LayerParameter& param);
  const char* type() const override { return "InfogainLoss"; }
  int ExactNumBottomBlobs() const override { return -1; }
  int MinBottomBlobs() const override { return 2; }
  int MaxBottomBlobs() const override { return 3; }
  int ExactNumTopBlobs() const override { return -1; }
  int MinTopBlobs() const override { return 1; }
  int MaxTopBlobs() const override { return 2; }
  // Only the scores have a gradient; the labels and the matrix H do not.
  bool AllowForceBackward(int bottom_index) const override { return bottom_index == 0; }
  void Reshape(const BlobVec& bottom, const BlobVec& top) override;

  // The normalisation mode in effect (loss_param.normalization, default VALID).
  caffe::LossParameter::NormalizationMode normalization() const {
    return softmax_.normalization();
  }

 protected:
  void LayerSetUp(const BlobVec& bottom, const BlobVec& top) override;
  void ForwardCpu(const BlobVec& bottom, const BlobVec& top) override;
  void BackwardCpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                   const BlobVec& bottom) override;

 private:
  // H for this pass: bottom[2] when given, else the matrix read from the source file.
  const Blob& Infogain(const BlobVec& bottom) const {
    return bottom.size() >= 3 ? *bottom[2] : infogain_;
  }
  // row_sums_[y] = Σ_k H[y, k].
  void SumRows(const Blob& infogain);

  // The softmax, the label walk and D (layers/labeled_softmax.h).
  LabeledSoftmax softmax_;
  Blob infogain_;  // H from infogain_loss_param.source (unused with bottom[2])
  Blob row_sums_;  // C
};

}  // namespace crema

#endif  // CREMA_LAYERS_INFOGAIN_LOSS_LAYER_H_
