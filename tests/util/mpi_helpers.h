// Running the `crema` binary as a real MPI job in tests.
#ifndef CREMA_TESTS_UTIL_MPI_HELPERS_H_
#define CREMA_TESTS_UTIL_MPI_HELPERS_H_

#include <string>

#include "test_helpers.h"

namespace crema::testing {

// `mpirun -np ranks crema arguments`, one compute thread per rank, shared memory between
// the ranks, oversubscription allowed (2-core machines run 3 or 4 ranks).
CommandResult MpiCrema(int ranks, const std::string& arguments);

// The mpirun prefix MpiCrema uses, for tests that build their own command line.
std::string MpirunPrefix(int ranks);

}  // namespace crema::testing

#endif  // CREMA_TESTS_UTIL_MPI_HELPERS_H_
