// Eltwise: element-wise product, weighted sum or maximum of two or more same-shaped bottoms.
//
// eltwise_param.operation (default SUM):
//   PROD:  y = Π_b x_b          ∂E/∂x_b = ∂E/∂y · Π_{b' ≠ b} x_b'   (stable_prod_grad: true,
//                                          the default) or ∂E/∂y · y / x_b (false; infinite
//                                          or NaN where x_b is 0)
//   SUM:   y = Σ_b c_b · x_b    ∂E/∂x_b = c_b · ∂E/∂y    (c_b = eltwise_param.coeff, default 1)
//   MAX:   y = max_b x_b        ∂E/∂x_b = ∂E/∂y where b is the arg max, else 0. Ties go to
//                               bottom 1 over bottom 0, and otherwise to the earlier bottom.
//
// coeff given with MAX is ignored (Caffe accepts such files).
//
// At inference a SUM takes the ReLU that follows it in place into its own pass (FuseEpilogue,
// called by Net::FuseForInference): ResNet's residual sums, which save a pass over each
// block's output.
//
// Errors (InvalidArgument naming the layer): coeff given with PROD or with a count other than
// the number of bottoms; bottoms of different shapes (the message shows both); a top that is
// one of the bottoms (no in place). A layer is used by one thread at a time.
#ifndef CREMA_LAYERS_ELTWISE_LAYER_H_
#define CREMA_LAYERS_ELTWISE_LAYER_H_

#include <vector>

#include "crema/layers/layer.h"

namespace crema {

class EltwiseLayer : public Layer {
 public:
  using Layer::Layer;
  const char* type() const override { return "Eltwise"; }
  // Only the product's gradient reads values (MAX keeps the winners' indices).
  bool BackwardReadsBottomData(int) const override;
  bool BackwardReadsTopData(int) const override;
  int MinBottomBlobs() const override { return 2; }
  int ExactNumTopBlobs() const override { return 1; }
  void Reshape(const BlobVec& bottom, const BlobVec& top) override;
  // Layer::FuseEpilogue: a SUM accepts a ReLU and no affine maps; Backward throws afterwards.
  bool FuseEpilogue(std::vector<const Layer*> affines, bool relu, float relu_slope) override;

 protected:
  void LayerSetUp(const BlobVec& bottom, const BlobVec& top) override;
  void ForwardCpu(const BlobVec& bottom, const BlobVec& top) override;
  void BackwardCpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                   const BlobVec& bottom) override;

 private:
  // ∂E/∂x_b = c_b · dy for every bottom b that propagates down.
  void SumBackward(const float* dy, int count, const std::vector<bool>& propagate_down,
                   const BlobVec& bottom);

  caffe::EltwiseParameter::EltwiseOp op_ = caffe::EltwiseParameter::SUM;
  std::vector<float> coeff_;
  bool stable_prod_grad_ = true;
  std::vector<int> max_index_;  // MAX only: which bottom won each element; sized in Reshape
  std::vector<float*> sum_grads_;  // SumBackward's gradient pointers, one per bottom
  bool relu_ = false;           // FuseEpilogue: a ReLU of slope relu_slope_ ends Forward
  float relu_slope_ = 0.f;
};

}  // namespace crema

#endif  // CREMA_LAYERS_ELTWISE_LAYER_H_
