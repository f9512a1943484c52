#include "crema/core/rank.h"

#include <atomic>

#include "crema/core/error.h"

namespace crema {

namespace {
std::atomic<int> g_rank{0};
std::atomic<int> g_world_size{1};
}  // namespace

void SetRankInfo(RankInfo info) {
  CREMA_REQUIRE(info.world_size >= 1 && info.rank >= 0 && info.rank < info.world_size,
                "rank ", info.rank, " of ", info.world_size, " is not a valid place in a job");
  g_world_size = info.world_size;
  g_rank = info.rank;
}

RankInfo GetRankInfo() { return {g_rank.load(), g_world_size.load()}; }

}  // namespace crema
