// BatchPrefetcher: prepares batches on a background thread while the net computes.
//
// The prefetcher owns `depth` Batch objects. A background thread takes a batch from the
// free queue, calls the producer to fill it, and pushes it onto the full queue; the consumer
// pops full batches in the order they were produced and hands each back with Release() when
// done. At most `depth` batches are ready ahead of the consumer, so memory stays bounded and
// the producer waits when the consumer is slow.
//
//   BatchPrefetcher prefetcher(4, [&](Batch* b) { ...fill b->data, b->label... });
//   Batch* batch = prefetcher.Pop();     // starts the thread on first use
//   ...copy batch->data into the net...
//   prefetcher.Release(batch);
//
// Failures: an exception thrown by the producer ends the background thread; batches that
// were completed before it are still delivered in order, and the Pop that would have
// returned the failed batch rethrows the exception (as do all later Pops). A corrupt record
// in mid-epoch thus surfaces as that record's error in the consumer, never as a hang.
//
// Shutdown: Stop() (and the destructor) may be called at any time, also while the thread
// waits for a free batch or the consumer holds batches. It waits for a producer call in
// progress to return, so producers must not block indefinitely.
//
// Thread-safety: Start, Pop, Release, Stop and last_pop_wait_seconds are for one consumer
// thread; the producer runs on the prefetcher's own thread. A batch belongs to the producer
// between being taken from the free queue and being pushed, to the consumer between Pop and
// Release.
#ifndef CREMA_DATA_BATCH_PREFETCHER_H_
#define CREMA_DATA_BATCH_PREFETCHER_H_

#include <condition_variable>
#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "crema/core/blob.h"

namespace crema {

// One prefetched batch: the data (N, C, H, W) and, when the layer emits labels, labels (N).
struct Batch {
  Blob data;
  Blob label;
};

class BatchPrefetcher {
 public:
  // Fills one batch. Runs on the prefetch thread; may throw.
  using Producer = std::function<void(Batch* batch)>;

  // Creates `depth` empty batches; does not start the thread.
  // Throws InvalidArgument when depth < 1.
  BatchPrefetcher(int depth, Producer producer);
  // Stops and joins the thread.
  ~BatchPrefetcher();
  BatchPrefetcher(const BatchPrefetcher&) = delete;
  BatchPrefetcher& operator=(const BatchPrefetcher&) = delete;

  // Starts the background thread. Does nothing when already started or stopped.
  void Start();
  bool started() const { return started_; }

  // Blocks until the next batch is ready and returns it; starts the thread if needed.
  // Rethrows the producer's exception once every batch completed before it was popped.
  // Returns nullptr after Stop().
  Batch* Pop();

  // Gives a popped batch back for refilling. REQUIRES: `batch` came from Pop() and was not
  // released yet.
  void Release(Batch* batch);

  // Asks the thread to finish and joins it. Safe to call twice.
  void Stop();

  // Seconds the last Pop() waited for a batch (0 when one was ready).
  double last_pop_wait_seconds() const { return last_pop_wait_seconds_; }

  int depth() const { return static_cast<int>(batches_.size()); }

 private:
  // A fixed-capacity FIFO of batch pointers: pushing and popping never allocate.
  class Queue {
   public:
    explicit Queue(size_t capacity) : slots_(capacity) {}
    bool empty() const { return size_ == 0; }
    void push(Batch* b) {
      slots_[(head_ + size_) % slots_.size()] = b;
      ++size_;
    }
    Batch* pop() {
      Batch* b = slots_[head_];
      head_ = (head_ + 1) % slots_.size();
      --size_;
      return b;
    }

   private:
    std::vector<Batch*> slots_;
    size_t head_ = 0;
    size_t size_ = 0;
  };

  void Run();

  Producer producer_;
  std::vector<std::unique_ptr<Batch>> batches_;

  std::mutex mutex_;
  std::condition_variable free_cv_;  // a batch was released, or stop
  std::condition_variable full_cv_;  // a batch was filled, the producer failed, or stop
  Queue free_;
  Queue full_;
  bool stop_ = false;
  std::exception_ptr error_;  // set once by the thread when the producer throws

  bool started_ = false;
  double last_pop_wait_seconds_ = 0;
  std::thread thread_;
};

}  // namespace crema

#endif  // CREMA_DATA_BATCH_PREFETCHER_H_
