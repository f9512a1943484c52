// Interim: replaced by the full upgrade chain.
#include "crema/io/upgrade.h"
namespace crema {
bool UpgradeNetAsNeeded(const std::string&, caffe::NetParameter*) { return false; }
bool UpgradeSolverAsNeeded(const std::string&, caffe::SolverParameter*) { return false; }
}  // namespace crema
