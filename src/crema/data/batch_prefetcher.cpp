#include "crema/data/batch_prefetcher.h"

#include <chrono>

#include "crema/core/error.h"

namespace crema {

BatchPrefetcher::BatchPrefetcher(int depth, Producer producer)
    : producer_(std::move(producer)),
      free_(depth > 0 ? static_cast<size_t>(depth) : 1),
      full_(depth > 0 ? static_cast<size_t>(depth) : 1) {
  if (depth < 1) {
    throw InvalidArgument(StrCat("prefetch depth must be at least 1, got ", depth));
  }
  batches_.reserve(static_cast<size_t>(depth));
  for (int i = 0; i < depth; ++i) {
    batches_.push_back(std::make_unique<Batch>());
    free_.push(batches_.back().get());
  }
}

BatchPrefetcher::~BatchPrefetcher() { Stop(); }

void BatchPrefetcher::Start() {
  if (started_) return;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stop_) return;
  }
  started_ = true;
  thread_ = std::thread([this] { Run(); });
}

void BatchPrefetcher::Stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  free_cv_.notify_all();
  full_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void BatchPrefetcher::Run() {
  for (;;) {
    Batch* batch = nullptr;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      free_cv_.wait(lock, [this] { return stop_ || !free_.empty(); });
      if (stop_) return;
      batch = free_.pop();
    }
    try {
      producer_(batch);
    } catch (...) {
      {
        std::lock_guard<std::mutex> lock(mutex_);
        error_ = std::current_exception();
      }
      full_cv_.notify_all();
      return;
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      full_.push(batch);
    }
    full_cv_.notify_one();
  }
}

Batch* BatchPrefetcher::Pop() {
  Start();
  const auto begin = std::chrono::steady_clock::now();
  Batch* batch = nullptr;
  {
    std::unique_lock<std::mutex> lock(mutex_);
    full_cv_.wait(lock, [this] { return stop_ || !full_.empty() || error_ != nullptr; });
    if (!full_.empty() && !stop_) {
      batch = full_.pop();
    } else if (!stop_) {
      std::rethrow_exception(error_);
    }
  }
  last_pop_wait_seconds_ =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
  return batch;
}

void BatchPrefetcher::Release(Batch* batch) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    free_.push(batch);
  }
  free_cv_.notify_one();
}

}  // namespace crema
