#include "crema/layers/tanh_layer.h"

#include <gtest/gtest.h>

#include <cmath>

#include "activation_checks.h"

namespace crema {
namespace {

const testing::Activation kTanH{
    "TanH", [](double x) { return std::tanh(x); }, [](double y) { return 1 - y * y; }};

TEST(TanHLayerTest, ForwardMatchesFormula) { testing::CheckForwardMatchesFormula(kTanH); }
TEST(TanHLayerTest, ExtremeInputsStayFinite) { testing::CheckExtremeInputsStayFinite(kTanH); }
TEST(TanHLayerTest, BackwardUsesOnlyTheTop) { testing::CheckBackwardUsesOnlyTheTop(kTanH); }
TEST(TanHLayerTest, Gradient) { testing::CheckNumericalGradient(kTanH); }
TEST(TanHLayerTest, InPlaceMatchesOutOfPlace) { testing::CheckInPlaceMatchesOutOfPlace(kTanH); }
TEST(TanHLayerTest, WrongBlobCountNamesLayer) { testing::CheckWrongBlobCountNamesLayer(kTanH); }

}  // namespace
}  // namespace crema
