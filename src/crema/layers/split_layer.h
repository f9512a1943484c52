// Split: hands one blob to several consumers.
//
// Every top shares the bottom's data (no copy; Forward does nothing) and keeps its own diff;
// Backward sums the tops' diffs into the bottom's diff:
//
//   y_k = x (shared),   ∂E/∂x = Σ_k ∂E/∂y_k
//
// The net inserts Split layers automatically where a blob feeds more than one layer; they are
// saved in .caffemodel files as Caffe does. One bottom, one or more tops; no in place
// (a top that is the bottom is an InvalidArgument naming the layer). A layer is used by one
// thread at a time.
#ifndef CREMA_LAYERS_SPLIT_LAYER_H_
#define CREMA_LAYERS_SPLIT_LAYER_H_

#include "crema/layers/layer.h"

namespace crema {

class SplitLayer : public Layer {
 public:
  using Layer::Layer;
  const char* type() const override { return "Split"; }
  // Backward moves gradients only.
  bool BackwardReadsBottomData(int) const override { return false; }
  bool BackwardReadsTopData(int) const override { return false; }
  int ExactNumBottomBlobs() const override { return 1; }
  int MinTopBlobs() const override { return 1; }
  void Reshape(const BlobVec& bottom, const BlobVec& top) override;

 protected:
  void ForwardCpu(const BlobVec& /*bottom*/, const BlobVec& /*top*/) override {}
  void BackwardCpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                   const BlobVec& bottom) override;
};

}  // namespace crema

#endif  // CREMA_LAYERS_SPLIT_LAYER_H_
