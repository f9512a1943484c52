#include "crema/layers/sigmoid_layer.h"

#include <gtest/gtest.h>

#include <cmath>

#include "activation_checks.h"

namespace crema {
namespace {

const testing::Activation kSigmoid{
    "Sigmoid", [](double x) { return 1.0 / (1.0 + std::exp(-x)); }, [](double y) { return y * (1 - y); }};

TEST(SigmoidLayerTest, ForwardMatchesFormula) { testing::CheckForwardMatchesFormula(kSigmoid); }
TEST(SigmoidLayerTest, ExtremeInputsStayFinite) { testing::CheckExtremeInputsStayFinite(kSigmoid); }
TEST(SigmoidLayerTest, BackwardUsesOnlyTheTop) { testing::CheckBackwardUsesOnlyTheTop(kSigmoid); }
TEST(SigmoidLayerTest, Gradient) { testing::CheckNumericalGradient(kSigmoid); }
TEST(SigmoidLayerTest, InPlaceMatchesOutOfPlace) { testing::CheckInPlaceMatchesOutOfPlace(kSigmoid); }
TEST(SigmoidLayerTest, WrongBlobCountNamesLayer) { testing::CheckWrongBlobCountNamesLayer(kSigmoid); }

}  // namespace
}  // namespace crema
