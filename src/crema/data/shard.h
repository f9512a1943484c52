// Sharding a dataset across the ranks of a data-parallel job: every rank reads only its own,
// contiguous share (an index range), never a copy of the whole dataset.
//
//   TRAIN: every rank gets exactly floor(N / W) items — rank r reads
//          [r·⌊N/W⌋, (r+1)·⌊N/W⌋) — so all ranks run the same number of batches per epoch and
//          none waits for another at its end. The last N mod W items (fewer than W) are
//          left out.
//   TEST:  whole batches are shared out, so that rank r's batches are the ones a single
//          process would run as its batches [⌊r·T/W⌋, ⌊(r+1)·T/W⌋), T = ⌈N/B⌉ for batch size B:
//          the ranks together cover every item exactly once, and a distributed test equals a
//          single-process one batch for batch. A rank left without a batch (W > T) gets the
//          first batch's range, which callers do not run (Solver::Test and the test/features
//          commands give it no iterations).
#ifndef CREMA_DATA_SHARD_H_
#define CREMA_DATA_SHARD_H_

#include <cstdint>
#include <memory>
#include <string>

#include "crema/data/record_source.h"
#include "crema/proto/caffe.pb.h"

namespace crema {

struct IndexRange {
  int64_t begin = 0;
  int64_t end = 0;
  int64_t size() const { return end - begin; }
};

// The share of an N-item dataset that `rank` of `world_size` reads in `phase`, for batches of
// `batch_size` items. Throws InvalidArgument when a TRAIN dataset has fewer items than ranks
// (a rank would have nothing to train on), naming both numbers.
// REQUIRES: 0 <= rank < world_size, size >= 0, batch_size >= 1.
IndexRange ShardRange(int64_t size, int rank, int world_size, caffe::Phase phase,
                      int64_t batch_size = 1);

// How many of `batches` test batches rank `rank` of `world_size` runs: its share of them, the
// same share ShardRange gives its data layer when batches = ⌈N/B⌉.
int64_t ShareOfBatches(int64_t batches, int rank, int world_size);

// A RecordSource restricted to the records [range.begin, range.end) of another, wrapping
// around inside that range. Takes ownership of `inner`.
class ShardedSource : public RecordSource {
 public:
  // Throws InvalidArgument when the range is empty or outside the inner source.
  ShardedSource(std::unique_ptr<RecordSource> inner, IndexRange range);

  int64_t size() const override { return range_.size(); }
  std::string_view key() const override { return inner_->key(); }
  std::string_view value() const override { return inner_->value(); }
  int64_t position() const override { return inner_->position() - range_.begin; }
  void Next() override;
  void SeekToFirst() override;
  void Seek(int64_t index) override;
  void Skip(int64_t n) override;
  std::string Describe() const override;

 private:
  std::unique_ptr<RecordSource> inner_;
  IndexRange range_;
};

}  // namespace crema

#endif  // CREMA_DATA_SHARD_H_
