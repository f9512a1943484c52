// Concat: joins its bottoms along one axis.
//
// axis = concat_param.axis (default 1, negative counts from the end), or the deprecated
// concat_param.concat_dim (non-negative only); setting both is an error. Every bottom must
// have the same number of axes and the same dimensions on all axes but `axis`; the top has
// those dimensions and the sum of the bottoms' `axis` dimensions. Viewed as outer × d_b ×
// inner, bottom b's block for each outer index lands at offset (Σ_{b' < b} d_b') · inner.
// Backward copies each top block back into the diff of every bottom that needs it. With one
// bottom the top shares its data and diff.
//
// Errors (InvalidArgument naming the layer): both axis and concat_dim, axis out of range,
// bottoms whose shapes disagree (the message shows both shapes). A layer is used by one
// thread at a time.
#ifndef CREMA_LAYERS_CONCAT_LAYER_H_
#define CREMA_LAYERS_CONCAT_LAYER_H_

#include <vector>

#include "crema/layers/layer.h"

namespace crema {

class ConcatLayer : public Layer {
 public:
  using Layer::Layer;
  const char* type() const override { return "Concat"; }
  // Backward moves gradients only.
  bool BackwardReadsBottomData(int) const override { return false; }
  bool BackwardReadsTopData(int) const override { return false; }
  int MinBottomBlobs() const override { return 1; }
  int ExactNumTopBlobs() const override { return 1; }
  void Reshape(const BlobVec& bottom, const BlobVec& top) override;

 protected:
  void LayerSetUp(const BlobVec& bottom, const BlobVec& top) override;
  void ForwardCpu(const BlobVec& bottom, const BlobVec& top) override;
  void BackwardCpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                   const BlobVec& bottom) override;

 private:
  int axis_ = 1;
  int outer_ = 0;  // product of dimensions before axis_
  int inner_ = 0;  // product of dimensions after axis_
  std::vector<int> top_shape_;
};

}  // namespace crema

#endif  // CREMA_LAYERS_CONCAT_LAYER_H_
