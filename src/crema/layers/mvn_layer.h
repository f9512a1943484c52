// MVNLayer: mean-variance normalisation of every sample, per channel or across channels.
//
// Shapes: bottom[0] (N, C, ...) and top[0] of the same shape. The values are split into
// groups: one group per (item, channel) — the spatial values (axes 2, ...) of one channel of
// one item — or, with across_channels, one group per item (everything after axis 0). With μ and σ the
// mean and the standard deviation (biased: √mean((x − μ)²)) of a group of d values:
//
//   normalize_variance:  y = (x − μ) / (σ + eps)      (eps is added to σ, not to σ²)
//   otherwise:           y = x − μ
//
// Backward (per group, mean over the group's d values):
//   normalize_variance:  ∂E/∂x = (∂E/∂y − mean(∂E/∂y) − y·mean(∂E/∂y · y)) / (σ + eps)
//   otherwise:           ∂E/∂x = ∂E/∂y − mean(∂E/∂y)
// The first is Caffe's expression: it is the exact gradient when eps is 0 and within a
// relative eps/σ of it otherwise; Crema computes what Caffe computes.
//
// Parameters (MVNParameter): normalize_variance [true]; across_channels [false]; eps [1e-9],
// ≥ 0. A 1-D bottom (N) is one channel per item, so every group holds one value.
//
// May run in place (top = bottom): Backward reads only the top's data and diff.
//
// Errors: LayerSetUp and Reshape throw InvalidArgument naming the layer for a negative eps or
// a 0-axis bottom. A layer is used by one thread at a time.
#ifndef CREMA_LAYERS_MVN_LAYER_H_
#define CREMA_LAYERS_MVN_LAYER_H_

#include <vector>

#include "crema/layers/layer.h"

namespace crema {

class MVNLayer : public Layer {
 public:
  explicit MVNLayer(const caffe::LayerParameter& param) : Layer(param) {}

  void Reshape(const BlobVec& bottom, const BlobVec& top) override;

  const char* type() const override { return "MVN"; }
  int ExactNumBottomBlobs() const override { return 1; }
  int ExactNumTopBlobs() const override { return 1; }

 protected:
  void LayerSetUp(const BlobVec& bottom, const BlobVec& top) override;
  void ForwardCpu(const BlobVec& bottom, const BlobVec& top) override;
  void BackwardCpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                   const BlobVec& bottom) override;

 private:
  bool normalize_variance_ = true;
  bool across_channels_ = false;
  float eps_ = 1e-9f;

  // Set by Reshape: groups_ groups of dim_ consecutive values.
  int groups_ = 0;
  int dim_ = 0;
  // σ + eps of every group, from the last Forward (normalize_variance only).
  std::vector<float> std_eps_;
};

}  // namespace crema

#endif  // CREMA_LAYERS_MVN_LAYER_H_
