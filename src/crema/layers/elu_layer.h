// ELU: exponential linear unit, element-wise.
//
//   y = x                    for x > 0
//   y = alpha · (e^x − 1)    for x <= 0        (alpha = elu_param.alpha, default 1)
//   ∂E/∂x = ∂E/∂y · (x > 0 ? 1 : y + alpha)
//
// One bottom, one top of the same shape; no parameter blobs. May run in place: the backward
// pass then reads the top data where it would read x, which gives the same answer whenever
// alpha >= 0 (y > 0 exactly when x > 0). Any alpha is accepted. A layer is used by one thread
// at a time.
#ifndef CREMA_LAYERS_ELU_LAYER_H_
#define CREMA_LAYERS_ELU_LAYER_H_

#include "crema/layers/layer.h"

namespace crema {

class ELULayer : public NeuronLayer {
 public:
  explicit ELULayer(const caffe::LayerParameter& param);
  const char* type() const override { return "ELU"; }

 protected:
  void ForwardCpu(const BlobVec& bottom, const BlobVec& top) override;
  void BackwardCpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                   const BlobVec& bottom) override;

 private:
  float alpha_;
};

}  // namespace crema

#endif  // CREMA_LAYERS_ELU_LAYER_H_
