#include "crema/dist/communicator.h"

#include <mpi.h>

#include <unistd.h>

#include <chrono>
#include <climits>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>

#include "crema/core/error.h"

namespace crema {

static_assert(sizeof(MPI_Request) <= sizeof(uint64_t), "an MPI_Request must fit a uint64_t");

namespace {

constexpr int kArrivalTag = 7301;
// A waiting rank repeats its arrival note this often; a peer unheard for kSilentSeconds
// while everyone had arrived has stopped.
constexpr int kNoteIntervalMs = 250;
constexpr double kSilentSeconds = 1.0;
// The longest deadline accepted, in seconds (about 11.5 days).
constexpr double kMaxTimeoutSeconds = 1e6;
// Messages and collectives larger than this many elements go in pieces (MPI counts are int).
constexpr int64_t kMaxChunk = int64_t{1} << 30;

MPI_Request ToMpi(uint64_t handle) {
  MPI_Request request;
  std::memcpy(&request, &handle, sizeof(request));
  return request;
}

uint64_t FromMpi(MPI_Request request) {
  uint64_t handle = 0;
  std::memcpy(&handle, &request, sizeof(request));
  return handle;
}

// Ends the process, saying why, unless disarmed (destroyed) within its deadline. MPI's
// start-up and the first collectives are blocking calls no request can time.
class StartupDeadline {
 public:
  StartupDeadline(double seconds, std::string message)
      : message_(std::move(message)), thread_([this, seconds] {
          std::unique_lock<std::mutex> lock(mutex_);
          if (disarmed_.wait_for(lock, std::chrono::duration<double>(seconds),
                                 [this] { return done_; })) {
            return;
          }
          // One write: the other ranks and the launcher share the stream. Exit 1 whether or
          // not it could be written.
          [[maybe_unused]] const ssize_t written =
              ::write(STDERR_FILENO, message_.data(), message_.size());
          _exit(1);
        }) {}
  ~StartupDeadline() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      done_ = true;
    }
    disarmed_.notify_one();
    thread_.join();
  }
  StartupDeadline(const StartupDeadline&) = delete;
  StartupDeadline& operator=(const StartupDeadline&) = delete;

 private:
  const std::string message_;
  std::mutex mutex_;
  std::condition_variable disarmed_;
  bool done_ = false;
  std::thread thread_;  // last: it starts once the members above exist
};

// This process's rank as the launcher announced it, before MPI knows it.
std::string LaunchedRank() {
  for (const char* name : {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK", "SLURM_PROCID"}) {
    if (const char* value = std::getenv(name)) return value;
  }
  return "?";
}

}  // namespace

bool LaunchedByMpi() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"}) {
    if (std::getenv(name) != nullptr) return true;
  }
  return false;
}

std::unique_ptr<Communicator> Communicator::Single() {
  return std::unique_ptr<Communicator>(new Communicator());
}

std::unique_ptr<Communicator> Communicator::Create(const Options& options) {
  // Bounded so that a deadline stays inside the clock's range (a wait of 1e300 s would
  // overflow it and end at once).
  CREMA_REQUIRE(options.timeout_seconds > 0 && options.timeout_seconds <= kMaxTimeoutSeconds,
                "the collective timeout (-sync_timeout) must be in (0, ", kMaxTimeoutSeconds,
                "] s, got ", options.timeout_seconds);
  CREMA_REQUIRE(options.startup_timeout_seconds > 0 &&
                    options.startup_timeout_seconds <= kMaxTimeoutSeconds,
                "the start-up timeout (-startup_timeout) must be in (0, ", kMaxTimeoutSeconds,
                "] s, got ", options.startup_timeout_seconds);
  std::unique_ptr<Communicator> comm(new Communicator());
  comm->options_ = options;
  if (!LaunchedByMpi()) return comm;
  const StartupDeadline deadline(
      options.startup_timeout_seconds,
      StrCat(options.message_prefix, "rank ", LaunchedRank(), " waited ",
             options.startup_timeout_seconds,
             " s for the job to start: a rank did not start or stopped while starting (raise "
             "-startup_timeout if launching the ranks can legitimately take longer)\n"));
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized) {
    // Open MPI's non-blocking allreduce picks a slow algorithm by default; the ring is
    // bandwidth-optimal and as fast as the blocking MPI_Allreduce (bench/sync_bench.cpp).
    setenv("OMPI_MCA_coll_libnbc_iallreduce_algorithm", "1", /*overwrite=*/0);
    int provided = 0;
    MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
    comm->owns_mpi_ = true;
  }
  // Failures become return codes we turn into messages, not MPI's own abort.
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  MPI_Comm_rank(MPI_COMM_WORLD, &comm->rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &comm->world_size_);
  MPI_Comm local;
  MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, comm->rank_, MPI_INFO_NULL, &local);
  MPI_Comm_size(local, &comm->local_size_);
  MPI_Comm_free(&local);
  const int n = comm->world_size_;
  comm->peer_step_.assign(static_cast<size_t>(n), -1);
  comm->arrival_in_.assign(static_cast<size_t>(n), -1);
  comm->peer_heard_.assign(static_cast<size_t>(n), std::chrono::steady_clock::now());
  comm->arrival_out_.assign(static_cast<size_t>(n), -1);
  comm->arrival_recv_.assign(static_cast<size_t>(n), FromMpi(MPI_REQUEST_NULL));
  comm->arrival_send_.assign(static_cast<size_t>(n), FromMpi(MPI_REQUEST_NULL));
  for (int peer = 0; peer < n; ++peer) {
    if (peer == comm->rank_) continue;
    MPI_Request request;
    MPI_Irecv(&comm->arrival_in_[static_cast<size_t>(peer)], 1, MPI_INT64_T, peer, kArrivalTag,
              MPI_COMM_WORLD, &request);
    comm->arrival_recv_[static_cast<size_t>(peer)] = FromMpi(request);
  }
  return comm;
}

Communicator::~Communicator() {
  if (!owns_mpi_) return;
  for (size_t peer = 0; peer < arrival_recv_.size(); ++peer) {
    MPI_Request request = ToMpi(arrival_recv_[peer]);
    if (request != MPI_REQUEST_NULL) {
      MPI_Cancel(&request);
      MPI_Request_free(&request);
    }
    MPI_Request send = ToMpi(arrival_send_[peer]);
    if (send != MPI_REQUEST_NULL) MPI_Request_free(&send);
  }
  MPI_Finalize();
}

void Communicator::Abort(int exit_code) {
  if (world_size_ > 1) MPI_Abort(MPI_COMM_WORLD, exit_code);
}

void Communicator::DrainArrivals() {
  for (int peer = 0; peer < world_size_; ++peer) {
    if (peer == rank_) continue;
    const size_t p = static_cast<size_t>(peer);
    for (;;) {
      MPI_Request request = ToMpi(arrival_recv_[p]);
      int done = 0;
      MPI_Test(&request, &done, MPI_STATUS_IGNORE);
      if (!done) break;
      peer_step_[p] = std::max(peer_step_[p], arrival_in_[p]);
      peer_heard_[p] = std::chrono::steady_clock::now();
      MPI_Irecv(&arrival_in_[p], 1, MPI_INT64_T, peer, kArrivalTag, MPI_COMM_WORLD, &request);
      arrival_recv_[p] = FromMpi(request);
    }
  }
}

void Communicator::Arrive(int64_t step) {
  step_ = step;
  if (world_size_ == 1) return;
  SendArrivalNotes();
  DrainArrivals();
}

void Communicator::SendArrivalNotes() {
  for (int peer = 0; peer < world_size_; ++peer) {
    if (peer == rank_) continue;
    const size_t p = static_cast<size_t>(peer);
    MPI_Request send = ToMpi(arrival_send_[p]);
    int done = 1;
    if (send != MPI_REQUEST_NULL) MPI_Test(&send, &done, MPI_STATUS_IGNORE);
    // A peer that has not taken the previous note is stalled; it will learn nothing new.
    if (!done) continue;
    arrival_out_[p] = step_;
    MPI_Isend(&arrival_out_[p], 1, MPI_INT64_T, peer, kArrivalTag, MPI_COMM_WORLD, &send);
    arrival_send_[p] = FromMpi(send);
  }
}

void Communicator::ThrowTimeout(const std::string& what) {
  DrainArrivals();
  std::string behind;
  for (int peer = 0; peer < world_size_; ++peer) {
    if (peer == rank_ || peer_step_[static_cast<size_t>(peer)] >= step_) continue;
    behind += StrCat(behind.empty() ? "" : ", ", "rank ", peer, " (last seen at step ",
                     peer_step_[static_cast<size_t>(peer)], ")");
  }
  // Everyone arrived: a live peer waits too and repeats its note (WaitFor), so the ones
  // silent for a while are those that stopped inside the operation.
  std::string silent;
  const auto now = std::chrono::steady_clock::now();
  for (int peer = 0; behind.empty() && peer < world_size_; ++peer) {
    const double quiet =
        std::chrono::duration<double>(now - peer_heard_[static_cast<size_t>(peer)]).count();
    if (peer == rank_ || quiet < kSilentSeconds) continue;
    silent += StrCat(silent.empty() ? "" : ", ", "rank ", peer, " (last seen at step ",
                     peer_step_[static_cast<size_t>(peer)], ", silent for ",
                     static_cast<int>(quiet), " s)");
  }
  std::string verdict;
  if (!behind.empty()) {
    verdict = "not arrived: " + behind;
  } else if (!silent.empty()) {
    verdict = "every rank arrived, then stopped answering: " + silent;
  } else {
    verdict = "every rank had arrived, yet the operation did not complete";
  }
  throw Timeout(StrCat("rank ", rank_, " waited ", options_.timeout_seconds, " s for ", what,
                       " at step ", step_, "; ", verdict,
                       " (raise -sync_timeout if a step can legitimately take longer)"));
}

void Communicator::WaitFor(void* mpi_request, const std::string& what) {
  MPI_Request* request = static_cast<MPI_Request*>(mpi_request);
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::duration<double>(options_.timeout_seconds);
  auto next_note = std::chrono::steady_clock::now();
  // Spin briefly (collectives usually finish fast), then back off so a waiting rank does
  // not steal the core of a rank that is still computing.
  for (int spins = 0;; ++spins) {
    int done = 0;
    if (MPI_Test(request, &done, MPI_STATUS_IGNORE) != MPI_SUCCESS) {
      throw IOError(StrCat("rank ", rank_, ": MPI failed during ", what));
    }
    if (done) return;
    if (spins > 1000) {
      const auto now = std::chrono::steady_clock::now();
      if (now > deadline) ThrowTimeout(what);
      if (world_size_ > 1 && now > next_note) {
        SendArrivalNotes();
        DrainArrivals();
        next_note = now + std::chrono::milliseconds(kNoteIntervalMs);
      }
      std::this_thread::sleep_for(std::chrono::microseconds(spins > 100000 ? 1000 : 20));
    }
  }
}

void Communicator::Broadcast(float* data, int64_t count, int root, const std::string& what) {
  if (world_size_ == 1) return;
  for (int64_t offset = 0; offset < count; offset += kMaxChunk) {
    const int n = static_cast<int>(std::min(kMaxChunk, count - offset));
    MPI_Request request;
    MPI_Ibcast(data + offset, n, MPI_FLOAT, root, MPI_COMM_WORLD, &request);
    WaitFor(&request, what);
  }
}

void Communicator::Broadcast(int64_t* data, int64_t count, int root, const std::string& what) {
  if (world_size_ == 1) return;
  for (int64_t offset = 0; offset < count; offset += kMaxChunk) {
    const int n = static_cast<int>(std::min(kMaxChunk, count - offset));
    MPI_Request request;
    MPI_Ibcast(data + offset, n, MPI_INT64_T, root, MPI_COMM_WORLD, &request);
    WaitFor(&request, what);
  }
}

void Communicator::AllreduceSum(float* data, int64_t count, const std::string& what) {
  if (world_size_ == 1) return;
  for (int64_t offset = 0; offset < count; offset += kMaxChunk) {
    const int n = static_cast<int>(std::min(kMaxChunk, count - offset));
    MPI_Request request;
    MPI_Iallreduce(MPI_IN_PLACE, data + offset, n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, &request);
    WaitFor(&request, what);
  }
}

void Communicator::AllreduceSum(double* data, int64_t count, const std::string& what) {
  if (world_size_ == 1) return;
  for (int64_t offset = 0; offset < count; offset += kMaxChunk) {
    const int n = static_cast<int>(std::min(kMaxChunk, count - offset));
    MPI_Request request;
    MPI_Iallreduce(MPI_IN_PLACE, data + offset, n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD, &request);
    WaitFor(&request, what);
  }
}

void Communicator::AllreduceMax(int64_t* data, int64_t count, const std::string& what) {
  if (world_size_ == 1) return;
  CREMA_REQUIRE(count <= kMaxChunk, "cannot reduce ", count, " integers at once");
  MPI_Request request;
  MPI_Iallreduce(MPI_IN_PLACE, data, static_cast<int>(count), MPI_INT64_T, MPI_MAX,
                 MPI_COMM_WORLD, &request);
  WaitFor(&request, what);
}

void Communicator::GatherToRoot(double value, std::vector<double>* at_root,
                                const std::string& what) {
  if (world_size_ == 1) {
    at_root->assign(1, value);
    return;
  }
  if (rank_ == 0) at_root->resize(static_cast<size_t>(world_size_));
  MPI_Request request;
  MPI_Igather(&value, 1, MPI_DOUBLE, rank_ == 0 ? at_root->data() : nullptr, 1, MPI_DOUBLE, 0,
              MPI_COMM_WORLD, &request);
  WaitFor(&request, what);
}

void Communicator::Barrier(const std::string& what) {
  if (world_size_ == 1) return;
  MPI_Request request;
  MPI_Ibarrier(MPI_COMM_WORLD, &request);
  WaitFor(&request, what);
}

void Communicator::StartAllreduceSum(float* data, int count, const char* what, int64_t detail,
                                     Request* request) {
  request->what_ = what;
  request->detail_ = detail;
  if (world_size_ == 1) {
    request->active_ = false;
    return;
  }
  MPI_Request mpi;
  MPI_Iallreduce(MPI_IN_PLACE, data, count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, &mpi);
  request->handle_ = FromMpi(mpi);
  request->active_ = true;
}

void Communicator::StartAllreduceMax(int64_t* data, const char* what, Request* request) {
  request->what_ = what;
  request->detail_ = -1;
  if (world_size_ == 1) {
    request->active_ = false;
    return;
  }
  MPI_Request mpi;
  MPI_Iallreduce(MPI_IN_PLACE, data, 1, MPI_INT64_T, MPI_MAX, MPI_COMM_WORLD, &mpi);
  request->handle_ = FromMpi(mpi);
  request->active_ = true;
}

bool Communicator::Test(Request* request) {
  if (!request->active_) return true;
  MPI_Request mpi = ToMpi(request->handle_);
  int done = 0;
  MPI_Test(&mpi, &done, MPI_STATUS_IGNORE);
  request->handle_ = FromMpi(mpi);
  if (done) request->active_ = false;
  return done != 0;
}

void Communicator::Wait(Request* request) {
  if (!request->active_) return;
  MPI_Request mpi = ToMpi(request->handle_);
  const std::string what = request->detail_ >= 0 ? StrCat(request->what_, " ", request->detail_)
                                                 : std::string(request->what_);
  WaitFor(&mpi, what);
  request->handle_ = FromMpi(mpi);
  request->active_ = false;
}

}  // namespace crema
