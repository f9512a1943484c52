// LSTMUnitLayer: one timestep of the LSTM cell (type "LSTMUnit"), on gate pre-activations
// computed elsewhere. No parameters.
//
// Shapes (N streams, H cells):
//   bottom[0]  c_prev  (1, N, H)    the previous cell state
//   bottom[1]  x       (1, N, 4H)   gate pre-activations, per stream [i' f' o' g'], H each
//   bottom[2]  cont    (1, N)       sequence continuation indicator per stream
//   top[0]     c       (1, N, H)
//   top[1]     h       (1, N, H)
//   i = σ(i')  f = σ(f')  o = σ(o')  g = tanh(g'),  σ(v) = 1 / (1 + e^(−v))
//   c = cont·f ⊙ c_prev + i ⊙ g      (cont = 0: no memory of c_prev)
//   h = o ⊙ tanh(c)
//
// Backward writes the diffs of c_prev and x when asked; cont has no gradient
// (AllowForceBackward is false for it; a requested diff is zeroed). The gradient of f' is
// cont·σ'(f')·c_prev·∂E/∂c, which equals Caffe's for binary cont. Backward reads the bottoms
// and top[0]'s data.
//
// Errors: Reshape throws InvalidArgument naming the layer unless c_prev and x have 3 axes and
// cont 2, all with a first axis of 1 and the same N, and x's last axis is 4× c_prev's.
// A layer is used by one thread at a time.
#ifndef CREMA_LAYERS_LSTM_UNIT_LAYER_H_
#define CREMA_LAYERS_LSTM_UNIT_LAYER_H_

#include <vector>

#include "crema/layers/layer.h"

namespace crema {

class LSTMUnitLayer : public Layer {
 public:
  explicit LSTMUnitLayer(const caffe::LayerParameter& param) : Layer(param) {}

  void Reshape(const BlobVec& bottom, const BlobVec& top) override;

  const char* type() const override { return "LSTMUnit"; }
  int ExactNumBottomBlobs() const override { return 3; }
  int ExactNumTopBlobs() const override { return 2; }
  // The continuation indicators have no gradient.
  bool AllowForceBackward(int bottom_index) const override { return bottom_index != 2; }

 protected:
  void ForwardCpu(const BlobVec& bottom, const BlobVec& top) override;
  void BackwardCpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                   const BlobVec& bottom) override;

 private:
  int hidden_ = 0;  // H
};

}  // namespace crema

#endif  // CREMA_LAYERS_LSTM_UNIT_LAYER_H_
