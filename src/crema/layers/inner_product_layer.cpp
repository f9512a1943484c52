#include "crema/layers/inner_product_layer.h"

#include "crema/backend/cpu/blas.h"
#include "crema/core/filler.h"

namespace crema {

int InnerProductLayer::InputAxis(const Blob& input) const {
  const int axis = layer_param_.inner_product_param().axis();
  const int num_axes = input.num_axes();
  if (axis < -num_axes || axis >= num_axes) {
    Fail("axis ", axis, " is out of range for input ", input.shape_string());
  }
  return axis < 0 ? axis + num_axes : axis;
}

void InnerProductLayer::LayerSetUp(const BlobVec& bottom, const BlobVec& /*top*/) {
  const caffe::InnerProductParameter& p = layer_param_.inner_product_param();
  num_output_ = static_cast<int>(p.num_output());
  if (num_output_ <= 0) Fail("num_output must be positive, got ", p.num_output());
  bias_term_ = p.bias_term();
  transpose_ = p.transpose();
  inputs_ = bottom[0]->count(InputAxis(*bottom[0]));

  blobs_.clear();
  blobs_.push_back(std::make_shared<Blob>(transpose_ ? std::vector<int>{inputs_, num_output_}
                                                     : std::vector<int>{num_output_, inputs_}));
  FillBlob(p.weight_filler(), blobs_[0].get(), Describe() + " weight_filler");
  if (bias_term_) {
    blobs_.push_back(std::make_shared<Blob>(std::vector<int>{num_output_}));
    FillBlob(p.bias_filler(), blobs_[1].get(), Describe() + " bias_filler");
  }
  param_propagate_down_.assign(blobs_.size(), true);
}

void InnerProductLayer::Reshape(const BlobVec& bottom, const BlobVec& top) {
  const Blob& input = *bottom[0];
  const int axis = InputAxis(input);
  const int k = input.count(axis);
  if (k != inputs_) {
    Fail("input ", input.shape_string(), " has ", k, " values per item from axis ", axis,
         ", but the weights were made for ", inputs_);
  }
  items_ = input.count(0, axis);
  std::vector<int> top_shape(input.shape().begin(), input.shape().begin() + axis);
  top_shape.push_back(num_output_);
  top[0]->Reshape(top_shape);
  if (TransposedForward()) transposed_top_.Reshape({num_output_, items_});
}

void InnerProductLayer::ForwardCpu(const BlobVec& bottom, const BlobVec& top) {
  const float* x = bottom[0]->cpu_data();
  const float* w = blobs_[0]->cpu_data();
  float* y = top[0]->mutable_cpu_data();
  if (TransposedForward()) {
    // yᵀ (N×M) = W (N×K) · xᵀ, then y[m, n] = yᵀ[n, m] (+ b[n]).
    float* yt = transposed_top_.mutable_cpu_data();
    cpu::Gemm(false, true, num_output_, items_, inputs_, 1.f, w, x, 0.f, yt);
    const float* b = bias_term_ ? blobs_[1]->cpu_data() : nullptr;
    const int items = items_, outputs = num_output_;
#pragma omp parallel for if (static_cast<int64_t>(items) * outputs >= (1 << 15)) schedule(static)
    for (int m = 0; m < items; ++m) {
      float* row = y + static_cast<size_t>(m) * outputs;
      for (int n = 0; n < outputs; ++n) {
        row[n] = yt[static_cast<size_t>(n) * items + m] + (b != nullptr ? b[n] : 0.f);
      }
    }
    return;
  }
  // y (M×N) = x (M×K) · op(W), op(W) = Wᵀ for the (N, K) layout.
  cpu::Gemm(false, !transpose_, items_, num_output_, inputs_, 1.f, x, w, 0.f, y);
  if (bias_term_) {
    const float* b = blobs_[1]->cpu_data();
    for (int m = 0; m < items_; ++m) {
      float* row = y + static_cast<size_t>(m) * num_output_;
      for (int n = 0; n < num_output_; ++n) row[n] += b[n];
    }
  }
}

void InnerProductLayer::BackwardCpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                                    const BlobVec& bottom) {
  const float* dy = top[0]->cpu_diff();
  if (param_propagate_down(0)) {
    const float* x = bottom[0]->cpu_data();
    float* dw = blobs_[0]->mutable_cpu_diff();
    if (transpose_) {
      // dW (K×N) += xᵀ · dy
      cpu::Gemm(true, false, inputs_, num_output_, items_, 1.f, x, dy, 1.f, dw);
    } else {
      // dW (N×K) += dyᵀ · x
      cpu::Gemm(true, false, num_output_, inputs_, items_, 1.f, dy, x, 1.f, dw);
    }
  }
  if (bias_term_ && param_propagate_down(1)) {
    float* db = blobs_[1]->mutable_cpu_diff();
    for (int m = 0; m < items_; ++m) {
      const float* row = dy + static_cast<size_t>(m) * num_output_;
      for (int n = 0; n < num_output_; ++n) db[n] += row[n];
    }
  }
  if (propagate_down[0]) {
    // dx (M×K) = dy (M×N) · W (N×K), or dy · Wᵀ for the (K, N) layout.
    cpu::Gemm(false, transpose_, items_, inputs_, num_output_, 1.f, dy, blobs_[0]->cpu_data(),
              0.f, bottom[0]->mutable_cpu_diff());
  }
}

}  // namespace crema
