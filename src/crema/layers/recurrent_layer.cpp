#include "crema/layers/recurrent_layer.h"

#include <algorithm>

#include "crema/backend/cpu/blas.h"
#include "crema/core/filler.h"

namespace crema {

RecurrentLayer::RecurrentLayer(const caffe::LayerParameter& param)
    : Layer(param), expose_hidden_(param.recurrent_param().expose_hidden()) {}

void RecurrentLayer::LayerSetUp(const BlobVec& bottom, const BlobVec& /*top*/) {
  const caffe::RecurrentParameter& p = layer_param_.recurrent_param();
  if (p.num_output() == 0) Fail("recurrent_param.num_output must be positive");
  if (p.num_output() > (1u << 28)) {
    Fail("recurrent_param.num_output ", p.num_output(), " is too large");
  }
  hidden_ = static_cast<int>(p.num_output());
  const Blob& x = *bottom[0];
  if (x.num_axes() < 2) {
    Fail("needs x with at least 2 axes (timesteps, streams, ...), got ", x.shape_string());
  }
  input_dim_ = x.count(2);
  static_input_ = static_cast<int>(bottom.size()) > 2 + NumExposedStates();
  static_dim_ = 0;
  if (static_input_) {
    if (bottom[2]->num_axes() < 1) Fail("needs x_static with a streams axis, got a scalar");
    static_dim_ = bottom[2]->count(1);
  }

  const int gates = GateDim();
  auto add = [this](std::vector<int> shape, const caffe::FillerParameter& filler,
                    const char* what) {
    blobs_.push_back(std::make_shared<Blob>(shape));
    FillBlob(filler, blobs_.back().get(), StrCat(Describe(), " ", what));
  };
  blobs_.clear();
  add({gates, input_dim_}, p.weight_filler(), "weight_filler");
  add({gates}, p.bias_filler(), "bias_filler");
  if (static_input_) add({gates, static_dim_}, p.weight_filler(), "weight_filler");
  add({gates, hidden_}, p.weight_filler(), "weight_filler");
  AddOwnParameters();
  param_propagate_down_.assign(blobs_.size(), true);

  // A fresh set-up starts from a zero state.
  carried_.assign(NumStates(), {});
  carried_streams_ = -1;
}

void RecurrentLayer::Reshape(const BlobVec& bottom, const BlobVec& top) {
  const Blob& x = *bottom[0];
  const Blob& cont = *bottom[1];
  if (x.num_axes() < 2) {
    Fail("needs x with at least 2 axes (timesteps, streams, ...), got ", x.shape_string());
  }
  T_ = x.shape(0);
  N_ = x.shape(1);
  if (T_ == 0 || N_ == 0) {
    Fail("needs at least one timestep and one stream, got x ", x.shape_string());
  }
  if (x.count(2) != input_dim_) {
    Fail("x ", x.shape_string(), " has ", x.count(2), " inputs per timestep and stream, but the ",
         "weights were made for ", input_dim_);
  }
  if (cont.num_axes() != 2 || cont.shape(0) != T_ || cont.shape(1) != N_) {
    Fail("needs cont of shape (timesteps, streams) = (", T_, ", ", N_, ") to match x ",
         x.shape_string(), ", got ", cont.shape_string());
  }
  if (static_input_) {
    const Blob& xs = *bottom[2];
    if (xs.num_axes() < 1 || xs.shape(0) != N_) {
      Fail("needs x_static with ", N_, " streams on its first axis to match x ", x.shape_string(),
           ", got ", xs.shape_string());
    }
    if (xs.count(1) != static_dim_) {
      Fail("x_static ", xs.shape_string(), " has ", xs.count(1), " inputs per stream, but the ",
           "weights were made for ", static_dim_);
    }
  }
  const std::vector<int> state_shape{1, N_, hidden_};
  if (expose_hidden_) {
    static const char* const kNames[] = {"h_0", "c_0"};
    for (int k = 0; k < NumStates(); ++k) {
      const Blob& s = *bottom[2 + static_input_ + k];
      if (s.shape() != state_shape) {
        Fail("needs ", kNames[k], " (bottom ", 2 + static_input_ + k, ") of shape ",
             Blob::ShapeString(state_shape), ", got ", s.shape_string());
      }
    }
    for (int k = 0; k < NumStates(); ++k) top[1 + k]->Reshape(state_shape);
  } else if (carried_streams_ != N_) {
    // A state for another set of streams means nothing for these: start from zeros.
    for (auto& state : carried_) state.assign(static_cast<size_t>(N_) * hidden_, 0.f);
    carried_streams_ = N_;
  }
  top[0]->Reshape({T_, N_, hidden_});
  if (static_input_) {
    static_pre_.resize(static_cast<size_t>(N_) * GateDim());
    static_dpre_.resize(static_cast<size_t>(N_) * GateDim());
  }
  ReshapeBuffers();
}

void RecurrentLayer::ForwardInputProjection(const BlobVec& bottom, float* pre) {
  const int gates = GateDim();
  const int rows = T_ * N_;
  // One GEMM for every timestep at once; only the recurrent part has to go step by step.
  cpu::Gemm(false, true, rows, gates, input_dim_, 1.f, bottom[0]->cpu_data(),
            blobs_[0]->cpu_data(), 0.f, pre);
  const float* b = blobs_[1]->cpu_data();
  for (int r = 0; r < rows; ++r) {
    float* row = pre + static_cast<size_t>(r) * gates;
    for (int g = 0; g < gates; ++g) row[g] += b[g];
  }
  if (static_input_) {
    float* sp = static_pre_.data();
    cpu::Gemm(false, true, N_, gates, static_dim_, 1.f, bottom[2]->cpu_data(),
              blobs_[2]->cpu_data(), 0.f, sp);
    const int block = N_ * gates;
    for (int t = 0; t < T_; ++t) cpu::Axpy(block, 1.f, sp, pre + static_cast<size_t>(t) * block);
  }
}

void RecurrentLayer::BackwardInputProjection(const BlobVec& bottom,
                                             const std::vector<bool>& propagate_down,
                                             const float* dpre) {
  const int gates = GateDim();
  const int rows = T_ * N_;
  const float* x = bottom[0]->cpu_data();
  if (param_propagate_down(0)) {
    cpu::Gemm(true, false, gates, input_dim_, rows, 1.f, dpre, x, 1.f,
              blobs_[0]->mutable_cpu_diff());
  }
  if (param_propagate_down(1)) AddColumnSums(rows, gates, dpre, blobs_[1]->mutable_cpu_diff());
  if (propagate_down[0]) {
    cpu::Gemm(false, false, rows, input_dim_, gates, 1.f, dpre, blobs_[0]->cpu_data(), 0.f,
              bottom[0]->mutable_cpu_diff());
  }
  if (static_input_ && (param_propagate_down(2) || propagate_down[2])) {
    // x_static feeds every timestep, so its gradient is the sum over timesteps.
    float* sd = static_dpre_.data();
    const int block = N_ * gates;
    std::copy(dpre, dpre + block, sd);
    for (int t = 1; t < T_; ++t) cpu::Axpy(block, 1.f, dpre + static_cast<size_t>(t) * block, sd);
    if (param_propagate_down(2)) {
      cpu::Gemm(true, false, gates, static_dim_, N_, 1.f, sd, bottom[2]->cpu_data(), 1.f,
                blobs_[2]->mutable_cpu_diff());
    }
    if (propagate_down[2]) {
      cpu::Gemm(false, false, N_, static_dim_, gates, 1.f, sd, blobs_[2]->cpu_data(), 0.f,
                bottom[2]->mutable_cpu_diff());
    }
  }
}

const float* RecurrentLayer::InitialState(const BlobVec& bottom, int k) const {
  return expose_hidden_ ? bottom[2 + static_input_ + k]->cpu_data() : carried_[k].data();
}

void RecurrentLayer::SaveFinalState(const BlobVec& top, int k, const float* state) {
  const size_t count = static_cast<size_t>(N_) * hidden_;
  float* out = expose_hidden_ ? top[1 + k]->mutable_cpu_data() : carried_[k].data();
  std::copy(state, state + count, out);
}

const float* RecurrentLayer::FinalStateDiff(const BlobVec& top, int k) const {
  return expose_hidden_ ? top[1 + k]->cpu_diff() : nullptr;
}

float* RecurrentLayer::InitialStateDiff(const BlobVec& bottom,
                                        const std::vector<bool>& propagate_down, int k) const {
  const int index = 2 + static_input_ + k;
  if (!expose_hidden_ || !propagate_down[index]) return nullptr;
  return bottom[index]->mutable_cpu_diff();
}

void RecurrentLayer::ZeroContDiff(const BlobVec& bottom, const std::vector<bool>& propagate_down) {
  if (!propagate_down[1]) return;
  cpu::Set(bottom[1]->count(), 0.f, bottom[1]->mutable_cpu_diff());
}

void RecurrentLayer::AddColumnSums(int rows, int cols, const float* m, float* out) {
  for (int r = 0; r < rows; ++r) {
    const float* row = m + static_cast<size_t>(r) * cols;
    for (int c = 0; c < cols; ++c) out[c] += row[c];
  }
}

}  // namespace crema
