#include "crema/layers/lstm_unit_layer.h"

#include <algorithm>
#include <cmath>

namespace crema {

namespace {
// Below this many elements a parallel region costs more than it saves.
constexpr int kParallelMin = 1 << 14;

inline float Sigmoid(float v) { return 1.f / (1.f + std::exp(-v)); }
}  // namespace

void LSTMUnitLayer::Reshape(const BlobVec& bottom, const BlobVec& top) {
  const Blob& c_prev = *bottom[0];
  const Blob& x = *bottom[1];
  const Blob& cont = *bottom[2];
  if (c_prev.num_axes() != 3 || c_prev.shape(0) != 1) {
    Fail("needs c_prev of shape (1, streams, cells), got ", c_prev.shape_string());
  }
  const int n = c_prev.shape(1);
  hidden_ = c_prev.shape(2);
  if (x.num_axes() != 3 || x.shape(0) != 1 || x.shape(1) != n ||
      x.shape(2) != 4 * static_cast<long>(hidden_)) {
    Fail("needs gate inputs of shape (1, ", n, ", ", 4 * static_cast<long>(hidden_),
         ") to match c_prev ", c_prev.shape_string(), ", got ", x.shape_string());
  }
  if (cont.num_axes() != 2 || cont.shape(0) != 1 || cont.shape(1) != n) {
    Fail("needs cont of shape (1, ", n, ") to match c_prev ", c_prev.shape_string(), ", got ",
         cont.shape_string());
  }
  top[0]->ReshapeLike(c_prev);
  top[1]->ReshapeLike(c_prev);
}

void LSTMUnitLayer::ForwardCpu(const BlobVec& bottom, const BlobVec& top) {
  const int H = hidden_, count = bottom[0]->count();
  const float* c_prev = bottom[0]->cpu_data();
  const float* x = bottom[1]->cpu_data();
  const float* cont = bottom[2]->cpu_data();
  float* c_out = top[0]->mutable_cpu_data();
  float* h_out = top[1]->mutable_cpu_data();
#pragma omp parallel for if (count >= kParallelMin) schedule(static)
  for (int k = 0; k < count; ++k) {
    const int n = k / H, d = k - n * H;
    const float* row = x + static_cast<size_t>(n) * 4 * H;
    const float i = Sigmoid(row[d]);
    const float f = Sigmoid(row[H + d]);
    const float o = Sigmoid(row[2 * H + d]);
    const float g = std::tanh(row[3 * H + d]);
    const float forget = cont[n] * f;
    const float c = forget * c_prev[k] + i * g;
    c_out[k] = c;
    h_out[k] = o * std::tanh(c);
  }
}

void LSTMUnitLayer::BackwardCpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                                const BlobVec& bottom) {
  if (propagate_down[2]) std::fill_n(bottom[2]->mutable_cpu_diff(), bottom[2]->count(), 0.f);
  if (!propagate_down[0] && !propagate_down[1]) return;
  const int H = hidden_, count = bottom[0]->count();
  const float* c_prev = bottom[0]->cpu_data();
  const float* x = bottom[1]->cpu_data();
  const float* cont = bottom[2]->cpu_data();
  const float* c_out = top[0]->cpu_data();
  const float* dc_out = top[0]->cpu_diff();
  const float* dh_out = top[1]->cpu_diff();
  float* dc_prev = propagate_down[0] ? bottom[0]->mutable_cpu_diff() : nullptr;
  float* dx = propagate_down[1] ? bottom[1]->mutable_cpu_diff() : nullptr;
#pragma omp parallel for if (count >= kParallelMin) schedule(static)
  for (int k = 0; k < count; ++k) {
    const int n = k / H, d = k - n * H;
    const float* row = x + static_cast<size_t>(n) * 4 * H;
    const float i = Sigmoid(row[d]);
    const float f = Sigmoid(row[H + d]);
    const float o = Sigmoid(row[2 * H + d]);
    const float g = std::tanh(row[3 * H + d]);
    const float forget = cont[n] * f;
    const float tanh_c = std::tanh(c_out[k]);
    const float dc = dc_out[k] + dh_out[k] * o * (1.f - tanh_c * tanh_c);
    if (dc_prev) dc_prev[k] = dc * forget;
    if (dx) {
      float* drow = dx + static_cast<size_t>(n) * 4 * H;
      drow[d] = dc * g * i * (1.f - i);
      drow[H + d] = dc * c_prev[k] * cont[n] * f * (1.f - f);
      drow[2 * H + d] = dh_out[k] * tanh_c * o * (1.f - o);
      drow[3 * H + d] = dc * i * (1.f - g * g);
    }
  }
}

}  // namespace crema
