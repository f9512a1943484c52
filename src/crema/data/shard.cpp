#include "crema/data/shard.h"

#include "crema/core/error.h"

namespace crema {

IndexRange ShardRange(int64_t size, int rank, int world_size, caffe::Phase phase) {
  CREMA_DCHECK(rank >= 0 && rank < world_size && size >= 0);
  if (world_size == 1) return {0, size};
  if (phase == caffe::TRAIN) {
    CREMA_REQUIRE(size >= world_size, "a dataset of ", size, " items cannot give each of ",
                  world_size, " ranks at least one item to train on");
    const int64_t share = size / world_size;
    return {rank * share, (rank + 1) * share};
  }
  return {size * rank / world_size, size * (rank + 1) / world_size};
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
