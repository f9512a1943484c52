#include "crema/layers/infogain_loss_layer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "crema/io/proto_io.h"
#include "crema/layers/registry.h"
#include "crema/layers/softmax_loss_layer.h"
#include "gradient_checker.h"
#include "test_helpers.h"

namespace crema {
namespace {

using caffe::LossParameter;
using testing::ExpectError;
using testing::FillGaussian;
using testing::FillUniform;
using testing::GradientChecker;
using testing::LayerFromText;
using testing::TempDir;

constexpr int kNoIgnore = std::numeric_limits<int>::min();

// `source` empty leaves it unset; `normalization` empty leaves the field unset (VALID).
caffe::LayerParameter Param(const std::string& source, int axis, const std::string& normalization,
                            int ignore, const std::string& extra = "") {
  std::string text = "name: 'loss' type: 'InfogainLoss' " + extra +
                     " infogain_loss_param { axis: " + std::to_string(axis) + " ";
  if (!source.empty()) text += "source: '" + source + "' ";
  text += "} loss_param { ";
  if (!normalization.empty()) text += "normalization: " + normalization + " ";
  if (ignore != kNoIgnore) text += "ignore_label: " + std::to_string(ignore) + " ";
  return LayerFromText(text + "}");
}

// Writes `h` (C² values) as a binary BlobProto: with `shape` 1×1×C×C, or, when `legacy`, in
// the old num/channels/height/width fields as C×C×1×1.
void WriteMatrix(const std::string& path, const std::vector<float>& h, int c, bool legacy) {
  caffe::BlobProto proto;
  if (legacy) {
    proto.set_num(c);
    proto.set_channels(c);
    proto.set_height(1);
    proto.set_width(1);
  } else {
    for (int d : {1, 1, c, c}) proto.mutable_shape()->add_dim(d);
  }
  for (float v : h) proto.add_data(v);
  WriteBinaryProto(path, proto);
}

std::vector<float> RandomMatrix(int c, unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> value(0.f, 1.f);
  std::vector<float> h(static_cast<size_t>(c) * c);
  for (float& v : h) v = value(gen);
  return h;
}

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
  std::vector<double> grad;  // ∂loss/∂x for a top diff of 1
  double loss = 0;
  double normalizer = 1;
};

// Softmax along `axis` and the infogain loss from their definitions, in double precision.
Reference ReferenceLoss(const Blob& x, const Blob& labels, const std::vector<float>& h, int axis,
                        LossParameter::NormalizationMode mode, int ignore) {
  if (axis < 0) axis += x.num_axes();
  const int outer = x.count(0, axis), c = x.shape(axis), inner = x.count(axis + 1);
  Reference r;
  r.prob.resize(x.count());
  r.grad.assign(x.count(), 0.0);
  double sum = 0;
  int valid = 0;
  for (int n = 0; n < outer; ++n) {
    for (int i = 0; i < inner; ++i) {
      auto at = [&](int k) { return (n * c + k) * inner + i; };
      double z = 0;
      for (int k = 0; k < c; ++k) z += std::exp(static_cast<double>(x.cpu_data()[at(k)]));
      for (int k = 0; k < c; ++k) r.prob[at(k)] = std::exp(x.cpu_data()[at(k)]) / z;
      const int y = static_cast<int>(labels.cpu_data()[n * inner + i]);
      if (y == ignore) continue;
      double row_sum = 0;
      for (int k = 0; k < c; ++k) {
        sum -= h[y * c + k] * std::log(std::max(r.prob[at(k)], 1e-20));
        row_sum += h[y * c + k];
      }
      for (int k = 0; k < c; ++k) r.grad[at(k)] = r.prob[at(k)] * row_sum - h[y * c + k];
      ++valid;
    }
  }
  switch (mode) {
    case LossParameter::FULL: r.normalizer = outer * inner; break;
    case LossParameter::VALID: r.normalizer = valid; break;
    case LossParameter::BATCH_SIZE: r.normalizer = outer; break;
    case LossParameter::NONE: r.normalizer = 1; break;
  }
  r.normalizer = std::max(1.0, r.normalizer);
  r.loss = sum / r.normalizer;
  for (double& g : r.grad) g /= r.normalizer;
  return r;
}

struct Case {
  std::vector<int> scores, labels;
  int axis;
};

const std::vector<Case>& Cases() {
  static const std::vector<Case> cases = {
      {{6, 4}, {6}, 1},
      {{2, 3, 2, 2}, {2, 1, 2, 2}, 1},
      {{2, 3, 4}, {2, 3}, -1},
      {{2, 4, 3, 5}, {2, 4, 5}, 2},
      {{8, 10, 24, 24}, {8, 24, 24}, 1},  // large enough for the threaded paths
  };
  return cases;
}

struct Mode {
  std::string text;
  LossParameter::NormalizationMode mode;
};
const Mode kModes[] = {{"", LossParameter::VALID},
                       {"FULL", LossParameter::FULL},
                       {"VALID", LossParameter::VALID},
                       {"BATCH_SIZE", LossParameter::BATCH_SIZE},
                       {"NONE", LossParameter::NONE}};

// Runs Forward, then Backward with a top diff of 2.5, and compares both with the reference,
// for H from a file or from a third bottom.
void CheckAgainstReference(const Case& c, const Mode& m, int ignore, bool from_bottom,
                           const std::string& dir, unsigned seed) {
  Blob x(c.scores), labels(c.labels), loss;
  FillGaussian(&x, 0, 2, seed);
  const int axis = c.axis < 0 ? c.axis + x.num_axes() : c.axis;
  const int classes = x.shape(axis);
  FillLabels(&labels, classes, ignore, seed + 1);
  const std::vector<float> h = RandomMatrix(classes, seed + 2);
  Blob matrix({classes, classes});
  std::copy(h.begin(), h.end(), matrix.mutable_cpu_data());
  std::string source;
  BlobVec bottom = {&x, &labels};
  if (from_bottom) {
    bottom.push_back(&matrix);
  } else {
    source = dir + "/h" + std::to_string(classes) + ".binaryproto";
    WriteMatrix(source, h, classes, /*legacy=*/seed % 2 == 0);
  }
  InfogainLossLayer layer(Param(source, c.axis, m.text, ignore));
  layer.SetUp(bottom, {&loss});
  EXPECT_EQ(layer.normalization(), m.mode);
  const float weighted = layer.Forward(bottom, {&loss});
  const Reference r = ReferenceLoss(x, labels, h, c.axis, m.mode, ignore);
  const std::string what = x.shape_string() + " axis " + std::to_string(c.axis) + " mode '" +
                           m.text + "' ignore " + std::to_string(ignore) +
                           (from_bottom ? " H from bottom" : " H from file");
  ASSERT_EQ(loss.num_axes(), 0);
  EXPECT_NEAR(loss.cpu_data()[0], r.loss, 1e-5 * std::max(1.0, r.loss)) << what;
  EXPECT_FLOAT_EQ(weighted, loss.cpu_data()[0]) << what;
  loss.mutable_cpu_diff()[0] = 2.5f;
  std::vector<bool> down(bottom.size(), false);
  down[0] = true;
  layer.Backward({&loss}, down, bottom);
  for (int i = 0; i < x.count(); ++i) {
    const double expected = 2.5 * r.grad[i];
    ASSERT_NEAR(x.cpu_diff()[i], expected, 1e-5 * std::max(1.0, std::fabs(expected)))
        << what << " at " << i;
  }
}

TEST(InfogainLossLayerTest, MatchesReferenceWithMatrixFromFile) {
  TempDir dir;
  unsigned seed = 100;
  for (const Case& c : Cases()) {
    for (const Mode& m : kModes) {
      for (int ignore : {kNoIgnore, 1}) {
        CheckAgainstReference(c, m, ignore, /*from_bottom=*/false, dir.path(), seed++);
      }
    }
  }
}

TEST(InfogainLossLayerTest, MatchesReferenceWithMatrixFromBottom) {
  unsigned seed = 200;
  for (const Case& c : Cases()) {
    for (const Mode& m : kModes) {
      for (int ignore : {kNoIgnore, 2}) {
        CheckAgainstReference(c, m, ignore, /*from_bottom=*/true, "", seed++);
      }
    }
  }
}

TEST(InfogainLossLayerTest, IdentityMatrixIsSoftmaxWithLoss) {
  TempDir dir;
  const int c = 5;
  std::vector<float> identity(c * c, 0.f);
  for (int k = 0; k < c; ++k) identity[k * c + k] = 1.f;
  const std::string source = dir.file("identity.binaryproto");
  WriteMatrix(source, identity, c, false);
  Blob x({4, c, 3}), labels({4, 3}), loss_a, loss_b;
  FillGaussian(&x, 0, 1, 21);
  FillLabels(&labels, c, 0, 22);
  InfogainLossLayer infogain(Param(source, 1, "", 0));
  SoftmaxWithLossLayer softmax(LayerFromText(
      "name: 'loss' type: 'SoftmaxWithLoss' loss_param { ignore_label: 0 }"));
  infogain.SetUp({&x, &labels}, {&loss_a});
  softmax.SetUp({&x, &labels}, {&loss_b});
  infogain.Forward({&x, &labels}, {&loss_a});
  softmax.Forward({&x, &labels}, {&loss_b});
  EXPECT_NEAR(loss_a.cpu_data()[0], loss_b.cpu_data()[0], 1e-6);
  infogain.Backward({&loss_a}, {true, false}, {&x, &labels});
  const std::vector<float> da(x.cpu_diff(), x.cpu_diff() + x.count());
  softmax.Backward({&loss_b}, {true, false}, {&x, &labels});
  for (int i = 0; i < x.count(); ++i) ASSERT_NEAR(da[i], x.cpu_diff()[i], 1e-6) << i;
}

TEST(InfogainLossLayerTest, MatrixFromBottomMayChangeBetweenBatches) {
  const int c = 4;
  Blob x({5, c}), labels({5}), matrix({c, c}), loss;
  FillGaussian(&x, 0, 1, 23);
  FillLabels(&labels, c, kNoIgnore, 24);
  std::vector<float> h = RandomMatrix(c, 25);
  std::copy(h.begin(), h.end(), matrix.mutable_cpu_data());
  InfogainLossLayer layer(Param("", 1, "", kNoIgnore));
  layer.SetUp({&x, &labels, &matrix}, {&loss});
  layer.Forward({&x, &labels, &matrix}, {&loss});
  layer.Backward({&loss}, {true, false, false}, {&x, &labels, &matrix});
  h = RandomMatrix(c, 26);  // new row sums too
  for (float& v : h) v *= 3.f;
  std::copy(h.begin(), h.end(), matrix.mutable_cpu_data());
  layer.Forward({&x, &labels, &matrix}, {&loss});
  layer.Backward({&loss}, {true, false, false}, {&x, &labels, &matrix});
  const Reference r = ReferenceLoss(x, labels, h, 1, LossParameter::VALID, kNoIgnore);
  EXPECT_NEAR(loss.cpu_data()[0], r.loss, 1e-5 * std::max(1.0, r.loss));
  for (int i = 0; i < x.count(); ++i) ASSERT_NEAR(x.cpu_diff()[i], r.grad[i], 1e-5) << i;
}

TEST(InfogainLossLayerTest, Gradient) {
  TempDir dir;
  const std::vector<float> h = RandomMatrix(4, 27);
  const std::string source = dir.file("h.binaryproto");
  WriteMatrix(source, h, 4, false);
  for (const Mode& m : kModes) {
    for (int ignore : {kNoIgnore, 1}) {
      for (bool from_bottom : {false, true}) {
        Blob x({3, 4, 2}), labels({3, 2}), matrix({4, 4}), loss;
        FillGaussian(&x, 0, 1, 28);
        FillLabels(&labels, 4, ignore, 29);
        std::copy(h.begin(), h.end(), matrix.mutable_cpu_data());
        BlobVec bottom = {&x, &labels};
        if (from_bottom) bottom.push_back(&matrix);
        InfogainLossLayer layer(Param(from_bottom ? "" : source, 1, m.text, ignore));
        GradientChecker checker(1e-2f, 1e-2f, 1701);
        checker.CheckGradient(&layer, bottom, {&loss}, /*check_bottom=*/0);
      }
    }
  }
}

TEST(InfogainLossLayerTest, GradientAlongLastAxis) {
  Blob x({2, 3, 5}), labels({2, 3}), matrix({5, 5}), loss;
  FillGaussian(&x, 0, 1, 30);
  FillLabels(&labels, 5, kNoIgnore, 31);
  const std::vector<float> h = RandomMatrix(5, 32);
  std::copy(h.begin(), h.end(), matrix.mutable_cpu_data());
  InfogainLossLayer layer(Param("", -1, "", kNoIgnore));
  GradientChecker checker(1e-2f, 1e-2f, 1701);
  checker.CheckGradient(&layer, {&x, &labels, &matrix}, {&loss}, 0);
}

TEST(InfogainLossLayerTest, LossWeightScalesLossAndGradient) {
  Blob x({4, 3}), labels({4}), matrix({3, 3}), loss1, loss2;
  FillGaussian(&x, 0, 1, 33);
  FillLabels(&labels, 3, kNoIgnore, 34);
  const std::vector<float> h = RandomMatrix(3, 35);
  std::copy(h.begin(), h.end(), matrix.mutable_cpu_data());
  const BlobVec bottom = {&x, &labels, &matrix};
  InfogainLossLayer plain(Param("", 1, "", kNoIgnore));
  plain.SetUp(bottom, {&loss1});
  const float l1 = plain.Forward(bottom, {&loss1});
  plain.Backward({&loss1}, {true, false, false}, bottom);
  const std::vector<float> d1(x.cpu_diff(), x.cpu_diff() + x.count());
  InfogainLossLayer weighted(Param("", 1, "", kNoIgnore, "loss_weight: 1.5"));
  weighted.SetUp(bottom, {&loss2});
  EXPECT_FLOAT_EQ(weighted.Forward(bottom, {&loss2}), 1.5f * l1);
  weighted.Backward({&loss2}, {true, false, false}, bottom);
  for (int i = 0; i < x.count(); ++i) ASSERT_FLOAT_EQ(x.cpu_diff()[i], 1.5f * d1[i]) << i;
}

TEST(InfogainLossLayerTest, ProbabilityTop) {
  Blob x({3, 4, 2}), labels({3, 2}), matrix({4, 4}), loss, prob;
  FillGaussian(&x, 0, 1, 36);
  FillLabels(&labels, 4, kNoIgnore, 37);
  const std::vector<float> h = RandomMatrix(4, 38);
  std::copy(h.begin(), h.end(), matrix.mutable_cpu_data());
  caffe::LayerParameter param = Param("", 1, "", kNoIgnore);
  param.add_top("loss");
  param.add_top("prob");
  InfogainLossLayer layer(param);
  layer.SetUp({&x, &labels, &matrix}, {&loss, &prob});
  EXPECT_EQ(layer.loss(0), 1.f);
  EXPECT_EQ(layer.loss(1), 0.f);
  const float weighted = layer.Forward({&x, &labels, &matrix}, {&loss, &prob});
  EXPECT_FLOAT_EQ(weighted, loss.cpu_data()[0]);
  ASSERT_EQ(prob.shape(), x.shape());
  const Reference r = ReferenceLoss(x, labels, h, 1, LossParameter::VALID, kNoIgnore);
  for (int i = 0; i < x.count(); ++i) ASSERT_NEAR(prob.cpu_data()[i], r.prob[i], 1e-6) << i;
}

TEST(InfogainLossLayerTest, TinyProbabilityIsClampedAt1e20) {
  // H weighs only the wrong class, whose probability e^-200 underflows to 0 in float.
  Blob x({1, 2}), labels({1}), matrix({2, 2}), loss;
  x.mutable_cpu_data()[0] = 0.f;
  x.mutable_cpu_data()[1] = -200.f;
  labels.mutable_cpu_data()[0] = 0.f;
  const float h[] = {0.f, 1.f, 1.f, 0.f};
  std::copy(h, h + 4, matrix.mutable_cpu_data());
  InfogainLossLayer layer(Param("", 1, "", kNoIgnore));
  layer.SetUp({&x, &labels, &matrix}, {&loss});
  layer.Forward({&x, &labels, &matrix}, {&loss});
  EXPECT_NEAR(loss.cpu_data()[0], -std::log(1e-20), 1e-4);  // 46.0517
  layer.Backward({&loss}, {true, false, false}, {&x, &labels, &matrix});
  EXPECT_NEAR(x.cpu_diff()[0], 1.0, 1e-6);   // p0 · 1 − H[0][0]
  EXPECT_NEAR(x.cpu_diff()[1], -1.0, 1e-6);  // p1 · 1 − H[0][1]
}

TEST(InfogainLossLayerTest, AllIgnoredGivesZeroNotNaN) {
  Blob x({3, 4}), labels({3}), matrix({4, 4}), loss;
  FillGaussian(&x, 0, 1, 39);
  FillUniform(&matrix, 0.f, 1.f, 40);
  std::fill(labels.mutable_cpu_data(), labels.mutable_cpu_data() + 3, -1.f);
  InfogainLossLayer layer(Param("", 1, "VALID", -1));
  layer.SetUp({&x, &labels, &matrix}, {&loss});
  layer.Forward({&x, &labels, &matrix}, {&loss});
  EXPECT_EQ(loss.cpu_data()[0], 0.f);
  std::fill(x.mutable_cpu_diff(), x.mutable_cpu_diff() + x.count(), 9.f);
  layer.Backward({&loss}, {true, false, false}, {&x, &labels, &matrix});
  for (int i = 0; i < x.count(); ++i) ASSERT_EQ(x.cpu_diff()[i], 0.f);
}

// SetUp with scores {4, c} and 4 labels; H from `source` or, when `matrix_shape` is given,
// from a third bottom of that shape.
void SetUpWith(const caffe::LayerParameter& param, int c, const std::vector<int>& matrix_shape,
               const std::vector<int>& label_shape = {4}) {
  Blob x({4, c}), labels(label_shape), matrix(matrix_shape.empty() ? std::vector<int>{1}
                                                                   : matrix_shape),
      loss;
  BlobVec bottom = {&x, &labels};
  if (!matrix_shape.empty()) bottom.push_back(&matrix);
  InfogainLossLayer layer(param);
  layer.SetUp(bottom, {&loss});
}

TEST(InfogainLossLayerTest, MatrixSourceErrors) {
  TempDir dir;
  // No matrix at all.
  ExpectError([] { SetUpWith(Param("", 1, "", kNoIgnore), 3, {}); },
              ErrorCode::kInvalidArgument,
              {"Layer 'loss' (InfogainLoss)", "infogain_loss_param.source", "third bottom"});
  // A file that does not exist.
  const std::string missing = dir.file("missing.binaryproto");
  ExpectError([&] { SetUpWith(Param(missing, 1, "", kNoIgnore), 3, {}); }, ErrorCode::kIOError,
              {"Layer 'loss' (InfogainLoss)", "infogain_loss_param.source", missing});
  // A file that is not a BlobProto.
  const std::string garbage = dir.file("garbage.binaryproto");
  testing::WriteFile(garbage, std::string("\xff\xff\xff\xff not a proto", 17));
  ExpectError([&] { SetUpWith(Param(garbage, 1, "", kNoIgnore), 3, {}); },
              ErrorCode::kCorruption, {"Layer 'loss' (InfogainLoss)", garbage});
  // A BlobProto whose values do not fill its shape.
  const std::string short_file = dir.file("short.binaryproto");
  {
    caffe::BlobProto proto;
    for (int d : {3, 3}) proto.mutable_shape()->add_dim(d);
    proto.add_data(1.f);
    WriteBinaryProto(short_file, proto);
  }
  ExpectError([&] { SetUpWith(Param(short_file, 1, "", kNoIgnore), 3, {}); },
              ErrorCode::kCorruption, {"Layer 'loss' (InfogainLoss)", short_file});
  // A readable matrix of the wrong size, from the file and from a bottom.
  const std::string small = dir.file("small.binaryproto");
  WriteMatrix(small, RandomMatrix(3, 41), 3, false);
  ExpectError([&] { SetUpWith(Param(small, 1, "", kNoIgnore), 4, {}); },
              ErrorCode::kInvalidArgument,
              {"Layer 'loss' (InfogainLoss)", "4×4 infogain matrix", "1 1 3 3 (9)", small});
  ExpectError([] { SetUpWith(Param("", 1, "", kNoIgnore), 4, {3, 3}); },
              ErrorCode::kInvalidArgument,
              {"Layer 'loss' (InfogainLoss)", "4×4 infogain matrix", "3 3 (9)", "bottom 2"});
  // The right size in any shape is accepted; a source is not read when a bottom gives H.
  SetUpWith(Param("", 1, "", kNoIgnore), 4, {16});
  SetUpWith(Param(missing, 1, "", kNoIgnore), 4, {1, 1, 4, 4});
}

TEST(InfogainLossLayerTest, ParameterAndShapeErrors) {
  caffe::LayerParameter deprecated = Param("", 1, "", kNoIgnore);
  deprecated.mutable_loss_param()->set_normalize(true);
  ExpectError([&] { SetUpWith(deprecated, 3, {3, 3}); }, ErrorCode::kInvalidArgument,
              {"Layer 'loss' (InfogainLoss)", "loss_param.normalize"});
  ExpectError([] { SetUpWith(Param("", 2, "", kNoIgnore), 3, {3, 3}); },
              ErrorCode::kInvalidArgument,
              {"Layer 'loss' (InfogainLoss)", "infogain_loss_param.axis 2"});
  ExpectError([] { SetUpWith(Param("", 1, "", kNoIgnore), 3, {3, 3}, {4, 2}); },
              ErrorCode::kInvalidArgument,
              {"Layer 'loss' (InfogainLoss)", "need 4 labels", "4 2 (8)"});
  ExpectError([] { SetUpWith(Param("", 1, "", kNoIgnore), 3, {3, 3}, {2, 2}); },
              ErrorCode::kInvalidArgument, {"Layer 'loss' (InfogainLoss)"});
  ExpectError(
      [] {
        Blob x({4, 3}), labels({4}), loss, prob, extra;
        InfogainLossLayer layer(Param("", 1, "", kNoIgnore));
        layer.SetUp({&x, &labels}, {&loss, &prob, &extra});
      },
      ErrorCode::kInvalidArgument, {"Layer 'loss' (InfogainLoss)", "at most 2 top"});
}

TEST(InfogainLossLayerTest, LabelOutOfRangeIsError) {
  for (float bad : {3.f, -2.f}) {
    ExpectError(
        [bad] {
          Blob x({4, 3}), labels({4}), matrix({3, 3}), loss;
          FillLabels(&labels, 3, kNoIgnore, 42);
          labels.mutable_cpu_data()[3] = bad;
          InfogainLossLayer layer(Param("", 1, "", -1));
          layer.SetUp({&x, &labels, &matrix}, {&loss});
          layer.Forward({&x, &labels, &matrix}, {&loss});
        },
        ErrorCode::kInvalidArgument,
        {"Layer 'loss' (InfogainLoss)", "position 3", "[0, 3)", "ignore_label -1"});
  }
}

TEST(InfogainLossLayerTest, LabelsAndMatrixTakeNoGradient) {
  Blob x({2, 3}), labels({2}), matrix({3, 3}), loss;
  FillUniform(&matrix, 0.f, 1.f, 43);
  const BlobVec bottom = {&x, &labels, &matrix};
  InfogainLossLayer layer(Param("", 1, "", kNoIgnore));
  layer.SetUp(bottom, {&loss});
  layer.Forward(bottom, {&loss});
  ExpectError([&] { layer.Backward({&loss}, {true, true, false}, bottom); },
              ErrorCode::kInvalidArgument, {"Layer 'loss' (InfogainLoss)", "labels"});
  ExpectError([&] { layer.Backward({&loss}, {true, false, true}, bottom); },
              ErrorCode::kInvalidArgument, {"Layer 'loss' (InfogainLoss)", "infogain matrix"});
  EXPECT_TRUE(layer.AllowForceBackward(0));
  EXPECT_FALSE(layer.AllowForceBackward(1));
  EXPECT_FALSE(layer.AllowForceBackward(2));
}

TEST(InfogainLossLayerTest, Registered) {
  std::unique_ptr<Layer> layer = LayerRegistry::Global().Create(Param("", 1, "", kNoIgnore));
  EXPECT_STREQ(layer->type(), "InfogainLoss");
}

}  // namespace
}  // namespace crema
