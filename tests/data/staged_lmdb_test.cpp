#include "crema/data/staged_lmdb.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <stdexcept>

#include "crema/core/error.h"
#include "test_helpers.h"

namespace crema {
namespace {

namespace fs = std::filesystem;
using testing::ExpectError;
using testing::TempDir;

TEST(StagedLmdbTest, CommitMovesTheDatabaseToItsName) {
  TempDir dir;
  const std::string db = dir.file("db");
  {
    StagedLmdb staged(db + "/");  // trailing slashes are ignored
    EXPECT_EQ(staged.path(), db);
    EXPECT_EQ(staged.staging_path(), db + ".partial");
    staged.writer().Put("a", "1");
    EXPECT_TRUE(fs::exists(db + ".partial/data.mdb"));
    EXPECT_FALSE(fs::exists(db));
    staged.Commit();
  }
  EXPECT_FALSE(fs::exists(db + ".partial"));
  LmdbReader reader(db);
  ASSERT_EQ(reader.size(), 1);
  EXPECT_EQ(reader.value(), "1");
}

TEST(StagedLmdbTest, CreatesMissingParentDirectories) {
  TempDir dir;
  {
    StagedLmdb staged(dir.file("a/b/db"));
    staged.writer().Put("k", "v");
    staged.Commit();
  }
  EXPECT_EQ(LmdbReader(dir.file("a/b/db")).size(), 1);
}

TEST(StagedLmdbTest, WithoutCommitNothingIsLeft) {
  TempDir dir;
  const std::string db = dir.file("db");
  try {
    StagedLmdb staged(db);
    staged.writer().Put("a", "1");
    throw std::runtime_error("conversion failed");
  } catch (const std::runtime_error&) {
  }
  EXPECT_FALSE(fs::exists(db));
  EXPECT_FALSE(fs::exists(db + ".partial"));
}

TEST(StagedLmdbTest, RefusesAnExistingPathButReplacesAnEmptyDirectory) {
  TempDir dir;
  testing::WriteFile(dir.file("file"), "x");
  ExpectError([&] { StagedLmdb staged(dir.file("file")); }, ErrorCode::kInvalidArgument,
              {StrCat("'", dir.file("file"), "' already exists")});
  fs::create_directory(dir.file("full"));
  testing::WriteFile(dir.file("full/x"), "x");
  ExpectError([&] { CheckNewDatabasePath(dir.file("full")); }, ErrorCode::kInvalidArgument,
              {dir.file("full"), "already exists"});

  fs::create_directory(dir.file("empty"));
  CheckNewDatabasePath(dir.file("empty"));
  {
    StagedLmdb staged(dir.file("empty"));
    staged.writer().Put("k", "v");
    staged.Commit();
  }
  EXPECT_EQ(LmdbReader(dir.file("empty")).size(), 1);
}

TEST(StagedLmdbTest, RemovesALeftoverStagingDatabaseButNotOtherThings) {
  TempDir dir;
  const std::string db = dir.file("db");
  {
    LmdbWriter leftover(db + ".partial");  // as an interrupted run leaves it
    leftover.Put("old", "x");
  }
  {
    StagedLmdb staged(db);
    staged.writer().Put("new", "y");
    staged.Commit();
  }
  LmdbReader reader(db);
  ASSERT_EQ(reader.size(), 1);
  EXPECT_EQ(reader.key(), "new");

  testing::WriteFile(dir.file("other.partial"), "the user's file");
  ExpectError([&] { StagedLmdb staged(dir.file("other")); }, ErrorCode::kInvalidArgument,
              {dir.file("other.partial"), "remove it first"});
  EXPECT_TRUE(fs::exists(dir.file("other.partial")));
}

TEST(StripTrailingSlashesTest, KeepsTheRoot) {
  EXPECT_EQ(StripTrailingSlashes("a/b//"), "a/b");
  EXPECT_EQ(StripTrailingSlashes("a"), "a");
  EXPECT_EQ(StripTrailingSlashes("/"), "/");
}

}  // namespace
}  // namespace crema
