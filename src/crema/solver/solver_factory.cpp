// The table of solver types. Adding a solver = one line here.
#include <functional>
#include <map>

#include "crema/core/error.h"
#include "crema/io/upgrade.h"
#include "crema/solver/adadelta_solver.h"
#include "crema/solver/adagrad_solver.h"
#include "crema/solver/adam_solver.h"
#include "crema/solver/nesterov_solver.h"
#include "crema/solver/rmsprop_solver.h"
#include "crema/solver/sgd_solver.h"
#include "crema/solver/solver.h"

namespace crema {

namespace {

template <typename SolverType>
std::unique_ptr<Solver> Make(const caffe::SolverParameter& param) {
  return std::make_unique<SolverType>(param);
}

}  // namespace

std::unique_ptr<Solver> CreateSolver(const caffe::SolverParameter& param) {
  // Files are upgraded when read; a message built in code may still carry the enum.
  if (SolverNeedsTypeUpgrade(param)) {
    caffe::SolverParameter upgraded = param;
    UpgradeSolverAsNeeded("the solver parameters", &upgraded);
    return CreateSolver(upgraded);
  }
  using Creator = std::unique_ptr<Solver> (*)(const caffe::SolverParameter&);
  static const std::map<std::string, Creator> kSolvers = {
      {"AdaDelta", &Make<AdaDeltaSolver>}, {"AdaGrad", &Make<AdaGradSolver>},
      {"Adam", &Make<AdamSolver>},         {"Nesterov", &Make<NesterovSolver>},
      {"RMSProp", &Make<RmsPropSolver>},   {"SGD", &Make<SgdSolver>},
  };
  auto it = kSolvers.find(param.type());
  if (it == kSolvers.end()) {
    std::string known;
    for (const auto& [name, creator] : kSolvers) known += (known.empty() ? "" : ", ") + name;
    throw InvalidArgument(StrCat("unknown solver type \"", param.type(), "\" (known: ", known, ")"));
  }
  return it->second(param);
}

}  // namespace crema
