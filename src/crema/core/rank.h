// This process's place in a data-parallel job: its rank and the number of ranks.
//
// The distributed runtime sets it once at start-up, before nets are built; data layers read
// it to pick their shard of a dataset. A process that never sets it is rank 0 of 1.
// Thread-safe: values are atomics.
#ifndef CREMA_CORE_RANK_H_
#define CREMA_CORE_RANK_H_

namespace crema {

struct RankInfo {
  int rank = 0;
  int world_size = 1;
  // When true, a TRAIN data layer's batch_size is the job's batch, split evenly between the
  // ranks; when false (CaffeOnSpark's rule) every rank takes batch_size.
  bool split_train_batch = false;
};

// Throws InvalidArgument unless 0 <= rank < world_size.
void SetRankInfo(RankInfo info);
RankInfo GetRankInfo();

}  // namespace crema

#endif  // CREMA_CORE_RANK_H_
