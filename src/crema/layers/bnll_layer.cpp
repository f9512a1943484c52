#include "crema/layers/bnll_layer.h"

#include <cmath>

namespace crema {

namespace {
// Below this many elements a parallel region costs more than it saves.
constexpr int kParallelMin = 1 << 14;
}  // namespace

void BNLLLayer::ForwardCpu(const BlobVec& bottom, const BlobVec& top) {
  const int count = bottom[0]->count();
  const float* x = bottom[0]->cpu_data();
  float* y = top[0]->mutable_cpu_data();
  // Both branches take e^(−|x|) <= 1, so nothing overflows; log1p keeps the precision of
  // ln(1 + t) for tiny t, where 1 + t would round to 1 in float (y ≈ e^x for very negative x).
#pragma omp parallel for if (count >= kParallelMin) schedule(static)
  for (int i = 0; i < count; ++i) {
    const float xi = x[i];
    y[i] = xi > 0.f ? xi + std::log1p(std::exp(-xi)) : std::log1p(std::exp(xi));
  }
}

void BNLLLayer::BackwardCpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                            const BlobVec& bottom) {
  if (!propagate_down[0]) return;
  const int count = bottom[0]->count();
  const float* y = top[0]->cpu_data();
  const float* dy = top[0]->cpu_diff();
  float* dx = bottom[0]->mutable_cpu_diff();
  // e^(−y) = 1 / (1 + e^x), so 1 − e^(−y) is the logistic of x; −expm1 keeps its precision
  // when y is tiny (very negative x) and the top alone suffices, which allows in place.
#pragma omp parallel for if (count >= kParallelMin) schedule(static)
  for (int i = 0; i < count; ++i) dx[i] = -dy[i] * std::expm1(-y[i]);
}

}  // namespace crema
