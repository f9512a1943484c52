// Embed: a lookup table; each integer index in the bottom selects one row of the weights.
//
// Shapes (K = embed_param.input_dim, N = embed_param.num_output):
//   bottom[0]   any shape, M values: indices in [0, K), stored as floats
//   top[0]      (bottom shape…, N)
//   blobs()[0]  weight (K, N)        — the .caffemodel layout
//   blobs()[1]  bias (N), present when bias_term (default true)
//   top[m, :] = weight[idx[m], :] + bias           idx[m] = (int) bottom[m]
//   ∂E/∂weight[k, :] += Σ_{m : idx[m] = k} ∂E/∂top[m, :]
//   ∂E/∂bias += Σ_m ∂E/∂top[m, :]
// The indices get no gradient (force_backward leaves them out; zeros when asked). A float
// index is truncated toward zero, as Caffe does. Parameter gradients are added to the diffs.
//
// Parameters (EmbedParameter): num_output > 0; input_dim > 0; bias_term [true];
// weight_filler, bias_filler [constant 0].
//
// Note [Index errors in Forward] (batch_reindex_layer.h) applies: Forward checks every index
// before writing and throws InvalidArgument naming the layer, the position and the value for
// one outside [0, input_dim), where Caffe aborts. Nothing is clamped.
//
// Errors: LayerSetUp throws InvalidArgument naming the layer for num_output or input_dim 0,
// Reshape when the top is the bottom; Forward as above. A layer is used by one thread at a
// time.
#ifndef CREMA_LAYERS_EMBED_LAYER_H_
#define CREMA_LAYERS_EMBED_LAYER_H_

#include <vector>

#include "crema/layers/layer.h"

namespace crema {

class EmbedLayer : public Layer {
 public:
  using Layer::Layer;
  const char* type() const override { return "Embed"; }
  int ExactNumBottomBlobs() const override { return 1; }
  int ExactNumTopBlobs() const override { return 1; }
  bool AllowForceBackward(int /*bottom_index*/) const override { return false; }
  void Reshape(const BlobVec& bottom, const BlobVec& top) override;

 protected:
  void LayerSetUp(const BlobVec& bottom, const BlobVec& top) override;
  void ForwardCpu(const BlobVec& bottom, const BlobVec& top) override;
  void BackwardCpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                   const BlobVec& bottom) override;

 private:
  int input_dim_ = 0;   // K
  int num_output_ = 0;  // N
  bool bias_term_ = true;
  std::vector<int> top_shape_;
};

}  // namespace crema

#endif  // CREMA_LAYERS_EMBED_LAYER_H_
