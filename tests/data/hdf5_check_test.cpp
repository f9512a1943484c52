#include "crema/data/hdf5_check.h"

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "crema/core/error.h"
#include "crema/data/hdf5_dataset.h"
#include "crema/io/proto_io.h"
#include "test_helpers.h"

namespace crema {
namespace {

using testing::ExpectError;
using testing::TempDir;

// An HDF5 file as Crema writes a .caffemodel.h5: groups (each with a local heap for its
// member names) holding datasets.
std::string WriteModelLikeFile(const TempDir& dir) {
  const std::string path = dir.file("model.h5");
  Hdf5File file = Hdf5File::Create(path);
  const std::vector<float> weights(12, 0.5f);
  file.WriteFloat("data/conv1/0", {3, 4}, weights.data());
  file.WriteFloat("data/ip1/0", {12}, weights.data());
  file.Close();
  return path;
}

uint64_t Get64(const std::string& bytes, size_t at) {
  uint64_t value = 0;
  std::memcpy(&value, bytes.data() + at, sizeof(value));  // the file is little-endian, as x86
  return value;
}

void Put64(std::string* bytes, size_t at, uint64_t value) {
  std::memcpy(bytes->data() + at, &value, sizeof(value));
}

TEST(Hdf5CheckTest, FilesHdf5WritesPass) {
  TempDir dir;
  const std::string path = WriteModelLikeFile(dir);
  ASSERT_NE(ReadFileToString(path).find("HEAP"), std::string::npos)
      << "the file has no local heap, so the check would not be exercised";
  CheckHdf5LocalHeaps(path);
  EXPECT_EQ(Hdf5File::Open(path).ReadFloat("data/ip1/0").size(), 12u);
}

// Makes the free list of the file's first local heap start at offset 16 of its data segment
// with a block there whose next block is `next`; returns the heap's byte offset.
size_t BreakFreeList(const std::string& path, uint64_t next) {
  std::string bytes = ReadFileToString(path);
  const size_t heap = bytes.find("HEAP");
  EXPECT_NE(heap, std::string::npos);
  const uint64_t segment_size = Get64(bytes, heap + 8);
  const uint64_t segment_at = Get64(bytes, heap + 24);  // base address 0
  EXPECT_GE(segment_size, 32u);
  Put64(&bytes, heap + 16, 16);
  Put64(&bytes, segment_at + 16, next);
  Put64(&bytes, segment_at + 24, 16);
  testing::WriteFile(path, bytes);
  return heap;
}

TEST(Hdf5CheckTest, AFreeListThatLoopsIsCorruption) {
  TempDir dir;
  const std::string path = WriteModelLikeFile(dir);
  const size_t heap = BreakFreeList(path, 16);
  ExpectError([&] { CheckHdf5LocalHeaps(path); }, ErrorCode::kCorruption,
              {path, "local heap at byte " + std::to_string(heap), "loops back to offset 16"});
  ExpectError([&] { Hdf5File::Open(path); }, ErrorCode::kCorruption, {path, "loops"});
}

TEST(Hdf5CheckTest, AFreeBlockAtTheEndOfTheSegmentIsCorruption) {
  TempDir dir;
  const std::string path = WriteModelLikeFile(dir);
  std::string bytes = ReadFileToString(path);
  const size_t heap = bytes.find("HEAP");
  ASSERT_NE(heap, std::string::npos);
  const uint64_t segment_size = Get64(bytes, heap + 8);
  Put64(&bytes, heap + 16, segment_size - 8);
  testing::WriteFile(path, bytes);
  ExpectError([&] { CheckHdf5LocalHeaps(path); }, ErrorCode::kCorruption,
              {path, "too near the end"});
}

TEST(Hdf5CheckTest, DataThatSpellsHeapIsNotTakenForAHeap) {
  TempDir dir;
  const std::string path = dir.file("data.h5");
  // "HEAP", version 0 and then values no heap could have (a segment past the end).
  std::string pattern = std::string("HEAP") + std::string(4, '\0');
  pattern += std::string(24, '\xff');
  std::vector<float> values(pattern.size() / sizeof(float) * 50);
  for (size_t i = 0; i < values.size(); i += pattern.size() / sizeof(float)) {
    std::memcpy(&values[i], pattern.data(), pattern.size());
  }
  {
    Hdf5File file = Hdf5File::Create(path);
    file.WriteFloat("data", {static_cast<int64_t>(values.size())}, values.data());
  }
  CheckHdf5LocalHeaps(path);
  EXPECT_EQ(Hdf5File::Open(path).ReadFloat("data").size(), values.size());
}

TEST(Hdf5CheckTest, AFileWithoutASuperblockIsLeftToHdf5) {
  TempDir dir;
  testing::WriteFile(dir.file("plain.h5"), "HEAP and nothing else");
  CheckHdf5LocalHeaps(dir.file("plain.h5"));
  ExpectError([&] { CheckHdf5LocalHeaps(dir.file("missing.h5")); }, ErrorCode::kIOError,
              {"missing.h5"});
}

}  // namespace
}  // namespace crema
