// Silence: consumes blobs nobody else reads, so the net does not report them as outputs.
//
// Any number (at least one) of bottoms, no tops. Forward does nothing; Backward zeroes the
// diff of every bottom whose gradient is asked for (a silenced blob contributes nothing).
// A layer is used by one thread at a time.
#ifndef CREMA_LAYERS_SILENCE_LAYER_H_
#define CREMA_LAYERS_SILENCE_LAYER_H_

#include "crema/layers/layer.h"

namespace crema {

class SilenceLayer : public Layer {
 public:
  using Layer::Layer;
  const char* type() const override { return "Silence"; }
  int MinBottomBlobs() const override { return 1; }
  int ExactNumTopBlobs() const override { return 0; }
  void Reshape(const BlobVec& /*bottom*/, const BlobVec& /*top*/) override {}

 protected:
  void ForwardCpu(const BlobVec& /*bottom*/, const BlobVec& /*top*/) override {}
  void BackwardCpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                   const BlobVec& bottom) override;
};

}  // namespace crema

#endif  // CREMA_LAYERS_SILENCE_LAYER_H_
