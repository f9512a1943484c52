#include "neuron_checks.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "crema/layers/registry.h"
#include "gradient_checker.h"
#include "test_helpers.h"

namespace crema::testing {

std::unique_ptr<Layer> MakeNeuron(const NeuronCase& c) {
  return LayerRegistry::Global().Create(LayerFromText(c.param));
}

void FillAvoidingKinks(const NeuronCase& c, Blob* blob, unsigned seed) {
  FillUniform(blob, c.lo, c.hi, seed);
  float* x = blob->mutable_cpu_data();
  for (int i = 0; i < blob->count(); ++i) {
    for (float kink : c.kinks) {
      if (std::fabs(x[i] - kink) < c.kink_margin) {
        x[i] = x[i] < kink ? kink - 2 * c.kink_margin : kink + 2 * c.kink_margin;
      }
    }
  }
}

void CheckNeuronForward(const NeuronCase& c) {
  SCOPED_TRACE(c.param);
  unsigned seed = 31;
  for (const std::vector<int>& shape : {std::vector<int>{2, 3, 4, 5}, std::vector<int>{7},
                                        std::vector<int>{2, 20000}}) {
    Blob x(shape), y;
    FillUniform(&x, c.lo, c.hi, ++seed);
    auto layer = MakeNeuron(c);
    layer->SetUp({&x}, {&y});
    layer->Forward({&x}, {&y});
    ASSERT_EQ(y.shape(), x.shape());
    for (int i = 0; i < x.count(); ++i) {
      const double expected = c.forward(x.cpu_data()[i]);
      ASSERT_NEAR(y.cpu_data()[i], expected, c.tolerance * std::max(1.0, std::fabs(expected)))
          << "element " << i << " of " << x.shape_string() << ", x = " << x.cpu_data()[i];
    }
  }
}

void CheckNeuronGradient(const NeuronCase& c) {
  SCOPED_TRACE(c.param);
  Blob x({2, 3, 4, 5}), y;
  FillAvoidingKinks(c, &x, 41);
  auto layer = MakeNeuron(c);
  GradientChecker checker(1e-2f, 1e-3f);
  checker.CheckGradientEltwise(layer.get(), {&x}, {&y});
}

void CheckNeuronInPlace(const NeuronCase& c) {
  SCOPED_TRACE(c.param);
  Blob x({3, 4, 5}), y, inplace({3, 4, 5});
  FillAvoidingKinks(c, &x, 51);
  std::copy(x.cpu_data(), x.cpu_data() + x.count(), inplace.mutable_cpu_data());
  auto separate = MakeNeuron(c);
  auto same = MakeNeuron(c);
  separate->SetUp({&x}, {&y});
  same->SetUp({&inplace}, {&inplace});
  separate->Forward({&x}, {&y});
  same->Forward({&inplace}, {&inplace});
  for (int i = 0; i < x.count(); ++i) {
    ASSERT_EQ(inplace.cpu_data()[i], y.cpu_data()[i]) << "forward, element " << i;
  }
  Blob grad({3, 4, 5});
  FillUniform(&grad, -1.f, 1.f, 52);
  std::copy(grad.cpu_data(), grad.cpu_data() + grad.count(), y.mutable_cpu_diff());
  std::copy(grad.cpu_data(), grad.cpu_data() + grad.count(), inplace.mutable_cpu_diff());
  separate->Backward({&y}, {true}, {&x});
  same->Backward({&inplace}, {true}, {&inplace});
  for (int i = 0; i < x.count(); ++i) {
    ASSERT_EQ(inplace.cpu_diff()[i], x.cpu_diff()[i]) << "backward, element " << i;
  }
}

}  // namespace crema::testing
