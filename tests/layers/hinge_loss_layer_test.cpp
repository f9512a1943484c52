#include "crema/layers/hinge_loss_layer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
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

// `norm` empty leaves hinge_loss_param unset (L1).
caffe::LayerParameter Param(const std::string& norm, const std::string& extra = "") {
  std::string text = "name: 'loss' type: 'HingeLoss' " + extra;
  if (!norm.empty()) text += " hinge_loss_param { norm: " + norm + " }";
  return LayerFromText(text);
}

void FillLabels(Blob* labels, int classes, unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_int_distribution<int> cls(0, classes - 1);
  for (int i = 0; i < labels->count(); ++i) labels->mutable_cpu_data()[i] = static_cast<float>(cls(gen));
}

// The margin violation max(0, 1 ∓ x) of item n, class k: the labelled class wants x ≥ 1, the
// others x ≤ −1.
double Violation(const Blob& x, const Blob& labels, int n, int k) {
  const int dim = x.count(1);
  const double v = x.cpu_data()[n * dim + k];
  const bool is_label = static_cast<int>(labels.cpu_data()[n]) == k;
  return std::max(0.0, is_label ? 1 - v : 1 + v);
}

double ReferenceLoss(const Blob& x, const Blob& labels, bool l2) {
  const int num = x.shape(0), dim = x.count(1);
  double sum = 0;
  for (int n = 0; n < num; ++n) {
    for (int k = 0; k < dim; ++k) {
      const double m = Violation(x, labels, n, k);
      sum += l2 ? m * m : m;
    }
  }
  return sum / num;
}

struct Case {
  std::vector<int> scores, labels;
};

const std::vector<Case>& Cases() {
  static const std::vector<Case> cases = {
      {{10, 5}, {10}},
      {{4, 3, 2, 2}, {4}},  // 12 classes per item in memory order
      {{6, 7, 1, 1}, {6, 1, 1, 1}},
      {{512, 40}, {512}},   // large enough for the threaded paths
  };
  return cases;
}

struct Norm {
  std::string text;
  bool l2;
};
const Norm kNorms[] = {{"", false}, {"L1", false}, {"L2", true}};

TEST(HingeLossLayerTest, ForwardMatchesReferenceForBothNorms) {
  for (const Case& c : Cases()) {
    for (const Norm& norm : kNorms) {
      Blob x(c.scores), labels(c.labels), loss;
      FillGaussian(&x, 0, 1.5f, 71);
      FillLabels(&labels, x.count(1), 72);
      HingeLossLayer layer(Param(norm.text));
      layer.SetUp({&x, &labels}, {&loss});
      const float weighted = layer.Forward({&x, &labels}, {&loss});
      ASSERT_EQ(loss.num_axes(), 0);
      const double expected = ReferenceLoss(x, labels, norm.l2);
      EXPECT_NEAR(loss.cpu_data()[0], expected, 1e-5 * std::max(1.0, expected))
          << x.shape_string() << " norm '" << norm.text << "'";
      EXPECT_FLOAT_EQ(weighted, loss.cpu_data()[0]);
    }
  }
}

TEST(HingeLossLayerTest, BackwardMatchesReferenceForBothNorms) {
  for (const Case& c : Cases()) {
    for (const Norm& norm : kNorms) {
      Blob x(c.scores), labels(c.labels), loss;
      FillGaussian(&x, 0, 1.5f, 73);
      FillLabels(&labels, x.count(1), 74);
      HingeLossLayer layer(Param(norm.text));
      layer.SetUp({&x, &labels}, {&loss});
      layer.Forward({&x, &labels}, {&loss});
      loss.mutable_cpu_diff()[0] = 2.5f;
      layer.Backward({&loss}, {true, false}, {&x, &labels});
      const int num = x.shape(0), dim = x.count(1);
      for (int n = 0; n < num; ++n) {
        for (int k = 0; k < dim; ++k) {
          const double m = Violation(x, labels, n, k);
          const double sign = static_cast<int>(labels.cpu_data()[n]) == k ? -1 : 1;
          const double dm = norm.l2 ? 2 * m : (m > 0 ? 1 : 0);
          const double expected = 2.5 * sign * dm / num;
          ASSERT_NEAR(x.cpu_diff()[n * dim + k], expected, 1e-6 * std::max(1.0, std::fabs(expected)))
              << x.shape_string() << " norm '" << norm.text << "' item " << n << " class " << k;
        }
      }
    }
  }
}

TEST(HingeLossLayerTest, SatisfiedMarginsGiveZero) {
  Blob x({2, 3}), labels({2}), loss;
  const float scores[] = {1.f, -1.f, -3.f, -2.f, -1.5f, 4.f};  // every margin exactly met or beaten
  std::copy(scores, scores + 6, x.mutable_cpu_data());
  labels.mutable_cpu_data()[0] = 0.f;
  labels.mutable_cpu_data()[1] = 2.f;
  for (const Norm& norm : kNorms) {
    HingeLossLayer layer(Param(norm.text));
    layer.SetUp({&x, &labels}, {&loss});
    layer.Forward({&x, &labels}, {&loss});
    EXPECT_EQ(loss.cpu_data()[0], 0.f) << norm.text;
    layer.Backward({&loss}, {true, false}, {&x, &labels});
    for (int i = 0; i < 6; ++i) EXPECT_EQ(x.cpu_diff()[i], 0.f) << norm.text << " " << i;
  }
}

TEST(HingeLossLayerTest, Gradient) {
  for (const Norm& norm : kNorms) {
    Blob x({5, 4}), labels({5}), loss;
    FillGaussian(&x, 0, 1.5f, 75);
    FillLabels(&labels, 4, 76);
    HingeLossLayer layer(Param(norm.text));
    // Kinks at x = ±1 (where a margin is exactly met): skip inputs within 0.01 of them.
    GradientChecker checker(1e-3f, 1e-2f, 1701, /*kink=*/1.f, /*kink_range=*/0.01f);
    checker.CheckGradient(&layer, {&x, &labels}, {&loss}, /*check_bottom=*/0);
  }
}

TEST(HingeLossLayerTest, LossWeightScalesLossAndGradient) {
  for (const Norm& norm : kNorms) {
    Blob x({4, 5}), labels({4}), loss1, loss2;
    FillGaussian(&x, 0, 1, 77);
    FillLabels(&labels, 5, 78);
    HingeLossLayer plain(Param(norm.text));
    plain.SetUp({&x, &labels}, {&loss1});
    const float l1 = plain.Forward({&x, &labels}, {&loss1});
    plain.Backward({&loss1}, {true, false}, {&x, &labels});
    const std::vector<float> d1(x.cpu_diff(), x.cpu_diff() + x.count());
    HingeLossLayer weighted(Param(norm.text, "loss_weight: 0.5"));
    weighted.SetUp({&x, &labels}, {&loss2});
    EXPECT_FLOAT_EQ(weighted.Forward({&x, &labels}, {&loss2}), 0.5f * l1);
    weighted.Backward({&loss2}, {true, false}, {&x, &labels});
    for (int i = 0; i < x.count(); ++i) ASSERT_FLOAT_EQ(x.cpu_diff()[i], 0.5f * d1[i]) << i;
  }
}

TEST(HingeLossLayerTest, ShapeErrorsNameTheLayer) {
  auto set_up = [](std::vector<int> sx, std::vector<int> sl) {
    return [sx, sl] {
      Blob x(sx), labels(sl), loss;
      HingeLossLayer layer(Param(""));
      layer.SetUp({&x, &labels}, {&loss});
    };
  };
  ExpectError(set_up({4, 5}, {4, 5}), ErrorCode::kInvalidArgument,
              {"Layer 'loss' (HingeLoss)", "need 4 labels", "4 5 (20)"});
  ExpectError(set_up({4, 5}, {2}), ErrorCode::kInvalidArgument,
              {"Layer 'loss' (HingeLoss)", "one label per item"});
}

TEST(HingeLossLayerTest, LabelOutOfRangeIsError) {
  for (float bad : {5.f, -1.f, std::nanf("")}) {
    ExpectError(
        [bad] {
          Blob x({3, 5}), labels({3}), loss;
          FillGaussian(&x, 0, 1, 79);
          FillLabels(&labels, 5, 80);
          labels.mutable_cpu_data()[2] = bad;
          HingeLossLayer layer(Param("L2"));
          layer.SetUp({&x, &labels}, {&loss});
          layer.Forward({&x, &labels}, {&loss});
        },
        ErrorCode::kInvalidArgument, {"Layer 'loss' (HingeLoss)", "position 2", "[0, 5)"});
  }
}

TEST(HingeLossLayerTest, BackwardToLabelsIsError) {
  Blob x({2, 3}), labels({2}), loss;
  FillGaussian(&x, 0, 1, 81);
  HingeLossLayer layer(Param(""));
  layer.SetUp({&x, &labels}, {&loss});
  layer.Forward({&x, &labels}, {&loss});
  ExpectError([&] { layer.Backward({&loss}, {true, true}, {&x, &labels}); },
              ErrorCode::kInvalidArgument, {"Layer 'loss' (HingeLoss)", "labels"});
  EXPECT_FALSE(layer.AllowForceBackward(1));
}

TEST(HingeLossLayerTest, Registered) {
  std::unique_ptr<Layer> layer = LayerRegistry::Global().Create(Param("L2"));
  EXPECT_STREQ(layer->type(), "HingeLoss");
}

}  // namespace
}  // namespace crema
