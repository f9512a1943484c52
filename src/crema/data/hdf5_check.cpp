#include "crema/data/hdf5_check.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <set>
#include <string>
#include <string_view>

#include "crema/core/error.h"

namespace crema {
namespace {

constexpr char kSuperblockSignature[] = "\x89HDF\r\n\x1a\n";
constexpr char kHeapSignature[] = "HEAP";
constexpr uint64_t kNoFreeBlock = 1;  // HDF5's H5HL_FREE_NULL
constexpr size_t kChunk = size_t{1} << 20;

// Closes a descriptor on every path.
struct Descriptor {
  int fd;
  ~Descriptor() {
    if (fd >= 0) ::close(fd);
  }
};

// Up to `length` bytes of `fd` at `offset`; fewer where the file ends.
std::string ReadAt(int fd, const std::string& path, uint64_t offset, size_t length) {
  std::string bytes(length, '\0');
  size_t done = 0;
  while (done < length) {
    const ssize_t n =
        ::pread(fd, bytes.data() + done, length - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw IOErrorFromErrno("read HDF5 file", path);
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  bytes.resize(done);
  return bytes;
}

// The little-endian unsigned integer of `width` bytes at bytes[at]; REQUIRES width <= 8 and
// the bytes present.
uint64_t Decode(std::string_view bytes, size_t at, int width) {
  uint64_t value = 0;
  for (int i = width - 1; i >= 0; --i) {
    value = value << 8 | static_cast<uint8_t>(bytes[at + static_cast<size_t>(i)]);
  }
  return value;
}

struct Superblock {
  uint64_t base = 0;  // what addresses are relative to
  int offset_size = 8;
  int length_size = 8;
};

// The superblock, searched where the format puts it: byte 0, then 512 doubling. False when
// there is none (or its sizes are not 2, 4 or 8: HDF5 refuses such a file itself).
bool FindSuperblock(int fd, const std::string& path, uint64_t file_size, Superblock* out) {
  for (uint64_t at = 0; at < file_size; at = at == 0 ? 512 : at * 2) {
    const std::string head = ReadAt(fd, path, at, 48);
    if (head.size() < 20 || head.compare(0, 8, kSuperblockSignature, 8) != 0) continue;
    const int version = static_cast<uint8_t>(head[8]);
    // Version 0 and 1: sizes at bytes 13 and 14, base address at 24 (28 for version 1);
    // version 2 and 3: sizes at 9 and 10, base address at 12.
    const bool old_layout = version < 2;
    out->offset_size = static_cast<uint8_t>(head[old_layout ? 13 : 9]);
    out->length_size = static_cast<uint8_t>(head[old_layout ? 14 : 10]);
    for (int size : {out->offset_size, out->length_size}) {
      if (size != 2 && size != 4 && size != 8) return false;
    }
    const size_t base_at = old_layout ? (version == 0 ? 24 : 28) : 12;
    if (head.size() < base_at + static_cast<size_t>(out->offset_size)) return false;
    out->base = Decode(head, base_at, out->offset_size);
    return true;
  }
  return false;
}

// Walks the free list of the local heap whose signature is at byte `at`, as HDF5 would;
// throws Corruption when it loops or a block's header lies outside the data segment.
void CheckHeap(int fd, const std::string& path, uint64_t file_size, const Superblock& sb,
               uint64_t at) {
  const int l = sb.length_size;
  const std::string prefix = ReadAt(fd, path, at, 8 + 2 * static_cast<size_t>(l) +
                                                      static_cast<size_t>(sb.offset_size));
  if (prefix.size() < 8 + 2 * static_cast<size_t>(l) + static_cast<size_t>(sb.offset_size) ||
      prefix[4] != 0 || prefix[5] != 0 || prefix[6] != 0 || prefix[7] != 0) {
    return;  // not a version 0 heap: four bytes that happen to spell HEAP
  }
  const uint64_t segment_size = Decode(prefix, 8, l);
  uint64_t free_block = Decode(prefix, 8 + static_cast<size_t>(l), l);
  const uint64_t segment_at = sb.base + Decode(prefix, 8 + 2 * static_cast<size_t>(l),
                                               sb.offset_size);
  if (free_block == kNoFreeBlock || segment_size > file_size ||
      segment_at > file_size - segment_size) {
    return;  // no list, or a segment HDF5 cannot read either (it reports that itself)
  }
  const std::string segment = ReadAt(fd, path, segment_at, static_cast<size_t>(segment_size));
  std::set<uint64_t> seen;
  while (free_block != kNoFreeBlock && free_block < segment_size) {
    if (!seen.insert(free_block).second) {
      throw Corruption(StrCat("HDF5 file '", path, "' is corrupt: the free list of the local "
                              "heap at byte ", at, " loops back to offset ", free_block));
    }
    if (free_block + 2 * static_cast<uint64_t>(l) > segment_size) {
      throw Corruption(StrCat("HDF5 file '", path, "' is corrupt: a free block of the local "
                              "heap at byte ", at, " starts at offset ", free_block,
                              ", too near the end of its ", segment_size, "-byte segment"));
    }
    free_block = Decode(segment, static_cast<size_t>(free_block), l);
    if (free_block == 0) return;  // HDF5 refuses this itself
  }
}

}  // namespace

void CheckHdf5LocalHeaps(const std::string& path) {
  const Descriptor file{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (file.fd < 0) throw IOErrorFromErrno("open HDF5 file", path);
  const off_t end = ::lseek(file.fd, 0, SEEK_END);
  if (end < 0) throw IOErrorFromErrno("read HDF5 file", path);
  const uint64_t file_size = static_cast<uint64_t>(end);
  Superblock superblock;
  if (!FindSuperblock(file.fd, path, file_size, &superblock)) return;
  // Chunks overlap by 3 bytes, so a signature across a boundary is found once.
  constexpr size_t kSignatureSize = 4;
  for (uint64_t chunk_at = 0; chunk_at < file_size; chunk_at += kChunk) {
    const std::string chunk =
        ReadAt(file.fd, path, chunk_at, kChunk + kSignatureSize - 1);
    for (size_t i = chunk.find(kHeapSignature); i != std::string::npos && i < kChunk;
         i = chunk.find(kHeapSignature, i + 1)) {
      CheckHeap(file.fd, path, file_size, superblock, chunk_at + i);
    }
    if (chunk.size() < kChunk) break;
  }
}

}  // namespace crema
