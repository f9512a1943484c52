// The job this process belongs to, set up once by main before any command runs.
#ifndef CREMA_TOOLS_JOB_H_
#define CREMA_TOOLS_JOB_H_

#include <string>

#include "crema/dist/communicator.h"

namespace crema::tools {

// Applies -connection to MPI's environment, joins the job when an MPI launcher started this
// process (else rank 0 of 1), publishes the rank to the data layers (core/rank.h), keeps INFO
// logs to rank 0, and gives each rank its share of this host's cores unless -threads or
// OMP_NUM_THREADS says otherwise. Throws crema::Error for bad flags. When the ranks do not
// all join within -startup_timeout, writes `message_prefix` and the reason to stderr and
// exits 1.
void StartJob(const std::string& message_prefix);
// REQUIRES: StartJob() ran.
Communicator& Job();
bool JobStarted();
// Leaves the job (MPI_Finalize when this process initialised MPI).
void EndJob();

}  // namespace crema::tools

#endif  // CREMA_TOOLS_JOB_H_
