#include "crema/data/staged_lmdb.h"

#include <filesystem>
#include <system_error>

#include <glog/logging.h>

#include "crema/core/error.h"

namespace crema {

namespace {

namespace fs = std::filesystem;

bool IsEmptyDirectory(const std::string& path) {
  std::error_code ec;
  return fs::is_directory(path, ec) && fs::is_empty(path, ec) && !ec;
}

// True for a directory holding nothing but LMDB's two files: what an interrupted writer
// leaves, and safe to delete.
bool IsLeftoverLmdb(const std::string& path) {
  std::error_code ec;
  if (!fs::is_directory(path, ec)) return false;
  for (const auto& entry : fs::directory_iterator(path, ec)) {
    const std::string name = entry.path().filename().string();
    if (name != "data.mdb" && name != "lock.mdb") return false;
  }
  return !ec;
}

}  // namespace

std::string StripTrailingSlashes(const std::string& path) {
  std::string out = path;
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

void CheckNewDatabasePath(const std::string& path) {
  std::error_code ec;
  if (fs::exists(fs::symlink_status(path, ec)) && !IsEmptyDirectory(path)) {
    throw InvalidArgument(StrCat("'", path, "' already exists; remove it first (refusing to ",
                                 "overwrite a dataset)"));
  }
}

StagedLmdb::StagedLmdb(const std::string& path)
    : path_(StripTrailingSlashes(path)), staging_path_(path_ + ".partial") {
  CheckNewDatabasePath(path_);
  std::error_code ec;
  if (fs::exists(fs::symlink_status(staging_path_, ec))) {
    if (!IsLeftoverLmdb(staging_path_)) {
      throw InvalidArgument(StrCat("'", staging_path_, "' exists and is not a database an ",
                                   "interrupted conversion left; remove it first"));
    }
    LOG(WARNING) << "Removing " << staging_path_ << ", left by an interrupted conversion";
    fs::remove_all(staging_path_, ec);
    if (ec) throw IOError(StrCat("cannot remove '", staging_path_, "': ", ec.message()));
  }
  const fs::path parent = fs::path(path_).parent_path();
  if (!parent.empty()) {
    fs::create_directories(parent, ec);
    if (ec) {
      throw IOError(StrCat("cannot create directory '", parent.string(), "': ", ec.message()));
    }
  }
  writer_ = std::make_unique<LmdbWriter>(staging_path_);
}

StagedLmdb::~StagedLmdb() {
  if (committed_) return;
  writer_.reset();
  std::error_code ec;
  fs::remove_all(staging_path_, ec);
  if (ec) LOG(ERROR) << "Cannot remove " << staging_path_ << ": " << ec.message();
}

void StagedLmdb::Commit() {
  writer_->Finish();
  writer_.reset();
  std::error_code ec;
  // rename(2) replaces an empty directory at the final path, and nothing else.
  fs::rename(staging_path_, path_, ec);
  if (ec) {
    throw IOError(StrCat("cannot rename '", staging_path_, "' to '", path_, "': ",
                         ec.message()));
  }
  committed_ = true;
}

}  // namespace crema
