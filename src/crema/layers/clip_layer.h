// Clip: clamps every value to [min, max].
//
//   y = max(min, min(x, max))                 (clip_param.min, clip_param.max; both required)
//   ∂E/∂x = ∂E/∂y  where min <= x <= max, 0 elsewhere
//
// One bottom, one top of the same shape; no parameter blobs. May run in place: the backward
// pass then reads the top, and passes the gradient where min < y < max. That differs from
// out-of-place use only for inputs exactly equal to a bound (whose gradient is then 0).
//
// Errors: LayerSetUp throws InvalidArgument naming the layer when clip_param, its min or its
// max is missing, or when min > max. A layer is used by one thread at a time.
#ifndef CREMA_LAYERS_CLIP_LAYER_H_
#define CREMA_LAYERS_CLIP_LAYER_H_

#include "crema/layers/layer.h"

namespace crema {

class ClipLayer : public NeuronLayer {
 public:
  using NeuronLayer::NeuronLayer;
  const char* type() const override { return "Clip"; }

 protected:
  void LayerSetUp(const BlobVec& bottom, const BlobVec& top) override;
  void ForwardCpu(const BlobVec& bottom, const BlobVec& top) override;
  void BackwardCpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                   const BlobVec& bottom) override;

 private:
  float min_ = 0.f;
  float max_ = 0.f;
};

}  // namespace crema

#endif  // CREMA_LAYERS_CLIP_LAYER_H_
