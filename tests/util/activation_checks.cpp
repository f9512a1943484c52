#include "activation_checks.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <vector>

#include "crema/layers/registry.h"
#include "gradient_checker.h"
#include "test_helpers.h"

namespace crema::testing {

namespace {
std::unique_ptr<Layer> Make(const Activation& a) {
  return LayerRegistry::Global().Create(LayerFromText(std::string("name: 'act' type: '") + a.type + "'"));
}
}  // namespace

void CheckForwardMatchesFormula(const Activation& a) {
  for (const std::vector<int>& shape : {std::vector<int>{2, 3, 4, 5}, std::vector<int>{9},
                                        std::vector<int>{2, 30000}}) {
    Blob x(shape), y;
    FillGaussian(&x, 0, 3, 21);
    auto layer = Make(a);
    layer->SetUp({&x}, {&y});
    layer->Forward({&x}, {&y});
    ASSERT_EQ(y.shape(), x.shape());
    for (int i = 0; i < x.count(); ++i) {
      ASSERT_NEAR(y.cpu_data()[i], a.forward(x.cpu_data()[i]), 1e-6) << a.type << " " << i;
    }
  }
}

void CheckExtremeInputsStayFinite(const Activation& a) {
  Blob x({4}), y;
  float* v = x.mutable_cpu_data();
  v[0] = -1000.f;
  v[1] = 1000.f;
  v[2] = -88.f;
  v[3] = 0.f;
  auto layer = Make(a);
  layer->SetUp({&x}, {&y});
  layer->Forward({&x}, {&y});
  for (int i = 0; i < 4; ++i) {
    EXPECT_TRUE(std::isfinite(y.cpu_data()[i])) << a.type << " " << i;
    EXPECT_NEAR(y.cpu_data()[i], a.forward(v[i]), 1e-6) << a.type << " " << i;
  }
}

void CheckBackwardUsesOnlyTheTop(const Activation& a) {
  Blob x({3, 7}), y;
  FillGaussian(&x, 0, 2, 22);
  auto layer = Make(a);
  layer->SetUp({&x}, {&y});
  layer->Forward({&x}, {&y});
  FillGaussian(&x, 0, 1, 23);  // overwrite the input: backward must only need the top
  std::copy(x.cpu_data(), x.cpu_data() + x.count(), y.mutable_cpu_diff());
  layer->Backward({&y}, {true}, {&x});
  for (int i = 0; i < x.count(); ++i) {
    const double expected = y.cpu_diff()[i] * a.derivative_from_top(y.cpu_data()[i]);
    ASSERT_NEAR(x.cpu_diff()[i], expected, 1e-6) << a.type << " " << i;
  }
}

void CheckNumericalGradient(const Activation& a) {
  Blob x({2, 3, 4, 5}), y;
  FillGaussian(&x, 0, 1, 24);
  auto layer = Make(a);
  GradientChecker checker(1e-2f, 1e-3f);
  checker.CheckGradientEltwise(layer.get(), {&x}, {&y});
}

void CheckInPlaceMatchesOutOfPlace(const Activation& a) {
  Blob x({3, 4, 5}), y, inplace({3, 4, 5});
  FillGaussian(&x, 0, 2, 25);
  std::copy(x.cpu_data(), x.cpu_data() + x.count(), inplace.mutable_cpu_data());
  auto separate = Make(a);
  auto same = Make(a);
  separate->SetUp({&x}, {&y});
  same->SetUp({&inplace}, {&inplace});
  separate->Forward({&x}, {&y});
  same->Forward({&inplace}, {&inplace});
  for (int i = 0; i < x.count(); ++i) ASSERT_EQ(inplace.cpu_data()[i], y.cpu_data()[i]);
  Blob grad({3, 4, 5});
  FillGaussian(&grad, 0, 1, 26);
  std::copy(grad.cpu_data(), grad.cpu_data() + grad.count(), y.mutable_cpu_diff());
  std::copy(grad.cpu_data(), grad.cpu_data() + grad.count(), inplace.mutable_cpu_diff());
  separate->Backward({&y}, {true}, {&x});
  same->Backward({&inplace}, {true}, {&inplace});
  for (int i = 0; i < x.count(); ++i) ASSERT_EQ(inplace.cpu_diff()[i], x.cpu_diff()[i]) << i;
}

void CheckWrongBlobCountNamesLayer(const Activation& a) {
  Blob x({2});
  auto layer = Make(a);
  ExpectError([&] { layer->SetUp({&x}, {}); }, ErrorCode::kInvalidArgument,
              {std::string("Layer 'act' (") + a.type + ")"});
}

}  // namespace crema::testing
