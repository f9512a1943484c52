// BatchPrefetcher: prepares batches on background threads while the net computes.
//
// Batches are numbered 0, 1, 2, … in the order the consumer receives them. Making batch k has
// two stages:
//   read(k, batch)            serial, in order: take the next records from the source
//                             (cheap: copy bytes, pick file names) into batch->items
//   fill(k, batch, worker)    parallel on `threads` workers: decode, transform, write
//                             batch->data and batch->label
// Whatever the number of threads, batch k holds the same data: `read` sees the source in
// order, and `fill` must depend only on (k, the staged items), never on which worker runs it
// (data layers derive their random crops and flips from k).
//
// The prefetcher owns `depth` batches, so at most `depth` are prepared ahead of the consumer;
// workers wait when they are all ready or held by the consumer.
//
//   BatchPrefetcher prefetcher(depth, threads, {read, fill});
//   Batch* batch = prefetcher.Pop();     // starts the workers on first use
//   …copy batch->data into the net…
//   prefetcher.Release(batch);
//
// Failures: an exception thrown by either stage for batch k stops production; batches before
// k are still delivered in order, and the Pop that would return batch k rethrows it (as do
// all later Pops). A corrupt record mid-epoch thus surfaces as that record's error in the
// consumer, never as a hang or a crash.
//
// Shutdown: Stop() (and the destructor) may be called at any time; it waits for stages in
// progress to return, so stages must not block indefinitely.
//
// Thread-safety: Start, Pop, Release, SetNextIndex, Stop and last_pop_wait_seconds are for
// one consumer thread. A batch belongs to a worker from `read` until it is ready, to the
// consumer between Pop and Release.
#ifndef CREMA_DATA_BATCH_PREFETCHER_H_
#define CREMA_DATA_BATCH_PREFETCHER_H_

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "crema/core/blob.h"

namespace crema {

// One record staged by the read stage: what it is called (an LMDB key, a file path) and its
// bytes or any other payload the layer needs.
struct StagedItem {
  std::string key;
  std::string bytes;
  int label = 0;
};

// One prefetched batch: data (N, …) and, when the layer emits labels, labels (N).
struct Batch {
  Blob data;
  Blob label;
  std::vector<StagedItem> items;  // staged by `read`, consumed by `fill`; buffers are reused
};

class BatchPrefetcher {
 public:
  struct Stages {
    std::function<void(int64_t index, Batch* batch)> read;
    std::function<void(int64_t index, Batch* batch, int worker)> fill;
  };

  // Creates `depth` empty batches; starts nothing.
  // Throws InvalidArgument when depth < 1 or threads < 1.
  BatchPrefetcher(int depth, int threads, Stages stages);
  // Stops and joins the workers.
  ~BatchPrefetcher();
  BatchPrefetcher(const BatchPrefetcher&) = delete;
  BatchPrefetcher& operator=(const BatchPrefetcher&) = delete;

  // Numbers the next batch `index` instead of 0 (a resumed run continues its numbering).
  // REQUIRES: not started.
  void SetNextIndex(int64_t index);

  // Starts the workers. Does nothing when already started or stopped.
  void Start();
  bool started() const { return started_; }

  // Blocks until the next batch is ready and returns it; starts the workers if needed.
  // Rethrows a stage's exception once every batch before the failed one was popped.
  // Returns nullptr after Stop().
  Batch* Pop();

  // Gives a popped batch back for refilling. REQUIRES: it came from Pop() and was not
  // released yet.
  void Release(Batch* batch);

  // Asks the workers to finish and joins them. Safe to call twice.
  void Stop();

  // Seconds the last Pop() waited for its batch (0 when it was ready).
  double last_pop_wait_seconds() const { return last_pop_wait_seconds_; }

  int depth() const { return static_cast<int>(batches_.size()); }
  int threads() const { return num_threads_; }

 private:
  void Work(int worker);

  Stages stages_;
  int num_threads_;
  std::vector<std::unique_ptr<Batch>> batches_;

  std::mutex read_mutex_;  // serialises the read stage and the numbering of batches
  int64_t next_read_index_ = 0;

  std::mutex mutex_;
  std::condition_variable free_cv_;   // a batch was released, or stop
  std::condition_variable ready_cv_;  // a batch became ready, a stage failed, or stop
  std::vector<Batch*> free_;          // capacity depth, never reallocates
  std::vector<Batch*> ready_;         // ready_[k % depth] = batch k, or nullptr
  int64_t next_pop_index_ = 0;
  bool stop_ = false;
  int64_t error_index_ = INT64_MAX;   // the earliest batch whose making failed
  std::exception_ptr error_;

  bool started_ = false;
  double last_pop_wait_seconds_ = 0;
  std::vector<std::thread> workers_;
};

}  // namespace crema

#endif  // CREMA_DATA_BATCH_PREFETCHER_H_
