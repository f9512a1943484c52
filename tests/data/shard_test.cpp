#include "crema/data/shard.h"

#include <gtest/gtest.h>

#include <vector>

#include "crema/core/error.h"
#include "crema/core/rank.h"
#include "crema/layers/layer.h"
#include "test_helpers.h"

namespace crema {
namespace {

TEST(ShardTest, TrainSharesAreEqualAndDisjoint) {
  for (int world = 1; world <= 5; ++world) {
    int64_t next = 0;
    for (int rank = 0; rank < world; ++rank) {
      const IndexRange r = ShardRange(23, rank, world, caffe::TRAIN, 4);
      EXPECT_EQ(r.size(), 23 / world);
      EXPECT_EQ(r.begin, next);
      next = r.end;
    }
  }
  testing::ExpectError([] { ShardRange(3, 0, 4, caffe::TRAIN); }, ErrorCode::kInvalidArgument,
                       {"3 items", "4 ranks"});
}

TEST(ShardTest, TestSharesAreWholeBatchesCoveringEverythingOnce) {
  // 23 items in batches of 4: 6 batches (the last one partial), shared out as whole batches.
  for (int world = 1; world <= 6; ++world) {
    int64_t next = 0;
    int64_t batches = 0;
    for (int rank = 0; rank < world; ++rank) {
      const IndexRange r = ShardRange(23, rank, world, caffe::TEST, 4);
      const int64_t mine = ShareOfBatches(6, rank, world);
      batches += mine;
      EXPECT_EQ(r.begin, next) << world << " " << rank;
      EXPECT_EQ(r.begin % 4, 0);
      EXPECT_EQ(r.end, std::min<int64_t>(23, r.begin + 4 * mine));
      next = r.end;
    }
    EXPECT_EQ(next, 23);
    EXPECT_EQ(batches, 6);
  }
  // More ranks than batches: a rank without a batch gets the first batch's range, which it
  // does not run.
  EXPECT_EQ(ShareOfBatches(2, 0, 3), 0);
  const IndexRange idle = ShardRange(8, 0, 3, caffe::TEST, 4);
  EXPECT_EQ(idle.begin, 0);
  EXPECT_EQ(idle.end, 4);
}

TEST(ShardTest, GlobalBatchIsSplitBetweenRanksInTrainOnly) {
  class Probe : public Layer {
   public:
    using Layer::Layer;
    using Layer::RankBatchSize;
    const char* type() const override { return "Probe"; }
    void Reshape(const BlobVec&, const BlobVec&) override {}

   protected:
    void ForwardCpu(const BlobVec&, const BlobVec&) override {}
    void BackwardCpu(const BlobVec&, const std::vector<bool>&, const BlobVec&) override {}
  };
  Probe train(testing::LayerFromText("name: 'p' phase: TRAIN"));
  Probe test(testing::LayerFromText("name: 'p' phase: TEST"));
  EXPECT_EQ(train.RankBatchSize(64, "batch_size"), 64);
  SetRankInfo({1, 2, /*split_train_batch=*/false});
  EXPECT_EQ(train.RankBatchSize(64, "batch_size"), 64);  // CaffeOnSpark's rule
  SetRankInfo({1, 2, true});
  EXPECT_EQ(train.RankBatchSize(64, "batch_size"), 32);
  EXPECT_EQ(test.RankBatchSize(100, "batch_size"), 100);
  testing::ExpectError([&] { train.RankBatchSize(63, "data_param.batch_size"); },
                       ErrorCode::kInvalidArgument,
                       {"Layer 'p' (Probe)", "data_param.batch_size 63", "2 ranks"});
  testing::ExpectError([&] { train.RankBatchSize(0, "data_param.batch_size"); },
                       ErrorCode::kInvalidArgument, {"data_param.batch_size > 0"});
  SetRankInfo({0, 1});
}

}  // namespace
}  // namespace crema
