#include "crema/layers/tile_layer.h"

#include <climits>
#include <cstring>

namespace crema {

namespace {
// Below this many elements a parallel region costs more than it saves.
constexpr int kParallelMin = 1 << 14;
}  // namespace

void TileLayer::LayerSetUp(const BlobVec& /*bottom*/, const BlobVec& /*top*/) {
  const caffe::TileParameter& p = layer_param_.tile_param();
  if (!p.has_tiles()) Fail("needs tile_param.tiles");
  if (p.tiles() <= 0) Fail("tile_param.tiles must be positive, got ", p.tiles());
  tiles_ = p.tiles();
}

void TileLayer::Reshape(const BlobVec& bottom, const BlobVec& top) {
  if (top[0] == bottom[0]) Fail("cannot run in place");
  const Blob& x = *bottom[0];
  const int n = x.num_axes();
  const int axis = layer_param_.tile_param().axis();
  if (axis < -n || axis >= n) {
    Fail("tile_param.axis ", axis, " is out of range for a bottom of shape ", x.shape_string());
  }
  const int a = axis < 0 ? axis + n : axis;
  if (static_cast<int64_t>(x.count()) * tiles_ > INT_MAX) {
    Fail("tiling a bottom of shape ", x.shape_string(), " ", tiles_,
         " times gives more than INT_MAX values");
  }
  top_shape_ = x.shape();
  top_shape_[a] *= tiles_;
  outer_ = x.count(0, a);
  inner_ = x.count(a);
  top[0]->Reshape(top_shape_);
}

void TileLayer::ForwardCpu(const BlobVec& bottom, const BlobVec& top) {
  const float* x = bottom[0]->cpu_data();
  float* y = top[0]->mutable_cpu_data();
  const size_t bytes = sizeof(float) * static_cast<size_t>(inner_);
#pragma omp parallel for if (top[0]->count() >= kParallelMin) schedule(static)
  for (int o = 0; o < outer_; ++o) {
    const float* src = x + static_cast<size_t>(o) * inner_;
    float* dst = y + static_cast<size_t>(o) * tiles_ * inner_;
    for (int t = 0; t < tiles_; ++t) std::memcpy(dst + static_cast<size_t>(t) * inner_, src, bytes);
  }
}

void TileLayer::BackwardCpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                            const BlobVec& bottom) {
  if (!propagate_down[0]) return;
  const float* dy = top[0]->cpu_diff();
  float* dx = bottom[0]->mutable_cpu_diff();
#pragma omp parallel for if (top[0]->count() >= kParallelMin) schedule(static)
  for (int o = 0; o < outer_; ++o) {
    const float* src = dy + static_cast<size_t>(o) * tiles_ * inner_;
    float* dst = dx + static_cast<size_t>(o) * inner_;
    std::memcpy(dst, src, sizeof(float) * static_cast<size_t>(inner_));
    for (int t = 1; t < tiles_; ++t) {
      const float* tile = src + static_cast<size_t>(t) * inner_;
      for (int i = 0; i < inner_; ++i) dst[i] += tile[i];
    }
  }
}

}  // namespace crema
