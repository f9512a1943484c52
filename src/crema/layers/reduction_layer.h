// Reduction: sums (or averages) all axes from `axis` on, one value per leading index.
//
// Shapes (a = canonical axis): bottom (d0, …, d(n−1)); top (d0, …, d(a−1)), a scalar for
// a = 0. With the bottom viewed as M × D (M = d0·…·d(a−1), D = d(a)·…·d(n−1)):
//   SUM    top[m] = coeff · Σ_i x[m, i]           ∂top/∂x = coeff
//   ASUM   top[m] = coeff · Σ_i |x[m, i]|         ∂top/∂x = coeff · sign(x)   (sign(0) = 0)
//   SUMSQ  top[m] = coeff · Σ_i x[m, i]²          ∂top/∂x = 2 · coeff · x
//   MEAN   top[m] = coeff / D · Σ_i x[m, i]       ∂top/∂x = coeff / D
// Sums are accumulated in double.
//
// Parameters (ReductionParameter): operation [SUM]; axis [0], negative counts from the end;
// coeff [1].
//
// Errors (InvalidArgument naming the layer): axis out of range, the top being the bottom. A
// layer is used by one thread at a time.
#ifndef CREMA_LAYERS_REDUCTION_LAYER_H_
#define CREMA_LAYERS_REDUCTION_LAYER_H_

#include <vector>

#include "crema/layers/layer.h"

namespace crema {

class ReductionLayer : public Layer {
 public:
  using Layer::Layer;
  const char* type() const override { return "Reduction"; }
  int ExactNumBottomBlobs() const override { return 1; }
  int ExactNumTopBlobs() const override { return 1; }
  void Reshape(const BlobVec& bottom, const BlobVec& top) override;

 protected:
  void LayerSetUp(const BlobVec& bottom, const BlobVec& top) override;
  void ForwardCpu(const BlobVec& bottom, const BlobVec& top) override;
  void BackwardCpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                   const BlobVec& bottom) override;

 private:
  caffe::ReductionParameter::ReductionOp op_ = caffe::ReductionParameter::SUM;
  float coeff_ = 1.f;  // coeff, divided by D for MEAN
  int num_ = 0;        // M
  int dim_ = 0;        // D
  std::vector<int> top_shape_;
};

}  // namespace crema

#endif  // CREMA_LAYERS_REDUCTION_LAYER_H_
