// Filter: keeps the items whose selector is non-zero.
//
// Shapes (K = number of tops; the last bottom is the selector):
//   bottom[k]   (N, …)            k < K, the blobs to filter
//   bottom[K]   (N) or (N, 1, …)  the selector: one value per item, all axes after the
//                                 first of size 1
//   top[k]      (S, …)            S = number of items n with selector[n] ≠ 0
//   top[k][s, …] = bottom[k][n_s, …], n_0 < n_1 < … the selected items in order
// Backward: bottom[k]'s diff is the top's diff for selected items and 0 for the others
// (a scatter); the selector gets no gradient (zeros when asked; force_backward skips it).
//
// The selection is read from the selector's values in Reshape, which Forward runs first, so
// the tops' first dimension changes from batch to batch (it may be 0). At SetUp, before any
// data exists, S = N. A top's buffer grows to the largest S seen and is then reused.
//
// Errors (InvalidArgument naming the layer): a number of tops other than bottoms − 1, a
// bottom whose first dimension differs from the selector's, a selector with a non-unit axis
// after the first, a top that is a bottom. A layer is used by one thread at a time.
#ifndef CREMA_LAYERS_FILTER_LAYER_H_
#define CREMA_LAYERS_FILTER_LAYER_H_

#include <vector>

#include "crema/layers/layer.h"

namespace crema {

class FilterLayer : public Layer {
 public:
  using Layer::Layer;
  const char* type() const override { return "Filter"; }
  int MinBottomBlobs() const override { return 2; }
  int MinTopBlobs() const override { return 1; }
  // The selector has no gradient.
  bool AllowForceBackward(int bottom_index) const override {
    return bottom_index != layer_param_.bottom_size() - 1;
  }
  void Reshape(const BlobVec& bottom, const BlobVec& top) override;

 protected:
  void LayerSetUp(const BlobVec& bottom, const BlobVec& top) override;
  void ForwardCpu(const BlobVec& bottom, const BlobVec& top) override;
  void BackwardCpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                   const BlobVec& bottom) override;

 private:
  bool first_reshape_ = true;
  std::vector<int> selected_;  // the selected items, ascending
  std::vector<int> top_shape_;
};

}  // namespace crema

#endif  // CREMA_LAYERS_FILTER_LAYER_H_
