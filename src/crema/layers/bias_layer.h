// Bias: adds a bias broadcast over the axes it does not cover.
//
//   top[n, d, i] = bottom[n, d, i] + bias[d]
//   ∂E/∂bottom = ∂E/∂top;   ∂E/∂bias[d] = Σ_{n, i} ∂E/∂top[n, d, i]
//
// where, with A = the first axis the bias covers and K its number of axes, n runs over
// bottom[0]'s axes before A, d over the K axes from A (the bias's shape), i over the rest.
//
// Shapes:
//   bottom[0]  any shape; top[0] the same shape (may be bottom[0]: in place)
//   bottom[1]  optional: the bias itself, shape bottom[0].shape[A, A+K) for any K >= 0
//   blobs()[0] with one bottom only: the learned bias, shape bottom[0].shape[A, A+K); none
//              with two bottoms (bottom[1] then gets the bias gradient, which overwrites its
//              diff; the blob's gradient is added to its diff)
// bias_param: axis (A, default 1; negative counts from the end), num_axes (K for the learned
// bias, default 1; −1 means every axis from A on; ignored with two bottoms, where K is
// bottom[1]'s number of axes), filler (default constant 0). A bias with no axes (K = 0) is one
// value added everywhere; A is then taken as 0.
//
// Errors: LayerSetUp and Reshape throw InvalidArgument naming the layer for an axis out of
// range, num_axes < −1, a bias reaching past bottom[0]'s last axis, or a bias whose
// dimensions differ from bottom[0]'s from A on. A layer is used by one thread at a time.
#ifndef CREMA_LAYERS_BIAS_LAYER_H_
#define CREMA_LAYERS_BIAS_LAYER_H_

#include <vector>

#include "crema/layers/layer.h"

namespace crema {

class BiasLayer : public Layer {
 public:
  using Layer::Layer;
  const char* type() const override { return "Bias"; }
  int MinBottomBlobs() const override { return 1; }
  int MaxBottomBlobs() const override { return 2; }
  int ExactNumTopBlobs() const override { return 1; }
  void Reshape(const BlobVec& bottom, const BlobVec& top) override;

 protected:
  void LayerSetUp(const BlobVec& bottom, const BlobVec& top) override;
  void ForwardCpu(const BlobVec& bottom, const BlobVec& top) override;
  void BackwardCpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                   const BlobVec& bottom) override;

 private:
  // bias_param.axis mapped onto `input`'s axes; throws InvalidArgument when out of range.
  int Axis(const Blob& input) const;

  int outer_ = 0;  // product of bottom[0]'s axes before A
  int dim_ = 0;    // bias count
  int inner_ = 0;  // product of bottom[0]'s axes after the bias's
  Blob row_sums_;  // outer·dim partial bias gradients
};

}  // namespace crema

#endif  // CREMA_LAYERS_BIAS_LAYER_H_
