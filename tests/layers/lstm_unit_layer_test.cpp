#include "crema/layers/lstm_unit_layer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "gradient_checker.h"
#include "test_helpers.h"

namespace crema {
namespace {

using testing::FillUniform;
using testing::LayerFromText;

caffe::LayerParameter UnitParam() { return LayerFromText("name: 'unit' type: 'LSTMUnit'"); }

double Sigmoid(double v) { return 1 / (1 + std::exp(-v)); }

// c_prev (1, N, H), x (1, N, 4H), cont (1, N) with the given values.
struct Case {
  Case(int items, int hidden, const std::vector<float>& cont_values)
      : N(items), H(hidden), c_prev({1, items, hidden}), x({1, items, 4 * hidden}),
        cont({1, items}) {
    FillUniform(&c_prev, -2.f, 2.f, 21);
    FillUniform(&x, -2.f, 2.f, 22);
    std::copy(cont_values.begin(), cont_values.end(), cont.mutable_cpu_data());
  }
  int N, H;
  Blob c_prev, x, cont, c, h;
  BlobVec bottom{&c_prev, &x, &cont};
  BlobVec top{&c, &h};
};

TEST(LSTMUnitLayerTest, ForwardMatchesFormula) {
  // cont 0 resets, 1 continues, 0.5 scales the forget gate.
  Case t(3, 4, {0.f, 1.f, 0.5f});
  LSTMUnitLayer layer(UnitParam());
  layer.SetUp(t.bottom, t.top);
  EXPECT_EQ(t.c.shape(), (std::vector<int>{1, 3, 4}));
  EXPECT_EQ(t.h.shape(), (std::vector<int>{1, 3, 4}));
  EXPECT_TRUE(layer.blobs().empty());
  layer.Forward(t.bottom, t.top);
  const int H = t.H;
  for (int n = 0; n < t.N; ++n) {
    const float* a = t.x.cpu_data() + n * 4 * H;
    for (int d = 0; d < H; ++d) {
      const double i = Sigmoid(a[d]), f = Sigmoid(a[H + d]), o = Sigmoid(a[2 * H + d]),
                   g = std::tanh(double(a[3 * H + d]));
      const double c = t.cont.cpu_data()[n] * f * t.c_prev.cpu_data()[n * H + d] + i * g;
      const double h = o * std::tanh(c);
      EXPECT_NEAR(t.c.cpu_data()[n * H + d], c, 1e-5) << "n " << n << " d " << d;
      EXPECT_NEAR(t.h.cpu_data()[n * H + d], h, 1e-5) << "n " << n << " d " << d;
    }
  }
}

TEST(LSTMUnitLayerTest, Gradient) {
  for (const std::vector<float>& cont : {std::vector<float>{0.f, 1.f, 0.5f},
                                         std::vector<float>{1.f, 1.f, 0.f}}) {
    for (int bottom : {0, 1}) {
      SCOPED_TRACE("bottom " + std::to_string(bottom) + " cont " + std::to_string(cont[0]) +
                   " " + std::to_string(cont[1]) + " " + std::to_string(cont[2]));
      Case t(3, 2, cont);
      LSTMUnitLayer layer(UnitParam());
      testing::GradientChecker checker(1e-2f, 1e-3f);
      checker.CheckGradientExhaustive(&layer, t.bottom, t.top, bottom);
    }
  }
}

TEST(LSTMUnitLayerTest, ContGetsNoGradient) {
  Case t(2, 3, {1.f, 0.f});
  LSTMUnitLayer layer(UnitParam());
  EXPECT_FALSE(layer.AllowForceBackward(2));
  EXPECT_TRUE(layer.AllowForceBackward(1));
  layer.SetUp(t.bottom, t.top);
  layer.Forward(t.bottom, t.top);
  std::fill_n(t.c.mutable_cpu_diff(), t.c.count(), 1.f);
  std::fill_n(t.h.mutable_cpu_diff(), t.h.count(), 1.f);
  t.cont.mutable_cpu_diff()[0] = 5.f;
  layer.Backward(t.top, {false, true, true}, t.bottom);
  EXPECT_EQ(t.cont.asum_diff(), 0.f);
}

TEST(LSTMUnitLayerTest, BadShapesNameTheLayer) {
  const auto expect_error = [](Case& t, std::initializer_list<std::string> fragments) {
    LSTMUnitLayer layer(UnitParam());
    testing::ExpectError([&] { layer.SetUp(t.bottom, t.top); }, ErrorCode::kInvalidArgument,
                         fragments);
  };
  {
    Case t(2, 3, {1.f, 1.f});
    t.x.Reshape({1, 2, 11});
    expect_error(t, {"Layer 'unit' (LSTMUnit)", "1 2 11"});
  }
  {
    Case t(2, 3, {1.f, 1.f});
    t.cont.Reshape({1, 3});
    expect_error(t, {"Layer 'unit' (LSTMUnit)", "cont", "1 3"});
  }
  {
    Case t(2, 3, {1.f, 1.f});
    t.cont.Reshape({2});
    expect_error(t, {"Layer 'unit' (LSTMUnit)", "cont"});
  }
  {
    Case t(2, 3, {1.f, 1.f});
    t.c_prev.Reshape({2, 2, 3});
    expect_error(t, {"Layer 'unit' (LSTMUnit)", "c_prev", "2 2 3"});
  }
  {
    Case t(2, 3, {1.f, 1.f});
    LSTMUnitLayer layer(UnitParam());
    BlobVec two{&t.c_prev, &t.x};
    testing::ExpectError([&] { layer.SetUp(two, t.top); }, ErrorCode::kInvalidArgument,
                         {"Layer 'unit' (LSTMUnit)", "takes 3 bottom"});
  }
}

}  // namespace
}  // namespace crema
