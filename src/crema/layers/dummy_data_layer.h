// DummyData: tops filled by fillers, for tests and benchmarks without a dataset.
//
// Shapes: no bottom; one or more tops. Top i has dummy_data_param.shape[i] (or shape[0] when
// one shape is given for all), or with the legacy fields the 4-D shape
// (num[i], channels[i], height[i], width[i]), each field given once for all tops or once per
// top.
//
// Values: data_filler gives none (every top constant 0), one (for every top) or one filler
// per top; the types are those of core/filler.h (constant, uniform, gaussian, xavier, msra,
// positive_unitball, bilinear). A top with a "constant" filler is filled once, at SetUp,
// and left alone after; a top with any other filler is filled at SetUp (so bad filler
// parameters are reported there) and refilled on every Forward, drawing from the calling
// thread's generator (core/rng.h). No gradient.
//
// Errors (InvalidArgument naming the layer): a data_filler count other than 0, 1 or the
// number of tops; both shape and legacy fields; a shape or legacy field given neither once
// nor once per top (none at all included); a dimension that is negative or too large; a
// filler its top's shape does not suit. A layer is used by one thread at a time.
#ifndef CREMA_LAYERS_DUMMY_DATA_LAYER_H_
#define CREMA_LAYERS_DUMMY_DATA_LAYER_H_

#include <vector>

#include "crema/layers/layer.h"

namespace crema {

class DummyDataLayer : public Layer {
 public:
  using Layer::Layer;
  const char* type() const override { return "DummyData"; }
  int ExactNumBottomBlobs() const override { return 0; }
  int MinTopBlobs() const override { return 1; }
  // The tops keep the shapes SetUp gave them.
  void Reshape(const BlobVec& /*bottom*/, const BlobVec& /*top*/) override {}

 protected:
  void LayerSetUp(const BlobVec& bottom, const BlobVec& top) override;
  void ForwardCpu(const BlobVec& bottom, const BlobVec& top) override;
  void BackwardCpu(const BlobVec& /*top*/, const std::vector<bool>& /*propagate_down*/,
                   const BlobVec& /*bottom*/) override {}

 private:
  // The filler of top i: fillers_[0] when there is one for all, fillers_[i] otherwise.
  const caffe::FillerParameter& FillerOf(size_t top_index) const;

  std::vector<caffe::FillerParameter> fillers_;
  std::vector<bool> refill_;  // per filler: refilled on every Forward (not constant)
};

}  // namespace crema

#endif  // CREMA_LAYERS_DUMMY_DATA_LAYER_H_
