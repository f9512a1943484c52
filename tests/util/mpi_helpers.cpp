#include "mpi_helpers.h"

namespace crema::testing {

std::string MpirunPrefix(int ranks) {
  return "env OMP_NUM_THREADS=1 mpirun --allow-run-as-root --oversubscribe --mca btl self,vader -np " +
         std::to_string(ranks) + " ";
}

CommandResult MpiCrema(int ranks, const std::string& arguments) {
  CommandResult result;
  result.status = RunCommand(MpirunPrefix(ranks) + CremaBinary() + " " + arguments, &result.output);
  return result;
}

}  // namespace crema::testing
