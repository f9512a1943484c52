#include "crema/layers/softmax_loss_layer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "gradient_checker.h"
#include "test_helpers.h"

namespace crema {
namespace {

using caffe::LossParameter;
using testing::FillGaussian;
using testing::GradientChecker;
using testing::LayerFromText;

constexpr int kNoIgnore = std::numeric_limits<int>::min();

caffe::LayerParameter LossParam(int axis, const std::string& normalization, int ignore,
                                const std::string& extra = "") {
  std::string text = "name: 'loss' type: 'SoftmaxWithLoss' softmax_param { axis: " +
                     std::to_string(axis) + " } loss_param { ";
  if (!normalization.empty()) text += "normalization: " + normalization + " ";
  if (ignore != kNoIgnore) text += "ignore_label: " + std::to_string(ignore) + " ";
  text += extra + " }";
  return LayerFromText(text);
}

// Random class indices in [0, classes), with about a quarter set to `ignore` when given.
void FillLabels(Blob* labels, int classes, int ignore, unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_int_distribution<int> cls(0, classes - 1);
  float* l = labels->mutable_cpu_data();
  for (int i = 0; i < labels->count(); ++i) {
    l[i] = static_cast<float>(cls(gen));
    if (ignore != kNoIgnore && gen() % 4 == 0) l[i] = static_cast<float>(ignore);
  }
}

struct Reference {
  std::vector<double> prob;
  double loss = 0;
  double normalizer = 1;
  int outer = 0, channels = 0, inner = 0;
};

// The loss computed straight from its definition, in double precision.
Reference ReferenceLoss(const Blob& x, const Blob& labels, int axis,
                        LossParameter::NormalizationMode mode, int ignore) {
  Reference r;
  if (axis < 0) axis += x.num_axes();
  r.outer = x.count(0, axis);
  r.channels = x.shape(axis);
  r.inner = x.count(axis + 1);
  r.prob.resize(x.count());
  double sum_loss = 0;
  int valid = 0;
  for (int n = 0; n < r.outer; ++n) {
    for (int i = 0; i < r.inner; ++i) {
      auto at = [&](int c) { return (n * r.channels + c) * r.inner + i; };
      double z = 0;
      for (int c = 0; c < r.channels; ++c) z += std::exp(static_cast<double>(x.cpu_data()[at(c)]));
      for (int c = 0; c < r.channels; ++c) r.prob[at(c)] = std::exp(x.cpu_data()[at(c)]) / z;
      const int label = static_cast<int>(labels.cpu_data()[n * r.inner + i]);
      if (label == ignore) continue;
      sum_loss -= std::log(std::max(r.prob[at(label)], static_cast<double>(FLT_MIN)));
      ++valid;
    }
  }
  switch (mode) {
    case LossParameter::FULL: r.normalizer = r.outer * r.inner; break;
    case LossParameter::VALID: r.normalizer = valid; break;
    case LossParameter::BATCH_SIZE: r.normalizer = r.outer; break;
    case LossParameter::NONE: r.normalizer = 1; break;
  }
  r.normalizer = std::max(1.0, r.normalizer);
  r.loss = sum_loss / r.normalizer;
  return r;
}

struct Case {
  std::vector<int> scores;
  std::vector<int> labels;
  int axis;
};

const std::vector<Case>& Cases() {
  static const std::vector<Case> cases = {
      {{8, 10}, {8}, 1},
      {{2, 5, 3, 4}, {2, 1, 3, 4}, 1},
      {{2, 3, 4, 5}, {2, 3, 5}, 2},
      {{3, 4, 6}, {3, 4}, -1},
      {{4, 7, 1, 1}, {4}, 1},
      {{4, 21, 24, 24}, {4, 1, 24, 24}, 1},  // large enough for the threaded paths
  };
  return cases;
}

const LossParameter::NormalizationMode kModes[] = {LossParameter::FULL, LossParameter::VALID,
                                                  LossParameter::BATCH_SIZE, LossParameter::NONE};

TEST(SoftmaxWithLossLayerTest, ForwardMatchesReferenceForEveryMode) {
  for (const Case& c : Cases()) {
    for (LossParameter::NormalizationMode mode : kModes) {
      for (int ignore : {kNoIgnore, 1, 255}) {
        Blob x(c.scores), labels(c.labels), loss;
        FillGaussian(&x, 0, 2, 61);
        const int axis = c.axis < 0 ? c.axis + x.num_axes() : c.axis;
        FillLabels(&labels, x.shape(axis), ignore, 62);
        SoftmaxWithLossLayer layer(
            LossParam(c.axis, LossParameter::NormalizationMode_Name(mode), ignore));
        layer.SetUp({&x, &labels}, {&loss});
        const float weighted = layer.Forward({&x, &labels}, {&loss});
        ASSERT_EQ(loss.count(), 1);
        ASSERT_EQ(loss.num_axes(), 0);
        const Reference r = ReferenceLoss(x, labels, c.axis, mode, ignore);
        EXPECT_NEAR(loss.cpu_data()[0], r.loss, 1e-5 * std::max(1.0, r.loss))
            << "scores " << x.shape_string() << " axis " << c.axis << " mode "
            << LossParameter::NormalizationMode_Name(mode) << " ignore " << ignore;
        EXPECT_FLOAT_EQ(weighted, loss.cpu_data()[0]);  // default loss_weight 1
      }
    }
  }
}

TEST(SoftmaxWithLossLayerTest, BackwardMatchesReferenceForEveryMode) {
  for (const Case& c : Cases()) {
    for (LossParameter::NormalizationMode mode : kModes) {
      for (int ignore : {kNoIgnore, 2}) {
        Blob x(c.scores), labels(c.labels), loss;
        FillGaussian(&x, 0, 2, 63);
        const int axis = c.axis < 0 ? c.axis + x.num_axes() : c.axis;
        FillLabels(&labels, x.shape(axis), ignore, 64);
        SoftmaxWithLossLayer layer(
            LossParam(c.axis, LossParameter::NormalizationMode_Name(mode), ignore));
        layer.SetUp({&x, &labels}, {&loss});
        layer.Forward({&x, &labels}, {&loss});
        loss.mutable_cpu_diff()[0] = 2.5f;  // the loss weight flows in through the top diff
        layer.Backward({&loss}, {true, false}, {&x, &labels});
        const Reference r = ReferenceLoss(x, labels, c.axis, mode, ignore);
        for (int n = 0; n < r.outer; ++n) {
          for (int i = 0; i < r.inner; ++i) {
            const int label = static_cast<int>(labels.cpu_data()[n * r.inner + i]);
            for (int k = 0; k < r.channels; ++k) {
              const int at = (n * r.channels + k) * r.inner + i;
              const double expected =
                  label == ignore ? 0.0 : 2.5 * (r.prob[at] - (k == label)) / r.normalizer;
              ASSERT_NEAR(x.cpu_diff()[at], expected, 1e-6)
                  << "scores " << x.shape_string() << " mode "
                  << LossParameter::NormalizationMode_Name(mode) << " ignore " << ignore;
            }
          }
        }
      }
    }
  }
}

TEST(SoftmaxWithLossLayerTest, Gradient) {
  for (LossParameter::NormalizationMode mode : kModes) {
    for (int ignore : {kNoIgnore, 0}) {
      Blob x({3, 4, 2, 2}), labels({3, 1, 2, 2}), loss;
      FillGaussian(&x, 0, 1, 65);
      FillLabels(&labels, 4, ignore, 66);
      SoftmaxWithLossLayer layer(
          LossParam(1, LossParameter::NormalizationMode_Name(mode), ignore));
      GradientChecker checker(1e-2f, 1e-2f, 1701);
      checker.CheckGradient(&layer, {&x, &labels}, {&loss}, /*check_bottom=*/0);
    }
  }
}

TEST(SoftmaxWithLossLayerTest, GradientAlongLastAxis) {
  Blob x({2, 3, 5}), labels({2, 3}), loss;
  FillGaussian(&x, 0, 1, 67);
  FillLabels(&labels, 5, kNoIgnore, 68);
  SoftmaxWithLossLayer layer(LossParam(-1, "", kNoIgnore));
  GradientChecker checker(1e-2f, 1e-2f, 1701);
  checker.CheckGradient(&layer, {&x, &labels}, {&loss}, 0);
}

TEST(SoftmaxWithLossLayerTest, DefaultIsValid) {
  SoftmaxWithLossLayer layer(LossParam(1, "", kNoIgnore));
  Blob x({2, 3}), labels({2}), loss;
  layer.SetUp({&x, &labels}, {&loss});
  EXPECT_EQ(layer.normalization(), LossParameter::VALID);
}

TEST(SoftmaxWithLossLayerTest, DeprecatedNormalizeField) {
  struct Expectation {
    std::string normalization;
    std::string extra;
    LossParameter::NormalizationMode mode;
  };
  const Expectation cases[] = {
      {"", "normalize: false", LossParameter::BATCH_SIZE},
      {"", "normalize: true", LossParameter::VALID},
      {"FULL", "normalize: false", LossParameter::FULL},  // normalization wins when set
      {"NONE", "normalize: true", LossParameter::NONE},
  };
  for (const Expectation& e : cases) {
    Blob x({4, 3, 2}), labels({4, 2}), loss;
    FillGaussian(&x, 0, 1, 69);
    FillLabels(&labels, 3, 1, 70);
    SoftmaxWithLossLayer layer(LossParam(1, e.normalization, 1, e.extra));
    layer.SetUp({&x, &labels}, {&loss});
    EXPECT_EQ(layer.normalization(), e.mode) << e.normalization << " " << e.extra;
    layer.Forward({&x, &labels}, {&loss});
    const Reference r = ReferenceLoss(x, labels, 1, e.mode, 1);
    EXPECT_NEAR(loss.cpu_data()[0], r.loss, 1e-5 * std::max(1.0, r.loss));
  }
}

TEST(SoftmaxWithLossLayerTest, ProbabilityTop) {
  Blob x({3, 4, 5}), labels({3, 5}), loss, prob;
  FillGaussian(&x, 0, 1, 71);
  FillLabels(&labels, 4, kNoIgnore, 72);
  caffe::LayerParameter param = LossParam(1, "", kNoIgnore);
  param.add_top("loss");  // the loss weights default per named top, as a net names them
  param.add_top("prob");
  SoftmaxWithLossLayer layer(param);
  layer.SetUp({&x, &labels}, {&loss, &prob});
  EXPECT_EQ(layer.loss(0), 1.f);
  EXPECT_EQ(layer.loss(1), 0.f);
  const float weighted = layer.Forward({&x, &labels}, {&loss, &prob});
  EXPECT_FLOAT_EQ(weighted, loss.cpu_data()[0]);  // the probabilities carry no loss
  ASSERT_EQ(prob.shape(), x.shape());
  const Reference r = ReferenceLoss(x, labels, 1, LossParameter::VALID, kNoIgnore);
  for (int i = 0; i < x.count(); ++i) ASSERT_NEAR(prob.cpu_data()[i], r.prob[i], 1e-6) << i;
}

TEST(SoftmaxWithLossLayerTest, TinyProbabilityIsClampedAtFltMin) {
  Blob x({1, 2}), labels({1}), loss;
  x.mutable_cpu_data()[0] = 0.f;
  x.mutable_cpu_data()[1] = -200.f;  // e^-200 underflows to 0 in float
  labels.mutable_cpu_data()[0] = 1.f;
  SoftmaxWithLossLayer layer(LossParam(1, "", kNoIgnore));
  layer.SetUp({&x, &labels}, {&loss});
  layer.Forward({&x, &labels}, {&loss});
  EXPECT_NEAR(loss.cpu_data()[0], -std::log(FLT_MIN), 1e-4);  // 87.3365
}

TEST(SoftmaxWithLossLayerTest, AllIgnoredGivesZeroNotNaN) {
  for (LossParameter::NormalizationMode mode : kModes) {
    Blob x({3, 4}), labels({3}), loss;
    FillGaussian(&x, 0, 1, 73);
    std::fill(labels.mutable_cpu_data(), labels.mutable_cpu_data() + 3, -1.f);
    SoftmaxWithLossLayer layer(LossParam(1, LossParameter::NormalizationMode_Name(mode), -1));
    layer.SetUp({&x, &labels}, {&loss});
    layer.Forward({&x, &labels}, {&loss});
    EXPECT_EQ(loss.cpu_data()[0], 0.f);
    std::fill(x.mutable_cpu_diff(), x.mutable_cpu_diff() + x.count(), 9.f);
    layer.Backward({&loss}, {true, false}, {&x, &labels});
    for (int i = 0; i < x.count(); ++i) ASSERT_EQ(x.cpu_diff()[i], 0.f);
  }
}

std::string ForwardError(const caffe::LayerParameter& param, float bad_label, int position) {
  Blob x({4, 10}), labels({4}), loss;
  FillGaussian(&x, 0, 1, 74);
  FillLabels(&labels, 10, kNoIgnore, 75);
  labels.mutable_cpu_data()[position] = bad_label;
  SoftmaxWithLossLayer layer(param);
  layer.SetUp({&x, &labels}, {&loss});
  try {
    layer.Forward({&x, &labels}, {&loss});
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(SoftmaxWithLossLayerTest, LabelOutOfRangeIsError) {
  const std::string too_big = ForwardError(LossParam(1, "", kNoIgnore), 10.f, 2);
  EXPECT_NE(too_big.find("Layer 'loss' (SoftmaxWithLoss)"), std::string::npos) << too_big;
  EXPECT_NE(too_big.find("label 10 "), std::string::npos) << too_big;
  EXPECT_NE(too_big.find("[0, 10)"), std::string::npos) << too_big;
  EXPECT_NE(too_big.find("position 2"), std::string::npos) << too_big;

  const std::string negative = ForwardError(LossParam(1, "", 255), -1.f, 0);
  EXPECT_NE(negative.find("label -1 "), std::string::npos) << negative;
  EXPECT_NE(negative.find("ignore_label 255"), std::string::npos) << negative;

  const std::string not_a_number =
      ForwardError(LossParam(1, "", kNoIgnore), std::numeric_limits<float>::quiet_NaN(), 3);
  EXPECT_NE(not_a_number.find("Layer 'loss'"), std::string::npos) << not_a_number;

  // The ignored value itself is fine even though it is outside [0, C).
  EXPECT_EQ(ForwardError(LossParam(1, "", 255), 255.f, 1), "");
}

TEST(SoftmaxWithLossLayerTest, BackwardToLabelsIsError) {
  Blob x({2, 3}), labels({2}), loss;
  FillGaussian(&x, 0, 1, 76);
  SoftmaxWithLossLayer layer(LossParam(1, "", kNoIgnore));
  layer.SetUp({&x, &labels}, {&loss});
  layer.Forward({&x, &labels}, {&loss});
  try {
    layer.Backward({&loss}, {true, true}, {&x, &labels});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("Layer 'loss' (SoftmaxWithLoss)"), std::string::npos) << message;
    EXPECT_NE(message.find("labels"), std::string::npos) << message;
  }
  EXPECT_FALSE(layer.AllowForceBackward(1));
  EXPECT_TRUE(layer.AllowForceBackward(0));
}

std::string SetUpError(const caffe::LayerParameter& param, const std::vector<int>& scores,
                       const std::vector<int>& label_shape) {
  Blob x(scores), labels(label_shape), loss;
  SoftmaxWithLossLayer layer(param);
  try {
    layer.SetUp({&x, &labels}, {&loss});
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(SoftmaxWithLossLayerTest, ShapeErrors) {
  const std::string count = SetUpError(LossParam(1, "", kNoIgnore), {2, 3, 4}, {2, 3});
  EXPECT_NE(count.find("Layer 'loss' (SoftmaxWithLoss)"), std::string::npos) << count;
  EXPECT_NE(count.find("8 labels"), std::string::npos) << count;
  const std::string batch = SetUpError(LossParam(1, "", kNoIgnore), {2, 3}, {3});
  EXPECT_NE(batch.find("Layer 'loss' (SoftmaxWithLoss)"), std::string::npos) << batch;
  const std::string axis = SetUpError(LossParam(3, "", kNoIgnore), {2, 3}, {2});
  EXPECT_NE(axis.find("softmax_param.axis 3"), std::string::npos) << axis;
  const std::string tops = [] {
    Blob x({2, 3}), labels({2}), a, b, c;
    SoftmaxWithLossLayer layer(LossParam(1, "", kNoIgnore));
    try {
      layer.SetUp({&x, &labels}, {&a, &b, &c});
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string();
  }();
  EXPECT_NE(tops.find("at most 2 top"), std::string::npos) << tops;
}

}  // namespace
}  // namespace crema
