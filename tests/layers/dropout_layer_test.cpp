#include "crema/layers/dropout_layer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "crema/core/rng.h"
#include "gradient_checker.h"
#include "test_helpers.h"

namespace crema {
namespace {

using testing::FillUniform;
using testing::GradientChecker;
using testing::LayerFromText;

caffe::LayerParameter DropoutParam(const std::string& phase, const std::string& ratio = "") {
  return LayerFromText("name: 'drop' type: 'Dropout' phase: " + phase +
                       (ratio.empty() ? "" : " dropout_param { dropout_ratio: " + ratio + " }"));
}

std::string ErrorOf(const caffe::LayerParameter& param) {
  Blob x({4}), y;
  DropoutLayer layer(param);
  try {
    layer.SetUp({&x}, {&y});
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(DropoutLayerTest, TrainZeroesAboutPAndScalesTheRest) {
  for (float p : {0.5f, 0.2f, 0.8f}) {
    Blob x({100, 1000}), y;
    FillUniform(&x, 1.f, 2.f, 31);  // strictly positive, so a zero output means dropped
    DropoutLayer layer(DropoutParam("TRAIN", std::to_string(p)));
    layer.SetUp({&x}, {&y});
    SetRandomSeed(5);
    layer.Forward({&x}, {&y});
    int zeros = 0;
    for (int i = 0; i < x.count(); ++i) {
      const float out = y.cpu_data()[i];
      if (out == 0.f) {
        ++zeros;
      } else {
        ASSERT_FLOAT_EQ(out, x.cpu_data()[i] / (1.f - p)) << i;
      }
    }
    // 100000 Bernoulli draws: standard deviation of the fraction is at most 0.0016.
    EXPECT_NEAR(static_cast<double>(zeros) / x.count(), p, 0.01) << "p = " << p;
  }
}

TEST(DropoutLayerTest, DefaultRatioIsHalf) {
  Blob x({10000}), y;
  FillUniform(&x, 1.f, 2.f, 32);
  DropoutLayer layer(DropoutParam("TRAIN"));
  layer.SetUp({&x}, {&y});
  layer.Forward({&x}, {&y});
  int zeros = 0;
  for (int i = 0; i < x.count(); ++i) zeros += y.cpu_data()[i] == 0.f;
  EXPECT_NEAR(zeros / 10000.0, 0.5, 0.03);
  for (int i = 0; i < x.count(); ++i) {
    if (y.cpu_data()[i] != 0.f) {
      ASSERT_FLOAT_EQ(y.cpu_data()[i], 2.f * x.cpu_data()[i]);
    }
  }
}

TEST(DropoutLayerTest, MaskChangesBetweenIterations) {
  Blob x({1000}), y;
  FillUniform(&x, 1.f, 2.f, 33);
  DropoutLayer layer(DropoutParam("TRAIN"));
  layer.SetUp({&x}, {&y});
  layer.Forward({&x}, {&y});
  std::vector<float> first(y.cpu_data(), y.cpu_data() + y.count());
  layer.Forward({&x}, {&y});
  EXPECT_FALSE(std::equal(first.begin(), first.end(), y.cpu_data()));
}

TEST(DropoutLayerTest, SkipBatchesGoesOnWithTheMasksOfTheSkippedPasses) {
  // Three passes in a row equal two skipped passes and one run: what a resumed run relies on.
  Blob x({500}), straight, resumed;
  FillUniform(&x, 1.f, 2.f, 34);
  DropoutLayer a(DropoutParam("TRAIN")), b(DropoutParam("TRAIN"));
  SetRandomSeed(12);
  a.SetUp({&x}, {&straight});
  for (int pass = 0; pass < 3; ++pass) a.Forward({&x}, {&straight});
  SetRandomSeed(12);
  b.SetUp({&x}, {&resumed});
  b.SkipBatches(2);
  b.Forward({&x}, {&resumed});
  for (int i = 0; i < x.count(); ++i) ASSERT_EQ(straight.cpu_data()[i], resumed.cpu_data()[i]) << i;
  // Not a mask that ignores the passes: one pass fewer gives another.
  SetRandomSeed(12);
  b.SkipBatches(1);
  b.Forward({&x}, {&resumed});
  EXPECT_FALSE(std::equal(straight.cpu_data(), straight.cpu_data() + x.count(), resumed.cpu_data()));
}

TEST(DropoutLayerTest, TestPhaseIsIdentity) {
  Blob x({3, 50}), y;
  FillUniform(&x, -1.f, 1.f, 34);
  DropoutLayer layer(DropoutParam("TEST", "0.7"));
  layer.SetUp({&x}, {&y});
  layer.Forward({&x}, {&y});
  for (int i = 0; i < x.count(); ++i) ASSERT_EQ(y.cpu_data()[i], x.cpu_data()[i]);
  FillUniform(&y, -1.f, 1.f, 35);
  std::copy(y.cpu_data(), y.cpu_data() + y.count(), y.mutable_cpu_diff());
  layer.Backward({&y}, {true}, {&x});
  for (int i = 0; i < x.count(); ++i) ASSERT_EQ(x.cpu_diff()[i], y.cpu_diff()[i]);
}

TEST(DropoutLayerTest, ZeroRatioKeepsEverything) {
  Blob x({500}), y;
  FillUniform(&x, -1.f, 1.f, 36);
  DropoutLayer layer(DropoutParam("TRAIN", "0"));
  layer.SetUp({&x}, {&y});
  layer.Forward({&x}, {&y});
  for (int i = 0; i < x.count(); ++i) ASSERT_EQ(y.cpu_data()[i], x.cpu_data()[i]);
}

TEST(DropoutLayerTest, BackwardUsesTheForwardMask) {
  Blob x({2000}), y;
  FillUniform(&x, 1.f, 2.f, 37);
  DropoutLayer layer(DropoutParam("TRAIN", "0.3"));
  layer.SetUp({&x}, {&y});
  layer.Forward({&x}, {&y});
  float* dy = y.mutable_cpu_diff();
  for (int i = 0; i < y.count(); ++i) dy[i] = 1.f + 0.001f * static_cast<float>(i);
  layer.Backward({&y}, {true}, {&x});
  for (int i = 0; i < x.count(); ++i) {
    const bool kept = y.cpu_data()[i] != 0.f;
    ASSERT_FLOAT_EQ(x.cpu_diff()[i], kept ? dy[i] / 0.7f : 0.f) << i;
  }
}

TEST(DropoutLayerTest, Gradient) {
  Blob x({2, 3, 4, 5}), y;
  FillUniform(&x, -1.f, 1.f, 38);
  DropoutLayer layer(DropoutParam("TRAIN", "0.4"));
  GradientChecker checker(1e-2f, 1e-3f);  // reseeds before each Forward: a fixed mask
  checker.CheckGradientEltwise(&layer, {&x}, {&y});
}

TEST(DropoutLayerTest, InPlaceMatchesOutOfPlace) {
  for (const char* phase : {"TRAIN", "TEST"}) {
    Blob x({4, 100}), y, inplace({4, 100});
    FillUniform(&x, -1.f, 1.f, 39);
    std::copy(x.cpu_data(), x.cpu_data() + x.count(), inplace.mutable_cpu_data());
    DropoutLayer separate(DropoutParam(phase)), same(DropoutParam(phase));
    separate.SetUp({&x}, {&y});
    same.SetUp({&inplace}, {&inplace});
    SetRandomSeed(9);
    separate.Forward({&x}, {&y});
    SetRandomSeed(9);
    same.Forward({&inplace}, {&inplace});
    for (int i = 0; i < x.count(); ++i) ASSERT_EQ(inplace.cpu_data()[i], y.cpu_data()[i]);
    Blob grad({4, 100});
    FillUniform(&grad, -1.f, 1.f, 40);
    std::copy(grad.cpu_data(), grad.cpu_data() + grad.count(), y.mutable_cpu_diff());
    std::copy(grad.cpu_data(), grad.cpu_data() + grad.count(), inplace.mutable_cpu_diff());
    separate.Backward({&y}, {true}, {&x});
    same.Backward({&inplace}, {true}, {&inplace});
    for (int i = 0; i < x.count(); ++i) ASSERT_EQ(inplace.cpu_diff()[i], x.cpu_diff()[i]) << i;
  }
}

TEST(DropoutLayerTest, ReshapeToLargerBatch) {
  Blob x({2, 10}), y;
  FillUniform(&x, 1.f, 2.f, 41);
  DropoutLayer layer(DropoutParam("TRAIN"));
  layer.SetUp({&x}, {&y});
  layer.Forward({&x}, {&y});
  x.Reshape({50, 10});
  FillUniform(&x, 1.f, 2.f, 42);
  layer.Forward({&x}, {&y});
  ASSERT_EQ(y.count(), 500);
  for (int i = 0; i < y.count(); ++i) {
    const float out = y.cpu_data()[i];
    ASSERT_TRUE(out == 0.f || out == 2.f * x.cpu_data()[i]) << i;
  }
}

TEST(DropoutLayerTest, BadRatioIsError) {
  for (const char* ratio : {"1", "1.5", "-0.1", "nan"}) {
    const std::string message = ErrorOf(DropoutParam("TRAIN", ratio));
    EXPECT_NE(message.find("Layer 'drop' (Dropout)"), std::string::npos)
        << ratio << ": " << message;
    EXPECT_NE(message.find("dropout_ratio"), std::string::npos) << message;
  }
}

}  // namespace
}  // namespace crema
