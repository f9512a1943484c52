// Slice: cuts its bottom along one axis into several tops (the inverse of Concat).
//
// With the bottom viewed as outer × d × inner around the slice axis (outer = the product of
// the dimensions before it, inner of those after it), top t takes the axis range
// [p(t−1), p(t)) where p(−1) = 0, p(T−1) = d and p(0) < p(1) < … are
// slice_param.slice_point; without slice points the T tops share d equally:
//   top[t][o, j, i] = bottom[o, p(t−1) + j, i]
// Each top keeps the bottom's shape except on the slice axis. Backward copies every top's
// diff back into its range of the bottom's diff. With a single top, the top shares the
// bottom's data and diff and nothing is copied.
//
// Parameters (SliceParameter): axis [1], negative counts from the end; or the deprecated
// slice_dim (non-negative) — not both. slice_point: none, or exactly (number of tops − 1)
// strictly increasing points inside (0, d).
//
// Errors (InvalidArgument naming the layer): both axis and slice_dim, an axis out of range,
// a slice_point count other than tops − 1, points not strictly increasing or not below d,
// without points a d the number of tops does not divide, a top that is the bottom. A layer
// is used by one thread at a time.
#ifndef CREMA_LAYERS_SLICE_LAYER_H_
#define CREMA_LAYERS_SLICE_LAYER_H_

#include <vector>

#include "crema/layers/layer.h"

namespace crema {

class SliceLayer : public Layer {
 public:
  using Layer::Layer;
  const char* type() const override { return "Slice"; }
  // Backward moves gradients only.
  bool BackwardReadsBottomData(int) const override { return false; }
  bool BackwardReadsTopData(int) const override { return false; }
  int ExactNumBottomBlobs() const override { return 1; }
  int MinTopBlobs() const override { return 1; }
  void Reshape(const BlobVec& bottom, const BlobVec& top) override;

 protected:
  void LayerSetUp(const BlobVec& bottom, const BlobVec& top) override;
  void ForwardCpu(const BlobVec& bottom, const BlobVec& top) override;
  void BackwardCpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                   const BlobVec& bottom) override;

 private:
  int axis_ = 1;
  int outer_ = 0;      // product of the dimensions before axis_
  int inner_ = 0;      // product of the dimensions after axis_
  int axis_size_ = 0;  // the bottom's dimension on axis_
  std::vector<int> sizes_;  // each top's dimension on axis_
  std::vector<int> top_shape_;
};

}  // namespace crema

#endif  // CREMA_LAYERS_SLICE_LAYER_H_
