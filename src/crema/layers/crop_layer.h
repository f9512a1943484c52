// Crop: cuts bottom[0] down to bottom[1]'s shape on the axes from `axis` on.
//
// Shapes (a = crop_param.axis, n = number of axes):
//   bottom[0]  (d0, …, d(n−1))                 the blob to crop
//   bottom[1]  (r0, …, r(n−1), …)              the reference: only its shape is read, and
//                                              only its first n axes
//   top[0]     (d0, …, d(a−1), ra, …, r(n−1))
//   top[i0, …, i(n−1)] = bottom[0][i0 + o0, …, i(n−1) + o(n−1)]
// with the offset o_k = 0 for k < a and, for k ≥ a: 0 when crop_param.offset is empty,
// offset[0] when it holds one value, offset[k − a] when it holds one value per axis from a on.
// Backward: bottom[0]'s diff is the top's diff inside the crop and 0 outside it; bottom[1]
// gets a zero gradient (its values never reach the top).
//
// Parameters (CropParameter): axis [2], negative counts from the end; offset, repeated
// uint32: none, one, or exactly n − a values.
//
// Errors (InvalidArgument naming the layer): a reference with fewer axes than bottom 0, axis out
// of range, an offset count other than 0, 1 or n − a, an axis k ≥ a where o_k + r_k > d_k
// (the message names the axis), the top being a bottom. A layer is used by one thread at a
// time.
#ifndef CREMA_LAYERS_CROP_LAYER_H_
#define CREMA_LAYERS_CROP_LAYER_H_

#include <vector>

#include "crema/layers/layer.h"

namespace crema {

class CropLayer : public Layer {
 public:
  using Layer::Layer;
  const char* type() const override { return "Crop"; }
  int ExactNumBottomBlobs() const override { return 2; }
  int ExactNumTopBlobs() const override { return 1; }
  void Reshape(const BlobVec& bottom, const BlobVec& top) override;

 protected:
  void ForwardCpu(const BlobVec& bottom, const BlobVec& top) override;
  void BackwardCpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                   const BlobVec& bottom) override;

 private:
  // Shapes the offsets were computed for; Reshape recomputes only when they change.
  std::vector<int> bottom_shape_, reference_shape_;
  std::vector<int> top_shape_;
  // The top is copied as rows of its last axis: row r starts at row_start_[r] in bottom[0].
  std::vector<int> row_start_;
  int row_length_ = 0;
};

}  // namespace crema

#endif  // CREMA_LAYERS_CROP_LAYER_H_
