#include "crema/solver/lr_policy.h"

#include <cmath>

#include "crema/core/error.h"

namespace crema {

void ValidateLearningRatePolicy(const caffe::SolverParameter& param) {
  const std::string& policy = param.lr_policy();
  if (policy == "fixed" || policy == "exp" || policy == "inv" || policy == "sigmoid") return;
  if (policy == "step") {
    CREMA_REQUIRE(param.stepsize() > 0, "lr_policy \"step\" needs stepsize > 0, got ",
                  param.stepsize());
    return;
  }
  if (policy == "multistep") {
    for (int i = 1; i < param.stepvalue_size(); ++i) {
      CREMA_REQUIRE(param.stepvalue(i) > param.stepvalue(i - 1),
                    "lr_policy \"multistep\" needs increasing stepvalue entries, got ",
                    param.stepvalue(i - 1), " then ", param.stepvalue(i));
    }
    return;
  }
  if (policy == "poly") {
    CREMA_REQUIRE(param.max_iter() > 0, "lr_policy \"poly\" needs max_iter > 0");
    return;
  }
  throw InvalidArgument(StrCat(policy.empty() ? "the solver sets no lr_policy"
                                              : StrCat("unknown lr_policy \"", policy, "\""),
                               " (known: fixed, step, exp, inv, multistep, poly, sigmoid)"));
}

float LearningRate(const caffe::SolverParameter& param, int iter, int* current_step) {
  const std::string& policy = param.lr_policy();
  const double base = param.base_lr();
  const double gamma = param.gamma();
  const double it = iter;
  double rate = base;
  if (policy == "step") {
    *current_step = iter / param.stepsize();
    rate = base * std::pow(gamma, *current_step);
  } else if (policy == "exp") {
    rate = base * std::pow(gamma, it);
  } else if (policy == "inv") {
    rate = base * std::pow(1.0 + gamma * it, -static_cast<double>(param.power()));
  } else if (policy == "multistep") {
    if (*current_step < param.stepvalue_size() && iter >= param.stepvalue(*current_step)) {
      ++*current_step;
    }
    rate = base * std::pow(gamma, *current_step);
  } else if (policy == "poly") {
    rate = base * std::pow(1.0 - it / param.max_iter(), static_cast<double>(param.power()));
  } else if (policy == "sigmoid") {
    rate = base / (1.0 + std::exp(-gamma * (it - param.stepsize())));
  }
  return static_cast<float>(rate);
}

}  // namespace crema
