#include "crema/data/batch_prefetcher.h"

#include <chrono>

#include "crema/core/error.h"

namespace crema {

BatchPrefetcher::BatchPrefetcher(int depth, int threads, Stages stages)
    : stages_(std::move(stages)), num_threads_(threads) {
  CREMA_REQUIRE(depth >= 1, "prefetch depth must be at least 1, got ", depth);
  CREMA_REQUIRE(threads >= 1, "prefetch threads must be at least 1, got ", threads);
  batches_.reserve(static_cast<size_t>(depth));
  free_.reserve(static_cast<size_t>(depth));
  ready_.assign(static_cast<size_t>(depth), nullptr);
  for (int i = 0; i < depth; ++i) {
    batches_.push_back(std::make_unique<Batch>());
    free_.push_back(batches_.back().get());
  }
}

BatchPrefetcher::~BatchPrefetcher() { Stop(); }

void BatchPrefetcher::SetNextIndex(int64_t index) {
  CREMA_DCHECK(!started_);
  next_read_index_ = index;
  next_pop_index_ = index;
}

void BatchPrefetcher::Start() {
  if (started_) return;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stop_) return;
  }
  started_ = true;
  for (int w = 0; w < num_threads_; ++w) workers_.emplace_back([this, w] { Work(w); });
}

void BatchPrefetcher::Stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  free_cv_.notify_all();
  ready_cv_.notify_all();
  for (std::thread& worker : workers_) {
    if (worker.joinable()) worker.join();
  }
}

void BatchPrefetcher::Work(int worker) {
  for (;;) {
    Batch* batch = nullptr;
    int64_t index = 0;
    try {
      // Taking a free batch, numbering it and reading its records happen together, so
      // records reach batches in index order.
      std::lock_guard<std::mutex> read_lock(read_mutex_);
      {
        std::unique_lock<std::mutex> lock(mutex_);
        free_cv_.wait(lock, [this] { return stop_ || error_ != nullptr || !free_.empty(); });
        if (stop_ || error_ != nullptr) return;
        batch = free_.back();
        free_.pop_back();
      }
      index = next_read_index_++;
      stages_.read(index, batch);
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (index < error_index_) {
        error_index_ = index;
        error_ = std::current_exception();
      }
      ready_cv_.notify_all();
      free_cv_.notify_all();
      return;
    }
    try {
      stages_.fill(index, batch, worker);
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (index < error_index_) {
        error_index_ = index;
        error_ = std::current_exception();
      }
      ready_cv_.notify_all();
      free_cv_.notify_all();
      return;
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      ready_[static_cast<size_t>(index % depth())] = batch;
    }
    ready_cv_.notify_all();
  }
}

Batch* BatchPrefetcher::Pop() {
  Start();
  const auto begin = std::chrono::steady_clock::now();
  Batch* batch = nullptr;
  {
    std::unique_lock<std::mutex> lock(mutex_);
    Batch** slot = &ready_[static_cast<size_t>(next_pop_index_ % depth())];
    ready_cv_.wait(lock, [&] {
      return stop_ || *slot != nullptr || next_pop_index_ >= error_index_;
    });
    if (stop_) return nullptr;
    if (*slot == nullptr) std::rethrow_exception(error_);
    batch = *slot;
    *slot = nullptr;
    ++next_pop_index_;
  }
  last_pop_wait_seconds_ =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
  return batch;
}

void BatchPrefetcher::Release(Batch* batch) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    free_.push_back(batch);
  }
  free_cv_.notify_one();
}

}  // namespace crema
