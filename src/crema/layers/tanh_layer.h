// TanH: the hyperbolic tangent, element-wise.
//
//   y = tanh(x)
//   ∂E/∂x = ∂E/∂y · (1 − y²)
//
// One bottom, one top of the same shape; may run in place (the backward pass only reads the
// top). A layer is used by one thread at a time.
#ifndef CREMA_LAYERS_TANH_LAYER_H_
#define CREMA_LAYERS_TANH_LAYER_H_

#include "crema/layers/layer.h"

namespace crema {

class TanHLayer : public NeuronLayer {
 public:
  using NeuronLayer::NeuronLayer;
  const char* type() const override { return "TanH"; }

 protected:
  void ForwardCpu(const BlobVec& bottom, const BlobVec& top) override;
  void BackwardCpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                   const BlobVec& bottom) override;
};

}  // namespace crema

#endif  // CREMA_LAYERS_TANH_LAYER_H_
