#include "crema/layers/bias_layer.h"

#include <algorithm>
#include <memory>

#include "crema/backend/cpu/blas.h"
#include "crema/core/filler.h"

namespace crema {

namespace {
// Below this many elements a parallel region costs more than it saves.
constexpr int kParallelMin = 1 << 15;
}  // namespace

int BiasLayer::Axis(const Blob& input) const {
  const int axis = layer_param_.bias_param().axis();
  const int n = input.num_axes();
  if (axis < -n || axis >= n) {
    Fail("bias_param.axis ", axis, " is out of range for bottom ", input.shape_string());
  }
  return axis < 0 ? axis + n : axis;
}

void BiasLayer::LayerSetUp(const BlobVec& bottom, const BlobVec& /*top*/) {
  blobs_.clear();
  param_propagate_down_.clear();
  if (bottom.size() > 1) return;  // bottom[1] is the bias: nothing to learn
  const caffe::BiasParameter& p = layer_param_.bias_param();
  const Blob& input = *bottom[0];
  const int axis = Axis(input);
  const int num_axes = p.num_axes();
  if (num_axes < -1) {
    Fail("bias_param.num_axes must be non-negative, or -1 for every axis from axis on; got ",
         num_axes);
  }
  if (num_axes >= 0 && axis + num_axes > input.num_axes()) {
    Fail("a bias of ", num_axes, " axes from axis ", axis, " reaches past the last axis of bottom ",
         input.shape_string());
  }
  const auto first = input.shape().begin() + axis;
  const auto last = num_axes < 0 ? input.shape().end() : first + num_axes;
  blobs_.push_back(std::make_shared<Blob>(std::vector<int>(first, last)));
  FillBlob(p.filler(), blobs_[0].get(), Describe() + " filler");
  param_propagate_down_.assign(1, true);
}

void BiasLayer::Reshape(const BlobVec& bottom, const BlobVec& top) {
  const Blob& input = *bottom[0];
  const Blob& bias = bottom.size() > 1 ? *bottom[1] : *blobs_[0];
  // A bias with no axes is one value for everything; its axis then does not matter.
  const int axis = bias.num_axes() == 0 ? 0 : Axis(input);
  if (axis + bias.num_axes() > input.num_axes()) {
    Fail("bias ", bias.shape_string(), " from axis ", axis,
         " reaches past the last axis of bottom ", input.shape_string());
  }
  for (int i = 0; i < bias.num_axes(); ++i) {
    if (input.shape(axis + i) != bias.shape(i)) {
      Fail("bias ", bias.shape_string(), " does not match bottom ", input.shape_string(),
           " from axis ", axis, ": dimension ", i, " is ", bias.shape(i), ", bottom's axis ",
           axis + i, " is ", input.shape(axis + i));
    }
  }
  outer_ = input.count(0, axis);
  dim_ = bias.count();
  inner_ = input.count(axis + bias.num_axes());
  if (bottom[0] != top[0]) top[0]->ReshapeLike(input);
  row_sums_.Reshape({outer_ * dim_});
}

void BiasLayer::ForwardCpu(const BlobVec& bottom, const BlobVec& top) {
  const float* x = bottom[0]->cpu_data();
  const float* b = (bottom.size() > 1 ? bottom[1] : blobs_[0].get())->cpu_data();
  float* y = top[0]->mutable_cpu_data();
  const int rows = outer_ * dim_, dim = dim_, inner = inner_;
  // One pass that copies and adds (x and y may be the same memory).
#pragma omp parallel for if (bottom[0]->count() >= kParallelMin) schedule(static)
  for (int r = 0; r < rows; ++r) {
    const float bias = b[r % dim];
    const size_t offset = static_cast<size_t>(r) * inner;
    for (int i = 0; i < inner; ++i) y[offset + i] = x[offset + i] + bias;
  }
}

void BiasLayer::BackwardCpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                            const BlobVec& bottom) {
  const int count = bottom[0]->count();
  const float* dy = top[0]->cpu_diff();
  if (propagate_down[0] && bottom[0] != top[0]) {
    std::copy(dy, dy + count, bottom[0]->mutable_cpu_diff());
  }
  // A learned bias accumulates its gradient; a bias from bottom[1] gets it written.
  const bool learned = bottom.size() == 1;
  if (learned ? !param_propagate_down(0) : !propagate_down[1]) return;
  float* bias_diff = (learned ? blobs_[0].get() : bottom[1])->mutable_cpu_diff();
  const int rows = outer_ * dim_, dim = dim_, inner = inner_;
  // Sum each (n, d) row over i first (contiguous, in parallel), then the rows over n.
  const float* sums = dy;
  if (inner > 1) {
    float* row_sums = row_sums_.mutable_cpu_data();
#pragma omp parallel for if (count >= kParallelMin) schedule(static)
    for (int r = 0; r < rows; ++r) {
      const float* dyr = dy + static_cast<size_t>(r) * inner;
      float acc = 0.f;
#pragma omp simd reduction(+ : acc)
      for (int i = 0; i < inner; ++i) acc += dyr[i];
      row_sums[r] = acc;
    }
    sums = row_sums;
  }
  if (!learned) cpu::Set(dim, 0.f, bias_diff);
  for (int n = 0; n < outer_; ++n) {
    cpu::Axpy(dim, 1.f, sums + static_cast<size_t>(n) * dim, bias_diff);
  }
}

}  // namespace crema
