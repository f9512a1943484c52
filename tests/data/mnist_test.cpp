#include "crema/data/mnist.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "crema/core/error.h"
#include "crema/data/lmdb_dataset.h"
#include "crema/proto/caffe.pb.h"
#include "test_helpers.h"

namespace crema {
namespace {

using testing::ExpectError;

using testing::TempDir;

void AppendBigEndian(std::string* out, uint32_t v) {
  out->push_back(static_cast<char>(v >> 24));
  out->push_back(static_cast<char>(v >> 16));
  out->push_back(static_cast<char>(v >> 8));
  out->push_back(static_cast<char>(v));
}

uint8_t PixelOf(int item, int index) {
  return static_cast<uint8_t>((item * 31 + index * 7) & 0xff);
}

std::string ImageFile(int count, int rows, int cols, uint32_t magic = 2051) {
  std::string out;
  AppendBigEndian(&out, magic);
  AppendBigEndian(&out, static_cast<uint32_t>(count));
  AppendBigEndian(&out, static_cast<uint32_t>(rows));
  AppendBigEndian(&out, static_cast<uint32_t>(cols));
  for (int i = 0; i < count; ++i) {
    for (int p = 0; p < rows * cols; ++p) out.push_back(static_cast<char>(PixelOf(i, p)));
  }
  return out;
}

std::string LabelFile(const std::vector<uint8_t>& labels, uint32_t magic = 2049) {
  std::string out;
  AppendBigEndian(&out, magic);
  AppendBigEndian(&out, static_cast<uint32_t>(labels.size()));
  for (uint8_t l : labels) out.push_back(static_cast<char>(l));
  return out;
}

TEST(MnistTest, ConvertsLikeConvertMnistData) {
  TempDir dir;
  const std::vector<uint8_t> labels = {7, 0, 3, 9, 1};
  testing::WriteFile(dir.file("images"), ImageFile(5, 28, 28));
  testing::WriteFile(dir.file("labels"), LabelFile(labels));
  EXPECT_EQ(ConvertMnist(dir.file("images"), dir.file("labels"), dir.file("db")), 5);

  LmdbReader reader(dir.file("db"));
  ASSERT_EQ(reader.size(), 5);
  const char* keys[] = {"00000000", "00000001", "00000002", "00000003", "00000004"};
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(reader.key(), keys[i]);
    caffe::Datum datum;
    ASSERT_TRUE(datum.ParseFromArray(reader.value().data(),
                                     static_cast<int>(reader.value().size())));
    EXPECT_EQ(datum.channels(), 1);
    EXPECT_EQ(datum.height(), 28);
    EXPECT_EQ(datum.width(), 28);
    EXPECT_EQ(datum.label(), labels[static_cast<size_t>(i)]);
    EXPECT_FALSE(datum.encoded());
    EXPECT_EQ(datum.float_data_size(), 0);
    ASSERT_EQ(datum.data().size(), 784u);
    for (int p = 0; p < 784; ++p) {
      ASSERT_EQ(static_cast<uint8_t>(datum.data()[static_cast<size_t>(p)]), PixelOf(i, p));
    }
    reader.Next();
  }
}

TEST(MnistTest, RowsAreHeightAndColumnsAreWidth) {
  TempDir dir;
  testing::WriteFile(dir.file("images"), ImageFile(2, 3, 4));
  testing::WriteFile(dir.file("labels"), LabelFile({1, 2}));
  const MnistImages images = ReadMnistImages(dir.file("images"));
  EXPECT_EQ(images.count, 2);
  EXPECT_EQ(images.rows, 3);
  EXPECT_EQ(images.cols, 4);
  EXPECT_EQ(ConvertMnist(dir.file("images"), dir.file("labels"), dir.file("db")), 2);
  LmdbReader reader(dir.file("db"));
  caffe::Datum datum;
  ASSERT_TRUE(datum.ParseFromArray(reader.value().data(), static_cast<int>(reader.value().size())));
  EXPECT_EQ(datum.height(), 3);
  EXPECT_EQ(datum.width(), 4);
}

TEST(MnistTest, WrongMagicNamesTheFile) {
  TempDir dir;
  testing::WriteFile(dir.file("images"), ImageFile(1, 2, 2));
  testing::WriteFile(dir.file("labels"), LabelFile({1}));
  // The files swapped.
  ExpectError([&] { ConvertMnist(dir.file("labels"), dir.file("images"), dir.file("db")); },
              ErrorCode::kCorruption,
              {StrCat("'", dir.file("labels"), "'"), "not an MNIST image file", "2049", "2051"});
  ExpectError([&] { ReadMnistLabels(dir.file("images")); }, ErrorCode::kCorruption,
              {StrCat("'", dir.file("images"), "'"), "not an MNIST label file", "2051", "2049"});
}

TEST(MnistTest, MismatchedCountsNameBothFiles) {
  TempDir dir;
  testing::WriteFile(dir.file("images"), ImageFile(3, 2, 2));
  testing::WriteFile(dir.file("labels"), LabelFile({1, 2}));
  ExpectError([&] { ConvertMnist(dir.file("images"), dir.file("labels"), dir.file("db")); },
              ErrorCode::kInvalidArgument,
              {dir.file("images"), "3 images", dir.file("labels"), "2 labels"});
}

TEST(MnistTest, TruncatedFilesAreCorruption) {
  TempDir dir;
  std::string images = ImageFile(5, 4, 4);
  images.resize(images.size() - 10);
  testing::WriteFile(dir.file("images"), images);
  ExpectError([&] { ReadMnistImages(dir.file("images")); }, ErrorCode::kCorruption,
              {dir.file("images"), "truncated", "80 bytes", "only 70"});

  testing::WriteFile(dir.file("short_header"), ImageFile(5, 4, 4).substr(0, 10));
  ExpectError([&] { ReadMnistImages(dir.file("short_header")); }, ErrorCode::kCorruption,
              {dir.file("short_header"), "truncated", "header"});

  std::string labels = LabelFile({1, 2, 3});
  labels.pop_back();
  testing::WriteFile(dir.file("labels"), labels);
  ExpectError([&] { ReadMnistLabels(dir.file("labels")); }, ErrorCode::kCorruption,
              {dir.file("labels"), "truncated", "3 bytes", "only 2"});

  // A header promising an absurd count must not try to allocate it.
  testing::WriteFile(dir.file("huge"), ImageFile(0, 28, 28).replace(4, 4, "\x7f\xff\xff\xff"));
  ExpectError([&] { ReadMnistImages(dir.file("huge")); }, ErrorCode::kCorruption,
              {dir.file("huge"), "truncated"});
}

TEST(MnistTest, MissingFileIsAnIOError) {
  TempDir dir;
  ExpectError([&] { ReadMnistImages(dir.file("absent")); }, ErrorCode::kIOError,
              {dir.file("absent")});
}

TEST(MnistTest, RefusesToOverwriteAnExistingDatabase) {
  TempDir dir;
  testing::WriteFile(dir.file("images"), ImageFile(2, 2, 2));
  testing::WriteFile(dir.file("labels"), LabelFile({1, 2}));
  ConvertMnist(dir.file("images"), dir.file("labels"), dir.file("db"));
  ExpectError([&] { ConvertMnist(dir.file("images"), dir.file("labels"), dir.file("db")); },
              ErrorCode::kInvalidArgument, {dir.file("db"), "already holds 2 records"});
}

}  // namespace
}  // namespace crema
