// Flatten: merges the axes [axis, end_axis] into one, without copying.
//
// With flatten_param.axis (default 1) and end_axis (default −1, the last; negative values
// count from the end), a bottom of shape (d0, …, dn) gives a top of shape
// (d0, …, d(axis−1), d(axis)·…·d(end_axis), d(end_axis+1), …, dn). The top shares the
// bottom's data and diff, so Forward and Backward do nothing.
//
// Errors (InvalidArgument naming the layer): axis or end_axis out of range for the bottom,
// end_axis before axis, or the top being the bottom (no in place). A layer is used by one
// thread at a time.
#ifndef CREMA_LAYERS_FLATTEN_LAYER_H_
#define CREMA_LAYERS_FLATTEN_LAYER_H_

#include <vector>

#include "crema/layers/layer.h"

namespace crema {

class FlattenLayer : public Layer {
 public:
  using Layer::Layer;
  const char* type() const override { return "Flatten"; }
  // Backward moves gradients only.
  bool BackwardReadsBottomData(int) const override { return false; }
  bool BackwardReadsTopData(int) const override { return false; }
  int ExactNumBottomBlobs() const override { return 1; }
  int ExactNumTopBlobs() const override { return 1; }
  void Reshape(const BlobVec& bottom, const BlobVec& top) override;

 protected:
  void ForwardCpu(const BlobVec& /*bottom*/, const BlobVec& /*top*/) override {}
  void BackwardCpu(const BlobVec& /*top*/, const std::vector<bool>& /*propagate_down*/,
                   const BlobVec& /*bottom*/) override {}

 private:
  std::vector<int> top_shape_;  // kept to avoid allocating on every Reshape
};

}  // namespace crema

#endif  // CREMA_LAYERS_FLATTEN_LAYER_H_
