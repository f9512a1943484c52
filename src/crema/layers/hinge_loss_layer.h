// HingeLoss: the one-versus-all hinge loss of per-class scores, for SVM-style training.
//
//   s[n, k] = −1 if k == l_n, +1 otherwise
//   m[n, k] = max(0, 1 + s[n, k] · x[n, k])            (the margin violation)
//   loss = Σ_{n,k} m[n, k] / N                         (norm: L1)
//   loss = Σ_{n,k} m[n, k]² / N                        (norm: L2)
//   ∂loss/∂x[n, k] = s[n, k] · [m[n, k] > 0] · ∂E/∂loss / N      (L1)
//   ∂loss/∂x[n, k] = 2 · s[n, k] · m[n, k] · ∂E/∂loss / N        (L2)
//
// So the labelled class wants a score ≥ 1 and every other class a score ≤ −1. At a kink
// (m = 0 exactly) the L1 gradient is 0.
//
// Bottoms: bottom[0] scores x, N × … with dim = count/N classes per item in memory order;
// bottom[1] labels, one per item (N values), each a class index in [0, dim) stored as float
// and truncated toward zero. Top: the scalar loss, loss_weight 1 by default. No parameters.
// hinge_loss_param.norm: L1 [default] or L2. loss_param is not read (no ignore_label; the
// divisor is always N).
//
// Errors (InvalidArgument naming the layer): a different first dimension or a label count
// other than N (Reshape); a label outside [0, dim) (Forward, naming the label and its
// position); propagate_down on the labels (Backward).
// A layer is used by one thread at a time.
#ifndef CREMA_LAYERS_HINGE_LOSS_LAYER_H_
#define CREMA_LAYERS_HINGE_LOSS_LAYER_H_

#include <vector>

#include "crema/layers/layer.h"

namespace crema {

class HingeLossLayer : public LossLayer {
 public:
  explicit HingeLossLayer(const caffe::LayerParameter& param) : LossLayer(param) {}
  const char* type() const override { return "HingeLoss"; }
  void Reshape(const BlobVec& bottom, const BlobVec& top) override;

 protected:
  void ForwardCpu(const BlobVec& bottom, const BlobVec& top) override;
  void BackwardCpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                   const BlobVec& bottom) override;

 private:
  Blob margin_;  // m from the last Forward, shaped like bottom[0]
  int num_ = 0;  // N
  int dim_ = 0;  // classes per item
};

}  // namespace crema

#endif  // CREMA_LAYERS_HINGE_LOSS_LAYER_H_
