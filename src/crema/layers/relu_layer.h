// ReLU: rectified linear unit with an optional leak.
//
//   y = x              for x > 0
//   y = slope · x      for x <= 0          (slope = relu_param.negative_slope, default 0)
//   ∂E/∂x = ∂E/∂y · (x > 0 ? 1 : slope)
//
// One bottom, one top of the same shape; may run in place (top == bottom). In place the
// backward pass reads the top data where it would read x, which gives the same answer as long
// as slope >= 0 (the sign of y equals the sign of x). A layer is used by one thread at a time.
#ifndef CREMA_LAYERS_RELU_LAYER_H_
#define CREMA_LAYERS_RELU_LAYER_H_

#include "crema/layers/layer.h"

namespace crema {

class ReLULayer : public NeuronLayer {
 public:
  explicit ReLULayer(const caffe::LayerParameter& param);
  const char* type() const override { return "ReLU"; }
  bool BackwardReadsTopData(int) const override { return false; }

 protected:
  void ForwardCpu(const BlobVec& bottom, const BlobVec& top) override;
  void BackwardCpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                   const BlobVec& bottom) override;

 private:
  float negative_slope_;
};

}  // namespace crema

#endif  // CREMA_LAYERS_RELU_LAYER_H_
