// Datasets stored in LMDB, the layout Caffe's tools write (convert_imageset,
// convert_mnist_data, extract_features).
//
// A dataset is an LMDB *directory* holding data.mdb and lock.mdb, with one unnamed database
// whose keys are ASCII strings (they only fix the order: LMDB sorts keys bytewise) and whose
// values are serialized caffe::Datum messages. See docs/CAFFE_COMPAT.md §4.2.
//
// LmdbReader walks the records in key order and wraps around at the end. LmdbWriter creates
// such a directory, commits every `puts_per_commit` puts and grows the memory map on demand,
// so it starts small and works on machines with little address space.
//
// Thread-safety: neither class is thread-safe. A reader opens its environment with
// MDB_NOTLS, so it may be opened on one thread and then used on another (the prefetch
// thread), one thread at a time. Many readers, in this and other processes, may read one
// directory at once; at most one writer may write it.
#ifndef CREMA_DATA_LMDB_DATASET_H_
#define CREMA_DATA_LMDB_DATASET_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "crema/data/record_source.h"

// LMDB's handle types, kept out of this header.
struct MDB_env;
struct MDB_txn;
struct MDB_cursor;

namespace crema {

// True when `path` is a directory holding an LMDB data file (data.mdb). Never throws.
bool IsLmdbDirectory(const std::string& path);

class LmdbReader : public RecordSource {
 public:
  // Opens the LMDB directory `path` read-only and positions the reader at the first key.
  // An empty database opens fine (size() == 0).
  // Throws IOError naming `path` when it does not exist or the system refuses to open it,
  // and Corruption naming `path` when it exists but is not an LMDB directory (a plain file,
  // a directory without data.mdb, a data.mdb LMDB cannot read).
  explicit LmdbReader(const std::string& path);
  ~LmdbReader() override;
  LmdbReader(const LmdbReader&) = delete;
  LmdbReader& operator=(const LmdbReader&) = delete;

  // Number of entries in the database when it was opened (the read transaction is a
  // snapshot: records a writer adds later are not seen).
  int64_t size() const override { return size_; }

  // The current record; views into the memory map, valid until the next Next/Seek/Skip.
  std::string_view key() const override { return key_; }
  std::string_view value() const override { return value_; }
  int64_t position() const override { return position_; }

  // Advances in key order; after the last key, goes back to the first.
  // Throws IOError naming the path if LMDB reports a failure.
  void Next() override;
  void SeekToFirst() override;

  std::string Describe() const override;
  const std::string& path() const { return path_; }

 private:
  // Runs one cursor operation; returns false at the end of the database.
  bool Move(int op);

  std::string path_;
  MDB_env* env_ = nullptr;
  MDB_txn* txn_ = nullptr;
  MDB_cursor* cursor_ = nullptr;
  int64_t size_ = 0;
  int64_t position_ = 0;
  std::string_view key_;
  std::string_view value_;
};

class LmdbWriter {
 public:
  struct Options {
    // Replace the records of an existing, non-empty database instead of refusing.
    bool overwrite = false;
    // Memory-map size to start from; doubled whenever a commit runs out of room.
    size_t initial_map_size = size_t{16} << 20;
    // Puts buffered per write transaction (Caffe's tools use 1000).
    int puts_per_commit = 1000;
  };

  // Creates the directory `path` (mode 0744) unless it exists, and opens or creates its
  // database files (mode 0664).
  // Throws InvalidArgument when `path` holds a non-empty database and !options.overwrite
  // (the message says how many records it holds), or when an option is out of range;
  // IOError naming `path` when the directory or files cannot be created (e.g. `path` is a
  // plain file); Corruption naming `path` when an existing data.mdb is not readable LMDB.
  // With options.overwrite, the existing records are deleted first.
  explicit LmdbWriter(const std::string& path) : LmdbWriter(path, Options()) {}
  LmdbWriter(const std::string& path, const Options& options);
  // Commits whatever is pending. Never throws: a failure is logged, and the records of the
  // unfinished transaction are lost. Call Finish() to see failures.
  ~LmdbWriter();
  LmdbWriter(const LmdbWriter&) = delete;
  LmdbWriter& operator=(const LmdbWriter&) = delete;

  // Buffers key → value (a later put of the same key replaces the value) and commits once
  // `puts_per_commit` puts are pending.
  // Throws InvalidArgument when the key is empty or longer than LMDB's key limit (511
  // bytes), IOError naming the path when a commit fails for a reason other than a full map.
  void Put(std::string_view key, std::string_view value);

  // Commits the pending puts and flushes the files to disk. The writer stays usable.
  // Throws IOError naming the path on failure.
  void Finish();

  // Puts so far, committed or not.
  int64_t num_puts() const { return num_puts_; }
  // The current memory-map size in bytes.
  size_t map_size() const;
  const std::string& path() const { return path_; }

 private:
  void Commit();
  void GrowMap();

  std::string path_;
  Options options_;
  MDB_env* env_ = nullptr;
  std::vector<std::pair<std::string, std::string>> pending_;
  int64_t num_puts_ = 0;
};

}  // namespace crema

#endif  // CREMA_DATA_LMDB_DATASET_H_
