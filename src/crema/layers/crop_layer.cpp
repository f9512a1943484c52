#include "crema/layers/crop_layer.h"

#include <algorithm>
#include <cstring>

namespace crema {

namespace {
// Below this many elements a parallel region costs more than it saves.
constexpr int kParallelMin = 1 << 14;
}  // namespace

void CropLayer::Reshape(const BlobVec& bottom, const BlobVec& top) {
  const Blob& x = *bottom[0];
  const Blob& ref = *bottom[1];
  if (top[0] == bottom[0] || top[0] == bottom[1]) Fail("cannot run in place");
  if (x.shape() == bottom_shape_ && ref.shape() == reference_shape_) {
    top[0]->Reshape(top_shape_);
    return;
  }
  const int n = x.num_axes();
  // The reference's axes beyond bottom 0's are never read, so only fewer axes are an error.
  if (ref.num_axes() < n) {
    Fail("the reference bottom 1 of shape ", ref.shape_string(),
         " needs at least the axes of bottom 0 of shape ", x.shape_string());
  }
  const caffe::CropParameter& p = layer_param_.crop_param();
  if (p.axis() < -n || p.axis() >= n) {
    Fail("crop_param.axis ", p.axis(), " is out of range for a bottom of shape ",
         x.shape_string());
  }
  const int axis = p.axis() < 0 ? p.axis() + n : p.axis();
  if (p.offset_size() > 1 && p.offset_size() != n - axis) {
    Fail("crop_param gives ", p.offset_size(), " offsets; give none, one, or one for each of the ",
         n - axis, " axes from axis ", axis, " on");
  }
  std::vector<int> offsets(n, 0);
  top_shape_ = x.shape();
  for (int k = axis; k < n; ++k) {
    const uint32_t offset =
        p.offset_size() == 0 ? 0u : p.offset(p.offset_size() == 1 ? 0 : k - axis);
    if (static_cast<int64_t>(offset) + ref.shape(k) > x.shape(k)) {
      Fail("cannot crop axis ", k, ": offset ", offset, " plus the reference's size ",
           ref.shape(k), " exceeds bottom 0's size ", x.shape(k), " (shapes ", x.shape_string(),
           " and ", ref.shape_string(), ")");
    }
    offsets[k] = static_cast<int>(offset);
    top_shape_[k] = ref.shape(k);
  }

  // One row per index tuple of the top's leading n − 1 axes; its start in bottom[0] is the
  // offset-shifted tuple, so Forward and Backward are plain row copies.
  row_length_ = n == 0 ? 1 : top_shape_[n - 1];
  int rows = 1;
  for (int k = 0; k + 1 < n; ++k) rows *= top_shape_[k];
  row_start_.resize(static_cast<size_t>(rows));
  std::vector<int> index(n > 0 ? n - 1 : 0, 0);
  for (int r = 0; r < rows; ++r) {
    int start = 0;
    for (int k = 0; k + 1 < n; ++k) start = start * x.shape(k) + index[k] + offsets[k];
    row_start_[r] = n == 0 ? 0 : start * x.shape(n - 1) + offsets[n - 1];
    for (int k = n - 2; k >= 0; --k) {  // odometer step over the top's leading axes
      if (++index[k] < top_shape_[k]) break;
      index[k] = 0;
    }
  }
  bottom_shape_ = x.shape();
  reference_shape_ = ref.shape();
  top[0]->Reshape(top_shape_);
}

void CropLayer::ForwardCpu(const BlobVec& bottom, const BlobVec& top) {
  const float* x = bottom[0]->cpu_data();
  float* y = top[0]->mutable_cpu_data();
  const int rows = static_cast<int>(row_start_.size());
  const size_t bytes = sizeof(float) * static_cast<size_t>(row_length_);
#pragma omp parallel for if (top[0]->count() >= kParallelMin) schedule(static)
  for (int r = 0; r < rows; ++r) {
    std::memcpy(y + static_cast<size_t>(r) * row_length_, x + row_start_[r], bytes);
  }
}

void CropLayer::BackwardCpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                            const BlobVec& bottom) {
  if (propagate_down[1]) {
    std::fill(bottom[1]->mutable_cpu_diff(), bottom[1]->mutable_cpu_diff() + bottom[1]->count(),
              0.f);
  }
  if (!propagate_down[0]) return;
  const float* dy = top[0]->cpu_diff();
  float* dx = bottom[0]->mutable_cpu_diff();
  std::fill(dx, dx + bottom[0]->count(), 0.f);
  const int rows = static_cast<int>(row_start_.size());
  const size_t bytes = sizeof(float) * static_cast<size_t>(row_length_);
  // Rows of the crop never overlap in bottom[0], so they can be written in parallel.
#pragma omp parallel for if (top[0]->count() >= kParallelMin) schedule(static)
  for (int r = 0; r < rows; ++r) {
    std::memcpy(dx + row_start_[r], dy + static_cast<size_t>(r) * row_length_, bytes);
  }
}

}  // namespace crema
