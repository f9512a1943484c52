// Log: a logarithm of an affine map, element-wise.
//
//   y = log_base(shift + scale·x)  = ln(shift + scale·x) / ln(base)      (base −1 means e)
//   ∂E/∂x = ∂E/∂y · scale / (ln(base) · (shift + scale·x))
//
// log_param: base (default −1, i.e. e), scale (default 1), shift (default 0). Arguments
// shift + scale·x <= 0 give −inf or NaN, as ln does.
// One bottom, one top of the same shape; no parameter blobs. The backward pass needs x; the
// layer may still run in place, Forward then keeping a copy of the bottom in a buffer sized
// by Reshape.
//
// Errors: LayerSetUp throws InvalidArgument naming the layer when base is neither −1 nor
// positive, or is 1 (no logarithm has base 1). A layer is used by one thread at a time.
#ifndef CREMA_LAYERS_LOG_LAYER_H_
#define CREMA_LAYERS_LOG_LAYER_H_

#include "crema/layers/layer.h"

namespace crema {

class LogLayer : public NeuronLayer {
 public:
  using NeuronLayer::NeuronLayer;
  const char* type() const override { return "Log"; }
  void Reshape(const BlobVec& bottom, const BlobVec& top) override;

 protected:
  void LayerSetUp(const BlobVec& bottom, const BlobVec& top) override;
  void ForwardCpu(const BlobVec& bottom, const BlobVec& top) override;
  void BackwardCpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                   const BlobVec& bottom) override;

 private:
  float scale_ = 1.f;
  float shift_ = 0.f;
  float base_scale_ = 1.f;           // 1 / ln(base)
  float backward_num_scale_ = 1.f;   // scale / ln(base)
  Blob bottom_copy_;                 // x, kept only when running in place
};

}  // namespace crema

#endif  // CREMA_LAYERS_LOG_LAYER_H_
