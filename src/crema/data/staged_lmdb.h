// StagedLmdb: writes a new LMDB dataset under a temporary name and moves it to its final
// name only once it is complete, so a conversion that fails or is killed never leaves a
// half-written database where a training run would pick it up.
//
// The records go to the directory "<path>.partial"; Commit() flushes it and renames it to
// `path`; destroying the object without Commit() deletes "<path>.partial".
//
// Thread-safety: not thread-safe.
#ifndef CREMA_DATA_STAGED_LMDB_H_
#define CREMA_DATA_STAGED_LMDB_H_

#include <memory>
#include <string>

#include "crema/data/lmdb_dataset.h"

namespace crema {

class StagedLmdb {
 public:
  // Checks that `path` can be created and opens a writer on "<path>.partial" (a leftover
  // "<path>.partial" directory from an interrupted run is removed first). Missing parent
  // directories are created; trailing slashes of `path` are ignored.
  // Throws InvalidArgument naming `path` when it already exists (other than as an empty
  // directory, which is replaced), and naming "<path>.partial" when that exists but is not
  // a directory Crema could have left (a file, or a directory holding anything but
  // data.mdb/lock.mdb); IOError naming the directory, or what LmdbWriter throws, when the
  // directories cannot be created.
  explicit StagedLmdb(const std::string& path);
  // Without a Commit(), closes the writer and deletes "<path>.partial". Never throws.
  ~StagedLmdb();
  StagedLmdb(const StagedLmdb&) = delete;
  StagedLmdb& operator=(const StagedLmdb&) = delete;

  // The writer of the staged database. REQUIRES: Commit() not called yet.
  LmdbWriter& writer() { return *writer_; }

  // Flushes the records, closes the database and renames it to its final name.
  // Throws what LmdbWriter::Finish throws, and IOError naming both paths when the rename
  // fails; on a throw the staged directory is deleted by the destructor.
  // REQUIRES: called at most once.
  void Commit();

  // The final path (without trailing slashes) and the staging path.
  const std::string& path() const { return path_; }
  const std::string& staging_path() const { return staging_path_; }

 private:
  std::string path_;
  std::string staging_path_;
  std::unique_ptr<LmdbWriter> writer_;
  bool committed_ = false;
};

// Throws InvalidArgument naming `path` unless a new dataset may be created there: `path`
// does not exist, or is an empty directory. Lets a caller that writes several databases
// check them all before writing any.
void CheckNewDatabasePath(const std::string& path);

// `path` without trailing slashes ("out/db/" → "out/db"; "/" stays "/").
std::string StripTrailingSlashes(const std::string& path);

}  // namespace crema

#endif  // CREMA_DATA_STAGED_LMDB_H_
