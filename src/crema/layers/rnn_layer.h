// RNNLayer: a simple (Elman) recurrent layer over time-major sequences (type "RNN"),
// computing what Caffe's RNN computes with the same parameter blobs.
//
// For t = 1…T, per stream n (H = recurrent_param.num_output, which is also the output size):
//   h_t = tanh(W_hh·(cont_t ⊙ h_{t−1}) + W_xh·x_t + b_h + W_xh_static·x_static)
//   o_t = tanh(W_ho·h_t + b_o)
// the W_xh_static term only with x_static. The top is o, not h; h_T is the exposed state.
//
// Blobs (see recurrent_layer.h for x, cont, x_static, state carrying and errors):
//   bottoms    x (T, N, …), cont (T, N), [x_static (N, …)], [h_0 (1, N, H)]
//   tops       o (T, N, H) = o_1…o_T, [h_T (1, N, H)]            (brackets: expose_hidden)
//   blobs()    W_xh (H, I), b_h (H), [W_xh_static (H, S)], W_hh (H, H), W_ho (H, H), b_o (H)
//
// Forward runs one GEMM for the input projection of every timestep, one per timestep for the
// recurrence and one for the output projection of every timestep; Backward runs through time
// and ends with one GEMM per weight. A layer is used by one thread at a time.
#ifndef CREMA_LAYERS_RNN_LAYER_H_
#define CREMA_LAYERS_RNN_LAYER_H_

#include <vector>

#include "crema/layers/recurrent_layer.h"

namespace crema {

class RNNLayer : public RecurrentLayer {
 public:
  explicit RNNLayer(const caffe::LayerParameter& param) : RecurrentLayer(param) {}
  const char* type() const override { return "RNN"; }

 protected:
  int NumStates() const override { return 1; }
  int GateDim() const override { return hidden_; }
  void AddOwnParameters() override;
  void ReshapeBuffers() override;
  void ForwardCpu(const BlobVec& bottom, const BlobVec& top) override;
  void BackwardCpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                   const BlobVec& bottom) override;

 private:
  int output_weight_index() const { return recurrent_weight_index() + 1; }

  std::vector<float> hidden_states_;  // T·N × H: h_1 … h_T (pre-activations while forming)
  std::vector<float> outputs_;        // T·N × H: o_t, kept apart from the top it is copied to
  std::vector<float> h_conted_;       // T·N × H: cont_t ⊙ h_{t−1}, the input of W_hh
  std::vector<float> doutputs_;       // T·N × H: gradient of W_ho·h_t + b_o
  std::vector<float> dhidden_;        // T·N × H: gradient of the h pre-activations
  std::vector<float> dh_;             // N × H: gradient reaching h_t through step t+1
};

}  // namespace crema

#endif  // CREMA_LAYERS_RNN_LAYER_H_
