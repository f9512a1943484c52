#include "crema/layers/reduction_layer.h"

#include <algorithm>
#include <cmath>

namespace crema {

namespace {
// Below this many elements a parallel region costs more than it saves.
constexpr int kParallelMin = 1 << 14;
}  // namespace

void ReductionLayer::LayerSetUp(const BlobVec& /*bottom*/, const BlobVec& /*top*/) {
  op_ = layer_param_.reduction_param().operation();
}

void ReductionLayer::Reshape(const BlobVec& bottom, const BlobVec& top) {
  if (top[0] == bottom[0]) Fail("cannot run in place");
  const Blob& x = *bottom[0];
  const int n = x.num_axes();
  const caffe::ReductionParameter& p = layer_param_.reduction_param();
  // Axis 0 of a scalar bottom is allowed: it reduces the one value.
  if (!(n == 0 && p.axis() == 0) && (p.axis() < -n || p.axis() >= n)) {
    Fail("reduction_param.axis ", p.axis(), " is out of range for a bottom of shape ",
         x.shape_string());
  }
  const int axis = p.axis() < 0 ? p.axis() + n : p.axis();
  top_shape_.assign(x.shape().begin(), x.shape().begin() + axis);
  top[0]->Reshape(top_shape_);
  num_ = x.count(0, axis);
  dim_ = x.count(axis);
  coeff_ = p.coeff();
  if (op_ == caffe::ReductionParameter::MEAN && dim_ > 0) coeff_ /= static_cast<float>(dim_);
}

void ReductionLayer::ForwardCpu(const BlobVec& bottom, const BlobVec& top) {
  const float* x = bottom[0]->cpu_data();
  float* y = top[0]->mutable_cpu_data();
  const int dim = dim_;
  const auto op = op_;
#pragma omp parallel for if (bottom[0]->count() >= kParallelMin) schedule(static)
  for (int m = 0; m < num_; ++m) {
    const float* row = x + static_cast<size_t>(m) * dim;
    double sum = 0;
    switch (op) {
      case caffe::ReductionParameter::ASUM:
        for (int i = 0; i < dim; ++i) sum += std::fabs(row[i]);
        break;
      case caffe::ReductionParameter::SUMSQ:
        for (int i = 0; i < dim; ++i) sum += static_cast<double>(row[i]) * row[i];
        break;
      default:  // SUM and MEAN (MEAN's 1/D is in coeff_)
        for (int i = 0; i < dim; ++i) sum += row[i];
        break;
    }
    y[m] = static_cast<float>(sum * coeff_);
  }
}

void ReductionLayer::BackwardCpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                                 const BlobVec& bottom) {
  if (!propagate_down[0]) return;
  const float* x = bottom[0]->cpu_data();
  const float* dy = top[0]->cpu_diff();
  float* dx = bottom[0]->mutable_cpu_diff();
  const int dim = dim_;
  const auto op = op_;
#pragma omp parallel for if (bottom[0]->count() >= kParallelMin) schedule(static)
  for (int m = 0; m < num_; ++m) {
    const float g = dy[m] * coeff_;
    const float* row = x + static_cast<size_t>(m) * dim;
    float* out = dx + static_cast<size_t>(m) * dim;
    switch (op) {
      case caffe::ReductionParameter::ASUM:
        for (int i = 0; i < dim; ++i) {
          out[i] = g * static_cast<float>((0.f < row[i]) - (row[i] < 0.f));
        }
        break;
      case caffe::ReductionParameter::SUMSQ:
        for (int i = 0; i < dim; ++i) out[i] = 2.f * g * row[i];
        break;
      default:
        std::fill(out, out + dim, g);
        break;
    }
  }
}

}  // namespace crema
