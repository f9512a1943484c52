// AbsVal: absolute value, element-wise.
//
//   y = |x|
//   ∂E/∂x = ∂E/∂y · sign(x)        (sign(0) = 0)
//
// One bottom, one top of the same shape; no parameter blobs. The backward pass needs the sign
// of x, which |x| has lost, so the layer cannot run in place.
//
// Errors: LayerSetUp throws InvalidArgument naming the layer when top is bottom (in place).
// A layer is used by one thread at a time.
#ifndef CREMA_LAYERS_ABSVAL_LAYER_H_
#define CREMA_LAYERS_ABSVAL_LAYER_H_

#include "crema/layers/layer.h"

namespace crema {

class AbsValLayer : public NeuronLayer {
 public:
  using NeuronLayer::NeuronLayer;
  const char* type() const override { return "AbsVal"; }

 protected:
  void LayerSetUp(const BlobVec& bottom, const BlobVec& top) override;
  void ForwardCpu(const BlobVec& bottom, const BlobVec& top) override;
  void BackwardCpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                   const BlobVec& bottom) override;
};

}  // namespace crema

#endif  // CREMA_LAYERS_ABSVAL_LAYER_H_
