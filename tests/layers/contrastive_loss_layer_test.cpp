#include "crema/layers/contrastive_loss_layer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "crema/layers/registry.h"
#include "gradient_checker.h"
#include "test_helpers.h"

namespace crema {
namespace {

using testing::ExpectError;
using testing::GradientChecker;
using testing::LayerFromText;

// margin < 0 leaves it unset (1.0); legacy "" leaves legacy_version unset (false).
caffe::LayerParameter Param(float margin, const std::string& legacy,
                            const std::string& extra = "") {
  std::ostringstream text;
  text << "name: 'loss' type: 'ContrastiveLoss' " << extra << " contrastive_loss_param { ";
  if (margin >= 0) text << "margin: " << margin << " ";
  if (!legacy.empty()) text << "legacy_version: " << legacy << " ";
  text << "}";
  return LayerFromText(text.str());
}

double DistSq(const Blob& a, const Blob& b, int n) {
  const int c = a.count(1);
  double s = 0;
  for (int k = 0; k < c; ++k) {
    const double d = static_cast<double>(a.cpu_data()[n * c + k]) - b.cpu_data()[n * c + k];
    s += d * d;
  }
  return s;
}

// Feature pairs whose distances keep clear of the kinks: d² not within 0.05 of the margin
// (legacy form), d not within 0.05 of it (default form), and d ≥ 0.1. Labels are 0/1, with
// some 2s (similar) and 0.5s (dissimilar: labels are truncated) mixed in.
void FillPairs(Blob* a, Blob* b, Blob* y, float margin, unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> value(-0.5f, 0.5f);
  const int num = a->shape(0), c = a->count(1);
  for (int n = 0; n < num; ++n) {
    for (int tries = 0;; ++tries) {
      for (int k = 0; k < c; ++k) {
        a->mutable_cpu_data()[n * c + k] = value(gen);
        b->mutable_cpu_data()[n * c + k] = value(gen);
      }
      const double sq = DistSq(*a, *b, n), d = std::sqrt(sq);
      if (std::fabs(sq - margin) > 0.05 && std::fabs(d - margin) > 0.05 && d >= 0.1) break;
      ASSERT_LT(tries, 1000) << "cannot draw a pair away from margin " << margin;
    }
    const float labels[] = {0.f, 1.f, 0.f, 1.f, 2.f, 0.5f};
    y->mutable_cpu_data()[n] = labels[gen() % 6];
  }
}

bool Similar(float label) { return static_cast<int>(label) != 0; }

double ReferenceLoss(const Blob& a, const Blob& b, const Blob& y, double margin, bool legacy) {
  const int num = a.shape(0);
  double sum = 0;
  for (int n = 0; n < num; ++n) {
    const double sq = DistSq(a, b, n);
    if (Similar(y.cpu_data()[n])) {
      sum += sq;
    } else if (legacy) {
      sum += std::max(margin - sq, 0.0);
    } else {
      const double gap = std::max(margin - std::sqrt(sq), 0.0);
      sum += gap * gap;
    }
  }
  return sum / num / 2;
}

// The factor on (a_n − b_n) in ∂loss/∂a_n for a top diff of 1, with the 1e-4 the default
// form adds to the distance.
double ReferenceFactor(const Blob& a, const Blob& b, const Blob& y, int n, double margin,
                       bool legacy) {
  const int num = a.shape(0);
  const double sq = DistSq(a, b, n), d = std::sqrt(sq);
  if (Similar(y.cpu_data()[n])) return 1.0 / num;
  if (legacy) return margin - sq > 0 ? -1.0 / num : 0.0;
  return margin - d > 0 ? -(margin - d) / (d + 1e-4) / num : 0.0;
}

struct Case {
  std::vector<int> features, labels;
};

const std::vector<Case>& Cases() {
  static const std::vector<Case> cases = {
      {{8, 5}, {8}},
      {{6, 4, 1, 1}, {6, 1, 1, 1}},
      {{5, 1}, {5, 1}},
      {{1024, 20}, {1024}},  // large enough for the threaded paths
  };
  return cases;
}

struct Variant {
  float margin;        // < 0: unset
  std::string legacy;  // "": unset
  double effective_margin;
  bool is_legacy;
};
const Variant kVariants[] = {{-1, "", 1.0, false},      {0.5f, "false", 0.5, false},
                             {2.f, "", 2.0, false},     {-1, "true", 1.0, true},
                             {0.5f, "true", 0.5, true}, {2.f, "true", 2.0, true}};

TEST(ContrastiveLossLayerTest, ForwardMatchesReference) {
  for (const Case& c : Cases()) {
    for (const Variant& v : kVariants) {
      Blob a(c.features), b(c.features), y(c.labels), loss;
      FillPairs(&a, &b, &y, static_cast<float>(v.effective_margin), 91);
      ContrastiveLossLayer layer(Param(v.margin, v.legacy));
      layer.SetUp({&a, &b, &y}, {&loss});
      const float weighted = layer.Forward({&a, &b, &y}, {&loss});
      ASSERT_EQ(loss.num_axes(), 0);
      const double expected = ReferenceLoss(a, b, y, v.effective_margin, v.is_legacy);
      EXPECT_NEAR(loss.cpu_data()[0], expected, 1e-5 * std::max(1.0, expected))
          << a.shape_string() << " margin " << v.effective_margin << " legacy " << v.is_legacy;
      EXPECT_FLOAT_EQ(weighted, loss.cpu_data()[0]);
    }
  }
}

TEST(ContrastiveLossLayerTest, BackwardMatchesReference) {
  for (const Case& c : Cases()) {
    for (const Variant& v : kVariants) {
      Blob a(c.features), b(c.features), y(c.labels), loss;
      FillPairs(&a, &b, &y, static_cast<float>(v.effective_margin), 92);
      ContrastiveLossLayer layer(Param(v.margin, v.legacy));
      layer.SetUp({&a, &b, &y}, {&loss});
      layer.Forward({&a, &b, &y}, {&loss});
      loss.mutable_cpu_diff()[0] = 2.5f;
      layer.Backward({&loss}, {true, true, false}, {&a, &b, &y});
      const int num = a.shape(0), channels = a.count(1);
      for (int n = 0; n < num; ++n) {
        const double f = 2.5 * ReferenceFactor(a, b, y, n, v.effective_margin, v.is_legacy);
        for (int k = 0; k < channels; ++k) {
          const int at = n * channels + k;
          const double d = static_cast<double>(a.cpu_data()[at]) - b.cpu_data()[at];
          const double tolerance = 1e-5 * std::max(1.0, std::fabs(f * d));
          ASSERT_NEAR(a.cpu_diff()[at], f * d, tolerance) << a.shape_string() << " pair " << n;
          ASSERT_NEAR(b.cpu_diff()[at], -f * d, tolerance) << a.shape_string() << " pair " << n;
        }
      }
    }
  }
}

TEST(ContrastiveLossLayerTest, DefaultsAreMarginOneAndNewForm) {
  // One dissimilar pair at distance 0.6: the default form gives (1 − 0.6)² / 2 = 0.08, the
  // legacy form would give (1 − 0.36) / 2 = 0.32.
  Blob a({1, 2}), b({1, 2}), y({1}), loss;
  a.mutable_cpu_data()[0] = 0.6f;
  a.mutable_cpu_data()[1] = 0.f;
  b.mutable_cpu_data()[0] = 0.f;
  b.mutable_cpu_data()[1] = 0.f;
  y.mutable_cpu_data()[0] = 0.f;
  ContrastiveLossLayer layer(LayerFromText("name: 'loss' type: 'ContrastiveLoss'"));
  layer.SetUp({&a, &b, &y}, {&loss});
  layer.Forward({&a, &b, &y}, {&loss});
  EXPECT_NEAR(loss.cpu_data()[0], 0.08, 1e-6);
  ContrastiveLossLayer legacy(Param(-1, "true"));
  legacy.SetUp({&a, &b, &y}, {&loss});
  legacy.Forward({&a, &b, &y}, {&loss});
  EXPECT_NEAR(loss.cpu_data()[0], 0.32, 1e-6);
}

TEST(ContrastiveLossLayerTest, Gradient) {
  for (const Variant& v : kVariants) {
    for (int bottom : {0, 1}) {
      Blob a({6, 3}), b({6, 3}), y({6}), loss;
      FillPairs(&a, &b, &y, static_cast<float>(v.effective_margin), 93);
      ContrastiveLossLayer layer(Param(v.margin, v.legacy));
      GradientChecker checker(1e-3f, 1e-2f, 1701);
      checker.CheckGradient(&layer, {&a, &b, &y}, {&loss}, bottom);
    }
  }
}

TEST(ContrastiveLossLayerTest, LossWeightScalesLossAndGradient) {
  for (const Variant& v : kVariants) {
    Blob a({6, 3}), b({6, 3}), y({6}), loss1, loss2;
    FillPairs(&a, &b, &y, static_cast<float>(v.effective_margin), 94);
    ContrastiveLossLayer plain(Param(v.margin, v.legacy));
    plain.SetUp({&a, &b, &y}, {&loss1});
    const float l1 = plain.Forward({&a, &b, &y}, {&loss1});
    plain.Backward({&loss1}, {true, true, false}, {&a, &b, &y});
    const std::vector<float> da(a.cpu_diff(), a.cpu_diff() + a.count());
    const std::vector<float> db(b.cpu_diff(), b.cpu_diff() + b.count());
    ContrastiveLossLayer weighted(Param(v.margin, v.legacy, "loss_weight: 2"));
    weighted.SetUp({&a, &b, &y}, {&loss2});
    EXPECT_FLOAT_EQ(weighted.Forward({&a, &b, &y}, {&loss2}), 2 * l1);
    weighted.Backward({&loss2}, {true, true, false}, {&a, &b, &y});
    for (int i = 0; i < a.count(); ++i) {
      ASSERT_FLOAT_EQ(a.cpu_diff()[i], 2 * da[i]) << i;
      ASSERT_FLOAT_EQ(b.cpu_diff()[i], 2 * db[i]) << i;
    }
  }
}

TEST(ContrastiveLossLayerTest, ShapeErrorsNameTheLayer) {
  auto set_up = [](std::vector<int> sa, std::vector<int> sb, std::vector<int> sy) {
    return [sa, sb, sy] {
      Blob a(sa), b(sb), y(sy), loss;
      ContrastiveLossLayer layer(Param(-1, ""));
      layer.SetUp({&a, &b, &y}, {&loss});
    };
  };
  ExpectError(set_up({4, 5}, {4, 6}, {4}), ErrorCode::kInvalidArgument,
              {"Layer 'loss' (ContrastiveLoss)", "4 5 (20)", "4 6 (24)"});
  ExpectError(set_up({4, 5}, {3, 5}, {4}), ErrorCode::kInvalidArgument,
              {"Layer 'loss' (ContrastiveLoss)", "N × C"});
  ExpectError(set_up({4, 5, 2}, {4, 5, 2}, {4}), ErrorCode::kInvalidArgument,
              {"Layer 'loss' (ContrastiveLoss)", "N × C"});
  ExpectError(set_up({4, 5}, {4, 5}, {4, 2}), ErrorCode::kInvalidArgument,
              {"Layer 'loss' (ContrastiveLoss)", "need 4 labels", "4 2 (8)"});
  ExpectError(
      [] {
        Blob a({4, 5}), b({4, 5}), loss;
        ContrastiveLossLayer layer(Param(-1, ""));
        layer.SetUp({&a, &b}, {&loss});
      },
      ErrorCode::kInvalidArgument, {"Layer 'loss' (ContrastiveLoss)", "3 bottom"});
}

TEST(ContrastiveLossLayerTest, LabelsTakeNoGradient) {
  Blob a({2, 3}), b({2, 3}), y({2}), loss;
  FillPairs(&a, &b, &y, 1.f, 95);
  ContrastiveLossLayer layer(Param(-1, ""));
  layer.SetUp({&a, &b, &y}, {&loss});
  layer.Forward({&a, &b, &y}, {&loss});
  ExpectError([&] { layer.Backward({&loss}, {true, true, true}, {&a, &b, &y}); },
              ErrorCode::kInvalidArgument, {"Layer 'loss' (ContrastiveLoss)", "similarity labels"});
  EXPECT_TRUE(layer.AllowForceBackward(0));
  EXPECT_TRUE(layer.AllowForceBackward(1));
  EXPECT_FALSE(layer.AllowForceBackward(2));
}

TEST(ContrastiveLossLayerTest, Registered) {
  std::unique_ptr<Layer> layer = LayerRegistry::Global().Create(Param(-1, ""));
  EXPECT_STREQ(layer->type(), "ContrastiveLoss");
}

}  // namespace
}  // namespace crema
