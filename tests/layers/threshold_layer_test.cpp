#include "crema/layers/threshold_layer.h"

#include <gtest/gtest.h>

#include <string>

#include "activation_checks.h"
#include "neuron_checks.h"
#include "test_helpers.h"

namespace crema {
namespace {

const testing::Activation kThreshold{"Threshold", [](double x) { return x > 0 ? 1.0 : 0.0; },
                                     [](double) { return 0.0; }};

TEST(ThresholdLayerTest, ForwardMatchesFormula) { testing::CheckForwardMatchesFormula(kThreshold); }
TEST(ThresholdLayerTest, ExtremeInputsStayFinite) {
  testing::CheckExtremeInputsStayFinite(kThreshold);
}
TEST(ThresholdLayerTest, BackwardGivesZero) { testing::CheckBackwardUsesOnlyTheTop(kThreshold); }
TEST(ThresholdLayerTest, InPlaceMatchesOutOfPlace) {
  testing::CheckInPlaceMatchesOutOfPlace(kThreshold);
}
TEST(ThresholdLayerTest, WrongBlobCountNamesLayer) {
  testing::CheckWrongBlobCountNamesLayer(kThreshold);
}

testing::NeuronCase Case(float threshold) {
  testing::NeuronCase c;
  c.param = "name: 't' type: 'Threshold' threshold_param { threshold: " +
            std::to_string(threshold) + " }";
  c.forward = [threshold](double x) { return x > threshold ? 1.0 : 0.0; };
  c.kinks = {threshold};
  c.tolerance = 0;
  return c;
}

TEST(ThresholdLayerTest, ThresholdParameter) {
  for (float threshold : {0.7f, -1.25f}) {
    testing::CheckNeuronForward(Case(threshold));
    testing::CheckNeuronGradient(Case(threshold));  // zero away from the step
    testing::CheckNeuronInPlace(Case(threshold));
  }
}

TEST(ThresholdLayerTest, StrictlyGreaterGivesOne) {
  Blob x({3}), y;
  x.mutable_cpu_data()[0] = 0.5f;
  x.mutable_cpu_data()[1] = 0.5000001f;
  x.mutable_cpu_data()[2] = 0.4999999f;
  ThresholdLayer layer(
      testing::LayerFromText("name: 't' type: 'Threshold' threshold_param { threshold: 0.5 }"));
  layer.SetUp({&x}, {&y});
  layer.Forward({&x}, {&y});
  EXPECT_EQ(y.cpu_data()[0], 0.f);
  EXPECT_EQ(y.cpu_data()[1], 1.f);
  EXPECT_EQ(y.cpu_data()[2], 0.f);
}

}  // namespace
}  // namespace crema
