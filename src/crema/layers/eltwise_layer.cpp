#include "crema/layers/eltwise_layer.h"

#include <algorithm>
#include <cstring>

namespace crema {

namespace {
constexpr int kParallelMin = 1 << 15;
}  // namespace

void EltwiseLayer::LayerSetUp(const BlobVec& bottom, const BlobVec& /*top*/) {
  const caffe::EltwiseParameter& p = layer_param_.eltwise_param();
  op_ = p.operation();
  stable_prod_grad_ = p.stable_prod_grad();
  // Coefficients with MAX are accepted and ignored, as Caffe does, so its files still load.
  if (p.coeff_size() > 0 && op_ == caffe::EltwiseParameter::PROD) {
    Fail("takes eltwise_param.coeff only for operation SUM, not PROD");
  }
  if (p.coeff_size() > 0 && p.coeff_size() != static_cast<int>(bottom.size())) {
    Fail("has ", p.coeff_size(), " eltwise_param.coeff values for ", bottom.size(),
         " bottoms; give one per bottom");
  }
  coeff_.assign(bottom.size(), 1.f);
  sum_grads_.assign(bottom.size(), nullptr);
  for (int i = 0; i < p.coeff_size(); ++i) coeff_[i] = p.coeff(i);
}

void EltwiseLayer::Reshape(const BlobVec& bottom, const BlobVec& top) {
  for (size_t b = 0; b < bottom.size(); ++b) {
    if (bottom[b] == top[0]) Fail("cannot run in place: bottom ", b, " is its top");
    if (b > 0 && bottom[b]->shape() != bottom[0]->shape()) {
      Fail("bottom ", b, " of shape ", bottom[b]->shape_string(),
           " does not match bottom 0 of shape ", bottom[0]->shape_string());
    }
  }
  top[0]->ReshapeLike(*bottom[0]);
  if (op_ == caffe::EltwiseParameter::MAX &&
      max_index_.size() < static_cast<size_t>(bottom[0]->count())) {
    max_index_.resize(bottom[0]->count());
  }
}

void EltwiseLayer::ForwardCpu(const BlobVec& bottom, const BlobVec& top) {
  const int count = top[0]->count();
  float* y = top[0]->mutable_cpu_data();
  const float* x0 = bottom[0]->cpu_data();
  const float* x1 = bottom[1]->cpu_data();
  const size_t nb = bottom.size();
  switch (op_) {
    case caffe::EltwiseParameter::PROD: {
#pragma omp parallel for if (count >= kParallelMin) schedule(static)
      for (int i = 0; i < count; ++i) y[i] = x0[i] * x1[i];
      for (size_t b = 2; b < nb; ++b) {
        const float* xb = bottom[b]->cpu_data();
#pragma omp parallel for if (count >= kParallelMin) schedule(static)
        for (int i = 0; i < count; ++i) y[i] *= xb[i];
      }
      break;
    }
    case caffe::EltwiseParameter::SUM: {
      const float c0 = coeff_[0], c1 = coeff_[1];
      // The fused ReLU goes into the last bottom's pass.
      const float slope = relu_slope_;
      const bool relu_now = relu_ && nb == 2;
#pragma omp parallel for if (count >= kParallelMin) schedule(static)
      for (int i = 0; i < count; ++i) {
        const float v = c0 * x0[i] + c1 * x1[i];
        y[i] = relu_now && v <= 0.f ? slope * v : v;
      }
      for (size_t b = 2; b < nb; ++b) {
        const float* xb = bottom[b]->cpu_data();
        const float cb = coeff_[b];
        const bool relu_last = relu_ && b + 1 == nb;
#pragma omp parallel for if (count >= kParallelMin) schedule(static)
        for (int i = 0; i < count; ++i) {
          const float v = y[i] + cb * xb[i];
          y[i] = relu_last && v <= 0.f ? slope * v : v;
        }
      }
      break;
    }
    case caffe::EltwiseParameter::MAX: {
      int* arg = max_index_.data();
#pragma omp parallel for if (count >= kParallelMin) schedule(static)
      for (int i = 0; i < count; ++i) {
        const bool first = x0[i] > x1[i];
        y[i] = first ? x0[i] : x1[i];
        arg[i] = first ? 0 : 1;
      }
      for (size_t b = 2; b < nb; ++b) {
        const float* xb = bottom[b]->cpu_data();
        const int index = static_cast<int>(b);
#pragma omp parallel for if (count >= kParallelMin) schedule(static)
        for (int i = 0; i < count; ++i) {
          if (xb[i] > y[i]) {
            y[i] = xb[i];
            arg[i] = index;
          }
        }
      }
      break;
    }
  }
}

bool EltwiseLayer::FuseEpilogue(std::vector<const Layer*> affines, bool relu,
                                float relu_slope) {
  if (op_ != caffe::EltwiseParameter::SUM || !affines.empty() || !relu) return false;
  relu_ = true;
  relu_slope_ = relu_slope;
  return true;
}

bool EltwiseLayer::BackwardReadsBottomData(int) const {
  return op_ == caffe::EltwiseParameter::PROD;
}
bool EltwiseLayer::BackwardReadsTopData(int) const {
  return op_ == caffe::EltwiseParameter::PROD;
}

void EltwiseLayer::BackwardCpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                               const BlobVec& bottom) {
  if (relu_) Fail("runs Forward only: the ReLU after it was fused into it");
  const int count = top[0]->count();
  const float* y = top[0]->cpu_data();
  const float* dy = top[0]->cpu_diff();
  const size_t nb = bottom.size();
  if (op_ == caffe::EltwiseParameter::SUM) {
    SumBackward(dy, count, propagate_down, bottom);
    return;
  }
  for (size_t b = 0; b < nb; ++b) {
    if (!propagate_down[b]) continue;
    const float* xb = bottom[b]->cpu_data();
    float* dx = bottom[b]->mutable_cpu_diff();
    switch (op_) {
      case caffe::EltwiseParameter::PROD: {
        if (stable_prod_grad_) {
          // Product of the other inputs, recomputed: exact even where x_b is 0.
          bool started = false;
          for (size_t o = 0; o < nb; ++o) {
            if (o == b) continue;
            const float* xo = bottom[o]->cpu_data();
            if (!started) {
              std::memcpy(dx, xo, sizeof(float) * count);
              started = true;
            } else {
#pragma omp parallel for if (count >= kParallelMin) schedule(static)
              for (int i = 0; i < count; ++i) dx[i] *= xo[i];
            }
          }
#pragma omp parallel for if (count >= kParallelMin) schedule(static)
          for (int i = 0; i < count; ++i) dx[i] *= dy[i];
        } else {
#pragma omp parallel for if (count >= kParallelMin) schedule(static)
          for (int i = 0; i < count; ++i) dx[i] = dy[i] * (y[i] / xb[i]);
        }
        break;
      }
      case caffe::EltwiseParameter::SUM:
        break;  // SumBackward
      case caffe::EltwiseParameter::MAX: {
        const int* arg = max_index_.data();
        const int index = static_cast<int>(b);
#pragma omp parallel for if (count >= kParallelMin) schedule(static)
        for (int i = 0; i < count; ++i) dx[i] = arg[i] == index ? dy[i] : 0.f;
        break;
      }
    }
  }
}

void EltwiseLayer::SumBackward(const float* dy, int count,
                               const std::vector<bool>& propagate_down, const BlobVec& bottom) {
  const int nb = static_cast<int>(bottom.size());
  // The gradients' pointers first: mutable_cpu_diff may allocate, which threads must not race.
  float** grads = sum_grads_.data();
  for (int b = 0; b < nb; ++b) {
    grads[b] = propagate_down[b] ? bottom[b]->mutable_cpu_diff() : nullptr;
  }
  // Block by block, every bottom's gradient from the block of dy while it is in cache: dy is
  // read once, and the copies are spread over the threads (one memcpy each ran on one).
  constexpr int kBlock = 4096;
  const int blocks = (count + kBlock - 1) / kBlock;
#pragma omp parallel for if (count >= kParallelMin) schedule(static)
  for (int block = 0; block < blocks; ++block) {
    const int begin = block * kBlock;
    const int end = std::min(count, begin + kBlock);
    for (int b = 0; b < nb; ++b) {
      float* dx = grads[b];
      if (dx == nullptr) continue;
      const float cb = coeff_[b];
      for (int i = begin; i < end; ++i) dx[i] = cb * dy[i];
    }
  }
}

}  // namespace crema
