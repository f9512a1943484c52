// MultinomialLogisticLoss: the negative log-likelihood of the labelled class, for inputs that
// are already probabilities (e.g. the output of a Softmax layer).
//
//   loss = −Σ_n log(max(p[n, l_n], 1e-20)) / N
//   ∂loss/∂p[n, l_n] = −∂E/∂loss / (N · max(p[n, l_n], 1e-20)),   0 for every other entry
//
// The clamp at kLogThreshold = 1e-20 keeps a zero probability at a finite loss (46.05 per
// item) and a finite gradient.
//
// Bottoms: bottom[0] probabilities p, N × … with dim = count/N values per item (the classes,
// in memory order; a 4-D N×C×1×1 blob is the usual form); bottom[1] labels, one per item
// (N values, e.g. N or N×1×1×1), each a class index in [0, dim) stored as float and truncated
// toward zero. Top: the scalar loss, loss_weight 1 by default. No parameters. loss_param is
// not read: there is no ignore_label and the divisor is always N.
//
// Errors (InvalidArgument naming the layer): a different first dimension or a label count
// other than N (Reshape); a label outside [0, dim) (Forward, naming the label and its
// position); propagate_down on the labels (Backward).
// A layer is used by one thread at a time.
#ifndef CREMA_LAYERS_MULTINOMIAL_LOGISTIC_LOSS_LAYER_H_
#define CREMA_LAYERS_MULTINOMIAL_LOGISTIC_LOSS_LAYER_H_

#include <vector>

#include "crema/layers/layer.h"

namespace crema {

class MultinomialLogisticLossLayer : public LossLayer {
 public:
  // Probabilities below this are raised to it before the log.
  static constexpr float kLogThreshold = 1e-20f;

  explicit MultinomialLogisticLossLayer(const caffe::LayerParameter& param)
      : LossLayer(param) {}
  const char* type() const override { return "MultinomialLogisticLoss"; }
  void Reshape(const BlobVec& bottom, const BlobVec& top) override;

 protected:
  void ForwardCpu(const BlobVec& bottom, const BlobVec& top) override;
  void BackwardCpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                   const BlobVec& bottom) override;

 private:
  int num_ = 0;  // N
  int dim_ = 0;  // values per item
};

}  // namespace crema

#endif  // CREMA_LAYERS_MULTINOMIAL_LOGISTIC_LOSS_LAYER_H_
