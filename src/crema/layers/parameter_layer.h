// Parameter: exposes a learnable blob as a top, so other layers can take it as a bottom.
//
// Shapes: no bottom;
//   top[0]      parameter_param.shape
//   blobs()[0]  the parameter, parameter_param.shape (what a .caffemodel stores)
// The top shares the parameter's data and diff: Forward and Backward do nothing, and the
// gradient consumers write into the top's diff is the parameter's gradient. The parameter
// starts at zero (no filler, as in Caffe); its values come from a .caffemodel or training.
//
// Errors (InvalidArgument naming the layer): a negative dimension, more than 32 axes or more
// than INT_MAX values in parameter_param.shape. A layer is used by one thread at a time.
#ifndef CREMA_LAYERS_PARAMETER_LAYER_H_
#define CREMA_LAYERS_PARAMETER_LAYER_H_

#include <vector>

#include "crema/layers/layer.h"

namespace crema {

class ParameterLayer : public Layer {
 public:
  using Layer::Layer;
  const char* type() const override { return "Parameter"; }
  int ExactNumBottomBlobs() const override { return 0; }
  int ExactNumTopBlobs() const override { return 1; }
  // Re-shares the top with the parameter (which a net may have replaced or reloaded).
  void Reshape(const BlobVec& bottom, const BlobVec& top) override;

 protected:
  void LayerSetUp(const BlobVec& bottom, const BlobVec& top) override;
  void ForwardCpu(const BlobVec& /*bottom*/, const BlobVec& /*top*/) override {}
  void BackwardCpu(const BlobVec& /*top*/, const std::vector<bool>& /*propagate_down*/,
                   const BlobVec& /*bottom*/) override {}
};

}  // namespace crema

#endif  // CREMA_LAYERS_PARAMETER_LAYER_H_
