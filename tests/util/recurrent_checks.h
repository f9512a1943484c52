// Pieces shared by the tests of the recurrent layers (RNN, LSTM): the layer parameter, the
// blobs of one call, the input part of a float64 reference step, and the comparison of a blob
// with a float64 reference.
#ifndef CREMA_TESTS_UTIL_RECURRENT_CHECKS_H_
#define CREMA_TESTS_UTIL_RECURRENT_CHECKS_H_

#include <string>
#include <vector>

#include "crema/core/blob.h"
#include "crema/layers/layer.h"
#include "crema/proto/caffe.pb.h"

namespace crema::testing {

// A layer of `type` named `name`: recurrent_param with num_output `hidden`, expose_hidden when
// `expose`, weights from U[-0.7, 0.7] and biases from U[-0.5, 0.5].
caffe::LayerParameter RecurrentParam(const std::string& type, const std::string& name,
                                     int hidden, bool expose);

// The blobs of one recurrent call. Bottoms: x (T, N, I), cont (T, N), x_static (N, S) when
// `with_static`, and when `expose` the exposed state (1, N, H) each: h_0, then c_0 when
// `num_states` is 2 (LSTM). Tops: out (T, N, H), and when `expose` h_T (then c_T). x,
// x_static, h_0 and c_0 hold U[-1, 1), U[-1, 1), U[-0.8, 0.8) and U[-1.5, 1.5) values seeded
// `seed`, seed + 1, seed + 2 and seed + 3; cont holds `cont_values` (T·N of them).
struct RecurrentCase {
  RecurrentCase(int t, int n, int i, int s, int h, bool with_static, bool expose,
                const std::vector<float>& cont_values, int num_states, unsigned seed);
  int T, N, I, S, H;
  Blob x, cont, x_static, h_0, c_0, out, h_T, c_T;
  BlobVec bottom, top;
};

// The pre-activation of weight row `row` for stream n at step t, in float64:
//   b[row] + W_x[row]·x[t, n] + W_s[row]·x_static[n] + W_h[row]·(cont[t, n] · h[n])
// with the W_s term only when `w_s` is not null; W_x (·, I), W_s (·, S) and W_h (·, H) are
// row-major blobs, `h` the previous state (N × H).
double Preactivation(const RecurrentCase& c, int t, int n, int row, const float* w_x,
                     const float* b, const float* w_s, const float* w_h,
                     const std::vector<double>& h);

// The blob's data as float64.
std::vector<double> Values(const Blob& blob);

// Expects every value of `actual` within 2e-5 · (1 + |expected|) of `expected`; `what` names
// the blob in failures.
void ExpectClose(const Blob& actual, const std::vector<double>& expected, const char* what);

// cont for T = 4, N = 2: stream 0 starts a new sequence at t = 2, stream 1 runs on. At t = 0
// stream 0 continues (from the exposed state) when `continue_first`, and stream 1 starts
// afresh.
std::vector<float> ContWithReset(bool continue_first);

}  // namespace crema::testing

#endif  // CREMA_TESTS_UTIL_RECURRENT_CHECKS_H_
