#include "crema/layers/sigmoid_cross_entropy_loss_layer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "crema/layers/registry.h"
#include "gradient_checker.h"
#include "test_helpers.h"

namespace crema {
namespace {

using caffe::LossParameter;
using testing::ExpectError;
using testing::FillGaussian;
using testing::GradientChecker;
using testing::LayerFromText;

constexpr int kNoIgnore = std::numeric_limits<int>::min();

// `normalization` empty leaves the field unset; `extra` goes inside loss_param.
caffe::LayerParameter Param(const std::string& normalization, int ignore,
                            const std::string& extra = "", const std::string& outside = "") {
  std::string text = "name: 'loss' type: 'SigmoidCrossEntropyLoss' " + outside + " loss_param { ";
  if (!normalization.empty()) text += "normalization: " + normalization + " ";
  if (ignore != kNoIgnore) text += "ignore_label: " + std::to_string(ignore) + " ";
  return LayerFromText(text + extra + " }");
}

// Real targets in [0, 1] without ignore; with ignore, 0/1 targets and about a quarter set to
// the ignored value.
void FillTargets(Blob* t, int ignore, unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> unit(0.f, 1.f);
  float* v = t->mutable_cpu_data();
  for (int i = 0; i < t->count(); ++i) {
    if (ignore == kNoIgnore) {
      v[i] = unit(gen);
    } else {
      v[i] = gen() % 4 == 0 ? static_cast<float>(ignore) : static_cast<float>(gen() % 2);
    }
  }
}

struct Reference {
  double loss = 0;
  double normalizer = 1;
};

// The cross-entropy straight from its definition with σ in double precision (inputs are kept
// moderate, so the naive form is exact enough).
Reference ReferenceLoss(const Blob& x, const Blob& t, LossParameter::NormalizationMode mode,
                        int ignore) {
  double sum = 0;
  int valid = 0;
  for (int i = 0; i < x.count(); ++i) {
    const double target = t.cpu_data()[i];
    if (ignore != kNoIgnore && static_cast<int>(target) == ignore) continue;
    const double p = 1.0 / (1.0 + std::exp(-static_cast<double>(x.cpu_data()[i])));
    sum -= target * std::log(p) + (1 - target) * std::log(1 - p);
    ++valid;
  }
  Reference r;
  switch (mode) {
    case LossParameter::FULL: r.normalizer = x.count(); break;
    case LossParameter::VALID: r.normalizer = valid; break;
    case LossParameter::BATCH_SIZE: r.normalizer = x.shape(0); break;
    case LossParameter::NONE: r.normalizer = 1; break;
  }
  r.normalizer = std::max(1.0, r.normalizer);
  r.loss = sum / r.normalizer;
  return r;
}

struct Case {
  std::vector<int> scores, targets;
};

const std::vector<Case>& Cases() {
  static const std::vector<Case> cases = {
      {{6, 5}, {6, 5}},
      {{3, 2, 4, 4}, {3, 32}},  // same count, different shape
      {{4}, {4}},
      {{8, 2500}, {8, 2500}},   // large enough for the threaded paths
  };
  return cases;
}

// "" is the unset field, which means BATCH_SIZE for this layer.
struct Mode {
  std::string text;
  LossParameter::NormalizationMode mode;
};
const Mode kModes[] = {{"", LossParameter::BATCH_SIZE},
                       {"FULL", LossParameter::FULL},
                       {"VALID", LossParameter::VALID},
                       {"BATCH_SIZE", LossParameter::BATCH_SIZE},
                       {"NONE", LossParameter::NONE}};

TEST(SigmoidCrossEntropyLossLayerTest, ForwardMatchesReferenceForEveryMode) {
  for (const Case& c : Cases()) {
    for (const Mode& m : kModes) {
      for (int ignore : {kNoIgnore, -1, 1}) {
        Blob x(c.scores), t(c.targets), loss;
        FillGaussian(&x, 0, 3, 31);
        FillTargets(&t, ignore, 32);
        SigmoidCrossEntropyLossLayer layer(Param(m.text, ignore));
        layer.SetUp({&x, &t}, {&loss});
        EXPECT_EQ(layer.normalization(), m.mode);
        const float weighted = layer.Forward({&x, &t}, {&loss});
        ASSERT_EQ(loss.num_axes(), 0);
        const Reference r = ReferenceLoss(x, t, m.mode, ignore);
        EXPECT_NEAR(loss.cpu_data()[0], r.loss, 1e-5 * std::max(1.0, r.loss))
            << x.shape_string() << " mode '" << m.text << "' ignore " << ignore;
        EXPECT_FLOAT_EQ(weighted, loss.cpu_data()[0]);
      }
    }
  }
}

TEST(SigmoidCrossEntropyLossLayerTest, BackwardMatchesReferenceForEveryMode) {
  for (const Case& c : Cases()) {
    for (const Mode& m : kModes) {
      for (int ignore : {kNoIgnore, -1}) {
        Blob x(c.scores), t(c.targets), loss;
        FillGaussian(&x, 0, 3, 33);
        FillTargets(&t, ignore, 34);
        SigmoidCrossEntropyLossLayer layer(Param(m.text, ignore));
        layer.SetUp({&x, &t}, {&loss});
        layer.Forward({&x, &t}, {&loss});
        loss.mutable_cpu_diff()[0] = 2.5f;
        layer.Backward({&loss}, {true, false}, {&x, &t});
        const Reference r = ReferenceLoss(x, t, m.mode, ignore);
        for (int i = 0; i < x.count(); ++i) {
          const double target = t.cpu_data()[i];
          const double p = 1.0 / (1.0 + std::exp(-static_cast<double>(x.cpu_data()[i])));
          const bool ignored = ignore != kNoIgnore && static_cast<int>(target) == ignore;
          const double expected = ignored ? 0.0 : 2.5 * (p - target) / r.normalizer;
          ASSERT_NEAR(x.cpu_diff()[i], expected, 1e-6)
              << x.shape_string() << " mode '" << m.text << "' ignore " << ignore << " at " << i;
        }
      }
    }
  }
}

TEST(SigmoidCrossEntropyLossLayerTest, DeprecatedNormalizeField) {
  struct Expectation {
    std::string normalization, extra;
    LossParameter::NormalizationMode mode;
  };
  const Expectation cases[] = {
      {"", "normalize: true", LossParameter::VALID},
      {"", "normalize: false", LossParameter::BATCH_SIZE},
      {"FULL", "normalize: true", LossParameter::FULL},  // normalization wins when set
  };
  for (const Expectation& e : cases) {
    Blob x({4, 3}), t({4, 3}), loss;
    FillGaussian(&x, 0, 1, 35);
    FillTargets(&t, -1, 36);
    SigmoidCrossEntropyLossLayer layer(Param(e.normalization, -1, e.extra));
    layer.SetUp({&x, &t}, {&loss});
    EXPECT_EQ(layer.normalization(), e.mode) << e.normalization << " " << e.extra;
    layer.Forward({&x, &t}, {&loss});
    const Reference r = ReferenceLoss(x, t, e.mode, -1);
    EXPECT_NEAR(loss.cpu_data()[0], r.loss, 1e-5 * std::max(1.0, r.loss));
  }
}

TEST(SigmoidCrossEntropyLossLayerTest, ExtremeScoresStayFiniteAndExact) {
  // ℓ(x, t) for |x| far beyond where e^x overflows float: the loss is |x| when the sign is
  // wrong and ~0 when it is right.
  Blob x({4}), t({4}), loss;
  const float xs[] = {1000.f, -1000.f, 100.f, -90.f};
  const float ts[] = {0.f, 1.f, 1.f, 0.f};
  std::copy(xs, xs + 4, x.mutable_cpu_data());
  std::copy(ts, ts + 4, t.mutable_cpu_data());
  SigmoidCrossEntropyLossLayer layer(Param("NONE", kNoIgnore));
  layer.SetUp({&x, &t}, {&loss});
  layer.Forward({&x, &t}, {&loss});
  EXPECT_NEAR(loss.cpu_data()[0], 2000.0, 1e-3);
  layer.Backward({&loss}, {true, false}, {&x, &t});
  const float expected[] = {1.f, -1.f, 0.f, 0.f};  // (σ(x) − t) · top diff 1
  for (int i = 0; i < 4; ++i) {
    EXPECT_TRUE(std::isfinite(x.cpu_diff()[i])) << i;
    EXPECT_NEAR(x.cpu_diff()[i], expected[i], 1e-6) << i;
  }
}

TEST(SigmoidCrossEntropyLossLayerTest, IgnoreComparesTheTruncatedTarget) {
  // A target of 0.5 truncates to 0, so ignore_label: 0 skips it as well as exact zeros.
  Blob x({3}), t({3}), loss;
  x.mutable_cpu_data()[0] = 0.3f;
  x.mutable_cpu_data()[1] = -0.7f;
  x.mutable_cpu_data()[2] = 1.1f;
  t.mutable_cpu_data()[0] = 0.5f;
  t.mutable_cpu_data()[1] = 0.f;
  t.mutable_cpu_data()[2] = 1.f;
  SigmoidCrossEntropyLossLayer layer(Param("VALID", 0));
  layer.SetUp({&x, &t}, {&loss});
  layer.Forward({&x, &t}, {&loss});
  EXPECT_NEAR(loss.cpu_data()[0], std::log1p(std::exp(-1.1)), 1e-6);  // only element 2 counts
}

TEST(SigmoidCrossEntropyLossLayerTest, AllIgnoredGivesZeroNotNaN) {
  Blob x({2, 3}), t({2, 3}), loss;
  FillGaussian(&x, 0, 1, 37);
  std::fill(t.mutable_cpu_data(), t.mutable_cpu_data() + t.count(), -1.f);
  SigmoidCrossEntropyLossLayer layer(Param("VALID", -1));
  layer.SetUp({&x, &t}, {&loss});
  layer.Forward({&x, &t}, {&loss});
  EXPECT_EQ(loss.cpu_data()[0], 0.f);
  layer.Backward({&loss}, {true, false}, {&x, &t});
  for (int i = 0; i < x.count(); ++i) ASSERT_EQ(x.cpu_diff()[i], 0.f);
}

TEST(SigmoidCrossEntropyLossLayerTest, Gradient) {
  for (const Mode& m : kModes) {
    for (int ignore : {kNoIgnore, -1}) {
      Blob x({3, 2, 2}), t({3, 2, 2}), loss;
      FillGaussian(&x, 0, 2, 38);
      FillTargets(&t, ignore, 39);
      SigmoidCrossEntropyLossLayer layer(Param(m.text, ignore));
      GradientChecker checker(1e-2f, 1e-2f, 1701);
      checker.CheckGradient(&layer, {&x, &t}, {&loss}, /*check_bottom=*/0);
    }
  }
}

TEST(SigmoidCrossEntropyLossLayerTest, LossWeightScalesLossAndGradient) {
  Blob x({4, 5}), t({4, 5}), loss1, loss2;
  FillGaussian(&x, 0, 1, 40);
  FillTargets(&t, kNoIgnore, 41);
  SigmoidCrossEntropyLossLayer plain(Param("", kNoIgnore));
  plain.SetUp({&x, &t}, {&loss1});
  const float l1 = plain.Forward({&x, &t}, {&loss1});
  plain.Backward({&loss1}, {true, false}, {&x, &t});
  const std::vector<float> d1(x.cpu_diff(), x.cpu_diff() + x.count());
  SigmoidCrossEntropyLossLayer weighted(Param("", kNoIgnore, "", "loss_weight: 0.25"));
  weighted.SetUp({&x, &t}, {&loss2});
  EXPECT_FLOAT_EQ(weighted.Forward({&x, &t}, {&loss2}), 0.25f * l1);
  weighted.Backward({&loss2}, {true, false}, {&x, &t});
  for (int i = 0; i < x.count(); ++i) ASSERT_FLOAT_EQ(x.cpu_diff()[i], 0.25f * d1[i]) << i;
}

TEST(SigmoidCrossEntropyLossLayerTest, ErrorsNameTheLayer) {
  ExpectError(
      [] {
        Blob x({2, 3}), t({2, 4}), loss;
        SigmoidCrossEntropyLossLayer layer(Param("", kNoIgnore));
        layer.SetUp({&x, &t}, {&loss});
      },
      ErrorCode::kInvalidArgument,
      {"Layer 'loss' (SigmoidCrossEntropyLoss)", "one target per score", "2 4 (8)"});
  ExpectError(
      [] {
        Blob x({2, 3}), t({3, 2}), loss;
        SigmoidCrossEntropyLossLayer layer(Param("", kNoIgnore));
        layer.SetUp({&x, &t}, {&loss});
      },
      ErrorCode::kInvalidArgument, {"Layer 'loss' (SigmoidCrossEntropyLoss)", "first dimension"});
  ExpectError(
      [] {
        Blob x({2, 3}), t({2, 3}), loss;
        FillTargets(&t, kNoIgnore, 42);
        SigmoidCrossEntropyLossLayer layer(Param("", kNoIgnore));
        layer.SetUp({&x, &t}, {&loss});
        layer.Forward({&x, &t}, {&loss});
        layer.Backward({&loss}, {true, true}, {&x, &t});
      },
      ErrorCode::kInvalidArgument, {"Layer 'loss' (SigmoidCrossEntropyLoss)", "targets"});
  SigmoidCrossEntropyLossLayer layer(Param("", kNoIgnore));
  EXPECT_FALSE(layer.AllowForceBackward(1));
}

TEST(SigmoidCrossEntropyLossLayerTest, Registered) {
  std::unique_ptr<Layer> layer = LayerRegistry::Global().Create(Param("", kNoIgnore));
  EXPECT_STREQ(layer->type(), "SigmoidCrossEntropyLoss");
}

}  // namespace
}  // namespace crema
