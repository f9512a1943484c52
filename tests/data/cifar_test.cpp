#include "crema/data/cifar.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "crema/core/error.h"
#include "dataset_helpers.h"
#include "test_helpers.h"

namespace crema {
namespace {

namespace fs = std::filesystem;
using testing::ExpectError;
using testing::TempDir;

constexpr int kPixels = 3072;

uint8_t PixelOf(int file, int record, int p) {
  return static_cast<uint8_t>((file * 71 + record * 29 + p * 3 + p / 1024) & 0xff);
}

// `count` records of file number `file`: label bytes {coarse,} fine, then 3072 pixels.
std::string CifarFile(int file, int count, int label_bytes) {
  std::string out;
  for (int r = 0; r < count; ++r) {
    if (label_bytes == 2) out.push_back(static_cast<char>((file * 7 + r) % 20));  // coarse
    out.push_back(static_cast<char>(label_bytes == 2 ? (file * 13 + r * 3) % 100
                                                     : (file * 3 + r) % 10));
    for (int p = 0; p < kPixels; ++p) out.push_back(static_cast<char>(PixelOf(file, r, p)));
  }
  return out;
}

// CIFAR-10 in `dir`: five train batches (file ids 0..4) and a test batch (id 5), 3 records
// each.
void WriteCifar10(const std::string& dir) {
  fs::create_directories(dir);
  for (int f = 0; f < 5; ++f) {
    testing::WriteFile(dir + "/data_batch_" + std::to_string(f + 1) + ".bin", CifarFile(f, 3, 1));
  }
  testing::WriteFile(dir + "/test_batch.bin", CifarFile(5, 3, 1));
}

std::string Key(int i) {
  char key[16];
  std::snprintf(key, sizeof(key), "%05d", i);
  return key;
}

void ExpectRecord(const std::pair<std::string, caffe::Datum>& record, const std::string& key,
                  int label, int file, int r) {
  EXPECT_EQ(record.first, key);
  const caffe::Datum& d = record.second;
  EXPECT_EQ(d.channels(), 3);
  EXPECT_EQ(d.height(), 32);
  EXPECT_EQ(d.width(), 32);
  EXPECT_FALSE(d.encoded());
  EXPECT_EQ(d.float_data_size(), 0);
  EXPECT_EQ(d.label(), label) << key;
  const std::vector<uint8_t> bytes = testing::DatumBytes(d);
  ASSERT_EQ(bytes.size(), static_cast<size_t>(kPixels));
  for (int p = 0; p < kPixels; ++p) {
    ASSERT_EQ(bytes[static_cast<size_t>(p)], PixelOf(file, r, p)) << key << " pixel " << p;
  }
}

TEST(CifarTest, Cifar10LikeConvertCifarData) {
  TempDir dir;
  WriteCifar10(dir.file("in"));
  const CifarResult result = ConvertCifar(dir.file("in"), dir.file("out"));
  EXPECT_EQ(result.version, CifarVersion::kCifar10);
  EXPECT_EQ(result.train_db, dir.file("out") + "/cifar10_train_lmdb");
  EXPECT_EQ(result.test_db, dir.file("out") + "/cifar10_test_lmdb");
  EXPECT_EQ(result.train_count, 15);
  EXPECT_EQ(result.test_count, 3);

  const auto train = testing::ReadDatums(result.train_db);
  ASSERT_EQ(train.size(), 15u);
  for (int f = 0; f < 5; ++f) {
    for (int r = 0; r < 3; ++r) {
      ExpectRecord(train[static_cast<size_t>(f * 3 + r)], Key(f * 3 + r), (f * 3 + r) % 10, f, r);
    }
  }
  EXPECT_EQ(train[14].first, "00014");
  const auto test = testing::ReadDatums(result.test_db);
  ASSERT_EQ(test.size(), 3u);
  ExpectRecord(test[0], "00000", 15 % 10, 5, 0);
  ExpectRecord(test[2], "00002", 17 % 10, 5, 2);
  EXPECT_FALSE(fs::exists(result.train_db + ".partial"));
}

TEST(CifarTest, Cifar100FineByDefaultCoarseOnRequest) {
  TempDir dir;
  fs::create_directories(dir.file("in"));
  testing::WriteFile(dir.file("in/train.bin"), CifarFile(0, 4, 2));
  testing::WriteFile(dir.file("in/test.bin"), CifarFile(1, 2, 2));
  const CifarResult fine = ConvertCifar(dir.file("in"), dir.file("fine"));
  EXPECT_EQ(fine.version, CifarVersion::kCifar100);
  EXPECT_EQ(fine.train_db, dir.file("fine") + "/cifar100_train_lmdb");
  const auto train = testing::ReadDatums(fine.train_db);
  ASSERT_EQ(train.size(), 4u);
  for (int r = 0; r < 4; ++r) {
    ExpectRecord(train[static_cast<size_t>(r)], Key(r), (r * 3) % 100, 0, r);
  }
  const auto test = testing::ReadDatums(fine.test_db);
  ASSERT_EQ(test.size(), 2u);
  ExpectRecord(test[1], "00001", (13 + 3) % 100, 1, 1);

  const CifarResult coarse = ConvertCifar(dir.file("in"), dir.file("coarse"), CifarLabel::kCoarse);
  const auto coarse_train = testing::ReadDatums(coarse.train_db);
  ASSERT_EQ(coarse_train.size(), 4u);
  for (int r = 0; r < 4; ++r) {
    ExpectRecord(coarse_train[static_cast<size_t>(r)], Key(r), r % 20, 0, r);
  }
  EXPECT_EQ(testing::ReadDatums(coarse.test_db)[1].second.label(), (7 + 1) % 20);
}

TEST(CifarTest, FindsTheFolderTheArchiveUnpacksTo) {
  TempDir dir;
  WriteCifar10(dir.file("in/cifar-10-batches-bin"));
  const CifarFiles files = FindCifarFiles(dir.file("in"));
  EXPECT_EQ(files.dir, dir.file("in/cifar-10-batches-bin"));
  ASSERT_EQ(files.train_files.size(), 5u);
  EXPECT_EQ(files.train_files[4], dir.file("in/cifar-10-batches-bin/data_batch_5.bin"));
  EXPECT_EQ(ConvertCifar(dir.file("in"), dir.file("out")).train_count, 15);
}

// No database, final or staged, under `out`.
void ExpectNoDatabases(const std::string& out) {
  for (const char* name : {"cifar10_train_lmdb", "cifar10_test_lmdb", "cifar10_train_lmdb.partial",
                           "cifar10_test_lmdb.partial"}) {
    EXPECT_FALSE(fs::exists(out + "/" + name)) << name;
  }
}

TEST(CifarTest, TruncatedFileIsCorruptionAndNothingIsWritten) {
  TempDir dir;
  WriteCifar10(dir.file("in"));
  std::string batch = CifarFile(2, 3, 1);
  batch.resize(batch.size() - 10);
  testing::WriteFile(dir.file("in/data_batch_3.bin"), batch);
  ExpectError([&] { ConvertCifar(dir.file("in"), dir.file("out")); }, ErrorCode::kCorruption,
              {StrCat("'", dir.file("in/data_batch_3.bin"), "'"), "truncated", "9209 bytes",
               "3073-byte records"});
  ExpectNoDatabases(dir.file("out"));

  // The test batch is checked before the training database is written, too.
  WriteCifar10(dir.file("in"));
  testing::WriteFile(dir.file("in/test_batch.bin"), "");
  ExpectError([&] { ConvertCifar(dir.file("in"), dir.file("out")); }, ErrorCode::kCorruption,
              {dir.file("in/test_batch.bin"), "empty"});
  ExpectNoDatabases(dir.file("out"));
}

TEST(CifarTest, MissingFilesAreNamed) {
  TempDir dir;
  WriteCifar10(dir.file("in"));
  fs::remove(dir.file("in/data_batch_4.bin"));
  ExpectError([&] { ConvertCifar(dir.file("in"), dir.file("out")); }, ErrorCode::kNotFound,
              {"CIFAR-10 file '" + dir.file("in/data_batch_4.bin") + "' is missing"});
  ExpectNoDatabases(dir.file("out"));

  fs::create_directories(dir.file("empty"));
  ExpectError([&] { FindCifarFiles(dir.file("empty")); }, ErrorCode::kNotFound,
              {dir.file("empty"), "no CIFAR binary files", "data_batch_1.bin", "train.bin"});
  ExpectError([&] { FindCifarFiles(dir.file("nowhere")); }, ErrorCode::kNotFound,
              {dir.file("nowhere"), "does not exist"});

  fs::create_directories(dir.file("c100"));
  testing::WriteFile(dir.file("c100/train.bin"), CifarFile(0, 1, 2));
  ExpectError([&] { FindCifarFiles(dir.file("c100")); }, ErrorCode::kNotFound,
              {"CIFAR-100 file '" + dir.file("c100/test.bin") + "' is missing"});
  // A CIFAR-10 record size in a CIFAR-100 file is caught by the size check.
  testing::WriteFile(dir.file("c100/test.bin"), CifarFile(0, 2, 1));
  ExpectError([&] { ConvertCifar(dir.file("c100"), dir.file("out")); }, ErrorCode::kCorruption,
              {dir.file("c100/test.bin"), "3074-byte records"});
}

TEST(CifarTest, CoarseLabelsNeedCifar100) {
  TempDir dir;
  WriteCifar10(dir.file("in"));
  ExpectError([&] { ConvertCifar(dir.file("in"), dir.file("out"), CifarLabel::kCoarse); },
              ErrorCode::kInvalidArgument, {"CIFAR-10", "no coarse labels"});
}

TEST(CifarTest, RefusesExistingOutputsAndLeavesNoHalfConversion) {
  TempDir dir;
  WriteCifar10(dir.file("in"));
  fs::create_directories(dir.file("out/cifar10_test_lmdb"));
  testing::WriteFile(dir.file("out/cifar10_test_lmdb/keep"), "x");
  ExpectError([&] { ConvertCifar(dir.file("in"), dir.file("out")); },
              ErrorCode::kInvalidArgument, {dir.file("out/cifar10_test_lmdb"), "already exists"});
  EXPECT_FALSE(fs::exists(dir.file("out/cifar10_train_lmdb")));
  EXPECT_TRUE(fs::exists(dir.file("out/cifar10_test_lmdb/keep")));

  // The test database fails after the training one is complete: both go.
  fs::remove_all(dir.file("out/cifar10_test_lmdb"));
  testing::WriteFile(dir.file("out/cifar10_test_lmdb.partial"), "not ours");
  ExpectError([&] { ConvertCifar(dir.file("in"), dir.file("out")); },
              ErrorCode::kInvalidArgument, {dir.file("out/cifar10_test_lmdb.partial")});
  EXPECT_FALSE(fs::exists(dir.file("out/cifar10_train_lmdb")));
  EXPECT_FALSE(fs::exists(dir.file("out/cifar10_train_lmdb.partial")));
  EXPECT_FALSE(fs::exists(dir.file("out/cifar10_test_lmdb")));
}

}  // namespace
}  // namespace crema
