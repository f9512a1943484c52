#include "crema/layers/hinge_loss_layer.h"

#include <algorithm>

#include "crema/layers/loss_helpers.h"

namespace crema {

namespace {
// Below this many elements a parallel region costs more than it saves.
constexpr int kParallelMin = 1 << 14;
}  // namespace

void HingeLossLayer::Reshape(const BlobVec& bottom, const BlobVec& top) {
  const Blob& x = *bottom[0];
  const Blob& labels = *bottom[1];
  if (x.num_axes() == 0 || labels.num_axes() == 0 || x.shape(0) != labels.shape(0) ||
      labels.count() != x.shape(0)) {
    Fail("needs one label per item: scores of shape ", x.shape_string(), " need ",
         x.num_axes() == 0 ? 1 : x.shape(0), " labels, got labels of shape ",
         labels.shape_string());
  }
  LossLayer::Reshape(bottom, top);
  num_ = x.shape(0);
  dim_ = x.count(1);
  margin_.ReshapeLike(x);
}

void HingeLossLayer::ForwardCpu(const BlobVec& bottom, const BlobVec& top) {
  const float* x = bottom[0]->cpu_data();
  const float* label = bottom[1]->cpu_data();
  float* m = margin_.mutable_cpu_data();
  const int num = num_, dim = dim_;
  for (int n = 0; n < num; ++n) {
    const int l = LossLabelValue(label[n]);
    if (l < 0 || l >= dim) {
      Fail("label ", label[n], " at position ", n,
           " of the label blob is not a class index in [0, ", dim, ")");
    }
  }
  const bool l2 = layer_param_.hinge_loss_param().norm() == caffe::HingeLossParameter::L2;
  double loss = 0;
#pragma omp parallel for if (static_cast<long>(num) * dim >= kParallelMin) \
    reduction(+ : loss) schedule(static)
  for (int n = 0; n < num; ++n) {
    const int l = static_cast<int>(label[n]);  // checked above
    const long base = static_cast<long>(n) * dim;
    double item = 0;
    for (int k = 0; k < dim; ++k) {
      const float s = k == l ? -1.f : 1.f;
      const float v = std::max(0.f, 1.f + s * x[base + k]);
      m[base + k] = v;
      item += l2 ? static_cast<double>(v) * v : v;
    }
    loss += item;
  }
  top[0]->mutable_cpu_data()[0] = static_cast<float>(loss / num);
}

void HingeLossLayer::BackwardCpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                                 const BlobVec& bottom) {
  if (propagate_down.size() > 1 && propagate_down[1]) {
    Fail("cannot backpropagate to the labels (bottom 1); set propagate_down: false for it");
  }
  if (!propagate_down[0]) return;
  const float* label = bottom[1]->cpu_data();
  const float* m = margin_.cpu_data();
  float* dx = bottom[0]->mutable_cpu_diff();
  const int num = num_, dim = dim_;
  const bool l2 = layer_param_.hinge_loss_param().norm() == caffe::HingeLossParameter::L2;
  const float scale = top[0]->cpu_diff()[0] / static_cast<float>(num) * (l2 ? 2.f : 1.f);
#pragma omp parallel for if (static_cast<long>(num) * dim >= kParallelMin) schedule(static)
  for (int n = 0; n < num; ++n) {
    const int l = LossLabelValue(label[n]);
    const long base = static_cast<long>(n) * dim;
    for (int k = 0; k < dim; ++k) {
      const float s = k == l ? -scale : scale;
      // L1: the derivative of m is s where m > 0 and 0 on the flat side; L2 scales it by m.
      const float g = l2 ? m[base + k] : (m[base + k] > 0.f ? 1.f : 0.f);
      dx[base + k] = s * g;
    }
  }
}

}  // namespace crema
