#include "crema/data/lmdb_dataset.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "crema/core/error.h"
#include "test_helpers.h"

namespace crema {
namespace {

using testing::TempDir;

std::string Key(int i) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%05d", i);
  return buf;
}

std::string Value(int i) { return "value of record " + std::to_string(i); }

// The current umask, without changing it.
mode_t CurrentUmask() {
  const mode_t mask = umask(0);
  umask(mask);
  return mask;
}

TEST(LmdbTest, RoundTripInKeyOrderWithWrapAround) {
  TempDir dir;
  const std::string db = dir.file("db");
  // Written out of order: the reader must return key order.
  const std::vector<int> order = {3, 0, 4, 1, 2};
  {
    LmdbWriter writer(db);
    for (int i : order) writer.Put(Key(i), Value(i));
    EXPECT_EQ(writer.num_puts(), 5);
    writer.Finish();
  }
  LmdbReader reader(db);
  ASSERT_EQ(reader.size(), 5);
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 5; ++i) {
      EXPECT_EQ(reader.position(), i);
      EXPECT_EQ(reader.key(), Key(i));
      EXPECT_EQ(reader.value(), Value(i));
      reader.Next();
    }
  }
  EXPECT_EQ(reader.key(), Key(0));
  EXPECT_EQ(reader.Describe(), "LMDB '" + db + "'");
}

TEST(LmdbTest, SeekAndSkipWrapAround) {
  TempDir dir;
  const std::string db = dir.file("db");
  {
    LmdbWriter writer(db);
    for (int i = 0; i < 7; ++i) writer.Put(Key(i), Value(i));
  }
  LmdbReader reader(db);
  reader.Seek(4);
  EXPECT_EQ(reader.key(), Key(4));
  reader.Skip(2);
  EXPECT_EQ(reader.key(), Key(6));
  reader.Skip(3);  // 6 → 0 → 1 → 2
  EXPECT_EQ(reader.key(), Key(2));
  EXPECT_EQ(reader.position(), 2);
  reader.Skip(7 * 1000 + 1);
  EXPECT_EQ(reader.key(), Key(3));
  reader.Seek(7 + 5);
  EXPECT_EQ(reader.key(), Key(5));
  reader.SeekToFirst();
  EXPECT_EQ(reader.key(), Key(0));
}

TEST(LmdbTest, LaterPutOfSameKeyReplacesValue) {
  TempDir dir;
  const std::string db = dir.file("db");
  {
    LmdbWriter writer(db);
    writer.Put("a", "first");
    writer.Put("a", "second");
  }
  LmdbReader reader(db);
  ASSERT_EQ(reader.size(), 1);
  EXPECT_EQ(reader.value(), "second");
}

TEST(LmdbTest, MapGrowsWhenWritesExceedIt) {
  TempDir dir;
  const std::string db = dir.file("db");
  LmdbWriter::Options options;
  options.initial_map_size = 64 << 10;  // 64 KiB
  options.puts_per_commit = 50;
  const int n = 400;
  const std::string payload(3000, 'x');  // 1.2 MB in all
  size_t final_map = 0;
  {
    LmdbWriter writer(db, options);
    EXPECT_EQ(writer.map_size(), size_t{64} << 10);
    for (int i = 0; i < n; ++i) writer.Put(Key(i), payload + std::to_string(i));
    writer.Finish();
    final_map = writer.map_size();
  }
  EXPECT_GE(final_map, size_t{1} << 20);
  LmdbReader reader(db);
  ASSERT_EQ(reader.size(), n);
  for (int i = 0; i < n; ++i) {
    ASSERT_EQ(reader.key(), Key(i));
    ASSERT_EQ(reader.value(), payload + std::to_string(i));
    reader.Next();
  }
}

TEST(LmdbTest, CreatesDirectoryAndFilesWithCaffesModes) {
  TempDir dir;
  const std::string db = dir.file("db");
  {
    LmdbWriter writer(db);
    writer.Put("k", "v");
  }
  const mode_t mask = CurrentUmask();
  struct stat st;
  ASSERT_EQ(stat(db.c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0744 & ~mask);
  ASSERT_EQ(stat((db + "/data.mdb").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0664 & ~mask);
  EXPECT_TRUE(std::filesystem::exists(db + "/lock.mdb"));
  EXPECT_TRUE(IsLmdbDirectory(db));
  EXPECT_FALSE(IsLmdbDirectory(dir.path()));
  EXPECT_FALSE(IsLmdbDirectory(dir.file("nothing")));
}

TEST(LmdbTest, DestructorCommitsPendingPuts) {
  TempDir dir;
  const std::string db = dir.file("db");
  {
    LmdbWriter writer(db);  // 1000 puts per commit: these stay pending until destruction
    for (int i = 0; i < 5; ++i) writer.Put(Key(i), Value(i));
  }
  LmdbReader reader(db);
  EXPECT_EQ(reader.size(), 5);
}

TEST(LmdbTest, CommitsEveryBatchOfPuts) {
  TempDir dir;
  const std::string db = dir.file("db");
  LmdbWriter::Options options;
  options.puts_per_commit = 3;
  LmdbWriter writer(db, options);
  for (int i = 0; i < 7; ++i) writer.Put(Key(i), Value(i));
  // Two full batches are committed; the seventh put is still pending.
  EXPECT_EQ(LmdbReader(db).size(), 6);
  writer.Finish();
  EXPECT_EQ(LmdbReader(db).size(), 7);
}

TEST(LmdbTest, RefusesToOverwriteUnlessTold) {
  TempDir dir;
  const std::string db = dir.file("db");
  {
    LmdbWriter writer(db);
    for (int i = 0; i < 3; ++i) writer.Put(Key(i), Value(i));
  }
  try {
    LmdbWriter writer(db);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(std::string(e.what()).find(db), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("already holds 3 records"), std::string::npos)
        << e.what();
  }
  EXPECT_EQ(LmdbReader(db).size(), 3);  // untouched

  LmdbWriter::Options options;
  options.overwrite = true;
  {
    LmdbWriter writer(db, options);
    writer.Put("x", "new");
  }
  LmdbReader reader(db);
  ASSERT_EQ(reader.size(), 1);
  EXPECT_EQ(reader.key(), "x");
}

TEST(LmdbTest, WritesIntoAnExistingEmptyDirectory) {
  TempDir dir;
  {
    LmdbWriter writer(dir.path());
    writer.Put("k", "v");
  }
  EXPECT_EQ(LmdbReader(dir.path()).size(), 1);
}

TEST(LmdbTest, EmptyDatabaseOpens) {
  TempDir dir;
  const std::string db = dir.file("db");
  { LmdbWriter writer(db); }
  LmdbReader reader(db);
  EXPECT_EQ(reader.size(), 0);
  reader.Next();  // harmless
  EXPECT_EQ(reader.size(), 0);
}

void ExpectOpenError(const std::string& path, ErrorCode code, const std::string& fragment) {
  try {
    LmdbReader reader(path);
    ADD_FAILURE() << "expected an error opening " << path;
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), code) << e.what();
    EXPECT_NE(std::string(e.what()).find("'" + path + "'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
  }
}

TEST(LmdbTest, MissingPathIsAnIOErrorNamingIt) {
  TempDir dir;
  ExpectOpenError(dir.file("no_such_db"), ErrorCode::kIOError, "no such file");
}

TEST(LmdbTest, PlainFileIsNotAnLmdb) {
  TempDir dir;
  testing::WriteFile(dir.file("file"), "hello");
  ExpectOpenError(dir.file("file"), ErrorCode::kCorruption, "not an LMDB database");
}

TEST(LmdbTest, DirectoryWithoutDataFileIsNotAnLmdb) {
  TempDir dir;
  ExpectOpenError(dir.path(), ErrorCode::kCorruption, "no data.mdb");
}

TEST(LmdbTest, GarbageDataFileIsCorruption) {
  TempDir dir;
  testing::WriteFile(dir.file("data.mdb"), std::string(16384, '\x5a'));
  ExpectOpenError(dir.path(), ErrorCode::kCorruption, "not an LMDB database");
}

TEST(LmdbTest, WriterRejectsBadPathsAndKeys) {
  TempDir dir;
  testing::WriteFile(dir.file("file"), "hello");
  try {
    LmdbWriter writer(dir.file("file"));
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kIOError);
    EXPECT_NE(std::string(e.what()).find(dir.file("file")), std::string::npos) << e.what();
  }
  try {
    LmdbWriter writer(dir.file("a/b/c"));  // parent missing
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kIOError);
    EXPECT_NE(std::string(e.what()).find(dir.file("a/b/c")), std::string::npos) << e.what();
  }
  std::filesystem::create_directory(dir.file("garbage"));
  testing::WriteFile(dir.file("garbage/data.mdb"), std::string(16384, '\x5a'));
  try {
    LmdbWriter writer(dir.file("garbage"));
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kCorruption) << e.what();
  }

  LmdbWriter writer(dir.file("db"));
  EXPECT_THROW(writer.Put("", "v"), Error);
  EXPECT_THROW(writer.Put(std::string(600, 'k'), "v"), Error);
  writer.Put(std::string(500, 'k'), "v");
  LmdbWriter::Options bad;
  bad.puts_per_commit = 0;
  EXPECT_THROW(LmdbWriter(dir.file("db2"), bad), Error);
}

}  // namespace
}  // namespace crema
