// Threshold: a step function, element-wise.
//
//   y = 1 for x > threshold, else 0           (threshold_param.threshold, default 0)
//   ∂E/∂x = 0
//
// The step has no useful gradient: Backward writes zeros into the bottom's diff (Caffe has no
// backward pass for this layer at all). One bottom, one top of the same shape; no parameter
// blobs; may run in place. A layer is used by one thread at a time.
#ifndef CREMA_LAYERS_THRESHOLD_LAYER_H_
#define CREMA_LAYERS_THRESHOLD_LAYER_H_

#include "crema/layers/layer.h"

namespace crema {

class ThresholdLayer : public NeuronLayer {
 public:
  explicit ThresholdLayer(const caffe::LayerParameter& param);
  const char* type() const override { return "Threshold"; }

 protected:
  void ForwardCpu(const BlobVec& bottom, const BlobVec& top) override;
  void BackwardCpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                   const BlobVec& bottom) override;

 private:
  float threshold_;
};

}  // namespace crema

#endif  // CREMA_LAYERS_THRESHOLD_LAYER_H_
