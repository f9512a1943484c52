// Accuracy: the fraction of samples whose label is among the top_k scores.
//
// Bottoms: bottom[0] scores viewed as outer × C × inner around axis = accuracy_param.axis
// (default 1); bottom[1] labels, outer · inner values stored as float. Tops: top[0] a scalar,
// the accuracy over all labels that are not accuracy_param.ignore_label (0 when none are);
// optional top[1] of shape (C), the accuracy per true class (0 for a class with no samples).
//
// A sample (n, i) with label l is correct when fewer than top_k classes score strictly more
// than x[n, l, i]; so ties with the label's score count in its favour.
//
// The layer has no gradient. Errors (InvalidArgument naming the layer): axis out of range,
// top_k of 0 or above C, a label count other than outer · inner (Reshape); a label that is
// neither in [0, C) nor ignore_label (Forward); propagate_down on any bottom (Backward).
// A layer is used by one thread at a time.
#ifndef CREMA_LAYERS_ACCURACY_LAYER_H_
#define CREMA_LAYERS_ACCURACY_LAYER_H_

#include <vector>

#include "crema/layers/layer.h"

namespace crema {

class AccuracyLayer : public Layer {
 public:
  using Layer::Layer;
  const char* type() const override { return "Accuracy"; }
  int ExactNumBottomBlobs() const override { return 2; }
  int MinTopBlobs() const override { return 1; }
  int MaxTopBlobs() const override { return 2; }
  // A metric: force_backward must not ask it for gradients.
  bool AllowForceBackward(int /*bottom_index*/) const override { return false; }
  void Reshape(const BlobVec& bottom, const BlobVec& top) override;

 protected:
  void LayerSetUp(const BlobVec& bottom, const BlobVec& top) override;
  void ForwardCpu(const BlobVec& bottom, const BlobVec& top) override;
  void BackwardCpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                   const BlobVec& bottom) override;

 private:
  int top_k_ = 1;
  bool has_ignore_label_ = false;
  int ignore_label_ = 0;
  int outer_ = 0;
  int channels_ = 0;
  int inner_ = 0;
  std::vector<int> class_count_;    // samples per class, sized in Reshape
  std::vector<int> class_correct_;  // correct samples per class
};

}  // namespace crema

#endif  // CREMA_LAYERS_ACCURACY_LAYER_H_
