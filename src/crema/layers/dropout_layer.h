// Dropout: inverted dropout, the form Caffe uses.
//
//   TRAIN:  y = x · m / (1 − p),  m ~ Bernoulli(1 − p) per element, drawn anew every Forward
//           ∂E/∂x = ∂E/∂y · m / (1 − p)  (the mask of the last Forward)
//   TEST:   y = x,  ∂E/∂x = ∂E/∂y
//
// p = dropout_param.dropout_ratio (default 0.5), REQUIRES 0 <= p < 1 (else SetUp throws
// InvalidArgument naming the layer). The phase is the layer's (LayerParameter.phase). Masks
// come from the calling thread's generator (core/rng.h), one raw draw per element, so
// SetRandomSeed makes them reproducible. One bottom, one top of the same shape; may run in
// place. A layer is used by one thread at a time.
#ifndef CREMA_LAYERS_DROPOUT_LAYER_H_
#define CREMA_LAYERS_DROPOUT_LAYER_H_

#include <cstdint>
#include <vector>

#include "crema/layers/layer.h"

namespace crema {

class DropoutLayer : public NeuronLayer {
 public:
  using NeuronLayer::NeuronLayer;
  const char* type() const override { return "Dropout"; }
  // Backward reads its own mask.
  bool BackwardReadsBottomData(int) const override { return false; }
  bool BackwardReadsTopData(int) const override { return false; }
  void Reshape(const BlobVec& bottom, const BlobVec& top) override;

 protected:
  void LayerSetUp(const BlobVec& bottom, const BlobVec& top) override;
  void ForwardCpu(const BlobVec& bottom, const BlobVec& top) override;
  void BackwardCpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                   const BlobVec& bottom) override;

 private:
  float ratio_ = 0.5f;
  float scale_ = 2.f;           // 1 / (1 − ratio_)
  uint32_t threshold_ = 0;      // raw draws below this drop their element
  std::vector<unsigned> mask_;  // 1 = kept; sized in Reshape, never shrunk
};

}  // namespace crema

#endif  // CREMA_LAYERS_DROPOUT_LAYER_H_
