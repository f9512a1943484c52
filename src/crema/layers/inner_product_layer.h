// InnerProductLayer: a fully connected layer, y = x·Wᵀ + b.
//
// Shapes (axis = inner_product_param.axis, default 1; the axes before it index the M
// items, the axes from it on are flattened into each item's K inputs):
//   bottom[0]  (d0, …, d_{axis−1}, …)            M = d0·…·d_{axis−1}, K = count(axis)
//   top[0]     (d0, …, d_{axis−1}, num_output)
//   blobs()[0] weight (num_output, K), or (K, num_output) when transpose
//   blobs()[1] bias (num_output), present when bias_term (default true)
//   top[m, n] = bias[n] + Σ_k bottom[m, k] · W[n, k]     (W[k, n] when transpose)
//
// weight_filler and bias_filler default to constant 0. K is fixed when the layer is set up:
// a later input with another K is an error, while M may change freely. Forward and Backward
// use crema::cpu::Gemm; weight and bias gradients are added to the blobs' diffs.
//
// Errors: LayerSetUp and Reshape throw InvalidArgument naming the layer for num_output 0,
// an axis out of range, or an input whose K differs from the weights'. A layer is used by one
// thread at a time.
#ifndef CREMA_LAYERS_INNER_PRODUCT_LAYER_H_
#define CREMA_LAYERS_INNER_PRODUCT_LAYER_H_

#include <vector>

#include "crema/layers/layer.h"

namespace crema {

class InnerProductLayer : public Layer {
 public:
  explicit InnerProductLayer(const caffe::LayerParameter& param) : Layer(param) {}

  void Reshape(const BlobVec& bottom, const BlobVec& top) override;

  const char* type() const override { return "InnerProduct"; }
  bool BackwardReadsTopData(int) const override { return false; }
  int ExactNumBottomBlobs() const override { return 1; }
  int ExactNumTopBlobs() const override { return 1; }

 protected:
  void LayerSetUp(const BlobVec& bottom, const BlobVec& top) override;
  void ForwardCpu(const BlobVec& bottom, const BlobVec& top) override;
  void BackwardCpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                   const BlobVec& bottom) override;

 private:
  // Maps the parameter's axis onto `input`'s axes; throws InvalidArgument when out of range.
  int InputAxis(const Blob& input) const;

  // Whether Forward computes yᵀ = W · xᵀ and transposes it: for few items (a batch of 32)
  // and many outputs, oneDNN's sgemm runs x · Wᵀ at a fraction of its rate, and slower on two
  // threads than on one (AlexNet's fc6: 46 ms on 1 thread, 61 on 2; transposed 31 and 15).
  bool TransposedForward() const { return !transpose_ && items_ < num_output_; }

  int num_output_ = 0;  // N
  int inputs_ = 0;      // K
  int items_ = 0;       // M
  bool bias_term_ = true;
  bool transpose_ = false;
  Blob transposed_top_;  // yᵀ, N×M, for TransposedForward
};

}  // namespace crema

#endif  // CREMA_LAYERS_INNER_PRODUCT_LAYER_H_
