// BNLL ("binomial normal log likelihood"): the softplus function, element-wise.
//
//   y = ln(1 + e^x), computed as x + ln(1 + e^(−x)) for x > 0 so e^x never overflows
//   ∂E/∂x = ∂E/∂y · e^x / (1 + e^x) = ∂E/∂y · (1 − e^(−y))
//
// One bottom, one top of the same shape; no parameter blobs. The backward pass reads only the
// top (the second form of the derivative), so the layer may run in place. A layer is used by
// one thread at a time.
#ifndef CREMA_LAYERS_BNLL_LAYER_H_
#define CREMA_LAYERS_BNLL_LAYER_H_

#include "crema/layers/layer.h"

namespace crema {

class BNLLLayer : public NeuronLayer {
 public:
  using NeuronLayer::NeuronLayer;
  const char* type() const override { return "BNLL"; }

 protected:
  void ForwardCpu(const BlobVec& bottom, const BlobVec& top) override;
  void BackwardCpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                   const BlobVec& bottom) override;
};

}  // namespace crema

#endif  // CREMA_LAYERS_BNLL_LAYER_H_
