#include "crema/data/batch_prefetcher.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <thread>

#include "crema/core/error.h"

namespace crema {
namespace {

using namespace std::chrono_literals;

// Runs `body` on its own thread and aborts the test binary if it has not finished within
// `deadline`: a shutdown bug must fail loudly, not hang the suite.
template <typename Fn>
void RunWithDeadline(std::chrono::seconds deadline, Fn&& body) {
  std::packaged_task<void()> task(std::forward<Fn>(body));
  std::future<void> done = task.get_future();
  std::thread runner(std::move(task));
  if (done.wait_for(deadline) != std::future_status::ready) {
    std::fprintf(stderr, "test body still running after %lld s: the prefetcher hangs\n",
                 static_cast<long long>(deadline.count()));
    std::abort();
  }
  runner.join();
  done.get();  // rethrows a failure of the body
}

// A producer that writes 0, 1, 2, ... into one-element batches.
BatchPrefetcher::Producer Counter(std::atomic<int>* produced) {
  return [produced](Batch* batch) {
    batch->data.Reshape({1});
    batch->label.Reshape({1});
    const int n = (*produced)++;
    batch->data.mutable_cpu_data()[0] = static_cast<float>(n);
    batch->label.mutable_cpu_data()[0] = static_cast<float>(-n);
  };
}

TEST(BatchPrefetcherTest, DeliversBatchesInOrder) {
  RunWithDeadline(20s, [] {
    std::atomic<int> produced{0};
    BatchPrefetcher prefetcher(3, Counter(&produced));
    EXPECT_EQ(prefetcher.depth(), 3);
    EXPECT_FALSE(prefetcher.started());
    for (int i = 0; i < 50; ++i) {
      Batch* batch = prefetcher.Pop();
      ASSERT_NE(batch, nullptr);
      EXPECT_EQ(batch->data.cpu_data()[0], static_cast<float>(i));
      EXPECT_EQ(batch->label.cpu_data()[0], static_cast<float>(-i));
      prefetcher.Release(batch);
    }
    EXPECT_TRUE(prefetcher.started());
  });
}

TEST(BatchPrefetcherTest, NeverRunsMoreThanDepthAhead) {
  RunWithDeadline(20s, [] {
    std::atomic<int> produced{0};
    BatchPrefetcher prefetcher(4, Counter(&produced));
    prefetcher.Start();
    std::this_thread::sleep_for(200ms);
    EXPECT_EQ(produced.load(), 4);
    Batch* held = prefetcher.Pop();
    std::this_thread::sleep_for(100ms);
    EXPECT_EQ(produced.load(), 4);  // the popped batch is not back yet
    prefetcher.Release(held);
    std::this_thread::sleep_for(100ms);
    EXPECT_EQ(produced.load(), 5);
  });
}

TEST(BatchPrefetcherTest, StopsCleanlyWhileTheQueueIsFull) {
  RunWithDeadline(20s, [] {
    std::atomic<int> produced{0};
    auto prefetcher = std::make_unique<BatchPrefetcher>(2, Counter(&produced));
    Batch* first = prefetcher->Pop();
    prefetcher->Release(first);
    // Let the thread fill every batch and block waiting for a free one.
    while (produced.load() < 3) std::this_thread::sleep_for(1ms);
    std::this_thread::sleep_for(50ms);
    prefetcher.reset();  // must not hang
  });
}

TEST(BatchPrefetcherTest, StopsCleanlyWhileTheConsumerHoldsBatches) {
  RunWithDeadline(20s, [] {
    std::atomic<int> produced{0};
    BatchPrefetcher prefetcher(2, Counter(&produced));
    Batch* a = prefetcher.Pop();
    Batch* b = prefetcher.Pop();
    EXPECT_NE(a, b);
    prefetcher.Stop();
    EXPECT_EQ(prefetcher.Pop(), nullptr);
    prefetcher.Stop();  // twice is fine
  });
}

TEST(BatchPrefetcherTest, StopBeforeStartAndDestroyWithoutStart) {
  RunWithDeadline(20s, [] {
    std::atomic<int> produced{0};
    { BatchPrefetcher unused(3, Counter(&produced)); }
    BatchPrefetcher stopped(3, Counter(&produced));
    stopped.Stop();
    stopped.Start();  // does nothing after Stop
    EXPECT_EQ(stopped.Pop(), nullptr);
    EXPECT_EQ(produced.load(), 0);
  });
}

TEST(BatchPrefetcherTest, StopsWhileAProducerIsSlow) {
  RunWithDeadline(20s, [] {
    std::atomic<int> calls{0};
    BatchPrefetcher prefetcher(2, [&](Batch*) {
      ++calls;
      std::this_thread::sleep_for(100ms);
    });
    prefetcher.Start();
    while (calls.load() == 0) std::this_thread::sleep_for(1ms);
    prefetcher.Stop();  // waits for the call in progress, then ends
    EXPECT_EQ(calls.load(), 1);
  });
}

TEST(BatchPrefetcherTest, ProducerExceptionSurfacesAtPop) {
  RunWithDeadline(20s, [] {
    int produced = 0;  // only the prefetch thread touches it
    BatchPrefetcher prefetcher(4, [&](Batch* batch) {
      if (produced == 2) throw Corruption("record '00000002' is not a valid Datum");
      batch->data.Reshape({1});
      batch->data.mutable_cpu_data()[0] = static_cast<float>(produced++);
    });
    // Batches completed before the failure still arrive, in order.
    for (int i = 0; i < 2; ++i) {
      Batch* batch = prefetcher.Pop();
      ASSERT_NE(batch, nullptr);
      EXPECT_EQ(batch->data.cpu_data()[0], static_cast<float>(i));
      prefetcher.Release(batch);
    }
    for (int attempt = 0; attempt < 2; ++attempt) {
      try {
        prefetcher.Pop();
        ADD_FAILURE() << "expected the producer's error";
      } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::kCorruption);
        EXPECT_STREQ(e.what(), "record '00000002' is not a valid Datum");
      }
    }
  });
}

TEST(BatchPrefetcherTest, RecordsHowLongPopWaited) {
  RunWithDeadline(20s, [] {
    std::atomic<int> produced{0};
    BatchPrefetcher prefetcher(2, [&](Batch*) {
      if (produced.load() == 0) std::this_thread::sleep_for(100ms);
      ++produced;
    });
    EXPECT_EQ(prefetcher.last_pop_wait_seconds(), 0.0);
    Batch* batch = prefetcher.Pop();  // waits for the slow first batch
    const double slow_wait = prefetcher.last_pop_wait_seconds();
    EXPECT_GE(slow_wait, 0.05);
    prefetcher.Release(batch);
    while (produced.load() < 3) std::this_thread::sleep_for(1ms);
    batch = prefetcher.Pop();  // ready already
    EXPECT_LT(prefetcher.last_pop_wait_seconds(), slow_wait);
    prefetcher.Release(batch);
  });
}

TEST(BatchPrefetcherTest, DepthMustBePositive) {
  EXPECT_THROW(BatchPrefetcher(0, [](Batch*) {}), Error);
}

}  // namespace
}  // namespace crema
