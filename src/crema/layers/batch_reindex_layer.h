// BatchReindex: picks items of its first bottom by index, in any order, with repeats.
//
// Shapes:
//   bottom[0]  (N, d1, …, dk)   the items
//   bottom[1]  (M)              indices into bottom[0]'s first axis, stored as floats
//   top[0]     (M, d1, …, dk)
//   top[m, …] = bottom[0][idx[m], …]          idx[m] = (int) bottom[1][m]
//   ∂E/∂bottom[0][n, …] = Σ_{m : idx[m] = n} ∂E/∂top[m, …]   (0 for items never picked)
// The indices get no gradient: when asked for one, Backward writes zeros to bottom[1]'s diff,
// and force_backward leaves them out. A float index is truncated toward zero, as Caffe does.
//
// Note [Index errors in Forward]: whether an index is valid depends on the values of the
// bottom, which Reshape cannot know ahead of the batch (at SetUp they are not filled yet).
// Forward checks every index before it writes anything and, for an index outside [0, N),
// throws InvalidArgument naming the layer, the position and the value — the one error this
// layer's Forward raises, for the batch where Caffe aborts. Nothing is clamped: a silently
// clamped index would train on the wrong items.
//
// Errors: Reshape throws InvalidArgument naming the layer when bottom[1] is not 1-D or
// bottom[0] has no axes, or the top is a bottom; Forward as above. A layer is used by one
// thread at a time.
#ifndef CREMA_LAYERS_BATCH_REINDEX_LAYER_H_
#define CREMA_LAYERS_BATCH_REINDEX_LAYER_H_

#include <vector>

#include "crema/layers/layer.h"

namespace crema {

class BatchReindexLayer : public Layer {
 public:
  using Layer::Layer;
  const char* type() const override { return "BatchReindex"; }
  int ExactNumBottomBlobs() const override { return 2; }
  int ExactNumTopBlobs() const override { return 1; }
  // The indices have no gradient.
  bool AllowForceBackward(int bottom_index) const override { return bottom_index != 1; }
  void Reshape(const BlobVec& bottom, const BlobVec& top) override;

 protected:
  void ForwardCpu(const BlobVec& bottom, const BlobVec& top) override;
  void BackwardCpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                   const BlobVec& bottom) override;

 private:
  int inner_ = 0;  // values per item
  std::vector<int> top_shape_;
};

}  // namespace crema

#endif  // CREMA_LAYERS_BATCH_REINDEX_LAYER_H_
