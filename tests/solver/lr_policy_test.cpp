#include "crema/solver/lr_policy.h"

#include <gtest/gtest.h>

#include <cmath>

#include "crema/core/error.h"
#include <google/protobuf/text_format.h>

#include "test_helpers.h"

namespace crema {
namespace {

caffe::SolverParameter Solver(const std::string& text) {
  caffe::SolverParameter param;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &param));
  return param;
}

TEST(LrPolicyTest, LeNetInvAtIteration100) {
  // The value Caffe's LeNet example logs at iteration 100.
  const auto param = Solver("base_lr: 0.01 lr_policy: 'inv' gamma: 0.0001 power: 0.75");
  int step = 0;
  EXPECT_NEAR(LearningRate(param, 100, &step), 0.00992565, 5e-9);
  EXPECT_FLOAT_EQ(LearningRate(param, 0, &step), 0.01f);
}

TEST(LrPolicyTest, Fixed) {
  const auto param = Solver("base_lr: 0.5 lr_policy: 'fixed'");
  int step = 0;
  EXPECT_FLOAT_EQ(LearningRate(param, 12345, &step), 0.5f);
}

TEST(LrPolicyTest, StepSetsCurrentStep) {
  const auto param = Solver("base_lr: 1 lr_policy: 'step' gamma: 0.1 stepsize: 3");
  int step = 0;
  EXPECT_FLOAT_EQ(LearningRate(param, 2, &step), 1.f);
  EXPECT_EQ(step, 0);
  EXPECT_FLOAT_EQ(LearningRate(param, 3, &step), 0.1f);
  EXPECT_FLOAT_EQ(LearningRate(param, 7, &step), 0.01f);
  EXPECT_EQ(step, 2);
}

TEST(LrPolicyTest, Exp) {
  const auto param = Solver("base_lr: 2 lr_policy: 'exp' gamma: 0.5");
  int step = 0;
  EXPECT_FLOAT_EQ(LearningRate(param, 3, &step), 0.25f);
}

TEST(LrPolicyTest, MultistepAdvancesStatefully) {
  const auto param =
      Solver("base_lr: 1 lr_policy: 'multistep' gamma: 0.5 stepvalue: 2 stepvalue: 4");
  int step = 0;
  std::vector<float> rates;
  for (int iter = 0; iter < 6; ++iter) rates.push_back(LearningRate(param, iter, &step));
  EXPECT_EQ(rates, (std::vector<float>{1, 1, 0.5f, 0.5f, 0.25f, 0.25f}));
  EXPECT_EQ(step, 2);
  // A restored current_step continues from where it was.
  int restored = 1;
  EXPECT_FLOAT_EQ(LearningRate(param, 3, &restored), 0.5f);
}

TEST(LrPolicyTest, Poly) {
  const auto param = Solver("base_lr: 1 lr_policy: 'poly' power: 2 max_iter: 10");
  int step = 0;
  EXPECT_FLOAT_EQ(LearningRate(param, 5, &step), 0.25f);
  EXPECT_FLOAT_EQ(LearningRate(param, 10, &step), 0.f);
}

TEST(LrPolicyTest, Sigmoid) {
  const auto param = Solver("base_lr: 1 lr_policy: 'sigmoid' gamma: 0.5 stepsize: 10");
  int step = 0;
  EXPECT_FLOAT_EQ(LearningRate(param, 10, &step), 0.5f);
  EXPECT_NEAR(LearningRate(param, 12, &step), 1 / (1 + std::exp(-1.0)), 1e-7);
}

TEST(LrPolicyTest, InvalidPoliciesAreRejected) {
  EXPECT_THROW(ValidateLearningRatePolicy(Solver("lr_policy: 'cosine'")), Error);
  EXPECT_THROW(ValidateLearningRatePolicy(Solver("base_lr: 1")), Error);
  EXPECT_THROW(ValidateLearningRatePolicy(Solver("lr_policy: 'step'")), Error);
  EXPECT_THROW(ValidateLearningRatePolicy(Solver("lr_policy: 'poly' power: 1")), Error);
  EXPECT_THROW(ValidateLearningRatePolicy(
                   Solver("lr_policy: 'multistep' stepvalue: 5 stepvalue: 3")),
               Error);
  try {
    ValidateLearningRatePolicy(Solver("lr_policy: 'cosine'"));
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("unknown lr_policy \"cosine\""), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("multistep"), std::string::npos);
  }
}

}  // namespace
}  // namespace crema
