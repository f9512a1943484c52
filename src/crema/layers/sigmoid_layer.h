// Sigmoid: the logistic function, element-wise.
//
//   y = 1 / (1 + e^(−x))
//   ∂E/∂x = ∂E/∂y · y · (1 − y)
//
// One bottom, one top of the same shape; may run in place (the backward pass only reads the
// top). A layer is used by one thread at a time.
#ifndef CREMA_LAYERS_SIGMOID_LAYER_H_
#define CREMA_LAYERS_SIGMOID_LAYER_H_

#include "crema/layers/layer.h"

namespace crema {

class SigmoidLayer : public NeuronLayer {
 public:
  using NeuronLayer::NeuronLayer;
  const char* type() const override { return "Sigmoid"; }

 protected:
  void ForwardCpu(const BlobVec& bottom, const BlobVec& top) override;
  void BackwardCpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                   const BlobVec& bottom) override;
};

}  // namespace crema

#endif  // CREMA_LAYERS_SIGMOID_LAYER_H_
