#include "crema/layers/slice_layer.h"

#include <cstring>

namespace crema {

namespace {
// Below this many elements a parallel region costs more than it saves.
constexpr int kParallelMin = 1 << 14;
}  // namespace

void SliceLayer::LayerSetUp(const BlobVec& /*bottom*/, const BlobVec& /*top*/) {
  const caffe::SliceParameter& p = layer_param_.slice_param();
  if (p.has_axis() && p.has_slice_dim()) {
    Fail("sets both slice_param.axis and the deprecated slice_dim; keep only axis");
  }
}

void SliceLayer::Reshape(const BlobVec& bottom, const BlobVec& top) {
  const Blob& x = *bottom[0];
  const int n = x.num_axes();
  const caffe::SliceParameter& p = layer_param_.slice_param();
  if (p.has_slice_dim()) {
    if (p.slice_dim() >= static_cast<uint32_t>(n)) {
      Fail("slice_param.slice_dim ", p.slice_dim(), " is out of range for a bottom of shape ",
           x.shape_string());
    }
    axis_ = static_cast<int>(p.slice_dim());
  } else {
    if (p.axis() < -n || p.axis() >= n) {
      Fail("slice_param.axis ", p.axis(), " is out of range for a bottom of shape ",
           x.shape_string());
    }
    axis_ = p.axis() < 0 ? p.axis() + n : p.axis();
  }
  for (size_t t = 0; t < top.size(); ++t) {
    if (top[t] == bottom[0]) Fail("cannot run in place: top ", t, " is the bottom");
  }
  axis_size_ = x.shape(axis_);
  outer_ = x.count(0, axis_);
  inner_ = x.count(axis_ + 1);
  const int tops = static_cast<int>(top.size());
  sizes_.resize(top.size());
  if (p.slice_point_size() > 0) {
    if (p.slice_point_size() != tops - 1) {
      Fail("slice_param has ", p.slice_point_size(), " slice_point values for ", tops,
           " tops; give one fewer than the tops");
    }
    int64_t previous = 0;
    for (int t = 0; t < tops - 1; ++t) {
      const int64_t point = p.slice_point(t);
      if (point <= previous || point >= axis_size_) {
        Fail("slice_point ", point, " (number ", t, ") must be greater than ", previous,
             " and less than the dimension ", axis_size_, " of axis ", axis_, " of the bottom ",
             x.shape_string());
      }
      sizes_[t] = static_cast<int>(point - previous);
      previous = point;
    }
    sizes_[tops - 1] = static_cast<int>(axis_size_ - previous);
  } else {
    if (axis_size_ % tops != 0) {
      Fail("the ", tops, " tops do not divide axis ", axis_, " of size ", axis_size_,
           " of the bottom ", x.shape_string(), " evenly; give slice_point values");
    }
    for (int t = 0; t < tops; ++t) sizes_[t] = axis_size_ / tops;
  }
  top_shape_ = x.shape();
  for (int t = 0; t < tops; ++t) {
    top_shape_[axis_] = sizes_[t];
    top[t]->Reshape(top_shape_);
  }
  if (tops == 1) {
    top[0]->ShareData(x);
    top[0]->ShareDiff(x);
  }
}

void SliceLayer::ForwardCpu(const BlobVec& bottom, const BlobVec& top) {
  if (top.size() == 1) return;
  const float* x = bottom[0]->cpu_data();
  const bool parallel = bottom[0]->count() >= kParallelMin;
  int offset = 0;  // start of the current top's range on the slice axis
  for (size_t t = 0; t < top.size(); ++t) {
    float* y = top[t]->mutable_cpu_data();
    const size_t block = static_cast<size_t>(sizes_[t]) * inner_;
#pragma omp parallel for if (parallel) schedule(static)
    for (int o = 0; o < outer_; ++o) {
      std::memcpy(y + o * block,
                  x + (static_cast<size_t>(o) * axis_size_ + offset) * inner_,
                  sizeof(float) * block);
    }
    offset += sizes_[t];
  }
}

void SliceLayer::BackwardCpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                             const BlobVec& bottom) {
  if (!propagate_down[0] || top.size() == 1) return;
  float* dx = bottom[0]->mutable_cpu_diff();
  const bool parallel = bottom[0]->count() >= kParallelMin;
  int offset = 0;
  for (size_t t = 0; t < top.size(); ++t) {
    const float* dy = top[t]->cpu_diff();
    const size_t block = static_cast<size_t>(sizes_[t]) * inner_;
#pragma omp parallel for if (parallel) schedule(static)
    for (int o = 0; o < outer_; ++o) {
      std::memcpy(dx + (static_cast<size_t>(o) * axis_size_ + offset) * inner_,
                  dy + o * block, sizeof(float) * block);
    }
    offset += sizes_[t];
  }
}

}  // namespace crema
