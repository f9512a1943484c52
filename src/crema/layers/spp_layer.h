// SPP: spatial pyramid pooling — pools every channel over a 1×1, 2×2, 4×4, … grid of bins,
// so any input size gives a fixed-length output.
//
// Shapes (L = spp_param.pyramid_height):
//   bottom[0]  (N, C, H, W)
//   top[0]     (N, C·Σ_{l<L} 4^l)   when L > 1: level l's (N, C, 2^l, 2^l) pooled output
//                                   flattened per item, levels concatenated in order
//   top[0]     (N, C, 1, 1)         when L = 1: the single level's pooled output, unflattened
//                                   (the shape Caffe gives)
// Level l pools with b = 2^l bins per axis: kernel_h = ceil(H / b), stride_h = kernel_h,
// pad_h = (kernel_h·b − H + 1) / 2, W alike, through a Pooling layer (MAX or AVE, with its
// ceil rounding and padding rules, pooling_layer.h). Internally the layer is the small net
// Split → Pooling per level → Flatten → Concat; Backward runs it in reverse and sums the
// levels' gradients into the bottom's diff. When H or W changes, the levels' Pooling layers
// are rebuilt in Reshape (Forward with an unchanged shape allocates nothing).
//
// Parameters (SPPParameter): pyramid_height ≥ 1, required; pool [MAX] (AVE; STOCHASTIC is
// Unsupported, as in Pooling); engine is ignored.
//
// Errors (InvalidArgument naming the layer): pyramid_height missing or 0, a bottom that is
// not 4-D or has H or W of 0, and a level whose padding would reach its kernel (small inputs
// with deep pyramids: every level needs ceil(H / b) > (kernel_h·b − H + 1) / 2, which Caffe
// also requires); Unsupported for STOCHASTIC. A layer is used by one thread at a time.
#ifndef CREMA_LAYERS_SPP_LAYER_H_
#define CREMA_LAYERS_SPP_LAYER_H_

#include <memory>
#include <vector>

#include "crema/layers/layer.h"

namespace crema {

class SPPLayer : public Layer {
 public:
  explicit SPPLayer(const caffe::LayerParameter& param);
  ~SPPLayer() override;
  const char* type() const override { return "SPP"; }
  int ExactNumBottomBlobs() const override { return 1; }
  int ExactNumTopBlobs() const override { return 1; }
  void Reshape(const BlobVec& bottom, const BlobVec& top) override;

 protected:
  void LayerSetUp(const BlobVec& bottom, const BlobVec& top) override;
  void ForwardCpu(const BlobVec& bottom, const BlobVec& top) override;
  void BackwardCpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                   const BlobVec& bottom) override;

 private:
  // The Pooling layer's parameters for `level` over an H × W input.
  caffe::LayerParameter PoolingParam(int level, int height, int width) const;
  // (Re)creates and sets up the Pooling layers for the bottom's H × W.
  void BuildPooling(const BlobVec& bottom, const BlobVec& top);

  int levels_ = 0;
  int height_ = -1, width_ = -1;  // the input size the Pooling layers were built for

  std::unique_ptr<Layer> split_;
  std::vector<std::unique_ptr<Layer>> pooling_;
  std::vector<std::unique_ptr<Layer>> flatten_;
  std::unique_ptr<Layer> concat_;
  // Blobs between the inner layers; each level's inputs and outputs as BlobVecs.
  std::vector<std::unique_ptr<Blob>> split_out_, pooled_, flat_;
  BlobVec split_top_, concat_bottom_;
  std::vector<BlobVec> pool_bottom_, pool_top_, flat_top_;
  // propagate_down vectors for the inner layers, kept so Backward allocates nothing.
  std::vector<bool> all_levels_;
  const std::vector<bool> one_{true};
};

}  // namespace crema

#endif  // CREMA_LAYERS_SPP_LAYER_H_
