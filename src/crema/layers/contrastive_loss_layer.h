// ContrastiveLoss: pulls the features of similar pairs together and pushes dissimilar pairs at
// least `margin` apart (siamese networks).
//
//   d_n² = ‖a_n − b_n‖²,  y_n = similarity label of pair n
//   loss = Σ_n [ y_n · d_n² + (1 − y_n) · h(d_n) ] / (2N)
//   h(d) = max(margin − d, 0)²          (legacy_version: false, the default)
//   h(d) = max(margin − d², 0)          (legacy_version: true)
//
// Gradients, with g = ∂E/∂loss / N, for bottom[0] (bottom[1] gets the negation):
//   similar:                     g · (a_n − b_n)
//   dissimilar, default form:    −g · (margin − d_n) / (d_n + 1e-4) · (a_n − b_n) where d_n < margin
//   dissimilar, legacy form:     −g · (a_n − b_n)                                where d_n² < margin
//   and 0 for dissimilar pairs beyond the margin. The 1e-4 keeps the default form finite for
//   coincident features; it makes that gradient approximate by a relative 1e-4/d_n, the
//   value Caffe computes.
//
// Bottoms: bottom[0] a and bottom[1] b, the two feature blobs of shape N × C (trailing axes of
// size 1 allowed, e.g. N×C×1×1; same N and C); bottom[2] y, N similarity labels (N or
// N×1×1×1). A pair is similar when its label truncated toward zero is non-zero (so 1 means
// similar, 0 dissimilar). Top: the scalar loss, loss_weight 1 by default. No parameters.
// contrastive_loss_param: margin [1.0], legacy_version [false]. Both feature bottoms receive
// gradients; the labels never do (force_backward skips them).
//
// Errors (InvalidArgument naming the layer, from SetUp/Reshape): features that are not N × C
// or differ in N or C, or a label count other than N; propagate_down on the labels (Backward).
// A layer is used by one thread at a time.
#ifndef CREMA_LAYERS_CONTRASTIVE_LOSS_LAYER_H_
#define CREMA_LAYERS_CONTRASTIVE_LOSS_LAYER_H_

#include <vector>

#include "crema/layers/layer.h"

namespace crema {

class ContrastiveLossLayer : public LossLayer {
 public:
  explicit ContrastiveLossLayer(const caffe::LayerParameter& param) : LossLayer(param) {}
  const char* type() const override { return "ContrastiveLoss"; }
  int ExactNumBottomBlobs() const override { return 3; }
  // The features may be forced to backpropagate; the similarity labels may not.
  bool AllowForceBackward(int bottom_index) const override { return bottom_index != 2; }
  void Reshape(const BlobVec& bottom, const BlobVec& top) override;

 protected:
  void ForwardCpu(const BlobVec& bottom, const BlobVec& top) override;
  void BackwardCpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                   const BlobVec& bottom) override;

 private:
  Blob diff_;     // a − b from the last Forward, N × C
  Blob dist_sq_;  // d_n² from the last Forward, N
  int num_ = 0;       // N
  int channels_ = 0;  // C
};

}  // namespace crema

#endif  // CREMA_LAYERS_CONTRASTIVE_LOSS_LAYER_H_
