// Exp: an exponential of an affine map, element-wise.
//
//   y = base^(shift + scale·x)        (base −1 means e)
//     = outer · e^(inner·x),  inner = ln(base)·scale,  outer = base^shift
//   ∂E/∂x = ∂E/∂y · inner · y
//
// exp_param: base (default −1, i.e. e), scale (default 1), shift (default 0).
// One bottom, one top of the same shape; no parameter blobs. The backward pass reads only the
// top, so the layer may run in place. Large arguments overflow to +inf, as e^x does.
//
// Errors: LayerSetUp throws InvalidArgument naming the layer when base is neither −1 nor
// positive. A layer is used by one thread at a time.
#ifndef CREMA_LAYERS_EXP_LAYER_H_
#define CREMA_LAYERS_EXP_LAYER_H_

#include "crema/layers/layer.h"

namespace crema {

class ExpLayer : public NeuronLayer {
 public:
  using NeuronLayer::NeuronLayer;
  const char* type() const override { return "Exp"; }

 protected:
  void LayerSetUp(const BlobVec& bottom, const BlobVec& top) override;
  void ForwardCpu(const BlobVec& bottom, const BlobVec& top) override;
  void BackwardCpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                   const BlobVec& bottom) override;

 private:
  float inner_scale_ = 1.f;
  float outer_scale_ = 1.f;
};

}  // namespace crema

#endif  // CREMA_LAYERS_EXP_LAYER_H_
