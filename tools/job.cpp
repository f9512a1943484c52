#include "job.h"

#include <gflags/gflags.h>
#include <glog/logging.h>
#include <omp.h>

#include <sched.h>

#include <cstdlib>
#include <memory>
#include <thread>

#include "commands.h"
#include "crema/core/error.h"
#include "crema/core/rank.h"

namespace crema::tools {

namespace {

std::unique_ptr<Communicator> g_job;

// -connection → Open MPI's component selection, unless the user set it already.
// ethernet: the ob1 messaging layer over TCP between hosts and shared memory within one;
// infiniband: UCX (InfiniBand or RoCE RDMA, shared memory within a host); auto: MPI's choice.
void ApplyConnection(const std::string& connection) {
  if (connection == "auto" || connection.empty()) return;
  if (connection == "ethernet") {
    setenv("OMPI_MCA_pml", "ob1", /*overwrite=*/0);
    setenv("OMPI_MCA_btl", "tcp,vader,self", 0);
    return;
  }
  if (connection == "infiniband") {
    setenv("OMPI_MCA_pml", "ucx", 0);
    setenv("OMPI_MCA_osc", "ucx", 0);
    return;
  }
  throw InvalidArgument(StrCat("-connection must be ethernet, infiniband or auto, got '",
                               connection, "'"));
}

}  // namespace

void StartJob(const std::string& message_prefix) {
  ApplyConnection(FLAGS_connection);
  Communicator::Options options;
  options.timeout_seconds = FLAGS_sync_timeout;
  options.startup_timeout_seconds = FLAGS_startup_timeout;
  options.message_prefix = message_prefix;
  g_job = Communicator::Create(options);
  SetRankInfo({g_job->rank(), g_job->world_size(), FLAGS_global_batch});
  if (g_job->rank() != 0) FLAGS_minloglevel = std::max(FLAGS_minloglevel, 1);  // rank 0 speaks

  CREMA_REQUIRE(FLAGS_threads >= 0, "-threads must be non-negative, got ", FLAGS_threads);
  if (FLAGS_threads > 0) {
    omp_set_num_threads(FLAGS_threads);
  } else if (std::getenv("OMP_NUM_THREADS") == nullptr) {
    // The cores this process may run on: those the launcher bound it to (mpirun, srun), else
    // the host's, split between the ranks on it. Oversubscribed OpenMP threads spin against
    // each other and can run ten times slower.
    const int host_cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    cpu_set_t allowed;
    int cores = host_cores;
    if (sched_getaffinity(0, sizeof(allowed), &allowed) == 0) cores = CPU_COUNT(&allowed);
    if (cores >= host_cores) cores = host_cores / g_job->local_size();
    omp_set_num_threads(std::max(1, cores));
  }
  if (g_job->distributed()) {
    LOG(INFO) << "Job of " << g_job->world_size() << " ranks (" << g_job->local_size()
              << " on this host), " << omp_get_max_threads() << " compute thread(s) each";
  }
}

Communicator& Job() { return *g_job; }

bool JobStarted() { return g_job != nullptr; }

void EndJob() { g_job.reset(); }

}  // namespace crema::tools
