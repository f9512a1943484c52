#include "crema/layers/filter_layer.h"

#include <algorithm>
#include <cstring>

namespace crema {

namespace {
// Below this many elements a parallel region costs more than it saves.
constexpr int kParallelMin = 1 << 14;
}  // namespace

void FilterLayer::LayerSetUp(const BlobVec& bottom, const BlobVec& top) {
  if (top.size() != bottom.size() - 1) {
    Fail("needs one top per filtered bottom (bottoms - 1 = ", bottom.size() - 1, "), got ",
         top.size(), " tops; the last bottom is the selector");
  }
  first_reshape_ = true;
}

void FilterLayer::Reshape(const BlobVec& bottom, const BlobVec& top) {
  const Blob& selector = *bottom.back();
  const size_t filtered = bottom.size() - 1;
  if (selector.num_axes() == 0) Fail("the selector (last bottom) must have a first axis");
  for (int a = 1; a < selector.num_axes(); ++a) {
    if (selector.shape(a) != 1) {
      Fail("the selector (last bottom) must hold one value per item: all axes after the first ",
           "must be 1, got shape ", selector.shape_string());
    }
  }
  const int items = selector.shape(0);
  for (size_t k = 0; k < filtered; ++k) {
    if (bottom[k]->num_axes() == 0 || bottom[k]->shape(0) != items) {
      Fail("bottom ", k, " of shape ", bottom[k]->shape_string(),
           " must have the selector's first dimension ", items);
    }
    for (const Blob* b : bottom) {
      if (top[k] == b) Fail("cannot run in place: top ", k, " is a bottom");
    }
  }
  if (selected_.capacity() < static_cast<size_t>(items)) selected_.reserve(items);
  selected_.clear();
  const float* s = selector.cpu_data();
  for (int n = 0; n < items; ++n) {
    if (s[n] != 0.f) selected_.push_back(n);
  }
  // At SetUp the selector holds no data yet; the tops take the whole batch until Forward.
  const int kept = first_reshape_ ? items : static_cast<int>(selected_.size());
  first_reshape_ = false;
  for (size_t k = 0; k < filtered; ++k) {
    top_shape_ = bottom[k]->shape();
    top_shape_[0] = kept;
    top[k]->Reshape(top_shape_);
  }
}

void FilterLayer::ForwardCpu(const BlobVec& bottom, const BlobVec& top) {
  const int kept = static_cast<int>(selected_.size());
  for (size_t k = 0; k < top.size(); ++k) {
    const int inner = bottom[k]->count(1);
    const float* x = bottom[k]->cpu_data();
    float* y = top[k]->mutable_cpu_data();
    const size_t bytes = sizeof(float) * static_cast<size_t>(inner);
#pragma omp parallel for if (top[k]->count() >= kParallelMin) schedule(static)
    for (int s = 0; s < kept; ++s) {
      std::memcpy(y + static_cast<size_t>(s) * inner,
                  x + static_cast<size_t>(selected_[s]) * inner, bytes);
    }
  }
}

void FilterLayer::BackwardCpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                              const BlobVec& bottom) {
  if (propagate_down.back()) {
    Blob* selector = bottom.back();
    std::fill(selector->mutable_cpu_diff(), selector->mutable_cpu_diff() + selector->count(), 0.f);
  }
  const int kept = static_cast<int>(selected_.size());
  for (size_t k = 0; k < top.size(); ++k) {
    if (!propagate_down[k]) continue;
    const int inner = bottom[k]->count(1);
    float* dx = bottom[k]->mutable_cpu_diff();
    std::fill(dx, dx + bottom[k]->count(), 0.f);
    const float* dy = top[k]->cpu_diff();
    const size_t bytes = sizeof(float) * static_cast<size_t>(inner);
#pragma omp parallel for if (top[k]->count() >= kParallelMin) schedule(static)
    for (int s = 0; s < kept; ++s) {
      std::memcpy(dx + static_cast<size_t>(selected_[s]) * inner,
                  dy + static_cast<size_t>(s) * inner, bytes);
    }
  }
}

}  // namespace crema
