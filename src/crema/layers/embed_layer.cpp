#include "crema/layers/embed_layer.h"

#include <algorithm>
#include <climits>
#include <cstdint>
#include <cstring>

#include "crema/core/filler.h"

namespace crema {

namespace {
// Below this many elements a parallel region costs more than it saves.
constexpr int kParallelMin = 1 << 14;
}  // namespace

void EmbedLayer::LayerSetUp(const BlobVec& /*bottom*/, const BlobVec& /*top*/) {
  const caffe::EmbedParameter& p = layer_param_.embed_param();
  if (p.num_output() == 0 || p.num_output() > static_cast<uint32_t>(INT_MAX)) {
    Fail("embed_param.num_output must be positive, got ", p.num_output());
  }
  if (p.input_dim() == 0 || p.input_dim() > static_cast<uint32_t>(INT_MAX)) {
    Fail("embed_param.input_dim must be positive, got ", p.input_dim());
  }
  num_output_ = static_cast<int>(p.num_output());
  input_dim_ = static_cast<int>(p.input_dim());
  bias_term_ = p.bias_term();
  blobs_.clear();
  blobs_.push_back(std::make_shared<Blob>());
  WithErrorContext(Describe(), [&] { blobs_[0]->Reshape({input_dim_, num_output_}); });
  FillBlob(p.weight_filler(), blobs_[0].get(), Describe() + " weight_filler");
  if (bias_term_) {
    blobs_.push_back(std::make_shared<Blob>(std::vector<int>{num_output_}));
    FillBlob(p.bias_filler(), blobs_[1].get(), Describe() + " bias_filler");
  }
  param_propagate_down_.assign(blobs_.size(), true);
}

void EmbedLayer::Reshape(const BlobVec& bottom, const BlobVec& top) {
  if (top[0] == bottom[0]) Fail("cannot run in place");
  if (bottom[0]->num_axes() >= kMaxBlobAxes) {
    Fail("a bottom of ", bottom[0]->num_axes(), " axes leaves no room for the output axis");
  }
  if (static_cast<int64_t>(bottom[0]->count()) * num_output_ > INT_MAX) {
    Fail("a bottom of shape ", bottom[0]->shape_string(), " would give more than INT_MAX outputs");
  }
  top_shape_ = bottom[0]->shape();
  top_shape_.push_back(num_output_);
  top[0]->Reshape(top_shape_);
}

void EmbedLayer::ForwardCpu(const BlobVec& bottom, const BlobVec& top) {
  const int items = bottom[0]->count();
  const float* idx = bottom[0]->cpu_data();
  // Note [Index errors in Forward] (batch_reindex_layer.h): check before writing anything.
  for (int m = 0; m < items; ++m) {
    if (!(idx[m] >= 0.f && idx[m] < static_cast<float>(input_dim_))) {
      Fail("index ", idx[m], " at position ", m, " of the bottom is outside [0, ", input_dim_,
           ") (embed_param.input_dim)");
    }
  }
  const float* w = blobs_[0]->cpu_data();
  const float* b = bias_term_ ? blobs_[1]->cpu_data() : nullptr;
  float* y = top[0]->mutable_cpu_data();
  const int n_out = num_output_;
#pragma omp parallel for if (top[0]->count() >= kParallelMin) schedule(static)
  for (int m = 0; m < items; ++m) {
    const float* row = w + static_cast<size_t>(static_cast<int>(idx[m])) * n_out;
    float* out = y + static_cast<size_t>(m) * n_out;
    if (b != nullptr) {
      for (int j = 0; j < n_out; ++j) out[j] = row[j] + b[j];
    } else {
      std::memcpy(out, row, sizeof(float) * static_cast<size_t>(n_out));
    }
  }
}

void EmbedLayer::BackwardCpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                             const BlobVec& bottom) {
  if (propagate_down[0]) {
    std::fill(bottom[0]->mutable_cpu_diff(), bottom[0]->mutable_cpu_diff() + bottom[0]->count(),
              0.f);
  }
  const int items = bottom[0]->count();
  const float* dy = top[0]->cpu_diff();
  const int n_out = num_output_;
  if (param_propagate_down(0)) {
    const float* idx = bottom[0]->cpu_data();
    float* dw = blobs_[0]->mutable_cpu_diff();
    // Serial: several items may share an index, and their gradients add up in one row.
    for (int m = 0; m < items; ++m) {
      float* row = dw + static_cast<size_t>(static_cast<int>(idx[m])) * n_out;
      const float* g = dy + static_cast<size_t>(m) * n_out;
      for (int j = 0; j < n_out; ++j) row[j] += g[j];
    }
  }
  if (bias_term_ && param_propagate_down(1)) {
    float* db = blobs_[1]->mutable_cpu_diff();
    for (int m = 0; m < items; ++m) {
      const float* g = dy + static_cast<size_t>(m) * n_out;
      for (int j = 0; j < n_out; ++j) db[j] += g[j];
    }
  }
}

}  // namespace crema
