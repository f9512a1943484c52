#include "crema/core/filler.h"

#include <gtest/gtest.h>
#include <google/protobuf/text_format.h>

#include <cmath>

#include "crema/core/rng.h"
#include "crema/proto/caffe.pb.h"
#include "test_helpers.h"

namespace crema {
namespace {

caffe::FillerParameter Filler(const std::string& text) {
  caffe::FillerParameter param;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &param)) << text;
  return param;
}

struct Moments {
  double mean = 0, stddev = 0, min = 1e30, max = -1e30;
  int zeros = 0;
};

Moments Measure(const Blob& blob) {
  Moments m;
  const float* x = blob.cpu_data();
  for (int i = 0; i < blob.count(); ++i) {
    m.mean += x[i];
    m.min = std::min<double>(m.min, x[i]);
    m.max = std::max<double>(m.max, x[i]);
    m.zeros += x[i] == 0.f;
  }
  m.mean /= blob.count();
  for (int i = 0; i < blob.count(); ++i) m.stddev += (x[i] - m.mean) * (x[i] - m.mean);
  m.stddev = std::sqrt(m.stddev / blob.count());
  return m;
}

TEST(FillerTest, DefaultIsConstantZero) {
  // A Caffe layer without weight_filler starts from zeros.
  Blob blob({4, 5});
  blob.mutable_cpu_data()[3] = 7.f;
  FillBlob(caffe::FillerParameter(), &blob);
  EXPECT_EQ(Measure(blob).zeros, 20);
  FillBlob(Filler("type: 'constant' value: 2.5"), &blob);
  EXPECT_EQ(Measure(blob).min, 2.5);
  EXPECT_EQ(Measure(blob).max, 2.5);
}

TEST(FillerTest, UniformStaysInRange) {
  SetRandomSeed(1);
  Blob blob({100, 100});
  FillBlob(Filler("type: 'uniform' min: -3 max: 1"), &blob);
  const Moments m = Measure(blob);
  EXPECT_GE(m.min, -3);
  EXPECT_LT(m.max, 1);
  EXPECT_NEAR(m.mean, -1, 0.05);
}

TEST(FillerTest, GaussianMoments) {
  SetRandomSeed(2);
  Blob blob({200, 100});
  FillBlob(Filler("type: 'gaussian' mean: 1 std: 0.5"), &blob);
  const Moments m = Measure(blob);
  EXPECT_NEAR(m.mean, 1, 0.02);
  EXPECT_NEAR(m.stddev, 0.5, 0.02);
}

TEST(FillerTest, SparseGaussianKeepsSparseOverOutputs) {
  SetRandomSeed(3);
  Blob blob({20, 1000});
  FillBlob(Filler("type: 'gaussian' std: 1 sparse: 5"), &blob);  // keep 5/20 = 1/4
  EXPECT_NEAR(Measure(blob).zeros / 20000.0, 0.75, 0.02);
}

TEST(FillerTest, PositiveUnitballRowsSumToOne) {
  SetRandomSeed(4);
  Blob blob({6, 2, 3});
  FillBlob(Filler("type: 'positive_unitball'"), &blob);
  for (int r = 0; r < 6; ++r) {
    double sum = 0;
    for (int j = 0; j < 6; ++j) {
      EXPECT_GE(blob.cpu_data()[r * 6 + j], 0.f);
      sum += blob.cpu_data()[r * 6 + j];
    }
    EXPECT_NEAR(sum, 1, 1e-5);
  }
}

TEST(FillerTest, XavierScalesByTheChosenFan) {
  // count 40000, shape (100, 50, 2, 4): fan_in = 400, fan_out = 800.
  for (const auto& [norm, n] : {std::pair<std::string, double>{"FAN_IN", 400},
                                {"FAN_OUT", 800},
                                {"AVERAGE", 600}}) {
    SetRandomSeed(5);
    Blob blob({100, 50, 2, 4});
    FillBlob(Filler("type: 'xavier' variance_norm: " + norm), &blob);
    const Moments m = Measure(blob);
    const double a = std::sqrt(3 / n);
    EXPECT_GE(m.min, -a) << norm;
    EXPECT_LE(m.max, a) << norm;
    EXPECT_NEAR(m.stddev, a / std::sqrt(3.0), 0.02 * a) << norm;
  }
}

TEST(FillerTest, MsraStandardDeviation) {
  SetRandomSeed(6);
  Blob blob({100, 50, 2, 4});
  FillBlob(Filler("type: 'msra'"), &blob);
  EXPECT_NEAR(Measure(blob).stddev, std::sqrt(2.0 / 400), 0.002);
}

TEST(FillerTest, BilinearKernel) {
  // A 4x4 kernel (factor 2 upsampling): 1-D weights 0.25 0.75 0.75 0.25.
  Blob blob({1, 1, 4, 4});
  FillBlob(Filler("type: 'bilinear'"), &blob);
  const float w[4] = {0.25f, 0.75f, 0.75f, 0.25f};
  for (int y = 0; y < 4; ++y) {
    for (int x = 0; x < 4; ++x) EXPECT_FLOAT_EQ(blob.cpu_data()[y * 4 + x], w[y] * w[x]);
  }
  Blob not_square({1, 1, 3, 4});
  testing::ExpectError([&] { FillBlob(Filler("type: 'bilinear'"), &not_square, "conv"); },
                       ErrorCode::kInvalidArgument, {"conv", "square"});
}

TEST(FillerTest, UnknownTypeNamesTheOwner) {
  Blob blob({2});
  testing::ExpectError(
      [&] { FillBlob(Filler("type: 'orthogonal'"), &blob, "Layer 'ip' (InnerProduct) weight_filler"); },
      ErrorCode::kInvalidArgument, {"Layer 'ip' (InnerProduct) weight_filler", "orthogonal", "xavier"});
}

}  // namespace
}  // namespace crema
