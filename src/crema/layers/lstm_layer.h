// LSTMLayer: a long short-term memory over time-major sequences (type "LSTM"), computing
// what Caffe's LSTM computes with the same parameter blobs.
//
// For t = 1…T, per stream n (H = recurrent_param.num_output; products · are matrix-vector,
// ⊙ element-wise; the gate vector is split in the order i, f, o, g):
//   [i' f' o' g'] = W_xc·x_t + b_c + W_xc_static·x_static + W_hc·(cont_t ⊙ h_{t−1})
//   i = σ(i')  f = σ(f')  o = σ(o')  g = tanh(g')
//   c_t = cont_t·f ⊙ c_{t−1} + i ⊙ g          (cont_t = 0: no memory of c_{t−1})
//   h_t = o ⊙ tanh(c_t)
// with σ(v) = 1 / (1 + e^(−v)); the W_xc_static term only with x_static.
//
// Blobs (see recurrent_layer.h for x, cont, x_static, state carrying and errors):
//   bottoms    x (T, N, …), cont (T, N), [x_static (N, …)], [h_0 (1, N, H), c_0 (1, N, H)]
//   tops       h (T, N, H) = h_1…h_T, [h_T (1, N, H), c_T (1, N, H)]   (brackets: expose_hidden)
//   blobs()    W_xc (4H, I), b_c (4H), [W_xc_static (4H, S)], W_hc (4H, H)
// Rows 0…H−1 of each gate-sized axis belong to i, H…2H−1 to f, 2H…3H−1 to o, 3H…4H−1 to g.
//
// Forward runs one GEMM (T·N × I by I × 4H) for the input projection of every timestep and
// one (N × H by H × 4H) per timestep for the recurrence; Backward runs through time and ends
// with one GEMM per weight. The gradient of f' is cont_t·σ'(f')·c_{t−1}·∂E/∂c_t, which equals
// Caffe's for binary cont. A layer is used by one thread at a time.
#ifndef CREMA_LAYERS_LSTM_LAYER_H_
#define CREMA_LAYERS_LSTM_LAYER_H_

#include <vector>

#include "crema/layers/recurrent_layer.h"

namespace crema {

class LSTMLayer : public RecurrentLayer {
 public:
  explicit LSTMLayer(const caffe::LayerParameter& param) : RecurrentLayer(param) {}
  const char* type() const override { return "LSTM"; }

 protected:
  int NumStates() const override { return 2; }
  int GateDim() const override { return 4 * hidden_; }
  void ReshapeBuffers() override;
  void ForwardCpu(const BlobVec& bottom, const BlobVec& top) override;
  void BackwardCpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                   const BlobVec& bottom) override;

 private:
  std::vector<float> gates_;     // T·N × 4H: pre-activations, then i, f, o, g (f without cont)
  std::vector<float> dgates_;    // T·N × 4H: gradient of the pre-activations
  std::vector<float> cells_;     // (T+1)·N × H: c_0 … c_T
  std::vector<float> tanh_c_;    // T·N × H: tanh(c_t)
  std::vector<float> h_conted_;  // T·N × H: cont_t ⊙ h_{t−1}, the input of W_hc
  std::vector<float> dh_;        // N × H: gradient reaching h_t through step t+1
  std::vector<float> dc_;        // N × H: gradient reaching c_t through step t+1
};

}  // namespace crema

#endif  // CREMA_LAYERS_LSTM_LAYER_H_
