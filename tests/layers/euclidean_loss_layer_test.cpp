#include "crema/layers/euclidean_loss_layer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "crema/layers/registry.h"
#include "gradient_checker.h"
#include "test_helpers.h"

namespace crema {
namespace {

using testing::ExpectError;
using testing::FillGaussian;
using testing::GradientChecker;
using testing::LayerFromText;

caffe::LayerParameter Param(const std::string& extra = "") {
  return LayerFromText("name: 'loss' type: 'EuclideanLoss' " + extra);
}

// Σ (a − b)² / 2N straight from the definition, in double precision.
double ReferenceLoss(const Blob& a, const Blob& b) {
  double sum = 0;
  for (int i = 0; i < a.count(); ++i) {
    const double d = static_cast<double>(a.cpu_data()[i]) - b.cpu_data()[i];
    sum += d * d;
  }
  return sum / a.shape(0) / 2;
}

struct Case {
  std::vector<int> a, b;
};

const std::vector<Case>& Cases() {
  static const std::vector<Case> cases = {
      {{5, 7}, {5, 7}},
      {{4, 3, 2, 2}, {4, 12}},    // same count per item, different shapes
      {{2, 3, 1, 1}, {2, 3}},
      {{1, 4}, {1, 4}},
      {{64, 300}, {64, 300}},     // large enough for the threaded paths
  };
  return cases;
}

TEST(EuclideanLossLayerTest, ForwardMatchesReference) {
  for (const Case& c : Cases()) {
    Blob a(c.a), b(c.b), loss;
    FillGaussian(&a, 0, 1, 11);
    FillGaussian(&b, 0.5f, 2, 12);
    EuclideanLossLayer layer(Param());
    layer.SetUp({&a, &b}, {&loss});
    const float weighted = layer.Forward({&a, &b}, {&loss});
    ASSERT_EQ(loss.num_axes(), 0);
    const double expected = ReferenceLoss(a, b);
    EXPECT_NEAR(loss.cpu_data()[0], expected, 1e-5 * std::max(1.0, expected)) << a.shape_string();
    EXPECT_FLOAT_EQ(weighted, loss.cpu_data()[0]);  // default loss_weight 1
  }
}

TEST(EuclideanLossLayerTest, IdenticalInputsGiveZero) {
  Blob a({3, 4}), b({3, 4}), loss;
  FillGaussian(&a, 0, 1, 13);
  std::copy(a.cpu_data(), a.cpu_data() + a.count(), b.mutable_cpu_data());
  EuclideanLossLayer layer(Param());
  layer.SetUp({&a, &b}, {&loss});
  layer.Forward({&a, &b}, {&loss});
  EXPECT_EQ(loss.cpu_data()[0], 0.f);
}

TEST(EuclideanLossLayerTest, BackwardReachesBothBottoms) {
  for (const Case& c : Cases()) {
    Blob a(c.a), b(c.b), loss;
    FillGaussian(&a, 0, 1, 14);
    FillGaussian(&b, 0, 1, 15);
    EuclideanLossLayer layer(Param());
    layer.SetUp({&a, &b}, {&loss});
    layer.Forward({&a, &b}, {&loss});
    loss.mutable_cpu_diff()[0] = 2.5f;  // the loss weight flows in through the top diff
    layer.Backward({&loss}, {true, true}, {&a, &b});
    const int n = a.shape(0);
    for (int i = 0; i < a.count(); ++i) {
      const double d = static_cast<double>(a.cpu_data()[i]) - b.cpu_data()[i];
      ASSERT_NEAR(a.cpu_diff()[i], 2.5 * d / n, 1e-5) << a.shape_string() << " " << i;
      ASSERT_NEAR(b.cpu_diff()[i], -2.5 * d / n, 1e-5) << a.shape_string() << " " << i;
    }
  }
}

TEST(EuclideanLossLayerTest, PropagateDownIsPerBottom) {
  Blob a({3, 4}), b({3, 4}), loss;
  FillGaussian(&a, 0, 1, 16);
  FillGaussian(&b, 0, 1, 17);
  EuclideanLossLayer layer(Param());
  layer.SetUp({&a, &b}, {&loss});
  layer.Forward({&a, &b}, {&loss});
  std::fill(a.mutable_cpu_diff(), a.mutable_cpu_diff() + a.count(), 7.f);
  std::fill(b.mutable_cpu_diff(), b.mutable_cpu_diff() + b.count(), 7.f);
  layer.Backward({&loss}, {false, true}, {&a, &b});
  for (int i = 0; i < a.count(); ++i) {
    ASSERT_EQ(a.cpu_diff()[i], 7.f);  // untouched
    ASSERT_NEAR(b.cpu_diff()[i], -(a.cpu_data()[i] - b.cpu_data()[i]) / 3.0, 1e-6);
  }
}

TEST(EuclideanLossLayerTest, LossWeightScalesLossAndGradient) {
  Blob a({4, 5}), b({4, 5}), loss1, loss3;
  FillGaussian(&a, 0, 1, 18);
  FillGaussian(&b, 0, 1, 19);
  EuclideanLossLayer plain(Param());
  plain.SetUp({&a, &b}, {&loss1});
  const float l1 = plain.Forward({&a, &b}, {&loss1});
  plain.Backward({&loss1}, {true, true}, {&a, &b});
  const std::vector<float> da(a.cpu_diff(), a.cpu_diff() + a.count());
  const std::vector<float> db(b.cpu_diff(), b.cpu_diff() + b.count());

  EuclideanLossLayer weighted(Param("loss_weight: 3"));
  weighted.SetUp({&a, &b}, {&loss3});  // puts the weight into the top's diff
  EXPECT_EQ(weighted.loss(0), 3.f);
  const float l3 = weighted.Forward({&a, &b}, {&loss3});
  EXPECT_FLOAT_EQ(l3, 3 * l1);
  EXPECT_FLOAT_EQ(loss3.cpu_data()[0], loss1.cpu_data()[0]);  // the top itself is unweighted
  weighted.Backward({&loss3}, {true, true}, {&a, &b});
  for (int i = 0; i < a.count(); ++i) {
    ASSERT_FLOAT_EQ(a.cpu_diff()[i], 3 * da[i]) << i;
    ASSERT_FLOAT_EQ(b.cpu_diff()[i], 3 * db[i]) << i;
  }
}

TEST(EuclideanLossLayerTest, Gradient) {
  for (const Case& c : {Case{{3, 4}, {3, 4}}, Case{{2, 3, 2, 1}, {2, 6}}}) {
    Blob a(c.a), b(c.b), loss;
    FillGaussian(&a, 0, 1, 20);
    FillGaussian(&b, 0, 1, 21);
    EuclideanLossLayer layer(Param());
    GradientChecker checker(1e-2f, 1e-2f, 1701);
    checker.CheckGradient(&layer, {&a, &b}, {&loss}, /*check_bottom=*/-1);  // both bottoms
  }
}

TEST(EuclideanLossLayerTest, BothBottomsAcceptForceBackward) {
  EuclideanLossLayer layer(Param());
  EXPECT_TRUE(layer.AllowForceBackward(0));
  EXPECT_TRUE(layer.AllowForceBackward(1));
}

TEST(EuclideanLossLayerTest, ShapeErrorsNameTheLayer) {
  auto set_up = [](std::vector<int> sa, std::vector<int> sb) {
    return [sa, sb] {
      Blob a(sa), b(sb), loss;
      EuclideanLossLayer layer(Param());
      layer.SetUp({&a, &b}, {&loss});
    };
  };
  ExpectError(set_up({3, 4}, {2, 4}), ErrorCode::kInvalidArgument,
              {"Layer 'loss' (EuclideanLoss)", "3 4 (12)", "2 4 (8)"});
  ExpectError(set_up({3, 4}, {3, 5}), ErrorCode::kInvalidArgument,
              {"Layer 'loss' (EuclideanLoss)", "same count per item"});
  ExpectError(
      [] {
        Blob a({3, 4}), loss;
        EuclideanLossLayer layer(Param());
        layer.SetUp({&a}, {&loss});
      },
      ErrorCode::kInvalidArgument, {"Layer 'loss' (EuclideanLoss)", "2 bottom"});
}

TEST(EuclideanLossLayerTest, Registered) {
  std::unique_ptr<Layer> layer = LayerRegistry::Global().Create(Param());
  EXPECT_STREQ(layer->type(), "EuclideanLoss");
}

}  // namespace
}  // namespace crema
