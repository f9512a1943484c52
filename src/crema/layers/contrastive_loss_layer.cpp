#include "crema/layers/contrastive_loss_layer.h"

#include <algorithm>
#include <cmath>

#include "crema/backend/cpu/blas.h"

namespace crema {

namespace {

// Below this many elements a parallel region costs more than it saves.
constexpr int kParallelMin = 1 << 14;

// The label truncated toward zero is non-zero exactly when |y| ≥ 1; NaN counts as dissimilar.
inline bool IsSimilar(float y) { return std::fabs(y) >= 1.f; }

// C of an N × C blob with any trailing axes of size 1, or -1 when the blob is not of that form.
int FeatureChannels(const Blob& b) {
  if (b.num_axes() == 0) return -1;
  const int channels = b.num_axes() > 1 ? b.shape(1) : 1;
  return b.count(std::min(2, b.num_axes())) == 1 ? channels : -1;
}

}  // namespace

void ContrastiveLossLayer::Reshape(const BlobVec& bottom, const BlobVec& top) {
  const Blob& a = *bottom[0];
  const Blob& b = *bottom[1];
  const Blob& y = *bottom[2];
  const int ca = FeatureChannels(a);
  const int cb = FeatureChannels(b);
  if (ca < 0 || cb < 0 || a.shape(0) != b.shape(0) || ca != cb) {
    Fail("needs two feature blobs of the same shape N × C (trailing axes of size 1 allowed), "
         "got ", a.shape_string(), " and ", b.shape_string());
  }
  if (y.num_axes() == 0 || y.count() != a.shape(0)) {
    Fail("needs one similarity label per pair: features of shape ", a.shape_string(), " need ",
         a.shape(0), " labels, got labels of shape ", y.shape_string());
  }
  LossLayer::Reshape(bottom, top);
  num_ = a.shape(0);
  channels_ = ca;
  diff_.Reshape(std::vector<int>{num_, channels_});
  dist_sq_.Reshape(std::vector<int>{num_});
}

void ContrastiveLossLayer::ForwardCpu(const BlobVec& bottom, const BlobVec& top) {
  const float* a = bottom[0]->cpu_data();
  const float* b = bottom[1]->cpu_data();
  const float* y = bottom[2]->cpu_data();
  float* d = diff_.mutable_cpu_data();
  float* dist_sq = dist_sq_.mutable_cpu_data();
  const int num = num_, channels = channels_;
  const float margin = layer_param_.contrastive_loss_param().margin();
  const bool legacy = layer_param_.contrastive_loss_param().legacy_version();
  double loss = 0;
#pragma omp parallel for if (static_cast<long>(num) * channels >= kParallelMin) \
    reduction(+ : loss) schedule(static)
  for (int n = 0; n < num; ++n) {
    const long base = static_cast<long>(n) * channels;
    for (int c = 0; c < channels; ++c) d[base + c] = a[base + c] - b[base + c];
    const float sq = cpu::Dot(channels, d + base, d + base);
    dist_sq[n] = sq;
    if (IsSimilar(y[n])) {
      loss += sq;
    } else if (legacy) {
      loss += std::max(margin - sq, 0.f);
    } else {
      const float gap = std::max(margin - std::sqrt(sq), 0.f);
      loss += static_cast<double>(gap) * gap;
    }
  }
  top[0]->mutable_cpu_data()[0] = static_cast<float>(loss / num / 2.0);
}

void ContrastiveLossLayer::BackwardCpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                                       const BlobVec& bottom) {
  if (propagate_down.size() > 2 && propagate_down[2]) {
    Fail("cannot backpropagate to the similarity labels (bottom 2); set propagate_down: false "
         "for it");
  }
  const float* y = bottom[2]->cpu_data();
  const float* d = diff_.cpu_data();
  const float* dist_sq = dist_sq_.cpu_data();
  const int num = num_, channels = channels_;
  const float margin = layer_param_.contrastive_loss_param().margin();
  const bool legacy = layer_param_.contrastive_loss_param().legacy_version();
  for (int i = 0; i < 2; ++i) {
    if (!propagate_down[i]) continue;
    // ∂(a − b)/∂b = −1.
    const float alpha = (i == 0 ? 1.f : -1.f) * top[0]->cpu_diff()[0] / static_cast<float>(num);
    float* dx = bottom[i]->mutable_cpu_diff();
#pragma omp parallel for if (static_cast<long>(num) * channels >= kParallelMin) schedule(static)
    for (int n = 0; n < num; ++n) {
      float beta = 0.f;  // the factor on a_n − b_n
      if (IsSimilar(y[n])) {
        beta = alpha;
      } else if (legacy) {
        if (margin - dist_sq[n] > 0.f) beta = -alpha;
      } else {
        const float dist = std::sqrt(dist_sq[n]);
        const float gap = margin - dist;
        if (gap > 0.f) beta = -alpha * gap / (dist + 1e-4f);
      }
      const long base = static_cast<long>(n) * channels;
      for (int c = 0; c < channels; ++c) dx[base + c] = beta * d[base + c];
    }
  }
}

}  // namespace crema
