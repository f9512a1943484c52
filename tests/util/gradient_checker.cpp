#include "gradient_checker.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "crema/core/rng.h"

namespace crema::testing {

float GradientChecker::ObjectiveAndGradient(const BlobVec& top, int top_id, int top_data_id) {
  float loss = 0;
  if (top_id < 0) {
    for (Blob* blob : top) {
      const float* data = blob->cpu_data();
      float* diff = blob->mutable_cpu_diff();
      for (int j = 0; j < blob->count(); ++j) {
        loss += data[j] * data[j];
        diff[j] = data[j];
      }
    }
    loss /= 2;
  } else {
    for (Blob* blob : top) {
      float* diff = blob->mutable_cpu_diff();
      std::fill(diff, diff + blob->count(), 0.f);
    }
    const float scale = 2.f;  // a non-unit scale catches gradients that ignore top diff
    loss = top[top_id]->cpu_data()[top_data_id] * scale;
    top[top_id]->mutable_cpu_diff()[top_data_id] = scale;
  }
  return loss;
}

void GradientChecker::CheckGradientSingle(Layer* layer, const BlobVec& bottom, const BlobVec& top,
                                          int check_bottom, int top_id, int top_data_id,
                                          bool element_wise) {
  // Blobs whose gradients are checked, and whether each is a bottom.
  std::vector<Blob*> blobs_to_check;
  std::vector<bool> propagate_down(bottom.size(), check_bottom == -1);
  if (check_params_) {
    for (auto& p : layer->blobs()) blobs_to_check.push_back(p.get());
  }
  if (check_bottom == -1) {
    for (Blob* b : bottom) blobs_to_check.push_back(b);
  } else if (check_bottom >= 0) {
    ASSERT_LT(check_bottom, static_cast<int>(bottom.size()));
    blobs_to_check.push_back(bottom[check_bottom]);
    propagate_down[check_bottom] = true;
  }
  ASSERT_FALSE(blobs_to_check.empty()) << "no blobs to check";

  // Analytic gradient.
  SetRandomSeed(seed_);
  layer->Forward(bottom, top);
  ObjectiveAndGradient(top, top_id, top_data_id);
  for (Blob* b : blobs_to_check) std::fill(b->mutable_cpu_diff(), b->mutable_cpu_diff() + b->count(), 0.f);
  layer->Backward(top, propagate_down, bottom);
  std::vector<std::vector<float>> computed(blobs_to_check.size());
  for (size_t i = 0; i < blobs_to_check.size(); ++i) {
    const Blob* b = blobs_to_check[i];
    computed[i].assign(b->cpu_diff(), b->cpu_diff() + b->count());
  }

  // Numerical gradient, one input value at a time.
  for (size_t i = 0; i < blobs_to_check.size(); ++i) {
    Blob* current = blobs_to_check[i];
    for (int feat = 0; feat < current->count(); ++feat) {
      float estimated = 0;
      if (!element_wise || feat == top_data_id) {
        float* x = current->mutable_cpu_data();
        const float saved = x[feat];
        x[feat] = saved + stepsize_;
        SetRandomSeed(seed_);
        layer->Forward(bottom, top);
        const float positive = ObjectiveAndGradient(top, top_id, top_data_id);
        x = current->mutable_cpu_data();
        x[feat] = saved - stepsize_;
        SetRandomSeed(seed_);
        layer->Forward(bottom, top);
        const float negative = ObjectiveAndGradient(top, top_id, top_data_id);
        x = current->mutable_cpu_data();
        x[feat] = saved;
        estimated = (positive - negative) / stepsize_ / 2.f;
      }
      const float analytic = computed[i][feat];
      const float feature = current->cpu_data()[feat];
      if (kink_range_ < 0 || std::fabs(feature) > kink_ + kink_range_ ||
          std::fabs(feature) < kink_ - kink_range_) {
        const float scale = std::max({std::fabs(analytic), std::fabs(estimated), 1.f});
        EXPECT_NEAR(analytic, estimated, threshold_ * scale)
            << layer->Describe() << ": blob " << i << " of " << blobs_to_check.size()
            << " (params first), element " << feat << "; objective top " << top_id
            << " element " << top_data_id;
      }
    }
  }
}

void GradientChecker::CheckGradient(Layer* layer, const BlobVec& bottom, const BlobVec& top,
                                    int check_bottom) {
  layer->SetUp(bottom, top);
  CheckGradientSingle(layer, bottom, top, check_bottom, -1, -1);
}

void GradientChecker::CheckGradientExhaustive(Layer* layer, const BlobVec& bottom,
                                              const BlobVec& top, int check_bottom) {
  layer->SetUp(bottom, top);
  ASSERT_FALSE(top.empty());
  for (size_t t = 0; t < top.size(); ++t) {
    for (int j = 0; j < top[t]->count(); ++j) {
      CheckGradientSingle(layer, bottom, top, check_bottom, static_cast<int>(t), j);
    }
  }
}

void GradientChecker::CheckGradientEltwise(Layer* layer, const BlobVec& bottom,
                                           const BlobVec& top) {
  layer->SetUp(bottom, top);
  ASSERT_FALSE(top.empty());
  for (size_t t = 0; t < top.size(); ++t) {
    for (int j = 0; j < top[t]->count(); ++j) {
      CheckGradientSingle(layer, bottom, top, -1, static_cast<int>(t), j, /*element_wise=*/true);
    }
  }
}

}  // namespace crema::testing
