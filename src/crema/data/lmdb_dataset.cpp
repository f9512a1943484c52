#include "crema/data/lmdb_dataset.h"

#include <lmdb.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include <glog/logging.h>

#include "crema/core/error.h"
#include "crema/data/lmdb_check.h"

namespace crema {

namespace {

namespace fs = std::filesystem;

// Caffe's modes: the directory 0744, the files 0664.
constexpr mode_t kDirMode = 0744;
constexpr mdb_mode_t kFileMode = 0664;

std::string DataFile(const std::string& path) { return (fs::path(path) / "data.mdb").string(); }

// Errors from mdb_env_open: "not an LMDB" is corruption, anything else comes from the system.
Error OpenError(int rc, const std::string& path) {
  if (rc == MDB_INVALID || rc == MDB_VERSION_MISMATCH) {
    return Corruption(StrCat("'", path, "' is not an LMDB database: ", mdb_strerror(rc)));
  }
  return IOError(StrCat("cannot open LMDB database '", path, "': ", mdb_strerror(rc)));
}

// Checks that `path` looks like an LMDB directory before LMDB sees it, so a missing
// directory and a directory of something else get messages that say so.
void CheckLmdbDirectory(const std::string& path) {
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  if (!fs::exists(status)) {
    throw IOError(StrCat("cannot open LMDB database '", path, "': no such file or directory"));
  }
  if (!fs::is_directory(status)) {
    throw Corruption(StrCat("'", path,
                            "' is not an LMDB database: expected a directory holding data.mdb, "
                            "found a file"));
  }
  if (!fs::exists(DataFile(path), ec)) {
    throw Corruption(
        StrCat("'", path, "' is not an LMDB database: the directory holds no data.mdb"));
  }
}

size_t PageSize() {
  const long page = sysconf(_SC_PAGESIZE);
  return page > 0 ? static_cast<size_t>(page) : 4096;
}

size_t RoundUpToPage(size_t bytes) {
  const size_t page = PageSize();
  return (bytes + page - 1) / page * page;
}

}  // namespace

bool IsLmdbDirectory(const std::string& path) {
  std::error_code ec;
  return fs::is_directory(path, ec) && fs::is_regular_file(DataFile(path), ec);
}

// ---- LmdbReader --------------------------------------------------------------------------

LmdbReader::LmdbReader(const std::string& path) : path_(path) {
  CheckLmdbDirectory(path_);
  int rc = mdb_env_create(&env_);
  if (rc != MDB_SUCCESS) throw OpenError(rc, path_);
  // MDB_NOTLS ties the reader slot to the transaction rather than to the opening thread,
  // so the prefetch thread can use a reader the layer opened during SetUp.
  rc = mdb_env_open(env_, path_.c_str(), MDB_RDONLY | MDB_NOTLS, kFileMode);
  if (rc == MDB_SUCCESS) rc = mdb_txn_begin(env_, nullptr, MDB_RDONLY, &txn_);
  MDB_dbi dbi = 0;
  if (rc == MDB_SUCCESS) rc = mdb_dbi_open(txn_, nullptr, 0, &dbi);
  MDB_stat stat;
  if (rc == MDB_SUCCESS) rc = mdb_stat(txn_, dbi, &stat);
  if (rc == MDB_SUCCESS) rc = mdb_cursor_open(txn_, dbi, &cursor_);
  if (rc != MDB_SUCCESS) {
    const Error error = OpenError(rc, path_);
    if (txn_ != nullptr) mdb_txn_abort(txn_);
    mdb_env_close(env_);
    throw error;
  }
  // LMDB trusts every page it maps: a file cut short or a flipped bit would kill the process
  // (SIGBUS, SIGSEGV). Check the pages of this transaction's snapshot first.
  try {
    CheckLmdbDataFile(DataFile(path_), mdb_txn_id(txn_));
  } catch (const Error&) {
    mdb_cursor_close(cursor_);
    mdb_txn_abort(txn_);
    mdb_env_close(env_);
    throw;
  }
  size_ = static_cast<int64_t>(stat.ms_entries);
  SeekToFirst();
}

LmdbReader::~LmdbReader() {
  if (cursor_ != nullptr) mdb_cursor_close(cursor_);
  if (txn_ != nullptr) mdb_txn_abort(txn_);
  if (env_ != nullptr) mdb_env_close(env_);
}

bool LmdbReader::Move(int op) {
  MDB_val key;
  MDB_val value;
  const int rc = mdb_cursor_get(cursor_, &key, &value, static_cast<MDB_cursor_op>(op));
  if (rc == MDB_NOTFOUND) {
    key_ = {};
    value_ = {};
    return false;
  }
  if (rc != MDB_SUCCESS) {
    throw IOError(StrCat("cannot read LMDB database '", path_, "': ", mdb_strerror(rc)));
  }
  key_ = std::string_view(static_cast<const char*>(key.mv_data), key.mv_size);
  value_ = std::string_view(static_cast<const char*>(value.mv_data), value.mv_size);
  return true;
}

void LmdbReader::SeekToFirst() {
  position_ = 0;
  Move(MDB_FIRST);
}

void LmdbReader::Next() {
  if (size_ == 0) return;
  if (position_ + 1 < size_ && Move(MDB_NEXT)) {
    ++position_;
    return;
  }
  SeekToFirst();
}

std::string LmdbReader::Describe() const { return StrCat("LMDB '", path_, "'"); }

// ---- LmdbWriter --------------------------------------------------------------------------

LmdbWriter::LmdbWriter(const std::string& path, const Options& options)
    : path_(path), options_(options) {
  if (options_.puts_per_commit < 1) {
    throw InvalidArgument(StrCat("LMDB writer for '", path_,
                                 "': puts_per_commit must be at least 1, got ",
                                 options_.puts_per_commit));
  }
  std::error_code ec;
  const fs::file_status status = fs::status(path_, ec);
  if (fs::exists(status)) {
    if (!fs::is_directory(status)) {
      throw IOError(StrCat("cannot create LMDB database '", path_,
                           "': the path exists and is not a directory"));
    }
  } else if (::mkdir(path_.c_str(), kDirMode) != 0) {
    throw IOErrorFromErrno("create LMDB directory", path_);
  }

  int rc = mdb_env_create(&env_);
  if (rc == MDB_SUCCESS) {
    const size_t initial = std::max(RoundUpToPage(options_.initial_map_size), 4 * PageSize());
    rc = mdb_env_set_mapsize(env_, initial);
  }
  if (rc == MDB_SUCCESS) rc = mdb_env_open(env_, path_.c_str(), 0, kFileMode);
  if (rc != MDB_SUCCESS) {
    const Error error = OpenError(rc, path_);
    mdb_env_close(env_);
    env_ = nullptr;
    throw error;
  }

  // An existing database: refuse to mix old and new records unless told to replace them.
  MDB_txn* txn = nullptr;
  MDB_dbi dbi = 0;
  MDB_stat stat;
  rc = mdb_txn_begin(env_, nullptr, 0, &txn);
  if (rc == MDB_SUCCESS) rc = mdb_dbi_open(txn, nullptr, 0, &dbi);
  if (rc == MDB_SUCCESS) rc = mdb_stat(txn, dbi, &stat);
  if (rc == MDB_SUCCESS && stat.ms_entries > 0) {
    if (!options_.overwrite) {
      mdb_txn_abort(txn);
      mdb_env_close(env_);
      env_ = nullptr;
      throw InvalidArgument(StrCat("LMDB database '", path_, "' already holds ",
                                   stat.ms_entries,
                                   " records; refusing to overwrite it (remove it first)"));
    }
    LOG(INFO) << "Deleting the " << stat.ms_entries << " records of " << path_;
    rc = mdb_drop(txn, dbi, 0);
  }
  if (rc == MDB_SUCCESS) {
    rc = mdb_txn_commit(txn);
    txn = nullptr;
  }
  if (rc != MDB_SUCCESS) {
    if (txn != nullptr) mdb_txn_abort(txn);
    mdb_env_close(env_);
    env_ = nullptr;
    throw IOError(StrCat("cannot prepare LMDB database '", path_, "': ", mdb_strerror(rc)));
  }
  pending_.reserve(static_cast<size_t>(options_.puts_per_commit));
}

LmdbWriter::~LmdbWriter() {
  if (env_ == nullptr) return;
  try {
    Commit();
  } catch (const std::exception& e) {
    LOG(ERROR) << "Lost " << pending_.size() << " pending records: " << e.what();
  }
  mdb_env_close(env_);
}

void LmdbWriter::Put(std::string_view key, std::string_view value) {
  if (key.empty()) {
    throw InvalidArgument(StrCat("LMDB database '", path_, "': keys must not be empty"));
  }
  const size_t max_key = static_cast<size_t>(mdb_env_get_maxkeysize(env_));
  if (key.size() > max_key) {
    throw InvalidArgument(StrCat("LMDB database '", path_, "': key of ", key.size(),
                                 " bytes is longer than the limit of ", max_key));
  }
  pending_.emplace_back(std::string(key), std::string(value));
  ++num_puts_;
  if (static_cast<int>(pending_.size()) >= options_.puts_per_commit) Commit();
}

void LmdbWriter::Finish() {
  Commit();
  const int rc = mdb_env_sync(env_, 1);
  if (rc != MDB_SUCCESS) {
    throw IOError(StrCat("cannot flush LMDB database '", path_, "': ", mdb_strerror(rc)));
  }
}

size_t LmdbWriter::map_size() const {
  MDB_envinfo info;
  if (env_ == nullptr || mdb_env_info(env_, &info) != MDB_SUCCESS) return 0;
  return info.me_mapsize;
}

void LmdbWriter::GrowMap() {
  const size_t current = map_size();
  const size_t doubled = current * 2;
  const int rc = doubled > current ? mdb_env_set_mapsize(env_, doubled) : ENOMEM;
  if (rc != MDB_SUCCESS) {
    throw IOError(StrCat("cannot grow the memory map of LMDB database '", path_, "' beyond ",
                         current, " bytes: ", mdb_strerror(rc)));
  }
  VLOG(1) << "LMDB " << path_ << ": map size doubled to " << doubled << " bytes";
}

void LmdbWriter::Commit() {
  if (pending_.empty()) return;
  // The whole batch is kept in memory until it commits, so a transaction that runs out of
  // map space can be abandoned and replayed into a map twice as large.
  for (;;) {
    MDB_txn* txn = nullptr;
    MDB_dbi dbi = 0;
    int rc = mdb_txn_begin(env_, nullptr, 0, &txn);
    if (rc == MDB_SUCCESS) rc = mdb_dbi_open(txn, nullptr, 0, &dbi);
    for (size_t i = 0; rc == MDB_SUCCESS && i < pending_.size(); ++i) {
      MDB_val key{pending_[i].first.size(), pending_[i].first.data()};
      MDB_val value{pending_[i].second.size(), pending_[i].second.data()};
      rc = mdb_put(txn, dbi, &key, &value, 0);
    }
    if (rc == MDB_SUCCESS) {
      rc = mdb_txn_commit(txn);  // frees the transaction whatever the outcome
      txn = nullptr;
    }
    if (txn != nullptr) mdb_txn_abort(txn);
    if (rc == MDB_SUCCESS) break;
    if (rc != MDB_MAP_FULL) {
      throw IOError(StrCat("cannot write LMDB database '", path_, "': ", mdb_strerror(rc)));
    }
    GrowMap();
  }
  pending_.clear();
}

}  // namespace crema
