#include "crema/layers/accuracy_layer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "test_helpers.h"

namespace crema {
namespace {

using testing::FillGaussian;
using testing::LayerFromText;

constexpr int kNoIgnore = std::numeric_limits<int>::min();

caffe::LayerParameter AccuracyParam(int axis, int top_k, int ignore) {
  std::string text = "name: 'acc' type: 'Accuracy' accuracy_param { axis: " +
                     std::to_string(axis) + " top_k: " + std::to_string(top_k);
  if (ignore != kNoIgnore) text += " ignore_label: " + std::to_string(ignore);
  return LayerFromText(text + " }");
}

void FillLabels(Blob* labels, int classes, int ignore, unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_int_distribution<int> cls(0, classes - 1);
  float* l = labels->mutable_cpu_data();
  for (int i = 0; i < labels->count(); ++i) {
    l[i] = static_cast<float>(cls(gen));
    if (ignore != kNoIgnore && gen() % 5 == 0) l[i] = static_cast<float>(ignore);
  }
}

// Overall and per-class accuracy from the definition: correct when fewer than top_k classes
// score strictly higher than the label.
void ReferenceAccuracy(const Blob& x, const Blob& labels, int axis, int top_k, int ignore,
                       double* accuracy, std::vector<double>* per_class) {
  if (axis < 0) axis += x.num_axes();
  const int outer = x.count(0, axis), channels = x.shape(axis), inner = x.count(axis + 1);
  std::vector<int> seen(channels, 0), right(channels, 0);
  int total = 0, correct = 0;
  for (int n = 0; n < outer; ++n) {
    for (int i = 0; i < inner; ++i) {
      const int label = static_cast<int>(labels.cpu_data()[n * inner + i]);
      if (label == ignore) continue;
      const float target = x.cpu_data()[(n * channels + label) * inner + i];
      int better = 0;
      for (int c = 0; c < channels; ++c) {
        better += x.cpu_data()[(n * channels + c) * inner + i] > target;
      }
      ++total;
      ++seen[label];
      if (better < top_k) {
        ++correct;
        ++right[label];
      }
    }
  }
  *accuracy = total == 0 ? 0.0 : static_cast<double>(correct) / total;
  per_class->assign(channels, 0.0);
  for (int c = 0; c < channels; ++c) {
    (*per_class)[c] = seen[c] == 0 ? 0.0 : static_cast<double>(right[c]) / seen[c];
  }
}

struct Case {
  std::vector<int> scores;
  std::vector<int> labels;
  int axis;
};

TEST(AccuracyLayerTest, ForwardMatchesReference) {
  const Case cases[] = {
      {{100, 10}, {100}, 1},
      {{6, 5, 3, 4}, {6, 1, 3, 4}, 1},
      {{4, 3, 6}, {4, 3}, -1},
      {{4, 3, 6, 2}, {4, 3, 2}, 2},
  };
  for (const Case& c : cases) {
    for (bool coarse : {false, true}) {
      for (int top_k : {1, 2, 3}) {
        for (int ignore : {kNoIgnore, 1, -1}) {
          Blob x(c.scores), labels(c.labels), accuracy, per_class;
          FillGaussian(&x, 0, 1, 81);
          if (coarse) {  // few distinct values: many ties
            float* v = x.mutable_cpu_data();
            for (int i = 0; i < x.count(); ++i) v[i] = std::round(v[i]);
          }
          const int axis = c.axis < 0 ? c.axis + x.num_axes() : c.axis;
          FillLabels(&labels, x.shape(axis), ignore, 82);
          AccuracyLayer layer(AccuracyParam(c.axis, top_k, ignore));
          layer.SetUp({&x, &labels}, {&accuracy, &per_class});
          layer.Forward({&x, &labels}, {&accuracy, &per_class});
          double expected;
          std::vector<double> expected_per_class;
          ReferenceAccuracy(x, labels, c.axis, top_k, ignore, &expected, &expected_per_class);
          const std::string where = "scores " + x.shape_string() + " axis " +
                                    std::to_string(c.axis) + " top_k " + std::to_string(top_k) +
                                    " ignore " + std::to_string(ignore) +
                                    (coarse ? " coarse" : "");
          ASSERT_EQ(accuracy.count(), 1);
          EXPECT_NEAR(accuracy.cpu_data()[0], expected, 1e-6) << where;
          ASSERT_EQ(per_class.shape(), std::vector<int>{x.shape(axis)});
          for (int k = 0; k < x.shape(axis); ++k) {
            EXPECT_NEAR(per_class.cpu_data()[k], expected_per_class[k], 1e-6) << where;
          }
        }
      }
    }
  }
}

TEST(AccuracyLayerTest, TopKIsMonotoneAndReachesOne) {
  Blob x({50, 6}), labels({50}), accuracy;
  FillGaussian(&x, 0, 1, 83);
  FillLabels(&labels, 6, kNoIgnore, 84);
  float previous = -1.f;
  for (int k = 1; k <= 6; ++k) {
    AccuracyLayer layer(AccuracyParam(1, k, kNoIgnore));
    layer.SetUp({&x, &labels}, {&accuracy});
    layer.Forward({&x, &labels}, {&accuracy});
    EXPECT_GE(accuracy.cpu_data()[0], previous);
    previous = accuracy.cpu_data()[0];
  }
  EXPECT_EQ(previous, 1.f);
}

TEST(AccuracyLayerTest, TiesCountForTheLabel) {
  // Scores of one sample: classes 0, 1, 2 tie at 1; class 3 scores 0.
  Blob x({1, 4}), labels({1}), accuracy;
  const float scores[] = {1.f, 1.f, 1.f, 0.f};
  std::copy(scores, scores + 4, x.mutable_cpu_data());
  struct Expect {
    int label, top_k;
    float accuracy;
  };
  const Expect expectations[] = {{0, 1, 1.f}, {2, 1, 1.f}, {3, 1, 0.f}, {3, 3, 0.f}, {3, 4, 1.f}};
  for (const Expect& e : expectations) {
    labels.mutable_cpu_data()[0] = static_cast<float>(e.label);
    AccuracyLayer layer(AccuracyParam(1, e.top_k, kNoIgnore));
    layer.SetUp({&x, &labels}, {&accuracy});
    layer.Forward({&x, &labels}, {&accuracy});
    EXPECT_EQ(accuracy.cpu_data()[0], e.accuracy) << "label " << e.label << " top_k " << e.top_k;
  }
}

TEST(AccuracyLayerTest, IgnoredLabelsAreNotCounted) {
  Blob x({4, 3}), labels({4}), accuracy, per_class;
  // Argmax of each row: 0, 1, 2, 0.
  const float scores[] = {5, 1, 0, 0, 5, 1, 1, 0, 5, 5, 0, 1};
  std::copy(scores, scores + 12, x.mutable_cpu_data());
  const float truth[] = {0, 2, 7, 7};  // right, wrong, ignored, ignored
  std::copy(truth, truth + 4, labels.mutable_cpu_data());
  AccuracyLayer layer(AccuracyParam(1, 1, 7));
  layer.SetUp({&x, &labels}, {&accuracy, &per_class});
  layer.Forward({&x, &labels}, {&accuracy, &per_class});
  EXPECT_FLOAT_EQ(accuracy.cpu_data()[0], 0.5f);
  EXPECT_FLOAT_EQ(per_class.cpu_data()[0], 1.f);
  EXPECT_FLOAT_EQ(per_class.cpu_data()[1], 0.f);  // no samples
  EXPECT_FLOAT_EQ(per_class.cpu_data()[2], 0.f);  // one sample, wrong

  // Everything ignored: 0, not NaN.
  std::fill(labels.mutable_cpu_data(), labels.mutable_cpu_data() + 4, 7.f);
  layer.Forward({&x, &labels}, {&accuracy, &per_class});
  EXPECT_EQ(accuracy.cpu_data()[0], 0.f);
}

TEST(AccuracyLayerTest, HasNoLossAndNoGradient) {
  Blob x({2, 3}), labels({2}), accuracy;
  AccuracyLayer layer(AccuracyParam(1, 1, kNoIgnore));
  layer.SetUp({&x, &labels}, {&accuracy});
  EXPECT_EQ(layer.loss(0), 0.f);
  EXPECT_FALSE(layer.AllowForceBackward(0));
  EXPECT_FALSE(layer.AllowForceBackward(1));
  layer.Forward({&x, &labels}, {&accuracy});
  EXPECT_NO_THROW(layer.Backward({&accuracy}, {false, false}, {&x, &labels}));
  for (const std::vector<bool>& pd :
       {std::vector<bool>{true, false}, std::vector<bool>{false, true}}) {
    try {
      layer.Backward({&accuracy}, pd, {&x, &labels});
      FAIL() << "expected an error";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("Layer 'acc' (Accuracy)"), std::string::npos)
          << e.what();
    }
  }
}

std::string SetUpError(const caffe::LayerParameter& param, const std::vector<int>& scores,
                       const std::vector<int>& label_shape) {
  Blob x(scores), labels(label_shape), accuracy;
  AccuracyLayer layer(param);
  try {
    layer.SetUp({&x, &labels}, {&accuracy});
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(AccuracyLayerTest, ParameterAndShapeErrors) {
  const std::string big_k = SetUpError(AccuracyParam(1, 4, kNoIgnore), {2, 3}, {2});
  EXPECT_NE(big_k.find("Layer 'acc' (Accuracy)"), std::string::npos) << big_k;
  EXPECT_NE(big_k.find("top_k 4"), std::string::npos) << big_k;
  const std::string zero_k = SetUpError(AccuracyParam(1, 0, kNoIgnore), {2, 3}, {2});
  EXPECT_NE(zero_k.find("top_k"), std::string::npos) << zero_k;
  const std::string count = SetUpError(AccuracyParam(1, 1, kNoIgnore), {2, 3, 2}, {2});
  EXPECT_NE(count.find("4 labels"), std::string::npos) << count;
  const std::string axis = SetUpError(AccuracyParam(-3, 1, kNoIgnore), {2, 3}, {2});
  EXPECT_NE(axis.find("accuracy_param.axis -3"), std::string::npos) << axis;
}

TEST(AccuracyLayerTest, LabelOutOfRangeIsError) {
  Blob x({2, 3}), labels({2}), accuracy;
  labels.mutable_cpu_data()[1] = 3.f;
  AccuracyLayer layer(AccuracyParam(1, 1, kNoIgnore));
  layer.SetUp({&x, &labels}, {&accuracy});
  try {
    layer.Forward({&x, &labels}, {&accuracy});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("Layer 'acc' (Accuracy)"), std::string::npos) << message;
    EXPECT_NE(message.find("label 3 "), std::string::npos) << message;
    EXPECT_NE(message.find("[0, 3)"), std::string::npos) << message;
  }
}

}  // namespace
}  // namespace crema
