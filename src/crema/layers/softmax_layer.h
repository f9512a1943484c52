// Softmax: normalised exponentials along one axis.
//
// With the bottom viewed as outer × C × inner, C = shape(axis) (axis = softmax_param.axis,
// default 1, negative counts from the end), for every (n, i):
//
//   y[n, c, i] = exp(x[n, c, i] − m) / Σ_k exp(x[n, k, i] − m),   m = max_k x[n, k, i]
//   ∂E/∂x[n, c, i] = y[n, c, i] · (∂E/∂y[n, c, i] − Σ_k ∂E/∂y[n, k, i] · y[n, k, i])
//
// Subtracting the maximum keeps exp() finite for any input. One bottom, one top of the same
// shape; may run in place (the backward pass only reads the top).
// Errors: Reshape throws InvalidArgument naming the layer when axis is out of range for the
// bottom. A layer is used by one thread at a time.
#ifndef CREMA_LAYERS_SOFTMAX_LAYER_H_
#define CREMA_LAYERS_SOFTMAX_LAYER_H_

#include <vector>

#include "crema/layers/layer.h"

namespace crema {

class SoftmaxLayer : public Layer {
 public:
  using Layer::Layer;
  const char* type() const override { return "Softmax"; }
  int ExactNumBottomBlobs() const override { return 1; }
  int ExactNumTopBlobs() const override { return 1; }
  void Reshape(const BlobVec& bottom, const BlobVec& top) override;

 protected:
  void ForwardCpu(const BlobVec& bottom, const BlobVec& top) override;
  void BackwardCpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                   const BlobVec& bottom) override;

 private:
  int outer_ = 0;
  int channels_ = 0;
  int inner_ = 0;
  // One value per (n, i): the running maximum, then the sum (forward) or the dot (backward).
  std::vector<float> scratch_;
};

}  // namespace crema

#endif  // CREMA_LAYERS_SOFTMAX_LAYER_H_
