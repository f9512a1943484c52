// ArgMax: the indices (and optionally values) of the top_k largest inputs.
//
// Without argmax_param.axis, each item n of bottom (N, …) is searched over all its
// D = count(1) values, and
//   top (N, 1, top_k, 1, …)   the indices, largest value first
//   top (N, 2, top_k, 1, …)   with out_max_val: [n, 0, j] the index, [n, 1, j] the value
// The top has as many axes as the bottom, and at least 3.
// With axis a, the search runs along axis a for every position of the other axes:
//   top  the bottom's shape with dimension a replaced by top_k, holding the indices, or
//        with out_max_val the values instead of the indices
// Ranking: values descending; equal values rank the larger index first (Caffe's order).
// Indices are stored as floats. No gradient: ArgMax is piecewise constant in its indices and
// Caffe defines none; Backward writes zeros to the bottom's diff when asked, and
// force_backward leaves the bottom out.
//
// Parameters (ArgMaxParameter): out_max_val [false]; top_k [1], ≥ 1 and at most the number
// of values searched; axis [none], negative counts from the end.
//
// Errors (InvalidArgument naming the layer): top_k 0 or above the searched dimension, axis
// out of range, a bottom without a first axis, the top being the bottom. A layer is used by
// one thread at a time.
#ifndef CREMA_LAYERS_ARGMAX_LAYER_H_
#define CREMA_LAYERS_ARGMAX_LAYER_H_

#include <utility>
#include <vector>

#include "crema/layers/layer.h"

namespace crema {

class ArgMaxLayer : public Layer {
 public:
  using Layer::Layer;
  const char* type() const override { return "ArgMax"; }
  int ExactNumBottomBlobs() const override { return 1; }
  int ExactNumTopBlobs() const override { return 1; }
  bool AllowForceBackward(int /*bottom_index*/) const override { return false; }
  void Reshape(const BlobVec& bottom, const BlobVec& top) override;

 protected:
  void LayerSetUp(const BlobVec& bottom, const BlobVec& top) override;
  void ForwardCpu(const BlobVec& bottom, const BlobVec& top) override;
  void BackwardCpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                   const BlobVec& bottom) override;

 private:
  bool out_max_val_ = false;
  bool has_axis_ = false;
  int top_k_ = 1;
  int axis_ = 0;
  int dim_ = 0;    // values searched per position
  int inner_ = 1;  // distance between consecutive searched values (1 without axis)
  std::vector<std::pair<float, int>> ranked_;  // (value, index) of one search, kept
  std::vector<int> top_shape_;
};

}  // namespace crema

#endif  // CREMA_LAYERS_ARGMAX_LAYER_H_
