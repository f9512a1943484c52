// Scale: multiplies by a scale broadcast over the axes it does not cover, optionally adding a
// bias of the same shape.
//
//   top[n, d, i] = bottom[n, d, i] · scale[d]  (+ bias[d] with scale_param.bias_term)
//   ∂E/∂bottom[n, d, i] = ∂E/∂top[n, d, i] · scale[d]
//   ∂E/∂scale[d] = Σ_{n, i} ∂E/∂top[n, d, i] · bottom[n, d, i]
//   ∂E/∂bias[d]  = Σ_{n, i} ∂E/∂top[n, d, i]
//
// where, with A = the first axis the scale covers and K its number of axes, n runs over
// bottom[0]'s axes before A, d over the K axes from A (the scale's shape), i over the rest.
//
// Shapes:
//   bottom[0]  any shape; top[0] the same shape (may be bottom[0]: in place)
//   bottom[1]  optional: the scale itself, shape bottom[0].shape[A, A+K) for any K >= 0; it
//              gets the scale gradient, which overwrites its diff
//   blobs()    in Caffe's order: with one bottom, [0] the learned scale, shape
//              bottom[0].shape[A, A+K), then [1] the bias when bias_term; with two bottoms,
//              only [0] the bias when bias_term. The bias has the scale's shape. Parameter
//              gradients are added to the blobs' diffs.
// scale_param: axis (A, default 1; negative counts from the end), num_axes (K for the learned
// scale, default 1; −1 means every axis from A on; ignored with two bottoms, where K is
// bottom[1]'s number of axes), filler (default constant 1), bias_term (default false),
// bias_filler (default constant 0). A scale with no axes (K = 0) is one value applied
// everywhere; A is then taken as 0.
//
// In place, Forward keeps a copy of the bottom (a buffer sized by Reshape) for the scale
// gradient, unless the scale is a learned blob whose param_propagate_down is off, or the layer
// was given another layer's copy (UseKeptBottomCopy: BatchNorm's output, in Caffe's
// BatchNorm → Scale pairs).
//
// Errors: LayerSetUp and Reshape throw InvalidArgument naming the layer for an axis out of
// range, num_axes < −1, a scale reaching past bottom[0]'s last axis, or a scale whose
// dimensions differ from bottom[0]'s from A on. A layer is used by one thread at a time.
#ifndef CREMA_LAYERS_SCALE_LAYER_H_
#define CREMA_LAYERS_SCALE_LAYER_H_

#include <vector>

#include "crema/layers/layer.h"

namespace crema {

class ScaleLayer : public Layer {
 public:
  using Layer::Layer;
  const char* type() const override { return "Scale"; }
  // In place, Backward reads the kept copy of x, not the blob.
  bool BackwardReadsBottomData(int bottom_index) const override {
    return bottom_index == 1 || !in_place_;
  }
  bool BackwardReadsTopData(int) const override { return false; }
  int MinBottomBlobs() const override { return 1; }
  int MaxBottomBlobs() const override { return 2; }
  int ExactNumTopBlobs() const override { return 1; }
  void Reshape(const BlobVec& bottom, const BlobVec& top) override;
  // A learned scale over exactly the channel axis: scale = the scale, shift = the bias or 0.
  bool PerChannelAffine(int channels, float* scale, float* shift) const override;
  void UseKeptBottomCopy(int bottom_index, const Blob* copy) override {
    if (bottom_index == 0) kept_bottom_ = copy;
  }

 protected:
  void LayerSetUp(const BlobVec& bottom, const BlobVec& top) override;
  void ForwardCpu(const BlobVec& bottom, const BlobVec& top) override;
  void BackwardCpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                   const BlobVec& bottom) override;

 private:
  // scale_param.axis mapped onto `input`'s axes; throws InvalidArgument when out of range.
  int Axis(const Blob& input) const;
  // Whether Backward needs x after an in-place Forward overwrote it (for the scale gradient).
  bool NeedsInputKept(const BlobVec& bottom, const BlobVec& top) const {
    return bottom[0] == top[0] && (bottom.size() > 1 || param_propagate_down(0));
  }
  // Whether Forward must copy x itself.
  bool KeepsInput(const BlobVec& bottom, const BlobVec& top) const {
    return NeedsInputKept(bottom, top) && kept_bottom_ == nullptr && need_backward();
  }

  bool bias_term_ = false;
  int bias_index_ = -1;  // index of the bias in blobs(), -1 without bias_term
  int outer_ = 0;        // product of bottom[0]'s axes before A
  int dim_ = 0;          // scale count
  int inner_ = 0;        // product of bottom[0]'s axes after the scale's
  Blob bottom_copy_;     // x, kept in place (KeepsInput)
  const Blob* kept_bottom_ = nullptr;  // x kept by another layer (UseKeptBottomCopy)
  bool in_place_ = false;              // set by Reshape
  bool learned_scale_ = false;         // one bottom: blobs_[0] is the scale; set by Reshape
  int axis_ = 0;                       // A, set by Reshape
  Blob scale_row_sums_;  // outer·dim partial scale gradients
  Blob bias_row_sums_;   // outer·dim partial bias gradients
};

}  // namespace crema

#endif  // CREMA_LAYERS_SCALE_LAYER_H_
