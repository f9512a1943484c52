#include "recurrent_checks.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "test_helpers.h"

namespace crema::testing {

caffe::LayerParameter RecurrentParam(const std::string& type, const std::string& name,
                                     int hidden, bool expose) {
  return LayerFromText(
      "name: '" + name + "' type: '" + type + "' recurrent_param { num_output: " +
      std::to_string(hidden) + (expose ? " expose_hidden: true" : "") +
      " weight_filler { type: 'uniform' min: -0.7 max: 0.7 }"
      " bias_filler { type: 'uniform' min: -0.5 max: 0.5 } }");
}

RecurrentCase::RecurrentCase(int t, int n, int i, int s, int h, bool with_static, bool expose,
                             const std::vector<float>& cont_values, int num_states,
                             unsigned seed)
    : T(t), N(n), I(i), S(s), H(h), x({t, n, i}), cont({t, n}), x_static({n, s}),
      h_0({1, n, h}), c_0({1, n, h}) {
  FillUniform(&x, -1.f, 1.f, seed);
  FillUniform(&x_static, -1.f, 1.f, seed + 1);
  FillUniform(&h_0, -0.8f, 0.8f, seed + 2);
  FillUniform(&c_0, -1.5f, 1.5f, seed + 3);
  EXPECT_EQ(static_cast<int>(cont_values.size()), t * n);
  std::copy(cont_values.begin(), cont_values.end(), cont.mutable_cpu_data());
  bottom = {&x, &cont};
  if (with_static) bottom.push_back(&x_static);
  top = {&out};
  if (expose) {
    bottom.push_back(&h_0);
    top.push_back(&h_T);
    if (num_states == 2) {
      bottom.push_back(&c_0);
      top.push_back(&c_T);
    }
  }
}

double Preactivation(const RecurrentCase& c, int t, int n, int row, const float* w_x,
                     const float* b, const float* w_s, const float* w_h,
                     const std::vector<double>& h) {
  const int N = c.N, I = c.I, S = c.S, H = c.H;
  const float* x = c.x.cpu_data();
  const float* xs = c.x_static.cpu_data();
  const double k = c.cont.cpu_data()[t * N + n];
  double sum = b[row];
  for (int i = 0; i < I; ++i) sum += w_x[row * I + i] * double(x[(t * N + n) * I + i]);
  if (w_s) {
    for (int s = 0; s < S; ++s) sum += w_s[row * S + s] * double(xs[n * S + s]);
  }
  for (int d = 0; d < H; ++d) sum += w_h[row * H + d] * (k * h[n * H + d]);
  return sum;
}

std::vector<double> Values(const Blob& blob) {
  return std::vector<double>(blob.cpu_data(), blob.cpu_data() + blob.count());
}

void ExpectClose(const Blob& actual, const std::vector<double>& expected, const char* what) {
  ASSERT_EQ(actual.count(), static_cast<int>(expected.size())) << what;
  for (int k = 0; k < actual.count(); ++k) {
    EXPECT_NEAR(actual.cpu_data()[k], expected[k], 2e-5 * (1 + std::abs(expected[k])))
        << what << " element " << k;
  }
}

std::vector<float> ContWithReset(bool continue_first) {
  return {continue_first ? 1.f : 0.f, 0.f, 1.f, 1.f, 0.f, 1.f, 1.f, 1.f};
}

}  // namespace crema::testing
