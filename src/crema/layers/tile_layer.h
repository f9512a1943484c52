// Tile: repeats its bottom `tiles` times along one axis.
//
// With the bottom viewed as outer × inner around the axis (outer = the product of the
// dimensions before it, inner = the product of the axis's and all later dimensions):
//   top    (d0, …, d(axis)·tiles, …)
//   top[o, t·inner + i] = bottom[o, i]      for t in [0, tiles)
//   ∂E/∂bottom[o, i] = Σ_t ∂E/∂top[o, t·inner + i]
//
// Parameters (TileParameter): axis [1], negative counts from the end; tiles, required, > 0.
//
// Errors (InvalidArgument naming the layer): tiles missing or not positive, axis out of
// range, the top being the bottom. A layer is used by one thread at a time.
#ifndef CREMA_LAYERS_TILE_LAYER_H_
#define CREMA_LAYERS_TILE_LAYER_H_

#include <vector>

#include "crema/layers/layer.h"

namespace crema {

class TileLayer : public Layer {
 public:
  using Layer::Layer;
  const char* type() const override { return "Tile"; }
  int ExactNumBottomBlobs() const override { return 1; }
  int ExactNumTopBlobs() const override { return 1; }
  void Reshape(const BlobVec& bottom, const BlobVec& top) override;

 protected:
  void LayerSetUp(const BlobVec& bottom, const BlobVec& top) override;
  void ForwardCpu(const BlobVec& bottom, const BlobVec& top) override;
  void BackwardCpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                   const BlobVec& bottom) override;

 private:
  int tiles_ = 0;
  int outer_ = 0;  // product of the dimensions before the axis
  int inner_ = 0;  // product of the axis's dimension and those after it
  std::vector<int> top_shape_;
};

}  // namespace crema

#endif  // CREMA_LAYERS_TILE_LAYER_H_
