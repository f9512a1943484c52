#include "crema/layers/argmax_layer.h"

#include <algorithm>
#include <cstdint>
#include <functional>

namespace crema {

void ArgMaxLayer::LayerSetUp(const BlobVec& /*bottom*/, const BlobVec& /*top*/) {
  const caffe::ArgMaxParameter& p = layer_param_.argmax_param();
  out_max_val_ = p.out_max_val();
  has_axis_ = p.has_axis();
  if (p.top_k() < 1 || p.top_k() > static_cast<uint32_t>(INT32_MAX)) {
    Fail("argmax_param.top_k must be at least 1, got ", p.top_k());
  }
  top_k_ = static_cast<int>(p.top_k());
}

void ArgMaxLayer::Reshape(const BlobVec& bottom, const BlobVec& top) {
  if (top[0] == bottom[0]) Fail("cannot run in place");
  const Blob& x = *bottom[0];
  const int n = x.num_axes();
  if (n == 0) Fail("needs a bottom with a first axis, got a scalar");
  if (has_axis_) {
    const int axis = layer_param_.argmax_param().axis();
    if (axis < -n || axis >= n) {
      Fail("argmax_param.axis ", axis, " is out of range for a bottom of shape ",
           x.shape_string());
    }
    axis_ = axis < 0 ? axis + n : axis;
    dim_ = x.shape(axis_);
    inner_ = x.count(axis_ + 1);
    if (top_k_ > dim_) {
      Fail("argmax_param.top_k ", top_k_, " exceeds the dimension ", dim_, " of axis ", axis_,
           " of the bottom ", x.shape_string());
    }
    top_shape_ = x.shape();
    top_shape_[axis_] = top_k_;
  } else {
    dim_ = x.count(1);
    inner_ = 1;
    if (top_k_ > dim_) {
      Fail("argmax_param.top_k ", top_k_, " exceeds the ", dim_,
           " values per item of the bottom ", x.shape_string());
    }
    top_shape_.assign(std::max(n, 3), 1);
    top_shape_[0] = x.shape(0);
    top_shape_[1] = out_max_val_ ? 2 : 1;
    top_shape_[2] = top_k_;
  }
  if (ranked_.size() < static_cast<size_t>(dim_)) ranked_.resize(dim_);
  top[0]->Reshape(top_shape_);
}

void ArgMaxLayer::ForwardCpu(const BlobVec& bottom, const BlobVec& top) {
  const float* x = bottom[0]->cpu_data();
  float* y = top[0]->mutable_cpu_data();
  if (dim_ == 0) return;
  const int searches = bottom[0]->count() / dim_;
  // (value, index) pairs ordered descending: the larger value first, and among equal values
  // the larger index, which is the order Caffe reports.
  const auto before = std::greater<std::pair<float, int>>();
  for (int s = 0; s < searches; ++s) {
    const int outer = s / inner_, inner = s % inner_;
    const float* base = x + static_cast<size_t>(outer) * dim_ * inner_ + inner;
    for (int j = 0; j < dim_; ++j) ranked_[j] = {base[static_cast<size_t>(j) * inner_], j};
    if (top_k_ == 1) {
      std::nth_element(ranked_.begin(), ranked_.begin(), ranked_.begin() + dim_, before);
    } else {
      std::partial_sort(ranked_.begin(), ranked_.begin() + top_k_, ranked_.begin() + dim_,
                        before);
    }
    for (int j = 0; j < top_k_; ++j) {
      if (has_axis_) {
        // The top has the bottom's layout with top_k on the axis.
        y[(static_cast<size_t>(outer) * top_k_ + j) * inner_ + inner] =
            out_max_val_ ? ranked_[j].first : static_cast<float>(ranked_[j].second);
      } else if (out_max_val_) {
        y[static_cast<size_t>(s) * 2 * top_k_ + j] = static_cast<float>(ranked_[j].second);
        y[static_cast<size_t>(s) * 2 * top_k_ + top_k_ + j] = ranked_[j].first;
      } else {
        y[static_cast<size_t>(s) * top_k_ + j] = static_cast<float>(ranked_[j].second);
      }
    }
  }
}

void ArgMaxLayer::BackwardCpu(const BlobVec& /*top*/, const std::vector<bool>& propagate_down,
                              const BlobVec& bottom) {
  if (!propagate_down[0]) return;
  std::fill(bottom[0]->mutable_cpu_diff(), bottom[0]->mutable_cpu_diff() + bottom[0]->count(),
            0.f);
}

}  // namespace crema
