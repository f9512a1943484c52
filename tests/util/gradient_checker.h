// Numerical gradient checks for layers: central differences against Backward.
//
// The objective is either one element of one top (element-wise mode, exhaustive over every
// top element) or ½·Σ top² over all tops. For each checked input value x (bottom data, and
// parameter blobs unless told otherwise) the checker compares the analytic gradient from
// Backward with (f(x+h) − f(x−h)) / 2h, failing when they differ by more than
// threshold · max(|analytic|, |numeric|, 1). Points within `kink_range` of `kink` in the
// layer's input (e.g. 0 for ReLU) are skipped, since the derivative jumps there.
// Stochastic layers are handled by reseeding the thread RNG with `seed` before every Forward.
#ifndef CREMA_TESTS_UTIL_GRADIENT_CHECKER_H_
#define CREMA_TESTS_UTIL_GRADIENT_CHECKER_H_

#include <vector>

#include "crema/layers/layer.h"

namespace crema::testing {

class GradientChecker {
 public:
  GradientChecker(float stepsize, float threshold, unsigned seed = 1701, float kink = 0.f,
                  float kink_range = -1.f)
      : stepsize_(stepsize), threshold_(threshold), seed_(seed), kink_(kink),
        kink_range_(kink_range) {}

  // Checks gradients of ½·Σ top² w.r.t. bottom[check_bottom] (all bottoms when -1) and the
  // layer's parameter blobs. Calls SetUp itself.
  void CheckGradient(Layer* layer, const BlobVec& bottom, const BlobVec& top,
                     int check_bottom = -1);
  // Checks every top element's gradient separately (slow; for small shapes).
  void CheckGradientExhaustive(Layer* layer, const BlobVec& bottom, const BlobVec& top,
                               int check_bottom = -1);
  // For element-wise layers: top element i depends only on bottom element i, so one pass
  // per element suffices.
  void CheckGradientEltwise(Layer* layer, const BlobVec& bottom, const BlobVec& top);
  // One objective: top[top_id] element top_data_id (or ½Σ top² when top_id < 0).
  void CheckGradientSingle(Layer* layer, const BlobVec& bottom, const BlobVec& top,
                           int check_bottom, int top_id, int top_data_id,
                           bool element_wise = false);

  // Whether parameter blobs are checked too (default true).
  void set_check_params(bool value) { check_params_ = value; }

 private:
  float ObjectiveAndGradient(const BlobVec& top, int top_id, int top_data_id);

  float stepsize_;
  float threshold_;
  unsigned seed_;
  float kink_;
  float kink_range_;
  bool check_params_ = true;
};

}  // namespace crema::testing

#endif  // CREMA_TESTS_UTIL_GRADIENT_CHECKER_H_
