// Reshape: gives the bottom's values a new shape, without copying.
//
// reshape_param.shape lists the new dimensions of the axes [axis, axis + num_axes) of the
// bottom; the axes before and after that range are kept. In shape, 0 copies the bottom's
// dimension at the same position (axis + i), and one −1 is inferred so that the top holds as
// many values as the bottom:
//   bottom (2, 3, 4, 5), shape { dim: 0 dim: -1 }             → top (2, 60)
//   bottom (2, 3, 4, 5), shape { dim: 12 } axis: 1 num_axes: 2 → top (2, 12, 5)
//   bottom (2, 8),       shape { dim: 2 dim: 4 } axis: -2      → top (2, 2, 4)
// axis [0]: where the replaced range starts; a negative value counts from the end, −1 being
// the position after the last axis. num_axes [−1]: how many axes are replaced; −1 means all
// from axis on. The top shares the bottom's data and diff (as Flatten does), so Forward and
// Backward do nothing.
//
// Errors (InvalidArgument naming the layer): more than one −1 or a dimension below −1 in
// shape; axis or num_axes out of range for the bottom; a 0 with no bottom axis to copy;
// a count that the given dimensions do not divide (with −1) or that differs from the
// bottom's (without); the top being the bottom (no in place). A layer is used by one thread
// at a time.
#ifndef CREMA_LAYERS_RESHAPE_LAYER_H_
#define CREMA_LAYERS_RESHAPE_LAYER_H_

#include <vector>

#include "crema/layers/layer.h"

namespace crema {

class ReshapeLayer : public Layer {
 public:
  using Layer::Layer;
  const char* type() const override { return "Reshape"; }
  // Backward moves gradients only.
  bool BackwardReadsBottomData(int) const override { return false; }
  bool BackwardReadsTopData(int) const override { return false; }
  int ExactNumBottomBlobs() const override { return 1; }
  int ExactNumTopBlobs() const override { return 1; }
  void Reshape(const BlobVec& bottom, const BlobVec& top) override;

 protected:
  void LayerSetUp(const BlobVec& bottom, const BlobVec& top) override;
  void ForwardCpu(const BlobVec& /*bottom*/, const BlobVec& /*top*/) override {}
  void BackwardCpu(const BlobVec& /*top*/, const std::vector<bool>& /*propagate_down*/,
                   const BlobVec& /*bottom*/) override {}

 private:
  std::vector<int> copy_axes_;  // positions in shape holding 0
  int inferred_axis_ = -1;      // position in shape holding −1, or −1 for none
  int64_t constant_count_ = 1;  // product of the positive dimensions in shape
  std::vector<int> top_shape_;  // kept to avoid allocating on every Reshape
};

}  // namespace crema

#endif  // CREMA_LAYERS_RESHAPE_LAYER_H_
