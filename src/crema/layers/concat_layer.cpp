#include "crema/layers/concat_layer.h"

#include <cstring>

namespace crema {

void ConcatLayer::LayerSetUp(const BlobVec& /*bottom*/, const BlobVec& /*top*/) {
  const caffe::ConcatParameter& p = layer_param_.concat_param();
  if (p.has_axis() && p.has_concat_dim()) {
    Fail("sets both concat_param.axis and the deprecated concat_dim; keep only axis");
  }
}

void ConcatLayer::Reshape(const BlobVec& bottom, const BlobVec& top) {
  const Blob& first = *bottom[0];
  const int n = first.num_axes();
  const caffe::ConcatParameter& p = layer_param_.concat_param();
  if (p.has_concat_dim()) {
    if (p.concat_dim() >= static_cast<unsigned>(n)) {
      Fail("concat_param.concat_dim ", p.concat_dim(), " is out of range for bottom 0 of shape ",
           first.shape_string());
    }
    axis_ = static_cast<int>(p.concat_dim());
  } else {
    if (p.axis() < -n || p.axis() >= n) {
      Fail("concat_param.axis ", p.axis(), " is out of range for bottom 0 of shape ",
           first.shape_string());
    }
    axis_ = p.axis() < 0 ? p.axis() + n : p.axis();
  }
  if (bottom.size() > 1) {
    for (size_t b = 0; b < bottom.size(); ++b) {
      if (bottom[b] == top[0]) Fail("cannot run in place: bottom ", b, " is its top");
    }
  }
  top_shape_ = first.shape();
  for (size_t b = 1; b < bottom.size(); ++b) {
    const Blob& other = *bottom[b];
    bool same = other.num_axes() == n;
    for (int i = 0; same && i < n; ++i) {
      if (i != axis_ && other.shape(i) != first.shape(i)) same = false;
    }
    if (!same) {
      Fail("bottom ", b, " of shape ", other.shape_string(), " does not match bottom 0 of shape ",
           first.shape_string(), "; all axes but the concatenation axis ", axis_, " must agree");
    }
    top_shape_[axis_] += other.shape(axis_);
  }
  outer_ = first.count(0, axis_);
  inner_ = first.count(axis_ + 1);
  top[0]->Reshape(top_shape_);
  if (bottom.size() == 1) {
    top[0]->ShareData(first);
    top[0]->ShareDiff(first);
  }
}

void ConcatLayer::ForwardCpu(const BlobVec& bottom, const BlobVec& top) {
  if (bottom.size() == 1) return;
  float* y = top[0]->mutable_cpu_data();
  const long top_block = static_cast<long>(top[0]->shape(axis_)) * inner_;
  long offset = 0;
  for (const Blob* b : bottom) {
    const float* x = b->cpu_data();
    const long block = static_cast<long>(b->shape(axis_)) * inner_;
    for (int o = 0; o < outer_; ++o) {
      std::memcpy(y + o * top_block + offset, x + o * block, sizeof(float) * block);
    }
    offset += block;
  }
}

void ConcatLayer::BackwardCpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                              const BlobVec& bottom) {
  if (bottom.size() == 1) return;
  const float* dy = top[0]->cpu_diff();
  const long top_block = static_cast<long>(top[0]->shape(axis_)) * inner_;
  long offset = 0;
  for (size_t k = 0; k < bottom.size(); ++k) {
    Blob* b = bottom[k];
    const long block = static_cast<long>(b->shape(axis_)) * inner_;
    if (propagate_down[k]) {
      float* dx = b->mutable_cpu_diff();
      for (int o = 0; o < outer_; ++o) {
        std::memcpy(dx + o * block, dy + o * top_block + offset, sizeof(float) * block);
      }
    }
    offset += block;
  }
}

}  // namespace crema
