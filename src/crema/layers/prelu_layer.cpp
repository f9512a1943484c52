#include "crema/layers/prelu_layer.h"

#include <algorithm>
#include <memory>

#include "crema/core/filler.h"

namespace crema {

namespace {
// Below this many elements a parallel region costs more than it saves.
constexpr int kParallelMin = 1 << 15;
}  // namespace

void PReLULayer::LayerSetUp(const BlobVec& bottom, const BlobVec& /*top*/) {
  const caffe::PReLUParameter& p = layer_param_.prelu_param();
  if (bottom[0]->num_axes() < 2) {
    Fail("needs a bottom with at least 2 axes (N, C, ...), got ", bottom[0]->shape_string());
  }
  channel_shared_ = p.channel_shared();
  channels_ = bottom[0]->shape(1);
  blobs_.clear();
  // A shared slope is a blob with no axes (one value), the shape a .caffemodel holds.
  blobs_.push_back(std::make_shared<Blob>(channel_shared_ ? std::vector<int>{}
                                                          : std::vector<int>{channels_}));
  caffe::FillerParameter filler = p.filler();
  if (!p.has_filler()) {
    filler.set_type("constant");
    filler.set_value(0.25f);
  }
  FillBlob(filler, blobs_[0].get(), Describe() + " filler");
  param_propagate_down_.assign(1, true);
}

void PReLULayer::Reshape(const BlobVec& bottom, const BlobVec& top) {
  const Blob& input = *bottom[0];
  if (input.num_axes() < 2) {
    Fail("needs a bottom with at least 2 axes (N, C, ...), got ", input.shape_string());
  }
  if (!channel_shared_ && input.shape(1) != channels_) {
    Fail("bottom ", input.shape_string(), " has ", input.shape(1), " channels, but the slopes ",
         "were made for ", channels_);
  }
  NeuronLayer::Reshape(bottom, top);
  if (bottom[0] == top[0]) bottom_copy_.ReshapeLike(input);
  row_sums_.Reshape({input.count(0, 2)});
}

void PReLULayer::ForwardCpu(const BlobVec& bottom, const BlobVec& top) {
  const Blob& input = *bottom[0];
  const int count = input.count();
  const int channels = input.shape(1);
  const int rows = input.count(0, 2);  // (item, channel) pairs
  const int dim = input.count(2);
  const float* x = input.cpu_data();
  float* y = top[0]->mutable_cpu_data();
  if (bottom[0] == top[0]) std::copy(x, x + count, bottom_copy_.mutable_cpu_data());
  const float* slope = blobs_[0]->cpu_data();
  const bool shared = channel_shared_;
#pragma omp parallel for if (count >= kParallelMin) schedule(static)
  for (int r = 0; r < rows; ++r) {
    const float a = slope[shared ? 0 : r % channels];
    const float* xr = x + static_cast<size_t>(r) * dim;
    float* yr = y + static_cast<size_t>(r) * dim;
    for (int i = 0; i < dim; ++i) yr[i] = xr[i] > 0.f ? xr[i] : a * xr[i];
  }
}

void PReLULayer::BackwardCpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                             const BlobVec& bottom) {
  const Blob& input = *bottom[0];
  const int count = input.count();
  const int channels = input.shape(1);
  const int rows = input.count(0, 2);
  const int dim = input.count(2);
  const float* x = bottom[0] == top[0] ? bottom_copy_.cpu_data() : input.cpu_data();
  const float* dy = top[0]->cpu_diff();
  // The slope gradient first: in place, the bottom diff written below is the top diff.
  if (param_propagate_down(0)) {
    float* sums = row_sums_.mutable_cpu_data();
#pragma omp parallel for if (count >= kParallelMin) schedule(static)
    for (int r = 0; r < rows; ++r) {
      const float* xr = x + static_cast<size_t>(r) * dim;
      const float* dyr = dy + static_cast<size_t>(r) * dim;
      float acc = 0.f;
#pragma omp simd reduction(+ : acc)
      for (int i = 0; i < dim; ++i) acc += xr[i] <= 0.f ? dyr[i] * xr[i] : 0.f;
      sums[r] = acc;
    }
    // Rows are (item, channel); fold the items (and, when shared, the channels) together.
    float* slope_diff = blobs_[0]->mutable_cpu_diff();
    if (channel_shared_) {
      float total = 0.f;
      for (int r = 0; r < rows; ++r) total += sums[r];
      slope_diff[0] += total;
    } else {
      for (int r = 0; r < rows; ++r) slope_diff[r % channels] += sums[r];
    }
  }
  if (propagate_down[0]) {
    const float* slope = blobs_[0]->cpu_data();
    float* dx = bottom[0]->mutable_cpu_diff();
    const bool shared = channel_shared_;
#pragma omp parallel for if (count >= kParallelMin) schedule(static)
    for (int r = 0; r < rows; ++r) {
      const float a = slope[shared ? 0 : r % channels];
      const size_t offset = static_cast<size_t>(r) * dim;
      for (int i = 0; i < dim; ++i) {
        dx[offset + i] = x[offset + i] > 0.f ? dy[offset + i] : a * dy[offset + i];
      }
    }
  }
}

}  // namespace crema
