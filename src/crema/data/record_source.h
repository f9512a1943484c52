// RecordSource: an endless, ordered stream of serialized records (key + value bytes).
//
// A source holds one epoch of size() records in a fixed order; reading past the last record
// wraps around to the first, so a data layer can read forever. Data layers only see this
// interface: LMDB is one implementation (lmdb_dataset.h); image lists, HDF5 files and
// per-rank sharding are others that plug in here.
//
// A source is used by one thread at a time; it may be handed from the thread that opened it
// to another (the prefetch thread) with the usual happens-before of a mutex or thread start.
#ifndef CREMA_DATA_RECORD_SOURCE_H_
#define CREMA_DATA_RECORD_SOURCE_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace crema {

class RecordSource {
 public:
  virtual ~RecordSource() = default;

  // Number of records in one epoch.
  virtual int64_t size() const = 0;

  // The current record. The views stay valid until the next call of a non-const method.
  // REQUIRES: size() > 0.
  virtual std::string_view key() const = 0;
  virtual std::string_view value() const = 0;

  // Index of the current record in [0, size()).
  virtual int64_t position() const = 0;

  // Advances to the next record; after the last one, back to the first.
  // Throws crema::Error (IOError/Corruption naming the source) when the storage fails.
  // REQUIRES: size() > 0.
  virtual void Next() = 0;

  // Goes back to the first record.
  virtual void SeekToFirst() = 0;

  // Advances by n records (n >= 0), wrapping around as Next() does. The default steps
  // n mod size() times.
  virtual void Skip(int64_t n);

  // Moves to record `index` (taken mod size()). REQUIRES: index >= 0.
  virtual void Seek(int64_t index);

  // What the source is, for messages: "LMDB '/data/mnist_train_lmdb'".
  virtual std::string Describe() const = 0;
};

}  // namespace crema

#endif  // CREMA_DATA_RECORD_SOURCE_H_
