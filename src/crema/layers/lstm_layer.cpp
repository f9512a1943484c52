#include "crema/layers/lstm_layer.h"

#include <algorithm>
#include <cmath>

#include "crema/backend/cpu/blas.h"

namespace crema {

namespace {
// Below this many elements per timestep a parallel region costs more than it saves.
constexpr int kParallelMin = 1 << 14;

inline float Sigmoid(float v) { return 1.f / (1.f + std::exp(-v)); }
}  // namespace

void LSTMLayer::ReshapeBuffers() {
  const size_t nh = static_cast<size_t>(N_) * hidden_;
  const size_t steps = static_cast<size_t>(T_);
  gates_.resize(steps * nh * 4);
  dgates_.resize(steps * nh * 4);
  cells_.resize((steps + 1) * nh);
  tanh_c_.resize(steps * nh);
  h_conted_.resize(steps * nh);
  dh_.resize(nh);
  dc_.resize(nh);
}

void LSTMLayer::ForwardCpu(const BlobVec& bottom, const BlobVec& top) {
  const int H = hidden_, G = 4 * hidden_, nh = N_ * hidden_;
  float* gates = gates_.data();
  ForwardInputProjection(bottom, gates);

  const float* cont = bottom[1]->cpu_data();
  const float* w_hc = blobs_[recurrent_weight_index()]->cpu_data();
  float* h = top[0]->mutable_cpu_data();
  float* cells = cells_.data();
  const float* c_0 = InitialState(bottom, 1);
  std::copy(c_0, c_0 + nh, cells);
  const float* h_prev = InitialState(bottom, 0);

  for (int t = 0; t < T_; ++t) {
    const float* cont_t = cont + static_cast<size_t>(t) * N_;
    float* hc = h_conted_.data() + static_cast<size_t>(t) * nh;
    for (int k = 0; k < nh; ++k) hc[k] = cont_t[k / H] * h_prev[k];
    float* g_t = gates + static_cast<size_t>(t) * N_ * G;
    cpu::Gemm(false, true, N_, G, H, 1.f, hc, w_hc, 1.f, g_t);

    const float* c_prev = cells + static_cast<size_t>(t) * nh;
    float* c_t = cells + static_cast<size_t>(t + 1) * nh;
    float* tanh_c = tanh_c_.data() + static_cast<size_t>(t) * nh;
    float* h_t = h + static_cast<size_t>(t) * nh;
#pragma omp parallel for if (nh >= kParallelMin) schedule(static)
    for (int k = 0; k < nh; ++k) {
      const int n = k / H, d = k - n * H;
      float* row = g_t + static_cast<size_t>(n) * G;
      const float i = Sigmoid(row[d]);
      const float f = Sigmoid(row[H + d]);
      const float o = Sigmoid(row[2 * H + d]);
      const float g = std::tanh(row[3 * H + d]);
      row[d] = i;
      row[H + d] = f;
      row[2 * H + d] = o;
      row[3 * H + d] = g;
      const float forget = cont_t[n] * f;
      const float c = forget * c_prev[k] + i * g;
      c_t[k] = c;
      tanh_c[k] = std::tanh(c);
      h_t[k] = o * tanh_c[k];
    }
    h_prev = h_t;
  }
  SaveFinalState(top, 0, h + static_cast<size_t>(T_ - 1) * nh);
  SaveFinalState(top, 1, cells + static_cast<size_t>(T_) * nh);
}

void LSTMLayer::BackwardCpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                            const BlobVec& bottom) {
  const int H = hidden_, G = 4 * hidden_, nh = N_ * hidden_;
  const float* cont = bottom[1]->cpu_data();
  const float* w_hc = blobs_[recurrent_weight_index()]->cpu_data();
  const float* dh_top = top[0]->cpu_diff();
  float* dh = dh_.data();
  float* dc = dc_.data();
  const float* dh_final = FinalStateDiff(top, 0);
  const float* dc_final = FinalStateDiff(top, 1);
  if (dh_final) std::copy(dh_final, dh_final + nh, dh); else std::fill(dh, dh + nh, 0.f);
  if (dc_final) std::copy(dc_final, dc_final + nh, dc); else std::fill(dc, dc + nh, 0.f);
  float* dh_0 = InitialStateDiff(bottom, propagate_down, 0);
  float* dc_0 = InitialStateDiff(bottom, propagate_down, 1);

  for (int t = T_ - 1; t >= 0; --t) {
    const float* cont_t = cont + static_cast<size_t>(t) * N_;
    const float* act = gates_.data() + static_cast<size_t>(t) * N_ * G;
    float* dg = dgates_.data() + static_cast<size_t>(t) * N_ * G;
    const float* c_prev = cells_.data() + static_cast<size_t>(t) * nh;
    const float* tanh_c = tanh_c_.data() + static_cast<size_t>(t) * nh;
    const float* dh_out = dh_top + static_cast<size_t>(t) * nh;
#pragma omp parallel for if (nh >= kParallelMin) schedule(static)
    for (int k = 0; k < nh; ++k) {
      const int n = k / H, d = k - n * H;
      const float* a = act + static_cast<size_t>(n) * G;
      float* da = dg + static_cast<size_t>(n) * G;
      const float i = a[d], f = a[H + d], o = a[2 * H + d], g = a[3 * H + d];
      const float forget = cont_t[n] * f;
      // h_t feeds both the output sequence and step t+1.
      const float dh_t = dh_out[k] + dh[k];
      const float dc_t = dc[k] + dh_t * o * (1.f - tanh_c[k] * tanh_c[k]);
      da[d] = dc_t * g * i * (1.f - i);
      da[H + d] = dc_t * c_prev[k] * cont_t[n] * f * (1.f - f);
      da[2 * H + d] = dh_t * tanh_c[k] * o * (1.f - o);
      da[3 * H + d] = dc_t * i * (1.f - g * g);
      dc[k] = dc_t * forget;
    }
    if (t > 0 || dh_0) {
      // h_{t−1} reaches step t only through cont_t ⊙ h_{t−1}.
      cpu::Gemm(false, false, N_, H, G, 1.f, dg, w_hc, 0.f, dh);
      for (int k = 0; k < nh; ++k) dh[k] *= cont_t[k / H];
    }
  }
  if (dh_0) std::copy(dh, dh + nh, dh_0);
  if (dc_0) std::copy(dc, dc + nh, dc_0);

  const int whc = recurrent_weight_index();
  if (param_propagate_down(whc)) {
    cpu::Gemm(true, false, G, H, T_ * N_, 1.f, dgates_.data(), h_conted_.data(), 1.f,
              blobs_[whc]->mutable_cpu_diff());
  }
  BackwardInputProjection(bottom, propagate_down, dgates_.data());
  ZeroContDiff(bottom, propagate_down);
}

}  // namespace crema
