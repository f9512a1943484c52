#include "crema/layers/absval_layer.h"

#include <gtest/gtest.h>

#include <cmath>

#include "activation_checks.h"
#include "neuron_checks.h"
#include "test_helpers.h"

namespace crema {
namespace {

const testing::Activation kAbsVal{"AbsVal", [](double x) { return std::fabs(x); }, nullptr};

TEST(AbsValLayerTest, ForwardMatchesFormula) { testing::CheckForwardMatchesFormula(kAbsVal); }
TEST(AbsValLayerTest, ExtremeInputsStayFinite) { testing::CheckExtremeInputsStayFinite(kAbsVal); }
TEST(AbsValLayerTest, WrongBlobCountNamesLayer) { testing::CheckWrongBlobCountNamesLayer(kAbsVal); }

TEST(AbsValLayerTest, Gradient) {
  testing::NeuronCase c;
  c.param = "name: 'a' type: 'AbsVal'";
  c.forward = [](double x) { return std::fabs(x); };
  c.kinks = {0.f};
  testing::CheckNeuronGradient(c);
}

TEST(AbsValLayerTest, BackwardIsSignTimesTopDiffAndZeroAtZero) {
  Blob x({5}), y;
  const float values[5] = {-2.f, -0.f, 0.f, 1e-30f, 3.f};
  std::copy(values, values + 5, x.mutable_cpu_data());
  AbsValLayer layer(testing::LayerFromText("name: 'a' type: 'AbsVal'"));
  layer.SetUp({&x}, {&y});
  layer.Forward({&x}, {&y});
  for (int i = 0; i < 5; ++i) y.mutable_cpu_diff()[i] = 0.5f + static_cast<float>(i);
  layer.Backward({&y}, {true}, {&x});
  const float expected[5] = {-0.5f, 0.f, 0.f, 3.5f, 4.5f};
  for (int i = 0; i < 5; ++i) EXPECT_EQ(x.cpu_diff()[i], expected[i]) << i;
}

TEST(AbsValLayerTest, InPlaceIsRefused) {
  Blob x({2, 3});
  AbsValLayer layer(testing::LayerFromText("name: 'a' type: 'AbsVal'"));
  testing::ExpectError([&] { layer.SetUp({&x}, {&x}); }, ErrorCode::kInvalidArgument,
                       {"Layer 'a' (AbsVal)", "in place"});
}

}  // namespace
}  // namespace crema
