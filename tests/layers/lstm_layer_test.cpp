#include "crema/layers/lstm_layer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "crema/net/net.h"
#include "gradient_checker.h"
#include "recurrent_checks.h"
#include "test_helpers.h"

namespace crema {
namespace {

using testing::ContWithReset;
using testing::ExpectClose;
using testing::FillUniform;
using testing::LayerFromText;
using testing::Values;

caffe::LayerParameter LstmParam(int hidden, bool expose) {
  return testing::RecurrentParam("LSTM", "lstm", hidden, expose);
}

// The blobs of one LSTM call (tests/util/recurrent_checks.h): x (T, N, I), cont (T, N),
// optional x_static (N, S), optional exposed h_0 and c_0 (1, N, H); tops h (T, N, H) and,
// when exposed, h_T and c_T.
struct Case : testing::RecurrentCase {
  Case(int t, int n, int i, int s, int h, bool with_static, bool expose,
       const std::vector<float>& cont_values)
      : RecurrentCase(t, n, i, s, h, with_static, expose, cont_values, /*num_states=*/2,
                      /*seed=*/3) {}
};

double Sigmoid(double v) { return 1 / (1 + std::exp(-v)); }

struct Reference {
  std::vector<double> h;       // T × N × H
  std::vector<double> h_last;  // N × H
  std::vector<double> c_last;  // N × H
};

// The LSTM written out plainly in double, from the documented blob order and gate layout.
Reference ReferenceLstm(const Case& c, const LSTMLayer& layer, bool with_static,
                        std::vector<double> h, std::vector<double> cell) {
  const int T = c.T, N = c.N, H = c.H;
  const auto& blobs = layer.blobs();
  const float* w_x = blobs[0]->cpu_data();
  const float* b = blobs[1]->cpu_data();
  const float* w_s = with_static ? blobs[2]->cpu_data() : nullptr;
  const float* w_h = blobs[with_static ? 3 : 2]->cpu_data();
  const float* cont = c.cont.cpu_data();
  Reference ref;
  ref.h.resize(static_cast<size_t>(T) * N * H);
  for (int t = 0; t < T; ++t) {
    std::vector<double> next_h(h.size()), next_c(cell.size());
    for (int n = 0; n < N; ++n) {
      const double k = cont[t * N + n];
      std::vector<double> a(4 * H);
      for (int g = 0; g < 4 * H; ++g) {
        a[g] = testing::Preactivation(c, t, n, g, w_x, b, w_s, w_h, h);
      }
      for (int d = 0; d < H; ++d) {
        const double i = Sigmoid(a[d]), f = Sigmoid(a[H + d]), o = Sigmoid(a[2 * H + d]),
                     g = std::tanh(a[3 * H + d]);
        next_c[n * H + d] = k * f * cell[n * H + d] + i * g;
        next_h[n * H + d] = o * std::tanh(next_c[n * H + d]);
        ref.h[(t * N + n) * H + d] = next_h[n * H + d];
      }
    }
    h = next_h;
    cell = next_c;
  }
  ref.h_last = h;
  ref.c_last = cell;
  return ref;
}

TEST(LSTMLayerTest, ForwardMatchesReference) {
  for (bool with_static : {false, true}) {
    for (bool expose : {false, true}) {
      SCOPED_TRACE(std::string("static ") + (with_static ? "yes" : "no") + ", expose_hidden " +
                   (expose ? "yes" : "no"));
      Case c(4, 2, 3, 2, 3, with_static, expose, ContWithReset(expose));
      LSTMLayer layer(LstmParam(3, expose));
      layer.SetUp(c.bottom, c.top);
      EXPECT_EQ(c.out.shape(), (std::vector<int>{4, 2, 3}));
      layer.Forward(c.bottom, c.top);
      const std::vector<double> zeros(6, 0.0);
      const Reference ref = ReferenceLstm(c, layer, with_static, expose ? Values(c.h_0) : zeros,
                                          expose ? Values(c.c_0) : zeros);
      ExpectClose(c.out, ref.h, "h");
      if (expose) {
        EXPECT_EQ(c.h_T.shape(), (std::vector<int>{1, 2, 3}));
        EXPECT_EQ(c.c_T.shape(), (std::vector<int>{1, 2, 3}));
        ExpectClose(c.h_T, ref.h_last, "h_T");
        ExpectClose(c.c_T, ref.c_last, "c_T");
      }
    }
  }
}

TEST(LSTMLayerTest, GateOrderIsIFOG) {
  // Zero weights and a bias per gate block make each gate a known constant.
  LSTMLayer layer(LstmParam(2, false));
  Case c(1, 1, 1, 1, 2, false, false, {0.f});
  layer.SetUp(c.bottom, c.top);
  for (auto& blob : layer.blobs()) blob->scale_data(0.f);
  float* b = layer.blobs()[1]->mutable_cpu_data();
  const float big = 30.f;
  // i open, f closed, o open, g' = 0.5 / −0.25 for the two cells.
  const float bias[8] = {big, big, -big, -big, big, big, 0.5f, -0.25f};
  std::copy(bias, bias + 8, b);
  layer.Forward(c.bottom, c.top);
  EXPECT_NEAR(c.out.cpu_data()[0], std::tanh(std::tanh(0.5)), 1e-6);
  EXPECT_NEAR(c.out.cpu_data()[1], std::tanh(std::tanh(-0.25)), 1e-6);
  // Closing the output gate (third block) silences h.
  b[4] = b[5] = -big;
  layer.Forward(c.bottom, c.top);
  EXPECT_NEAR(c.out.cpu_data()[0], 0.0, 1e-6);
}

TEST(LSTMLayerTest, StateCarriesOverBetweenForwards) {
  // Without expose_hidden the second batch starts where the first ended (cont = 1 at t = 0).
  Case c(4, 2, 3, 2, 3, true, false, std::vector<float>(8, 1.f));
  LSTMLayer layer(LstmParam(3, false));
  layer.SetUp(c.bottom, c.top);
  layer.Forward(c.bottom, c.top);
  const std::vector<double> zeros(6, 0.0);
  const Reference first = ReferenceLstm(c, layer, true, zeros, zeros);
  ExpectClose(c.out, first.h, "first batch");
  FillUniform(&c.x, -1.f, 1.f, 99);
  layer.Forward(c.bottom, c.top);
  const Reference second = ReferenceLstm(c, layer, true, first.h_last, first.c_last);
  ExpectClose(c.out, second.h, "second batch");

  // Another number of timesteps is fine; another number of streams starts from zeros.
  Case shorter(2, 2, 3, 2, 3, true, false, std::vector<float>(4, 1.f));
  layer.Forward(shorter.bottom, shorter.top);
  const Reference third = ReferenceLstm(shorter, layer, true, second.h_last, second.c_last);
  ExpectClose(shorter.out, third.h, "after a change of T");
  Case wider(2, 3, 3, 2, 3, true, false, std::vector<float>(6, 1.f));
  layer.Forward(wider.bottom, wider.top);
  const std::vector<double> zeros3(9, 0.0);
  ExpectClose(wider.out, ReferenceLstm(wider, layer, true, zeros3, zeros3).h,
              "after a change of N");
}

TEST(LSTMLayerTest, Gradient) {
  for (bool with_static : {false, true}) {
    for (bool expose : {false, true}) {
      SCOPED_TRACE(std::string("static ") + (with_static ? "yes" : "no") + ", expose_hidden " +
                   (expose ? "yes" : "no"));
      // Without exposed state the carried state must not matter, so every stream starts a
      // sequence at t = 0; stream 0 starts another at t = 2.
      Case c(4, 2, 3, 2, 3, with_static, expose, ContWithReset(expose));
      LSTMLayer layer(LstmParam(3, expose));
      testing::GradientChecker checker(1e-2f, 2e-3f);
      checker.CheckGradient(&layer, c.bottom, c.top, 0);  // the parameters and x
      checker.set_check_params(false);
      if (with_static) checker.CheckGradient(&layer, c.bottom, c.top, 2);
      if (expose) {
        const int first_state = with_static ? 3 : 2;
        checker.CheckGradient(&layer, c.bottom, c.top, first_state);      // h_0
        checker.CheckGradient(&layer, c.bottom, c.top, first_state + 1);  // c_0
      }
    }
  }
}

TEST(LSTMLayerTest, GradientOfEachOutput) {
  // One output element at a time catches gradients that cancel in a sum.
  Case c(3, 2, 2, 2, 2, true, true, {1.f, 0.f, 0.f, 1.f, 1.f, 1.f});
  LSTMLayer layer(LstmParam(2, true));
  testing::GradientChecker checker(1e-2f, 2e-3f);
  checker.CheckGradientExhaustive(&layer, c.bottom, c.top, 0);
}

TEST(LSTMLayerTest, ContGetsNoGradient) {
  LSTMLayer layer(LstmParam(3, false));
  EXPECT_TRUE(layer.AllowForceBackward(0));
  EXPECT_FALSE(layer.AllowForceBackward(1));
  Case c(4, 2, 3, 2, 3, false, false, ContWithReset(false));
  layer.SetUp(c.bottom, c.top);
  layer.Forward(c.bottom, c.top);
  FillUniform(&c.out, 0.f, 1.f, 1);
  std::copy(c.out.cpu_data(), c.out.cpu_data() + c.out.count(), c.out.mutable_cpu_diff());
  c.cont.scale_diff(0.f);
  c.cont.mutable_cpu_diff()[0] = 7.f;
  layer.Backward(c.top, {true, true}, c.bottom);
  EXPECT_EQ(c.cont.asum_diff(), 0.f);
}

TEST(LSTMLayerTest, BlobShapesAndOrder) {
  for (bool with_static : {false, true}) {
    Case c(3, 2, 5, 4, 3, with_static, false, std::vector<float>(6, 1.f));
    LSTMLayer layer(LstmParam(3, false));
    layer.SetUp(c.bottom, c.top);
    std::vector<std::vector<int>> expected{{12, 5}, {12}};
    if (with_static) expected.push_back({12, 4});
    expected.push_back({12, 3});
    ASSERT_EQ(layer.blobs().size(), expected.size());
    for (size_t i = 0; i < expected.size(); ++i) {
      EXPECT_EQ(layer.blobs()[i]->shape(), expected[i]) << "blob " << i;
    }
  }
}

TEST(LSTMLayerTest, InANetAndThroughACaffemodel) {
  const std::string text =
      "name: 'seq' "
      "layer { name: 'in' type: 'Input' top: 'x' top: 'cont' top: 'static' "
      "  input_param { shape { dim: 3 dim: 2 dim: 4 } shape { dim: 3 dim: 2 } "
      "                shape { dim: 2 dim: 5 } } } "
      "layer { name: 'lstm1' type: 'LSTM' bottom: 'x' bottom: 'cont' bottom: 'static' "
      "  top: 'h' recurrent_param { num_output: 6 "
      "  weight_filler { type: 'uniform' min: -0.3 max: 0.3 } "
      "  bias_filler { type: 'uniform' min: -0.3 max: 0.3 } } }";
  Net trained(testing::NetFromText(text));
  FillUniform(trained.blob_by_name("x"), -1.f, 1.f, 8);
  FillUniform(trained.blob_by_name("static"), -1.f, 1.f, 9);
  std::fill_n(trained.blob_by_name("cont")->mutable_cpu_data(), 6, 1.f);
  trained.Forward();
  caffe::NetParameter model;
  trained.ToProto(&model);
  const caffe::LayerParameter* entry = nullptr;
  for (const auto& layer : model.layer()) {
    if (layer.name() == "lstm1") entry = &layer;
  }
  ASSERT_NE(entry, nullptr);
  ASSERT_EQ(entry->blobs_size(), 4);
  const std::vector<std::vector<int>> shapes{{24, 4}, {24}, {24, 5}, {24, 6}};
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(Blob::ProtoShape(entry->blobs(i)), shapes[i]) << "blob " << i;
  }

  Net loaded(testing::NetFromText(text));
  loaded.CopyTrainedLayersFrom(model);
  loaded.blob_by_name("x")->ShareData(*trained.blob_by_name("x"));
  loaded.blob_by_name("static")->ShareData(*trained.blob_by_name("static"));
  loaded.blob_by_name("cont")->ShareData(*trained.blob_by_name("cont"));
  loaded.Forward();
  const Blob& a = *trained.blob_by_name("h");
  const Blob& b = *loaded.blob_by_name("h");
  ASSERT_EQ(a.shape(), b.shape());
  for (int k = 0; k < a.count(); ++k) EXPECT_EQ(a.cpu_data()[k], b.cpu_data()[k]) << k;
}

TEST(LSTMLayerTest, BadShapesNameTheLayer) {
  const auto expect_error = [](LSTMLayer& layer, const BlobVec& bottom, const BlobVec& top,
                               std::initializer_list<std::string> fragments) {
    testing::ExpectError([&] { layer.SetUp(bottom, top); }, ErrorCode::kInvalidArgument,
                         fragments);
  };
  {
    SCOPED_TRACE("cont with another number of streams");
    Case c(3, 2, 2, 2, 2, false, false, std::vector<float>(6, 1.f));
    c.cont.Reshape({3, 3});
    LSTMLayer layer(LstmParam(2, false));
    expect_error(layer, c.bottom, c.top, {"Layer 'lstm' (LSTM)", "cont", "3 3"});
  }
  {
    SCOPED_TRACE("cont with another number of timesteps");
    Case c(3, 2, 2, 2, 2, false, false, std::vector<float>(6, 1.f));
    c.cont.Reshape({4, 2});
    LSTMLayer layer(LstmParam(2, false));
    expect_error(layer, c.bottom, c.top, {"Layer 'lstm' (LSTM)", "cont", "4 2"});
  }
  {
    SCOPED_TRACE("cont with a third axis");
    Case c(3, 2, 2, 2, 2, false, false, std::vector<float>(6, 1.f));
    c.cont.Reshape({3, 2, 1});
    LSTMLayer layer(LstmParam(2, false));
    expect_error(layer, c.bottom, c.top, {"Layer 'lstm' (LSTM)", "cont"});
  }
  {
    SCOPED_TRACE("x with one axis");
    Case c(3, 2, 2, 2, 2, false, false, std::vector<float>(6, 1.f));
    c.x.Reshape({6});
    LSTMLayer layer(LstmParam(2, false));
    expect_error(layer, c.bottom, c.top, {"Layer 'lstm' (LSTM)", "at least 2 axes"});
  }
  {
    SCOPED_TRACE("x_static for other streams");
    Case c(3, 2, 2, 2, 2, true, false, std::vector<float>(6, 1.f));
    c.x_static.Reshape({3, 2});
    LSTMLayer layer(LstmParam(2, false));
    expect_error(layer, c.bottom, c.top, {"Layer 'lstm' (LSTM)", "x_static"});
  }
  {
    SCOPED_TRACE("exposed c_0 of the wrong shape");
    Case c(3, 2, 2, 2, 2, false, true, std::vector<float>(6, 1.f));
    c.c_0.Reshape({1, 2, 3});
    LSTMLayer layer(LstmParam(2, true));
    expect_error(layer, c.bottom, c.top, {"Layer 'lstm' (LSTM)", "c_0", "1 2 2"});
  }
  {
    SCOPED_TRACE("expose_hidden without the state bottoms");
    Case c(3, 2, 2, 2, 2, false, false, std::vector<float>(6, 1.f));
    LSTMLayer layer(LstmParam(2, true));
    expect_error(layer, c.bottom, c.top, {"Layer 'lstm' (LSTM)", "at least 4 bottom"});
  }
  {
    SCOPED_TRACE("num_output 0");
    Case c(3, 2, 2, 2, 2, false, false, std::vector<float>(6, 1.f));
    LSTMLayer layer(LayerFromText("name: 'lstm' type: 'LSTM' recurrent_param { num_output: 0 }"));
    expect_error(layer, c.bottom, c.top, {"Layer 'lstm' (LSTM)", "num_output"});
  }
  {
    SCOPED_TRACE("another input size after set-up");
    Case c(3, 2, 2, 2, 2, false, false, std::vector<float>(6, 1.f));
    LSTMLayer layer(LstmParam(2, false));
    layer.SetUp(c.bottom, c.top);
    c.x.Reshape({3, 2, 3});
    testing::ExpectError([&] { layer.Forward(c.bottom, c.top); }, ErrorCode::kInvalidArgument,
                         {"Layer 'lstm' (LSTM)", "3 inputs", "made for 2"});
  }
}

}  // namespace
}  // namespace crema
