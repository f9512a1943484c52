// PReLU: a leaky ReLU whose negative slopes are learned, one per channel or one in all.
//
//   y = x                for x > 0
//   y = a_c · x          for x <= 0       (c = index along axis 1, the channel)
//   ∂E/∂x   = ∂E/∂y · (x > 0 ? 1 : a_c)
//   ∂E/∂a_c = Σ over the items and positions of channel c with x <= 0 of ∂E/∂y · x
//
// Shapes:
//   bottom[0]  (N, C, …) with at least 2 axes; top[0] the same shape
//   blobs()[0] the slopes a: shape (C), or, with prelu_param.channel_shared, a single value
//              stored as a blob with no axes (shape ()), exactly as Caffe stores it
// prelu_param: filler (default constant 0.25), channel_shared (default false).
// The slope gradient is added to the blob's diff. May run in place: Forward then keeps a copy
// of the bottom (a buffer sized by Reshape) since both gradients need x.
//
// Errors: LayerSetUp and Reshape throw InvalidArgument naming the layer for a bottom with
// fewer than 2 axes, or (per-channel slopes) one whose axis 1 differs from the slopes' C; the
// filler's own errors name the layer too. A layer is used by one thread at a time.
#ifndef CREMA_LAYERS_PRELU_LAYER_H_
#define CREMA_LAYERS_PRELU_LAYER_H_

#include "crema/layers/layer.h"

namespace crema {

class PReLULayer : public NeuronLayer {
 public:
  using NeuronLayer::NeuronLayer;
  const char* type() const override { return "PReLU"; }
  void Reshape(const BlobVec& bottom, const BlobVec& top) override;

 protected:
  void LayerSetUp(const BlobVec& bottom, const BlobVec& top) override;
  void ForwardCpu(const BlobVec& bottom, const BlobVec& top) override;
  void BackwardCpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                   const BlobVec& bottom) override;

 private:
  bool channel_shared_ = false;
  int channels_ = 0;    // C of the bottom the layer was set up with
  Blob bottom_copy_;    // x, kept only when running in place
  Blob row_sums_;       // per (item, channel) partial slope gradients, N·C values
};

}  // namespace crema

#endif  // CREMA_LAYERS_PRELU_LAYER_H_
