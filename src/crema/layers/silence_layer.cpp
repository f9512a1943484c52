#include "crema/layers/silence_layer.h"

#include <algorithm>

namespace crema {

void SilenceLayer::BackwardCpu(const BlobVec& /*top*/, const std::vector<bool>& propagate_down,
                               const BlobVec& bottom) {
  for (size_t i = 0; i < bottom.size(); ++i) {
    if (!propagate_down[i]) continue;
    float* dx = bottom[i]->mutable_cpu_diff();
    std::fill(dx, dx + bottom[i]->count(), 0.f);
  }
}

}  // namespace crema
