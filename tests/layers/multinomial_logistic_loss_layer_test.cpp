#include "crema/layers/multinomial_logistic_loss_layer.h"

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
using testing::FillUniform;
using testing::GradientChecker;
using testing::LayerFromText;

caffe::LayerParameter Param(const std::string& extra = "") {
  return LayerFromText("name: 'loss' type: 'MultinomialLogisticLoss' " + extra);
}

void FillLabels(Blob* labels, int classes, unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_int_distribution<int> cls(0, classes - 1);
  for (int i = 0; i < labels->count(); ++i) labels->mutable_cpu_data()[i] = static_cast<float>(cls(gen));
}

// −Σ log(max(p[n, label], 1e-20)) / N from the definition, in double precision.
double ReferenceLoss(const Blob& p, const Blob& labels) {
  const int n = p.shape(0), dim = p.count() / n;
  double sum = 0;
  for (int i = 0; i < n; ++i) {
    const int l = static_cast<int>(labels.cpu_data()[i]);
    sum -= std::log(std::max(static_cast<double>(p.cpu_data()[i * dim + l]), 1e-20));
  }
  return sum / n;
}

struct Case {
  std::vector<int> probs, labels;
};

const std::vector<Case>& Cases() {
  static const std::vector<Case> cases = {
      {{10, 5}, {10}},
      {{4, 6, 1, 1}, {4, 1, 1, 1}},
      {{3, 2, 3}, {3, 1}},  // 6 values per item
      {{1, 1}, {1}},
  };
  return cases;
}

TEST(MultinomialLogisticLossLayerTest, ForwardMatchesReference) {
  for (const Case& c : Cases()) {
    Blob p(c.probs), labels(c.labels), loss;
    FillUniform(&p, 0.05f, 1.f, 51);
    FillLabels(&labels, p.count(1), 52);
    MultinomialLogisticLossLayer layer(Param());
    layer.SetUp({&p, &labels}, {&loss});
    const float weighted = layer.Forward({&p, &labels}, {&loss});
    ASSERT_EQ(loss.num_axes(), 0);
    const double expected = ReferenceLoss(p, labels);
    EXPECT_NEAR(loss.cpu_data()[0], expected, 1e-5 * std::max(1.0, expected)) << p.shape_string();
    EXPECT_FLOAT_EQ(weighted, loss.cpu_data()[0]);
  }
}

TEST(MultinomialLogisticLossLayerTest, BackwardMatchesReference) {
  for (const Case& c : Cases()) {
    Blob p(c.probs), labels(c.labels), loss;
    FillUniform(&p, 0.05f, 1.f, 53);
    FillLabels(&labels, p.count(1), 54);
    MultinomialLogisticLossLayer layer(Param());
    layer.SetUp({&p, &labels}, {&loss});
    layer.Forward({&p, &labels}, {&loss});
    std::fill(p.mutable_cpu_diff(), p.mutable_cpu_diff() + p.count(), 9.f);  // must be cleared
    loss.mutable_cpu_diff()[0] = 2.5f;
    layer.Backward({&loss}, {true, false}, {&p, &labels});
    const int n = p.shape(0), dim = p.count(1);
    for (int i = 0; i < n; ++i) {
      const int l = static_cast<int>(labels.cpu_data()[i]);
      for (int k = 0; k < dim; ++k) {
        const double expected = k == l ? -2.5 / n / p.cpu_data()[i * dim + k] : 0.0;
        ASSERT_NEAR(p.cpu_diff()[i * dim + k], expected, 1e-5 * std::max(1.0, std::fabs(expected)))
            << p.shape_string() << " item " << i << " class " << k;
      }
    }
  }
}

TEST(MultinomialLogisticLossLayerTest, ZeroProbabilityIsClamped) {
  Blob p({2, 3}), labels({2}), loss;
  const float probs[] = {0.f, 0.5f, 0.5f, 0.2f, 0.3f, 0.5f};
  std::copy(probs, probs + 6, p.mutable_cpu_data());
  labels.mutable_cpu_data()[0] = 0.f;  // probability 0
  labels.mutable_cpu_data()[1] = 2.f;
  MultinomialLogisticLossLayer layer(Param());
  layer.SetUp({&p, &labels}, {&loss});
  layer.Forward({&p, &labels}, {&loss});
  EXPECT_NEAR(loss.cpu_data()[0], (-std::log(1e-20) - std::log(0.5)) / 2, 1e-4);  // 23.37
  layer.Backward({&loss}, {true, false}, {&p, &labels});
  EXPECT_TRUE(std::isfinite(p.cpu_diff()[0]));
  EXPECT_NEAR(p.cpu_diff()[0] / -5e19, 1.0, 1e-5);  // −1 / (2 · 1e-20)
}

TEST(MultinomialLogisticLossLayerTest, Gradient) {
  for (const Case& c : {Case{{4, 5}, {4}}, Case{{3, 2, 2, 1}, {3, 1, 1, 1}}}) {
    Blob p(c.probs), labels(c.labels), loss;
    FillUniform(&p, 0.2f, 1.f, 55);
    FillLabels(&labels, p.count(1), 56);
    MultinomialLogisticLossLayer layer(Param());
    GradientChecker checker(1e-3f, 1e-2f, 1701);
    checker.CheckGradient(&layer, {&p, &labels}, {&loss}, /*check_bottom=*/0);
  }
}

TEST(MultinomialLogisticLossLayerTest, LossWeightScalesLossAndGradient) {
  Blob p({4, 5}), labels({4}), loss1, loss2;
  FillUniform(&p, 0.1f, 1.f, 57);
  FillLabels(&labels, 5, 58);
  MultinomialLogisticLossLayer plain(Param());
  plain.SetUp({&p, &labels}, {&loss1});
  const float l1 = plain.Forward({&p, &labels}, {&loss1});
  plain.Backward({&loss1}, {true, false}, {&p, &labels});
  const std::vector<float> d1(p.cpu_diff(), p.cpu_diff() + p.count());
  MultinomialLogisticLossLayer weighted(Param("loss_weight: 4"));
  weighted.SetUp({&p, &labels}, {&loss2});
  EXPECT_FLOAT_EQ(weighted.Forward({&p, &labels}, {&loss2}), 4 * l1);
  weighted.Backward({&loss2}, {true, false}, {&p, &labels});
  for (int i = 0; i < p.count(); ++i) ASSERT_FLOAT_EQ(p.cpu_diff()[i], 4 * d1[i]) << i;
}

TEST(MultinomialLogisticLossLayerTest, ShapeErrorsNameTheLayer) {
  auto set_up = [](std::vector<int> sp, std::vector<int> sl) {
    return [sp, sl] {
      Blob p(sp), labels(sl), loss;
      MultinomialLogisticLossLayer layer(Param());
      layer.SetUp({&p, &labels}, {&loss});
    };
  };
  ExpectError(set_up({4, 5}, {4, 2}), ErrorCode::kInvalidArgument,
              {"Layer 'loss' (MultinomialLogisticLoss)", "need 4 labels", "4 2 (8)"});
  ExpectError(set_up({4, 5}, {3}), ErrorCode::kInvalidArgument,
              {"Layer 'loss' (MultinomialLogisticLoss)", "one label per item"});
}

TEST(MultinomialLogisticLossLayerTest, LabelOutOfRangeIsError) {
  for (float bad : {5.f, -1.f}) {
    ExpectError(
        [bad] {
          Blob p({3, 5}), labels({3}), loss;
          FillUniform(&p, 0.1f, 1.f, 59);
          FillLabels(&labels, 5, 60);
          labels.mutable_cpu_data()[1] = bad;
          MultinomialLogisticLossLayer layer(Param());
          layer.SetUp({&p, &labels}, {&loss});
          layer.Forward({&p, &labels}, {&loss});
        },
        ErrorCode::kInvalidArgument,
        {"Layer 'loss' (MultinomialLogisticLoss)", "position 1", "[0, 5)"});
  }
}

TEST(MultinomialLogisticLossLayerTest, BackwardToLabelsIsError) {
  Blob p({2, 3}), labels({2}), loss;
  FillUniform(&p, 0.1f, 1.f, 61);
  MultinomialLogisticLossLayer layer(Param());
  layer.SetUp({&p, &labels}, {&loss});
  layer.Forward({&p, &labels}, {&loss});
  ExpectError([&] { layer.Backward({&loss}, {true, true}, {&p, &labels}); },
              ErrorCode::kInvalidArgument, {"Layer 'loss' (MultinomialLogisticLoss)", "labels"});
  EXPECT_FALSE(layer.AllowForceBackward(1));
}

TEST(MultinomialLogisticLossLayerTest, Registered) {
  std::unique_ptr<Layer> layer = LayerRegistry::Global().Create(Param());
  EXPECT_STREQ(layer->type(), "MultinomialLogisticLoss");
}

}  // namespace
}  // namespace crema
