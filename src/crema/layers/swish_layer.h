// Swish: x scaled by a sigmoid of itself, element-wise.
//
//   s = 1 / (1 + e^(−beta·x))                 (beta = swish_param.beta, default 1)
//   y = x · s
//   ∂E/∂x = ∂E/∂y · (beta·y + s · (1 − beta·y))
//
// One bottom, one top of the same shape; no parameter blobs. Forward keeps s in an internal
// buffer (sized in Reshape), so the backward pass reads only the top and that buffer and the
// layer may run in place. Any beta is accepted. A layer is used by one thread at a time.
#ifndef CREMA_LAYERS_SWISH_LAYER_H_
#define CREMA_LAYERS_SWISH_LAYER_H_

#include "crema/layers/layer.h"

namespace crema {

class SwishLayer : public NeuronLayer {
 public:
  explicit SwishLayer(const caffe::LayerParameter& param);
  const char* type() const override { return "Swish"; }
  void Reshape(const BlobVec& bottom, const BlobVec& top) override;

 protected:
  void ForwardCpu(const BlobVec& bottom, const BlobVec& top) override;
  void BackwardCpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                   const BlobVec& bottom) override;

 private:
  float beta_;
  Blob sigmoid_;  // s of the last Forward
};

}  // namespace crema

#endif  // CREMA_LAYERS_SWISH_LAYER_H_
