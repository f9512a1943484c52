#include "crema/core/rank.h"

#include <atomic>

#include "crema/core/error.h"

namespace crema {

namespace {
std::atomic<int> g_rank{0};
std::atomic<int> g_world_size{1};
std::atomic<bool> g_split_train_batch{false};
}  // namespace

void SetRankInfo(RankInfo info) {
  CREMA_REQUIRE(info.world_size >= 1 && info.rank >= 0 && info.rank < info.world_size,
                "rank ", info.rank, " of ", info.world_size, " is not a valid place in a job");
  g_world_size = info.world_size;
  g_rank = info.rank;
  g_split_train_batch = info.split_train_batch;
}

RankInfo GetRankInfo() {
  return {g_rank.load(), g_world_size.load(), g_split_train_batch.load()};
}

}  // namespace crema
