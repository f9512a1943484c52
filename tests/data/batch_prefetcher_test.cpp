#include "crema/data/batch_prefetcher.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <string>
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

// Stages that number batches: read stages the read order, fill writes it and -index.
// `fill_delay` makes workers finish out of order.
struct CountingStages {
  std::atomic<int> reads{0};
  std::atomic<int> fills{0};
  std::chrono::milliseconds fill_delay{0};

  BatchPrefetcher::Stages Make() {
    return {[this](int64_t index, Batch* batch) {
              batch->items.resize(1);
              batch->items[0].label = reads++;
              batch->items[0].key = std::to_string(index);
            },
            [this](int64_t index, Batch* batch, int /*worker*/) {
              if (fill_delay.count() > 0 && index % 3 == 0) std::this_thread::sleep_for(fill_delay);
              batch->data.Reshape({1});
              batch->label.Reshape({1});
              batch->data.mutable_cpu_data()[0] = static_cast<float>(batch->items[0].label);
              batch->label.mutable_cpu_data()[0] = static_cast<float>(-index);
              ++fills;
            }};
  }
};

class BatchPrefetcherThreadsTest : public ::testing::TestWithParam<int> {};

TEST_P(BatchPrefetcherThreadsTest, DeliversBatchesInOrder) {
  RunWithDeadline(20s, [] {
    CountingStages stages;
    stages.fill_delay = 2ms;
    BatchPrefetcher prefetcher(3, GetParam(), stages.Make());
    EXPECT_EQ(prefetcher.depth(), 3);
    EXPECT_EQ(prefetcher.threads(), GetParam());
    EXPECT_FALSE(prefetcher.started());
    for (int i = 0; i < 50; ++i) {
      Batch* batch = prefetcher.Pop();
      ASSERT_NE(batch, nullptr);
      // Read order and numbering agree, whichever worker filled the batch.
      EXPECT_EQ(batch->data.cpu_data()[0], static_cast<float>(i));
      EXPECT_EQ(batch->label.cpu_data()[0], static_cast<float>(-i));
      prefetcher.Release(batch);
    }
    EXPECT_TRUE(prefetcher.started());
  });
}

TEST_P(BatchPrefetcherThreadsTest, NeverRunsMoreThanDepthAhead) {
  RunWithDeadline(20s, [] {
    CountingStages stages;
    BatchPrefetcher prefetcher(4, GetParam(), stages.Make());
    prefetcher.Start();
    std::this_thread::sleep_for(200ms);
    EXPECT_EQ(stages.fills.load(), 4);
    Batch* held = prefetcher.Pop();
    std::this_thread::sleep_for(100ms);
    EXPECT_EQ(stages.fills.load(), 4);  // the popped batch is not back yet
    prefetcher.Release(held);
    std::this_thread::sleep_for(100ms);
    EXPECT_EQ(stages.fills.load(), 5);
  });
}

TEST_P(BatchPrefetcherThreadsTest, StopsCleanlyWhileTheQueueIsFull) {
  RunWithDeadline(20s, [] {
    CountingStages stages;
    auto prefetcher = std::make_unique<BatchPrefetcher>(2, GetParam(), stages.Make());
    Batch* first = prefetcher->Pop();
    prefetcher->Release(first);
    // Let the workers fill every batch and block waiting for a free one.
    while (stages.fills.load() < 3) std::this_thread::sleep_for(1ms);
    std::this_thread::sleep_for(50ms);
    prefetcher.reset();  // must not hang
  });
}

TEST_P(BatchPrefetcherThreadsTest, StopsCleanlyWhileTheConsumerHoldsBatches) {
  RunWithDeadline(20s, [] {
    CountingStages stages;
    BatchPrefetcher prefetcher(2, GetParam(), stages.Make());
    Batch* a = prefetcher.Pop();
    Batch* b = prefetcher.Pop();
    EXPECT_NE(a, b);
    prefetcher.Stop();
    EXPECT_EQ(prefetcher.Pop(), nullptr);
    prefetcher.Stop();  // twice is fine
  });
}

TEST_P(BatchPrefetcherThreadsTest, FailureSurfacesAtPopAfterEarlierBatches) {
  RunWithDeadline(20s, [] {
    BatchPrefetcher prefetcher(4, GetParam(),
                               {[](int64_t, Batch*) {},
                                [](int64_t index, Batch* batch, int) {
                                  if (index == 2) throw Corruption("record '00000002' is not a valid Datum");
                                  if (index < 2) std::this_thread::sleep_for(20ms);
                                  batch->data.Reshape({1});
                                  batch->data.mutable_cpu_data()[0] = static_cast<float>(index);
                                }});
    // Batches before the failed one still arrive, in order, even if they finish later.
    for (int i = 0; i < 2; ++i) {
      Batch* batch = prefetcher.Pop();
      ASSERT_NE(batch, nullptr);
      EXPECT_EQ(batch->data.cpu_data()[0], static_cast<float>(i));
      prefetcher.Release(batch);
    }
    for (int attempt = 0; attempt < 2; ++attempt) {
      try {
        prefetcher.Pop();
        ADD_FAILURE() << "expected the stage's error";
      } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::kCorruption);
        EXPECT_STREQ(e.what(), "record '00000002' is not a valid Datum");
      }
    }
  });
}

TEST_P(BatchPrefetcherThreadsTest, ReadFailureSurfacesToo) {
  RunWithDeadline(20s, [] {
    BatchPrefetcher prefetcher(2, GetParam(),
                               {[](int64_t index, Batch*) {
                                  if (index == 1) throw IOError("cannot read the source");
                                },
                                [](int64_t, Batch* batch, int) { batch->data.Reshape({1}); }});
    Batch* batch = prefetcher.Pop();
    ASSERT_NE(batch, nullptr);
    prefetcher.Release(batch);
    EXPECT_THROW(prefetcher.Pop(), Error);
  });
}

INSTANTIATE_TEST_SUITE_P(Threads, BatchPrefetcherThreadsTest, ::testing::Values(1, 3));

TEST(BatchPrefetcherTest, SetNextIndexContinuesTheNumbering) {
  RunWithDeadline(20s, [] {
    CountingStages stages;
    BatchPrefetcher prefetcher(2, 2, stages.Make());
    prefetcher.SetNextIndex(7);
    for (int i = 0; i < 5; ++i) {
      Batch* batch = prefetcher.Pop();
      EXPECT_EQ(batch->label.cpu_data()[0], static_cast<float>(-(7 + i)));
      EXPECT_EQ(batch->items[0].key, std::to_string(7 + i));
      prefetcher.Release(batch);
    }
  });
}

TEST(BatchPrefetcherTest, StopBeforeStartAndDestroyWithoutStart) {
  RunWithDeadline(20s, [] {
    CountingStages stages;
    { BatchPrefetcher unused(3, 2, stages.Make()); }
    BatchPrefetcher stopped(3, 2, stages.Make());
    stopped.Stop();
    stopped.Start();  // does nothing after Stop
    EXPECT_EQ(stopped.Pop(), nullptr);
    EXPECT_EQ(stages.reads.load(), 0);
  });
}

TEST(BatchPrefetcherTest, StopsWhileAStageIsSlow) {
  RunWithDeadline(20s, [] {
    std::atomic<int> calls{0};
    BatchPrefetcher prefetcher(2, 1,
                               {[](int64_t, Batch*) {},
                                [&](int64_t, Batch*, int) {
                                  ++calls;
                                  std::this_thread::sleep_for(100ms);
                                }});
    prefetcher.Start();
    while (calls.load() == 0) std::this_thread::sleep_for(1ms);
    prefetcher.Stop();  // waits for the call in progress, then ends
    EXPECT_EQ(calls.load(), 1);
  });
}

TEST(BatchPrefetcherTest, RecordsHowLongPopWaited) {
  RunWithDeadline(20s, [] {
    std::atomic<int> produced{0};
    BatchPrefetcher prefetcher(2, 1,
                               {[](int64_t, Batch*) {},
                                [&](int64_t, Batch*, int) {
                                  if (produced.load() == 0) std::this_thread::sleep_for(100ms);
                                  ++produced;
                                }});
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

TEST(BatchPrefetcherTest, DepthAndThreadsMustBePositive) {
  const BatchPrefetcher::Stages none{[](int64_t, Batch*) {}, [](int64_t, Batch*, int) {}};
  EXPECT_THROW(BatchPrefetcher(0, 1, none), Error);
  EXPECT_THROW(BatchPrefetcher(1, 0, none), Error);
}

}  // namespace
}  // namespace crema
