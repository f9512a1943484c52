// EuclideanLoss: half the squared distance between two blobs, averaged over the batch.
//
//   loss = Σ_i (a_i − b_i)² / (2N)               N = the first dimension of both bottoms
//   ∂E/∂a = +(a − b) · ∂E/∂loss / N,   ∂E/∂b = −(a − b) · ∂E/∂loss / N
//
// Bottoms: bottom[0] = a and bottom[1] = b, with the same first dimension N and the same
// number of values per item (the shapes may otherwise differ, e.g. N×10 and N×10×1×1; values
// are paired in memory order). Unlike the classification losses, b is not a label: both
// bottoms receive gradients (each where propagate_down asks for it) and force_backward reaches
// both. Top: the scalar loss, loss_weight 1 by default. No parameters; loss_param is not read
// (the divisor is always 2N).
//
// Errors (InvalidArgument naming the layer, from SetUp/Reshape): different first dimensions
// or different counts per item.
// A layer is used by one thread at a time.
#ifndef CREMA_LAYERS_EUCLIDEAN_LOSS_LAYER_H_
#define CREMA_LAYERS_EUCLIDEAN_LOSS_LAYER_H_

#include <vector>

#include "crema/layers/layer.h"

namespace crema {

class EuclideanLossLayer : public LossLayer {
 public:
  explicit EuclideanLossLayer(const caffe::LayerParameter& param) : LossLayer(param) {}
  const char* type() const override { return "EuclideanLoss"; }
  // Both inputs are data, so both may be forced to backpropagate.
  bool AllowForceBackward(int /*bottom_index*/) const override { return true; }
  void Reshape(const BlobVec& bottom, const BlobVec& top) override;

 protected:
  void ForwardCpu(const BlobVec& bottom, const BlobVec& top) override;
  void BackwardCpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                   const BlobVec& bottom) override;

 private:
  Blob diff_;  // a − b from the last Forward, shaped like bottom[0]
};

}  // namespace crema

#endif  // CREMA_LAYERS_EUCLIDEAN_LOSS_LAYER_H_
