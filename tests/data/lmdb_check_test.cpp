#include "crema/data/lmdb_check.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>

#include "crema/core/error.h"
#include "crema/data/lmdb_dataset.h"
#include "crema/io/proto_io.h"
#include "test_helpers.h"

namespace crema {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

// An LMDB at `db` of `count` records of `value_bytes` bytes each.
void MakeDatabase(const std::string& db, int count, size_t value_bytes) {
  LmdbWriter writer(db);
  for (int i = 0; i < count; ++i) {
    char key[16];
    std::snprintf(key, sizeof(key), "%08d", i);
    writer.Put(key, std::string(value_bytes, static_cast<char>('a' + i % 26)));
  }
  writer.Finish();
}

uint32_t PageSize(const std::string& data_file) {
  const std::string bytes = ReadFileToString(data_file);
  uint32_t size = 0;
  std::memcpy(&size, bytes.data() + 40, sizeof(size));
  return size;
}

TEST(LmdbCheckTest, SoundDatabasesPass) {
  TempDir dir;
  // Empty; one leaf; a tree of branch and leaf pages; values in overflow pages.
  const struct {
    int count;
    size_t bytes;
  } shapes[] = {{0, 0}, {10, 30}, {3000, 40}, {20, 20000}};
  for (const auto& shape : shapes) {
    const std::string db = dir.file("db" + std::to_string(shape.count));
    MakeDatabase(db, shape.count, shape.bytes);
    EXPECT_NO_THROW(CheckLmdbDataFile(db + "/data.mdb")) << shape.count << " records";
  }
}

TEST(LmdbCheckTest, AFileCutShortIsNamed) {
  TempDir dir;
  MakeDatabase(dir.file("db"), 10, 30);
  const std::string data = dir.file("db/data.mdb");
  fs::resize_file(data, PageSize(data) * 2);  // the meta pages only: LMDB would SIGBUS
  testing::ExpectError([&] { CheckLmdbDataFile(data); }, ErrorCode::kCorruption,
                       {data, "is damaged", "cut short"});
}

TEST(LmdbCheckTest, ANodeOutsideItsPageIsNamed) {
  TempDir dir;
  MakeDatabase(dir.file("db"), 10, 30);
  const std::string data = dir.file("db/data.mdb");
  std::string bytes = ReadFileToString(data);
  const size_t leaf = PageSize(data) * 2;
  bytes[leaf + 16] = '\xf0';  // the first node's offset: 0xfff0
  bytes[leaf + 17] = '\xff';
  testing::WriteFile(data, bytes);
  testing::ExpectError([&] { CheckLmdbDataFile(data); }, ErrorCode::kCorruption,
                       {data, "page 2 node 0 starts at 65520"});
}

TEST(LmdbCheckTest, NotAnLmdbFileIsNamed) {
  TempDir dir;
  testing::WriteFile(dir.file("data.mdb"), std::string(8192, 'x'));
  testing::ExpectError([&] { CheckLmdbDataFile(dir.file("data.mdb")); }, ErrorCode::kCorruption,
                       {"meta page 0 lacks LMDB's magic number"});
  testing::ExpectError([&] { CheckLmdbDataFile(dir.file("gone.mdb")); }, ErrorCode::kIOError,
                       {"gone.mdb"});
}

// Reads every record of `db` in a child process; true when the child was not killed by a
// signal (LMDB faults on the pages the check lets through).
bool ReadsWithoutFault(const std::string& db) {
  const pid_t child = fork();
  if (child == 0) {
    try {
      LmdbReader reader(db);
      volatile unsigned char sink = 0;  // every byte of every value is read
      for (int64_t i = 0; i < reader.size(); ++i) {
        for (char c : reader.value()) sink = sink ^ static_cast<unsigned char>(c);
        reader.Next();
      }
    } catch (const Error&) {
    }
    _exit(0);
  }
  int status = 0;
  waitpid(child, &status, 0);
  return WIFEXITED(status);
}

// Random bit flips and cuts: whatever the check accepts, LMDB reads without a fault.
TEST(LmdbCheckTest, WhatPassesTheCheckReadsWithoutAFault) {
  TempDir dir;
  MakeDatabase(dir.file("db"), 300, 60);  // a branch page over leaves
  MakeDatabase(dir.file("big"), 6, 9000);  // overflow pages
  std::mt19937 rng(7);
  int caught = 0;
  for (int trial = 0; trial < 120; ++trial) {
    const std::string source = dir.file(trial % 2 ? "big" : "db");
    const std::string db = dir.file("trial");
    fs::remove_all(db);
    fs::create_directory(db);
    std::string bytes = ReadFileToString(source + "/data.mdb");
    const int flips = 1 << (trial % 6);
    for (int f = 0; f < flips; ++f) {
      bytes[rng() % bytes.size()] ^= static_cast<char>(1 << (rng() % 8));
    }
    if (trial % 5 == 0) bytes.resize(rng() % bytes.size());
    testing::WriteFile(db + "/data.mdb", bytes);
    try {
      CheckLmdbDataFile(db + "/data.mdb");
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kCorruption) << e.what();
      ++caught;
      continue;
    }
    EXPECT_TRUE(ReadsWithoutFault(db)) << "trial " << trial << " passed the check but faults";
  }
  EXPECT_GT(caught, 20);  // the flips do damage the structure
}

}  // namespace
}  // namespace crema
