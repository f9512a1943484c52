#include "crema/layers/rnn_layer.h"

#include <algorithm>
#include <cmath>

#include "crema/backend/cpu/blas.h"
#include "crema/core/filler.h"

namespace crema {

namespace {
// Below this many elements a parallel region costs more than it saves.
constexpr int kParallelMin = 1 << 14;
}  // namespace

void RNNLayer::AddOwnParameters() {
  const caffe::RecurrentParameter& p = layer_param_.recurrent_param();
  blobs_.push_back(std::make_shared<Blob>(std::vector<int>{hidden_, hidden_}));
  FillBlob(p.weight_filler(), blobs_.back().get(), Describe() + " weight_filler");
  blobs_.push_back(std::make_shared<Blob>(std::vector<int>{hidden_}));
  FillBlob(p.bias_filler(), blobs_.back().get(), Describe() + " bias_filler");
}

void RNNLayer::ReshapeBuffers() {
  const size_t nh = static_cast<size_t>(N_) * hidden_;
  const size_t all = static_cast<size_t>(T_) * nh;
  hidden_states_.resize(all);
  outputs_.resize(all);
  h_conted_.resize(all);
  doutputs_.resize(all);
  dhidden_.resize(all);
  dh_.resize(nh);
}

void RNNLayer::ForwardCpu(const BlobVec& bottom, const BlobVec& top) {
  const int H = hidden_, nh = N_ * hidden_, rows = T_ * N_;
  float* hidden = hidden_states_.data();
  ForwardInputProjection(bottom, hidden);

  const float* cont = bottom[1]->cpu_data();
  const float* w_hh = blobs_[recurrent_weight_index()]->cpu_data();
  const float* h_prev = InitialState(bottom, 0);
  for (int t = 0; t < T_; ++t) {
    const float* cont_t = cont + static_cast<size_t>(t) * N_;
    float* hc = h_conted_.data() + static_cast<size_t>(t) * nh;
    for (int k = 0; k < nh; ++k) hc[k] = cont_t[k / H] * h_prev[k];
    float* h_t = hidden + static_cast<size_t>(t) * nh;
    cpu::Gemm(false, true, N_, H, H, 1.f, hc, w_hh, 1.f, h_t);
#pragma omp parallel for if (nh >= kParallelMin) schedule(static)
    for (int k = 0; k < nh; ++k) h_t[k] = std::tanh(h_t[k]);
    h_prev = h_t;
  }
  SaveFinalState(top, 0, hidden + static_cast<size_t>(T_ - 1) * nh);

  // The output projection does not feed back, so all timesteps go in one GEMM.
  float* out = outputs_.data();
  cpu::Gemm(false, true, rows, H, H, 1.f, hidden, blobs_[output_weight_index()]->cpu_data(), 0.f,
            out);
  const float* b_o = blobs_[output_weight_index() + 1]->cpu_data();
  const int count = rows * H;
#pragma omp parallel for if (count >= kParallelMin) schedule(static)
  for (int k = 0; k < count; ++k) out[k] = std::tanh(out[k] + b_o[k % H]);
  std::copy(out, out + count, top[0]->mutable_cpu_data());
}

void RNNLayer::BackwardCpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                           const BlobVec& bottom) {
  const int H = hidden_, nh = N_ * hidden_, rows = T_ * N_, count = rows * H;
  const float* o = outputs_.data();
  const float* d_top = top[0]->cpu_diff();
  float* dout = doutputs_.data();
#pragma omp parallel for if (count >= kParallelMin) schedule(static)
  for (int k = 0; k < count; ++k) dout[k] = d_top[k] * (1.f - o[k] * o[k]);

  const float* hidden = hidden_states_.data();
  const int who = output_weight_index();
  if (param_propagate_down(who)) {
    cpu::Gemm(true, false, H, H, rows, 1.f, dout, hidden, 1.f, blobs_[who]->mutable_cpu_diff());
  }
  if (param_propagate_down(who + 1)) {
    AddColumnSums(rows, H, dout, blobs_[who + 1]->mutable_cpu_diff());
  }
  float* dhid = dhidden_.data();
  cpu::Gemm(false, false, rows, H, H, 1.f, dout, blobs_[who]->cpu_data(), 0.f, dhid);

  const float* cont = bottom[1]->cpu_data();
  const float* w_hh = blobs_[recurrent_weight_index()]->cpu_data();
  float* dh = dh_.data();
  const float* dh_final = FinalStateDiff(top, 0);
  if (dh_final) std::copy(dh_final, dh_final + nh, dh); else std::fill(dh, dh + nh, 0.f);
  float* dh_0 = InitialStateDiff(bottom, propagate_down, 0);
  for (int t = T_ - 1; t >= 0; --t) {
    const float* h_t = hidden + static_cast<size_t>(t) * nh;
    float* da = dhid + static_cast<size_t>(t) * nh;
    // h_t feeds both o_t and step t+1; da becomes the gradient of h_t's pre-activation.
#pragma omp parallel for if (nh >= kParallelMin) schedule(static)
    for (int k = 0; k < nh; ++k) da[k] = (da[k] + dh[k]) * (1.f - h_t[k] * h_t[k]);
    if (t > 0 || dh_0) {
      const float* cont_t = cont + static_cast<size_t>(t) * N_;
      cpu::Gemm(false, false, N_, H, H, 1.f, da, w_hh, 0.f, dh);
      for (int k = 0; k < nh; ++k) dh[k] *= cont_t[k / H];
    }
  }
  if (dh_0) std::copy(dh, dh + nh, dh_0);

  const int whh = recurrent_weight_index();
  if (param_propagate_down(whh)) {
    cpu::Gemm(true, false, H, H, rows, 1.f, dhid, h_conted_.data(), 1.f,
              blobs_[whh]->mutable_cpu_diff());
  }
  BackwardInputProjection(bottom, propagate_down, dhid);
  ZeroContDiff(bottom, propagate_down);
}

}  // namespace crema
