// Dropout: inverted dropout, the form Caffe uses.
//
//   TRAIN:  y = x · m / (1 − p),  m ~ Bernoulli(1 − p) per element, drawn anew every Forward
//           ∂E/∂x = ∂E/∂y · m / (1 − p)  (the mask of the last Forward)
//   TEST:   y = x,  ∂E/∂x = ∂E/∂y
//
// p = dropout_param.dropout_ratio (default 0.5), REQUIRES 0 <= p < 1 (else SetUp throws
// InvalidArgument naming the layer). The phase is the layer's (LayerParameter.phase).
// Each TRAIN Forward takes one draw from the calling thread's generator (core/rng.h) and
// derives the whole mask from it and the job's rank: SetRandomSeed makes masks reproducible,
// every rank has its own, the mask is computed on any number of threads, and SkipBatches(n)
// discards n draws, so a run resumed from a snapshot goes on with the masks the interrupted
// run would have drawn. One bottom, one top of the same shape; may run in place. A layer is
// used by one thread at a time.
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
  void SkipBatches(int64_t batches) override;

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
