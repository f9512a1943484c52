// Input: the entry point of a deploy net; the caller writes the top blobs' data.
//
// No bottoms, one or more tops. input_param.shape gives the tops' shapes at SetUp: none
// leaves the tops unshaped (the caller shapes them), one shape applies to every top, and
// otherwise there must be exactly one shape per top. Forward and Backward do nothing, and
// Reshape leaves the tops alone, so a caller may reshape an input (e.g. a new batch size) and
// then reshape the net. A layer is used by one thread at a time.
//
// Errors (InvalidArgument naming the layer): more than one shape but not one per top; a shape
// Blob cannot take (negative dimension, too many axes).
#ifndef CREMA_LAYERS_INPUT_LAYER_H_
#define CREMA_LAYERS_INPUT_LAYER_H_

#include "crema/layers/layer.h"

namespace crema {

class InputLayer : public Layer {
 public:
  using Layer::Layer;
  const char* type() const override { return "Input"; }
  int ExactNumBottomBlobs() const override { return 0; }
  int MinTopBlobs() const override { return 1; }
  void Reshape(const BlobVec& /*bottom*/, const BlobVec& /*top*/) override {}

 protected:
  void LayerSetUp(const BlobVec& bottom, const BlobVec& top) override;
  void ForwardCpu(const BlobVec& /*bottom*/, const BlobVec& /*top*/) override {}
  void BackwardCpu(const BlobVec& /*top*/, const std::vector<bool>& /*propagate_down*/,
                   const BlobVec& /*bottom*/) override {}
};

}  // namespace crema

#endif  // CREMA_LAYERS_INPUT_LAYER_H_
