// RecurrentLayer: what the LSTM and RNN layers share — Caffe's recurrent-layer interface
// (time-major sequences with continuation flags), the input projection, the layout of the
// parameter blobs up to the recurrent weights, and the state carried between batches. The
// subclasses compute the cell. Not registered itself; a layer is used by one thread at a time.
//
// Blobs (T timesteps, N independent streams, H = recurrent_param.num_output):
//   bottom[0]  x         (T, N, …)   I = count(2) inputs per timestep and stream (1 when 2-D)
//   bottom[1]  cont      (T, N)      sequence continuation indicators: cont[t, n] multiplies
//                                    stream n's state before step t uses it, so 0 starts a
//                                    new sequence and 1 continues the current one
//   bottom[2]  x_static  (N, …)      optional; S = count(1) inputs per stream, projected once
//                                    and added at every timestep
//   then, with expose_hidden, the initial states, each (1, N, H): h_0 (LSTM: h_0, c_0)
//   top[0]               (T, N, H)   the output sequence
//   then, with expose_hidden, the final states, each (1, N, H): h_T (LSTM: h_T, c_T)
// x_static is present exactly when there is one bottom more than the minimum.
//
// Parameter blobs (G = 4H for LSTM, H for RNN), in this order — Caffe's .caffemodel layout:
//   blobs()[0]   W_x       (G, I)     input weights
//   blobs()[1]   b         (G)        bias
//   blobs()[2]   W_static  (G, S)     only with x_static
//   next         W_h       (G, H)     recurrent weights
//   then the subclass's own blobs (RNN: W_ho, b_o).
//
// recurrent_param: num_output (> 0, required); weight_filler for every weight blob and
// bias_filler for every bias blob (both default to constant 0); expose_hidden [false];
// debug_info [false] is accepted and has no effect (there is no inner net to trace).
//
// State between batches: without expose_hidden each Forward starts from the state the previous
// Forward ended with (zeros at first, and again whenever N changes), so a sequence may run on
// across batches with cont = 1 at t = 0; no gradient flows into the previous batch. With
// expose_hidden the initial state is read from the bottoms and the final state written to the
// tops, and Backward adds the final-state tops' diffs to the gradient and writes the
// initial-state bottoms' diffs (when asked): the exact gradient. Caffe's unrolled net instead
// ignores those tops' diffs and leaves those bottoms' diffs alone, so results differ from
// Caffe's only where h_T/c_T feed a loss or h_0/c_0 come from a layer that learns.
//
// cont gets no gradient (AllowForceBackward is false for it; a requested diff is zeroed).
// T and N may change from one Forward to the next; I and S are fixed by the weights.
//
// Errors: LayerSetUp and Reshape throw InvalidArgument naming the layer for num_output 0, x
// with fewer than 2 axes or no timestep or stream, cont not (T, N), x_static whose first axis
// is not N, input or static sizes other than the weights', and exposed states not (1, N, H).
#ifndef CREMA_LAYERS_RECURRENT_LAYER_H_
#define CREMA_LAYERS_RECURRENT_LAYER_H_

#include <vector>

#include "crema/layers/layer.h"

namespace crema {

class RecurrentLayer : public Layer {
 public:
  explicit RecurrentLayer(const caffe::LayerParameter& param);

  void Reshape(const BlobVec& bottom, const BlobVec& top) final;

  int MinBottomBlobs() const override { return 2 + NumExposedStates(); }
  int MaxBottomBlobs() const override { return 3 + NumExposedStates(); }
  int ExactNumTopBlobs() const override { return 1 + NumExposedStates(); }
  // The continuation indicators have no gradient.
  bool AllowForceBackward(int bottom_index) const override { return bottom_index != 1; }

 protected:
  // ---- What a subclass supplies ----
  // Recurrent states per stream (RNN 1: h; LSTM 2: h, c), each (N, H).
  virtual int NumStates() const = 0;
  // Rows of W_x, b, W_static and W_h: 4H for LSTM, H for RNN.
  virtual int GateDim() const = 0;
  // Appends the parameter blobs that follow W_h, filled with the given fillers.
  virtual void AddOwnParameters() {}
  // Sizes the subclass's buffers for T_, N_ (called by every Reshape).
  virtual void ReshapeBuffers() = 0;

  void LayerSetUp(const BlobVec& bottom, const BlobVec& top) final;

  // ---- Helpers for the subclasses ----
  // pre (T·N × G) = x·W_xᵀ + b, plus W_static·x_static added at every timestep.
  void ForwardInputProjection(const BlobVec& bottom, float* pre);
  // From d pre (T·N × G): accumulates into the diffs of W_x, b and W_static (as far as
  // param_propagate_down allows) and writes the diffs of x and x_static when asked.
  void BackwardInputProjection(const BlobVec& bottom, const std::vector<bool>& propagate_down,
                               const float* dpre);
  // State k (N × H) a Forward starts from: the exposed bottom or the carried state.
  const float* InitialState(const BlobVec& bottom, int k) const;
  // Stores state k (N × H) a Forward ended with: into the exposed top or the carried state.
  void SaveFinalState(const BlobVec& top, int k, const float* state);
  // Gradient arriving at final state k (the exposed top's diff), or nullptr when not exposed.
  const float* FinalStateDiff(const BlobVec& top, int k) const;
  // Where the gradient of initial state k goes, or nullptr when not exposed or not asked for.
  float* InitialStateDiff(const BlobVec& bottom, const std::vector<bool>& propagate_down,
                          int k) const;
  // Zeroes cont's diff when a net asks for it (there is no gradient to give).
  static void ZeroContDiff(const BlobVec& bottom, const std::vector<bool>& propagate_down);
  // out[c] += Σ_r m[r, c] for a rows × cols matrix.
  static void AddColumnSums(int rows, int cols, const float* m, float* out);

  int recurrent_weight_index() const { return static_input_ ? 3 : 2; }

  int T_ = 0;           // timesteps
  int N_ = 0;           // streams
  int hidden_ = 0;      // H
  int input_dim_ = 0;   // I
  int static_dim_ = 0;  // S (0 without x_static)
  bool static_input_ = false;
  bool expose_hidden_ = false;

 private:
  int NumExposedStates() const { return expose_hidden_ ? NumStates() : 0; }

  std::vector<std::vector<float>> carried_;  // NumStates() × (N × H), without expose_hidden
  int carried_streams_ = -1;                 // N the carried state was made for
  std::vector<float> static_pre_;            // N × G: W_static · x_static
  std::vector<float> static_dpre_;           // N × G: Σ_t d pre_t
};

}  // namespace crema

#endif  // CREMA_LAYERS_RECURRENT_LAYER_H_
