// The table of solver types. Adding a solver = one line here.
#include <functional>
#include <map>

#include "crema/core/error.h"
#include "crema/solver/sgd_solver.h"
#include "crema/solver/solver.h"

namespace crema {

std::unique_ptr<Solver> CreateSolver(const caffe::SolverParameter& param) {
  using Creator = std::function<std::unique_ptr<Solver>(const caffe::SolverParameter&)>;
  static const std::map<std::string, Creator> kSolvers = {
      {"SGD", [](const caffe::SolverParameter& p) { return std::make_unique<SgdSolver>(p); }},
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
