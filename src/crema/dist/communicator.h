// Communicator: this process's place in a data-parallel job, and the collectives ranks use to
// talk to each other. MPI underneath — whatever transport MPI picks (shared memory within a
// host, TCP, or UCX for InfiniBand/RoCE) — so no code of ours is on the wire.
//
// One process is one rank. A process started by an MPI launcher (mpirun, Slurm's srun, …)
// joins the job; a process started alone is rank 0 of 1 and never initialises MPI, so the
// single-process path needs no launcher.
//
// Ordering: every rank must call the collectives in the same order with the same sizes (the
// usual MPI contract). Each collective has a deadline (Options::timeout_seconds): a rank that
// waits longer throws crema::Timeout naming what it waited for and, thanks to the arrival
// notes below, which ranks had not reached the current step. Callers turn that into an error
// exit, which brings the launcher down on the other ranks too — nobody hangs. Joining the job
// (MPI's start-up, which no request can time) has a deadline of its own
// (Options::startup_timeout_seconds).
//
// Arrival notes: Arrive(s) tells every peer "I reached the synchronisation of step s" with a
// tiny non-blocking message, so a timed-out rank can say which peers never got there. A rank
// that waits repeats its note a few times a second; when every rank arrived but the
// operation still did not complete, the peers that fell silent are the ones named.
//
// Threading: MPI is initialised with MPI_THREAD_FUNNELED; only the thread that created the
// Communicator may call it.
#ifndef CREMA_DIST_COMMUNICATOR_H_
#define CREMA_DIST_COMMUNICATOR_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace crema {

class Communicator {
 public:
  struct Options {
    // Deadline of every wait, in seconds (c10d's default process-group timeout is 30 min; a
    // training step is seconds at most, so a few minutes is plenty).
    double timeout_seconds = 300;
    // Deadline of joining the job: MPI's start-up exchange with every rank, which a rank that
    // never starts or stops while starting would otherwise block for good. Launching ranks
    // over many hosts takes longer than any step, hence a separate, longer deadline.
    double startup_timeout_seconds = 600;
    // Starts the line a start-up timeout prints (e.g. "crema train: "): it cannot be thrown,
    // since MPI's start-up does not return, so it is written and the process exits 1.
    std::string message_prefix;
  };

  // A pending non-blocking collective.
  class Request {
   public:
    Request() = default;
    bool active() const { return active_; }

   private:
    friend class Communicator;
    uint64_t handle_ = 0;  // an MPI_Request, stored without MPI's header
    bool active_ = false;
    const char* what_ = "";  // a static description, for timeout messages
    int64_t detail_ = -1;    // e.g. the bucket number
  };

  // Joins the job when an MPI launcher started this process (detected from its environment:
  // Open MPI, PMIx, PMI or Slurm variables), else returns a single-rank communicator.
  // Throws Unsupported when a launcher started us but this build has no MPI, and
  // InvalidArgument for a bad option (a timeout outside (0, 1e6] s). When joining takes longer than
  // options.startup_timeout_seconds, writes one line saying so to stderr and exits the
  // process with status 1 (the launcher then ends the other ranks).
  static std::unique_ptr<Communicator> Create(const Options& options);
  // A single-rank communicator (never touches MPI).
  static std::unique_ptr<Communicator> Single();

  // Finalises MPI when this object initialised it.
  ~Communicator();
  Communicator(const Communicator&) = delete;
  Communicator& operator=(const Communicator&) = delete;

  int rank() const { return rank_; }
  int world_size() const { return world_size_; }
  // Ranks on this host (for dividing its cores between them).
  int local_size() const { return local_size_; }
  bool distributed() const { return world_size_ > 1; }
  double timeout_seconds() const { return options_.timeout_seconds; }

  // Blocking collectives, each bounded by the deadline. `what` names the operation in a
  // timeout message ("broadcast of the initial weights").
  void Broadcast(float* data, int64_t count, int root, const std::string& what);
  void Broadcast(int64_t* data, int64_t count, int root, const std::string& what);
  void AllreduceSum(float* data, int64_t count, const std::string& what);
  void AllreduceSum(double* data, int64_t count, const std::string& what);
  void AllreduceMax(int64_t* data, int64_t count, const std::string& what);
  // Rank 0 receives one value per rank (in rank order) in *at_root; others get nothing.
  void GatherToRoot(double value, std::vector<double>* at_root, const std::string& what);
  void Barrier(const std::string& what);

  // Non-blocking sum of `count` floats in place. `data` must stay valid and untouched until
  // Wait returns. `what` (a string literal) and `detail` describe it in a timeout message.
  // REQUIRES: count <= INT_MAX.
  void StartAllreduceSum(float* data, int count, const char* what, int64_t detail,
                         Request* request);
  // Non-blocking maximum of one int64 in place.
  void StartAllreduceMax(int64_t* data, const char* what, Request* request);
  // Lets MPI make progress; true when the request completed (it is then inactive).
  bool Test(Request* request);
  // Blocks until the request completes or the deadline passes (throws Timeout).
  // An inactive request returns at once.
  void Wait(Request* request);

  // Announces that this rank reached the synchronisation of `step` (see Arrival notes).
  void Arrive(int64_t step);

  // Ends the whole job at once (MPI_Abort), e.g. after a fatal error on one rank. Returns
  // only in a single-rank job.
  void Abort(int exit_code);

 private:
  Communicator() = default;
  void WaitFor(void* mpi_request, const std::string& what);
  [[noreturn]] void ThrowTimeout(const std::string& what);
  void DrainArrivals();
  void SendArrivalNotes();

  Options options_;
  int rank_ = 0;
  int world_size_ = 1;
  int local_size_ = 1;
  bool owns_mpi_ = false;
  int64_t step_ = -1;
  // Arrival notes: the last step each peer announced, with one receive posted per peer.
  std::vector<int64_t> peer_step_;
  // When each peer's last note came in (waiting peers repeat theirs: see WaitFor).
  std::vector<std::chrono::steady_clock::time_point> peer_heard_;
  std::vector<int64_t> arrival_in_;
  std::vector<int64_t> arrival_out_;
  std::vector<uint64_t> arrival_recv_;  // MPI_Requests
  std::vector<uint64_t> arrival_send_;
};

// True when the environment says an MPI launcher started this process.
bool LaunchedByMpi();

}  // namespace crema

#endif  // CREMA_DIST_COMMUNICATOR_H_
