// LRNLayer: local response normalisation of an NCHW blob.
//
// Shapes: bottom[0] (N, C, H, W) → top[0] of the same shape. Not in place: Backward reads
// both the input and the output.
//
// With n = local_size (odd) and r = (n − 1) / 2:
//   ACROSS_CHANNELS (default):
//     scale[c] = k + (alpha / n) · Σ_{c' = c−r … c+r, 0 ≤ c' < C} x[c']²
//   WITHIN_CHANNEL (k is not used):
//     scale[y, x] = 1 + (alpha / n²) · Σ_{|y'−y| ≤ r, |x'−x| ≤ r} x[y', x']²
//     cells outside the plane count as 0 but the divisor stays n²
//   top = x · scale^(−beta)
// Backward is the exact derivative; with the same window W(i) around each element i,
//   dx[i] = dy[i] · scale[i]^(−beta)
//           − 2 · beta · (alpha / n or alpha / n²) · x[i] · Σ_{j ∈ W(i)} dy[j] · top[j] / scale[j]
//
// Parameters (LRNParameter): local_size (default 5, must be odd), alpha (1), beta (0.75),
// k (1), norm_region. Across channels runs a running sum over channels, vectorised along
// the spatial axis; within a channel runs a separable box sum. beta = 0.75, the value every
// published net uses, takes x^(−3/4) through square roots instead of pow. Work is split over
// OpenMP threads.
//
// Errors: LayerSetUp and Reshape throw InvalidArgument naming the layer for an even or zero
// local_size, a bottom that is not 4-D, or an in-place top. A layer is used by one thread at
// a time.
#ifndef CREMA_LAYERS_LRN_LAYER_H_
#define CREMA_LAYERS_LRN_LAYER_H_

#include <vector>

#include "crema/layers/layer.h"

namespace crema {

class LRNLayer : public Layer {
 public:
  explicit LRNLayer(const caffe::LayerParameter& param) : Layer(param) {}

  void Reshape(const BlobVec& bottom, const BlobVec& top) override;

  const char* type() const override { return "LRN"; }
  int ExactNumBottomBlobs() const override { return 1; }
  int ExactNumTopBlobs() const override { return 1; }

 protected:
  void LayerSetUp(const BlobVec& bottom, const BlobVec& top) override;
  void ForwardCpu(const BlobVec& bottom, const BlobVec& top) override;
  void BackwardCpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                   const BlobVec& bottom) override;

 private:
  template <bool kThreeQuarters>
  void AcrossForward(const float* x, float* y);
  template <bool kThreeQuarters>
  void AcrossBackward(const float* x, const float* y, const float* dy, float* dx);
  template <bool kThreeQuarters>
  void WithinForward(const float* x, float* y);
  template <bool kThreeQuarters>
  void WithinBackward(const float* x, const float* y, const float* dy, float* dx);
  // out = Σ of `in` over the size×size window around each cell of one H×W plane, clipped;
  // `row_sums` holds H·W floats of scratch.
  void BoxSum(const float* in, float* row_sums, float* out) const;

  int size_ = 5;
  int radius_ = 2;  // (size_ − 1) / 2
  float alpha_ = 1.f;
  float beta_ = 0.75f;
  float k_ = 1.f;
  bool across_ = true;

  int num_ = 0, channels_ = 0, height_ = 0, width_ = 0;
  // scale per element, written by Forward and read by Backward.
  std::vector<float> scale_;
  // WITHIN_CHANNEL: per-thread scratch of 3 planes, for threads_ threads.
  std::vector<float> scratch_;
  int threads_ = 1;
};

}  // namespace crema

#endif  // CREMA_LAYERS_LRN_LAYER_H_
