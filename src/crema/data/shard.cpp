#include "crema/data/shard.h"

#include <algorithm>

#include "crema/core/error.h"

namespace crema {

int64_t ShareOfBatches(int64_t batches, int rank, int world_size) {
  return (rank + 1) * batches / world_size - rank * batches / world_size;
}

IndexRange ShardRange(int64_t size, int rank, int world_size, caffe::Phase phase,
                      int64_t batch_size) {
  CREMA_DCHECK(rank >= 0 && rank < world_size && size >= 0 && batch_size >= 1);
  if (world_size == 1) return {0, size};
  if (phase == caffe::TRAIN) {
    CREMA_REQUIRE(size >= world_size, "a dataset of ", size, " items cannot give each of ",
                  world_size, " ranks at least one item to train on");
    const int64_t share = size / world_size;
    return {rank * share, (rank + 1) * share};
  }
  const int64_t batches = (size + batch_size - 1) / batch_size;
  const int64_t first = rank * batches / world_size;
  const int64_t last = (rank + 1) * batches / world_size;
  if (first == last) return {0, std::min(size, batch_size)};
  return {first * batch_size, std::min(size, last * batch_size)};
}

ShardedSource::ShardedSource(std::unique_ptr<RecordSource> inner, IndexRange range)
    : inner_(std::move(inner)), range_(range) {
  CREMA_REQUIRE(range_.begin >= 0 && range_.end <= inner_->size() && range_.size() > 0,
                inner_->Describe(), ": shard [", range_.begin, ", ", range_.end,
                ") is empty or outside its ", inner_->size(), " records");
  SeekToFirst();
}

void ShardedSource::Next() {
  if (position() + 1 >= size()) {
    SeekToFirst();
  } else {
    inner_->Next();
  }
}

void ShardedSource::SeekToFirst() { inner_->Seek(range_.begin); }

void ShardedSource::Seek(int64_t index) { inner_->Seek(range_.begin + index % size()); }

void ShardedSource::Skip(int64_t n) {
  if (n <= 0) return;
  Seek((position() + n % size()) % size());
}

std::string ShardedSource::Describe() const {
  return StrCat(inner_->Describe(), " records [", range_.begin, ", ", range_.end, ")");
}

}  // namespace crema
