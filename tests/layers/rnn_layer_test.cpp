#include "crema/layers/rnn_layer.h"

#include <gtest/gtest.h>

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
using testing::Values;

caffe::LayerParameter RnnParam(int hidden, bool expose) {
  return testing::RecurrentParam("RNN", "rnn", hidden, expose);
}

// The blobs of one RNN call (tests/util/recurrent_checks.h): x (T, N, I), cont (T, N),
// optional x_static (N, S), optional exposed h_0 (1, N, H); tops o (T, N, H) and, when
// exposed, h_T.
struct Case : testing::RecurrentCase {
  Case(int t, int n, int i, int s, int h, bool with_static, bool expose,
       const std::vector<float>& cont_values)
      : RecurrentCase(t, n, i, s, h, with_static, expose, cont_values, /*num_states=*/1,
                      /*seed=*/13) {}
};

struct Reference {
  std::vector<double> o;       // T × N × H
  std::vector<double> h_last;  // N × H
};

// The RNN written out plainly in double, from the documented blob order.
Reference ReferenceRnn(const Case& c, const RNNLayer& layer, bool with_static,
                       std::vector<double> h) {
  const int T = c.T, N = c.N, H = c.H;
  const auto& blobs = layer.blobs();
  const int r = with_static ? 3 : 2;
  const float* w_xh = blobs[0]->cpu_data();
  const float* b_h = blobs[1]->cpu_data();
  const float* w_s = with_static ? blobs[2]->cpu_data() : nullptr;
  const float* w_hh = blobs[r]->cpu_data();
  const float* w_ho = blobs[r + 1]->cpu_data();
  const float* b_o = blobs[r + 2]->cpu_data();
  Reference ref;
  ref.o.resize(static_cast<size_t>(T) * N * H);
  for (int t = 0; t < T; ++t) {
    std::vector<double> next(h.size());
    for (int n = 0; n < N; ++n) {
      for (int j = 0; j < H; ++j) {
        next[n * H + j] = std::tanh(testing::Preactivation(c, t, n, j, w_xh, b_h, w_s, w_hh, h));
      }
      for (int j = 0; j < H; ++j) {
        double sum = b_o[j];
        for (int d = 0; d < H; ++d) sum += w_ho[j * H + d] * next[n * H + d];
        ref.o[(t * N + n) * H + j] = std::tanh(sum);
      }
    }
    h = next;
  }
  ref.h_last = h;
  return ref;
}

TEST(RNNLayerTest, ForwardMatchesReference) {
  for (bool with_static : {false, true}) {
    for (bool expose : {false, true}) {
      SCOPED_TRACE(std::string("static ") + (with_static ? "yes" : "no") + ", expose_hidden " +
                   (expose ? "yes" : "no"));
      Case c(4, 2, 3, 2, 3, with_static, expose, ContWithReset(expose));
      RNNLayer layer(RnnParam(3, expose));
      layer.SetUp(c.bottom, c.top);
      EXPECT_EQ(c.out.shape(), (std::vector<int>{4, 2, 3}));
      layer.Forward(c.bottom, c.top);
      const Reference ref =
          ReferenceRnn(c, layer, with_static, expose ? Values(c.h_0) : std::vector<double>(6));
      ExpectClose(c.out, ref.o, "o");
      if (expose) {
        EXPECT_EQ(c.h_T.shape(), (std::vector<int>{1, 2, 3}));
        ExpectClose(c.h_T, ref.h_last, "h_T");
      }
    }
  }
}

TEST(RNNLayerTest, StateCarriesOverBetweenForwards) {
  Case c(3, 2, 3, 2, 3, false, false, std::vector<float>(6, 1.f));
  RNNLayer layer(RnnParam(3, false));
  layer.SetUp(c.bottom, c.top);
  layer.Forward(c.bottom, c.top);
  const Reference first = ReferenceRnn(c, layer, false, std::vector<double>(6));
  ExpectClose(c.out, first.o, "first batch");
  FillUniform(&c.x, -1.f, 1.f, 77);
  layer.Forward(c.bottom, c.top);
  ExpectClose(c.out, ReferenceRnn(c, layer, false, first.h_last).o, "second batch");
}

TEST(RNNLayerTest, Gradient) {
  for (bool with_static : {false, true}) {
    for (bool expose : {false, true}) {
      SCOPED_TRACE(std::string("static ") + (with_static ? "yes" : "no") + ", expose_hidden " +
                   (expose ? "yes" : "no"));
      // Without exposed state every stream starts a sequence at t = 0, so the carried state
      // does not matter; stream 0 starts another at t = 2.
      Case c(4, 2, 3, 2, 3, with_static, expose, ContWithReset(expose));
      RNNLayer layer(RnnParam(3, expose));
      testing::GradientChecker checker(1e-2f, 2e-3f);
      checker.CheckGradient(&layer, c.bottom, c.top, 0);  // the parameters and x
      checker.set_check_params(false);
      if (with_static) checker.CheckGradient(&layer, c.bottom, c.top, 2);
      if (expose) checker.CheckGradient(&layer, c.bottom, c.top, with_static ? 3 : 2);  // h_0
    }
  }
}

TEST(RNNLayerTest, GradientOfEachOutput) {
  Case c(3, 2, 2, 2, 2, true, true, {1.f, 0.f, 0.f, 1.f, 1.f, 1.f});
  RNNLayer layer(RnnParam(2, true));
  testing::GradientChecker checker(1e-2f, 2e-3f);
  checker.CheckGradientExhaustive(&layer, c.bottom, c.top, 0);
}

TEST(RNNLayerTest, BlobShapesAndOrder) {
  for (bool with_static : {false, true}) {
    Case c(3, 2, 5, 4, 3, with_static, false, std::vector<float>(6, 1.f));
    RNNLayer layer(RnnParam(3, false));
    layer.SetUp(c.bottom, c.top);
    std::vector<std::vector<int>> expected{{3, 5}, {3}};
    if (with_static) expected.push_back({3, 4});
    expected.push_back({3, 3});  // W_hh
    expected.push_back({3, 3});  // W_ho
    expected.push_back({3});     // b_o
    ASSERT_EQ(layer.blobs().size(), expected.size());
    for (size_t i = 0; i < expected.size(); ++i) {
      EXPECT_EQ(layer.blobs()[i]->shape(), expected[i]) << "blob " << i;
    }
    EXPECT_FALSE(layer.AllowForceBackward(1));
  }
}

TEST(RNNLayerTest, OutputBiasIsTheLastBlob) {
  // With every weight zero, o = tanh(b_o) whatever the inputs: b_o is the last blob, and b_h
  // (blob 1) does not reach the output.
  Case c(2, 2, 2, 2, 2, false, false, std::vector<float>(4, 1.f));
  RNNLayer layer(RnnParam(2, false));
  layer.SetUp(c.bottom, c.top);
  for (auto& blob : layer.blobs()) blob->scale_data(0.f);
  layer.blobs()[1]->mutable_cpu_data()[0] = 3.f;
  layer.blobs()[4]->mutable_cpu_data()[0] = 0.5f;
  layer.blobs()[4]->mutable_cpu_data()[1] = -0.25f;
  layer.Forward(c.bottom, c.top);
  for (int k = 0; k < c.out.count(); k += 2) {
    EXPECT_NEAR(c.out.cpu_data()[k], std::tanh(0.5), 1e-6);
    EXPECT_NEAR(c.out.cpu_data()[k + 1], std::tanh(-0.25), 1e-6);
  }
}

TEST(RNNLayerTest, Registered) {
  Net net(testing::NetFromText(
      "layer { name: 'in' type: 'Input' top: 'x' top: 'cont' "
      "  input_param { shape { dim: 2 dim: 3 dim: 4 } shape { dim: 2 dim: 3 } } } "
      "layer { name: 'rnn1' type: 'RNN' bottom: 'x' bottom: 'cont' top: 'o' "
      "  recurrent_param { num_output: 5 } }"));
  net.Forward();
  EXPECT_EQ(net.blob_by_name("o")->shape(), (std::vector<int>{2, 3, 5}));
  caffe::NetParameter model;
  net.ToProto(&model);
  ASSERT_EQ(model.layer(1).blobs_size(), 5);
  EXPECT_EQ(Blob::ProtoShape(model.layer(1).blobs(0)), (std::vector<int>{5, 4}));
  EXPECT_EQ(Blob::ProtoShape(model.layer(1).blobs(4)), (std::vector<int>{5}));
}

TEST(RNNLayerTest, BadShapesNameTheLayer) {
  {
    SCOPED_TRACE("cont with another number of streams");
    Case c(3, 2, 2, 2, 2, false, false, std::vector<float>(6, 1.f));
    c.cont.Reshape({3, 1});
    RNNLayer layer(RnnParam(2, false));
    testing::ExpectError([&] { layer.SetUp(c.bottom, c.top); }, ErrorCode::kInvalidArgument,
                         {"Layer 'rnn' (RNN)", "cont", "3 1"});
  }
  {
    SCOPED_TRACE("cont with another number of timesteps");
    Case c(3, 2, 2, 2, 2, false, false, std::vector<float>(6, 1.f));
    c.cont.Reshape({2, 2});
    RNNLayer layer(RnnParam(2, false));
    testing::ExpectError([&] { layer.SetUp(c.bottom, c.top); }, ErrorCode::kInvalidArgument,
                         {"Layer 'rnn' (RNN)", "cont", "2 2"});
  }
  {
    SCOPED_TRACE("exposed h_0 of the wrong shape");
    Case c(3, 2, 2, 2, 2, false, true, std::vector<float>(6, 1.f));
    c.h_0.Reshape({2, 2});
    RNNLayer layer(RnnParam(2, true));
    testing::ExpectError([&] { layer.SetUp(c.bottom, c.top); }, ErrorCode::kInvalidArgument,
                         {"Layer 'rnn' (RNN)", "h_0", "1 2 2"});
  }
  {
    SCOPED_TRACE("too many bottoms");
    Case c(3, 2, 2, 2, 2, true, false, std::vector<float>(6, 1.f));
    BlobVec bottom = c.bottom;
    bottom.push_back(&c.h_0);
    RNNLayer layer(RnnParam(2, false));
    testing::ExpectError([&] { layer.SetUp(bottom, c.top); }, ErrorCode::kInvalidArgument,
                         {"Layer 'rnn' (RNN)", "at most 3 bottom"});
  }
  {
    SCOPED_TRACE("another static size after set-up");
    Case c(3, 2, 2, 2, 2, true, false, std::vector<float>(6, 1.f));
    RNNLayer layer(RnnParam(2, false));
    layer.SetUp(c.bottom, c.top);
    c.x_static.Reshape({2, 3});
    testing::ExpectError([&] { layer.Forward(c.bottom, c.top); }, ErrorCode::kInvalidArgument,
                         {"Layer 'rnn' (RNN)", "x_static", "made for 2"});
  }
}

}  // namespace
}  // namespace crema
