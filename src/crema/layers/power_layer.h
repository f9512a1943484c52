// Power: an affine map raised to a power, element-wise.
//
//   y = (shift + scale·x)^power
//   ∂E/∂x = ∂E/∂y · power·scale · (shift + scale·x)^(power − 1)
//
// power_param: power (default 1), scale (default 1), shift (default 0). Special cases, as
// Caffe computes them:
//   power·scale == 0   y = 1 when power == 0, else shift^power, a constant; ∂E/∂x = 0
//   power == 1         y = shift + scale·x; ∂E/∂x = ∂E/∂y · scale (no power taken)
//   power == 2         y = b·b with b = shift + scale·x; ∂E/∂x = ∂E/∂y · 2·scale·b
// A negative base with a non-integer power gives NaN, as std::pow does.
//
// One bottom, one top of the same shape; no parameter blobs. May run in place: when the
// backward pass needs x (power·scale != 0 and power != 1), Forward then keeps a copy of the
// bottom in a buffer sized by Reshape. Any parameter values are accepted. A layer is used by
// one thread at a time.
#ifndef CREMA_LAYERS_POWER_LAYER_H_
#define CREMA_LAYERS_POWER_LAYER_H_

#include "crema/layers/layer.h"

namespace crema {

class PowerLayer : public NeuronLayer {
 public:
  explicit PowerLayer(const caffe::LayerParameter& param);
  const char* type() const override { return "Power"; }
  void Reshape(const BlobVec& bottom, const BlobVec& top) override;

 protected:
  void ForwardCpu(const BlobVec& bottom, const BlobVec& top) override;
  void BackwardCpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                   const BlobVec& bottom) override;

 private:
  // Whether the backward pass reads x (else the gradient is a constant multiple of ∂E/∂y).
  bool BackwardNeedsInput() const { return diff_scale_ != 0.f && power_ != 1.f; }

  float power_;
  float scale_;
  float shift_;
  float diff_scale_;  // power · scale
  Blob bottom_copy_;  // x, kept only in place when the backward pass needs it
};

}  // namespace crema

#endif  // CREMA_LAYERS_POWER_LAYER_H_
