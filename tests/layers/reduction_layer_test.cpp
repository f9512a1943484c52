#include "crema/layers/reduction_layer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "crema/layers/registry.h"
#include "gradient_checker.h"
#include "test_helpers.h"

namespace crema {
namespace {

using testing::ExpectError;
using testing::FillUniform;
using testing::LayerFromText;

const char* const kOps[] = {"SUM", "ASUM", "SUMSQ", "MEAN"};

caffe::LayerParameter ReductionParam(const std::string& op, int axis, float coeff) {
  return LayerFromText("name: 'reduce' type: 'Reduction' reduction_param { operation: " + op +
                       " axis: " + std::to_string(axis) + " coeff: " + std::to_string(coeff) +
                       " }");
}

TEST(ReductionLayerTest, IsRegistered) {
  EXPECT_STREQ(LayerRegistry::Global()
                   .Create(LayerFromText("name: 'r' type: 'Reduction'"))
                   ->type(),
               "Reduction");
}

TEST(ReductionLayerTest, DefaultsSumEverything) {
  Blob x({2, 3}), y;
  FillUniform(&x, -1.f, 1.f, 90);
  ReductionLayer layer(LayerFromText("name: 'r' type: 'Reduction'"));
  layer.SetUp({&x}, {&y});
  layer.Forward({&x}, {&y});
  EXPECT_EQ(y.num_axes(), 0);
  double sum = 0;
  for (int i = 0; i < 6; ++i) sum += x.cpu_data()[i];
  EXPECT_NEAR(y.cpu_data()[0], sum, 1e-5);
}

TEST(ReductionLayerTest, ForwardMatchesFormula) {
  const std::vector<int> shape{2, 3, 4, 5};
  for (const char* op : kOps) {
    for (int axis : {0, 1, 2, -1}) {
      for (float coeff : {1.f, 2.5f, -0.5f}) {
        SCOPED_TRACE(std::string(op) + " axis " + std::to_string(axis) + " coeff " +
                     std::to_string(coeff));
        const int a = axis < 0 ? axis + 4 : axis;
        Blob x(shape), y;
        FillUniform(&x, -1.f, 1.f, 91);
        ReductionLayer layer(ReductionParam(op, axis, coeff));
        layer.SetUp({&x}, {&y});
        ASSERT_EQ(y.shape(), std::vector<int>(shape.begin(), shape.begin() + a));
        layer.Forward({&x}, {&y});
        const int m_count = x.count(0, a), d = x.count(a);
        for (int m = 0; m < m_count; ++m) {
          double r = 0;
          for (int i = 0; i < d; ++i) {
            const double v = x.cpu_data()[m * d + i];
            const std::string o = op;
            r += o == "ASUM" ? std::fabs(v) : o == "SUMSQ" ? v * v : v;
          }
          if (std::string(op) == "MEAN") r /= d;
          r *= coeff;
          ASSERT_NEAR(y.cpu_data()[m], r, 1e-5 * (1 + std::fabs(r))) << "m " << m;
        }
      }
    }
  }
}

TEST(ReductionLayerTest, Gradient) {
  for (const char* op : kOps) {
    for (int axis : {0, 1, 2}) {
      for (float coeff : {1.f, -1.5f}) {
        SCOPED_TRACE(std::string(op) + " axis " + std::to_string(axis) + " coeff " +
                     std::to_string(coeff));
        Blob x({2, 3, 2, 2}), y;
        FillUniform(&x, -1.f, 1.f, 92);
        ReductionLayer layer(ReductionParam(op, axis, coeff));
        // |x| has a kink at 0: points closer than the step are skipped.
        testing::GradientChecker checker(1e-2f, 1e-2f, 1701, 0.f, 0.02f);
        checker.CheckGradient(&layer, {&x}, {&y});
      }
    }
  }
}

TEST(ReductionLayerTest, AsumGradientIsZeroAtZero) {
  Blob x({3}), y;
  x.mutable_cpu_data()[0] = 0.f;
  x.mutable_cpu_data()[1] = -2.f;
  x.mutable_cpu_data()[2] = 3.f;
  ReductionLayer layer(ReductionParam("ASUM", 0, 2.f));
  layer.SetUp({&x}, {&y});
  layer.Forward({&x}, {&y});
  EXPECT_EQ(y.cpu_data()[0], 10.f);
  y.mutable_cpu_diff()[0] = 1.f;
  layer.Backward({&y}, {true}, {&x});
  EXPECT_EQ(x.cpu_diff()[0], 0.f);
  EXPECT_EQ(x.cpu_diff()[1], -2.f);
  EXPECT_EQ(x.cpu_diff()[2], 2.f);
}

TEST(ReductionLayerTest, BadAxisNamesTheLayer) {
  for (int axis : {2, -3}) {
    Blob x({2, 3}), y;
    ReductionLayer layer(ReductionParam("SUM", axis, 1.f));
    ExpectError([&] { layer.SetUp({&x}, {&y}); }, ErrorCode::kInvalidArgument,
                {"Layer 'reduce' (Reduction)", "axis " + std::to_string(axis)});
  }
}

}  // namespace
}  // namespace crema
