// BatchNormLayer: normalises every channel to zero mean and unit variance, without an affine
// part (a following Scale layer with bias_term supplies γ and β).
//
// Shapes: bottom[0] (N, C, ...) — axis 1 is the channel axis, every axis after it is spatial
// (a 1-D bottom (N) is one channel); top[0] has the bottom's shape. With m = N·(spatial size),
// the per-channel statistics run over those m values:
//
//   y = (x − μ_c) / √(σ²_c + eps)
//
// Parameter blobs, in Caffe's order and shapes (a .caffemodel stores exactly these):
//   blobs()[0] running mean sum (C)
//   blobs()[1] running variance sum (C)
//   blobs()[2] scale factor (1)
// all zero at set-up. They are statistics, never learned: LayerSetUp adds the missing param
// specs as {lr_mult: 0, decay_mult: 0}, so the net neither computes gradients for them nor lets
// the solver (or weight decay) change them; a param spec with another lr_mult is an error.
//
// Two modes, chosen by use_global_stats (unset: false in the TRAIN phase, true in TEST):
//  * batch statistics (use_global_stats false): μ_c and σ²_c = mean((x − μ_c)²) of this
//    batch. Each Forward also updates the running sums, with λ = moving_average_fraction:
//        blobs[2] ← λ·blobs[2] + 1
//        blobs[0] ← λ·blobs[0] + μ
//        blobs[1] ← λ·blobs[1] + m/(m − 1)·σ²     (unbiased; the factor is 1 when m = 1)
//    Backward, with ŷ the normalised output of the last Forward:
//        ∂E/∂x = (∂E/∂y − mean_c(∂E/∂y) − ŷ·mean_c(∂E/∂y · ŷ)) / √(σ²_c + eps)
//  * global statistics (use_global_stats true): μ = blobs[0]/s, σ² = blobs[1]/s with
//    s = blobs[2][0] (when s is 0 both are taken as 0); the blobs are not changed and
//    Backward is the plain scaling ∂E/∂x = ∂E/∂y / √(σ²_c + eps).
//
// Parameters (BatchNormParameter): use_global_stats (see above); moving_average_fraction
// [0.999]; eps [1e-5], ≥ 0.
//
// May run in place (top = bottom): the layer keeps its own copy of ŷ for Backward, so a later
// in-place layer that overwrites the top does not disturb it; that copy is KeptTopCopy.
//
// Errors: LayerSetUp and Reshape throw InvalidArgument naming the layer for a negative eps, a
// param spec with a non-zero lr_mult or more than 3 param specs, a 0-axis bottom, or a bottom
// whose channel count differs from the one the layer was set up with. A layer is used by one
// thread at a time.
#ifndef CREMA_LAYERS_BATCH_NORM_LAYER_H_
#define CREMA_LAYERS_BATCH_NORM_LAYER_H_

#include <vector>

#include "crema/layers/layer.h"

namespace crema {

class BatchNormLayer : public Layer {
 public:
  explicit BatchNormLayer(const caffe::LayerParameter& param) : Layer(param) {}

  void Reshape(const BlobVec& bottom, const BlobVec& top) override;

  const char* type() const override { return "BatchNorm"; }
  // Backward reads its kept ŷ and per-channel factors.
  bool BackwardReadsBottomData(int) const override { return false; }
  bool BackwardReadsTopData(int) const override { return false; }
  int ExactNumBottomBlobs() const override { return 1; }
  int ExactNumTopBlobs() const override { return 1; }

  // Whether the layer normalises with the stored statistics (set up from the phase and
  // use_global_stats).
  bool use_global_stats() const { return use_global_stats_; }

  // With global statistics: scale = 1/√(σ² + eps), shift = −μ·scale.
  bool PerChannelAffine(int channels, float* scale, float* shift) const override;

  // In batch-statistics mode the layer keeps its output ŷ for Backward, and lends it to a
  // following in-place layer that would copy it again (a Scale).
  const Blob* KeptTopCopy(int top_index) const override {
    return top_index == 0 && !use_global_stats_ ? &x_norm_ : nullptr;
  }

 protected:
  void LayerSetUp(const BlobVec& bottom, const BlobVec& top) override;
  void ForwardCpu(const BlobVec& bottom, const BlobVec& top) override;
  void BackwardCpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                   const BlobVec& bottom) override;

 private:
  // μ and 1/√(σ² + eps) per channel from the stored statistics.
  void GlobalStatistics(float* mean, float* inv_std) const;

  bool use_global_stats_ = false;
  float moving_average_fraction_ = 0.999f;
  float eps_ = 1e-5f;
  int channels_ = 0;

  // Input geometry, set by Reshape: bottom = num_ × channels_ × spatial_.
  int num_ = 0;
  int spatial_ = 0;

  // Per channel, from the last Forward: the mean subtracted and 1/√(σ² + eps).
  std::vector<float> mean_;
  std::vector<float> inv_std_;
  // The normalised output of the last Forward (batch-statistics mode only).
  Blob x_norm_;
};

}  // namespace crema

#endif  // CREMA_LAYERS_BATCH_NORM_LAYER_H_
