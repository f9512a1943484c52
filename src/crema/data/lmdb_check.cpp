#include "crema/data/lmdb_check.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <unordered_set>
#include <vector>

#include "crema/core/error.h"

namespace crema {

namespace {

// LMDB 0.9's on-disk constants (mdb.c).
constexpr uint32_t kMagic = 0xBEEFC0DE;
constexpr uint32_t kDataVersion = 1;
constexpr size_t kPageHeader = 16;
constexpr size_t kNodeHeader = 8;
constexpr uint16_t kBranch = 0x01;
constexpr uint16_t kLeaf = 0x02;
constexpr uint16_t kPageKinds = 0x01 | 0x02 | 0x04 | 0x08 | 0x20;  // branch … leaf2
constexpr uint16_t kBigData = 0x01;
constexpr uint16_t kSubData = 0x02;  // a named database's record in the main one
// Database flags for sorted duplicates (MDB_DUPSORT and its variants): their records hold
// sub-trees this check does not walk. No Caffe dataset has them.
constexpr uint16_t kDuplicateFlags = 0x04 | 0x10 | 0x20 | 0x40;
constexpr uint64_t kNoPage = ~uint64_t{0};
constexpr int kMaxDepth = 32;  // LMDB's cursor stack

// Offsets in a meta page: MDB_meta follows the page header; mm_dbs[0] (the free list's
// MDB_db) holds the page size in md_pad, mm_dbs[1] is the main database.
constexpr size_t kMetaMagic = 16;
constexpr size_t kMetaVersion = 20;
constexpr size_t kMetaPageSize = 40;
constexpr size_t kMetaMainFlags = 92;
constexpr size_t kMetaMainDepth = 94;
constexpr size_t kMetaMainEntries = 120;
constexpr size_t kMetaMainRoot = 128;
constexpr size_t kMetaLastPage = 136;
constexpr size_t kMetaTxnId = 144;
constexpr size_t kMetaSize = 152;

template <typename T>
T Load(const std::string& bytes, size_t offset) {
  T value;
  std::memcpy(&value, bytes.data() + offset, sizeof(T));
  return value;
}

class DataFile {
 public:
  explicit DataFile(const std::string& path) : path_(path) {
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) throw IOErrorFromErrno("open LMDB data file", path);
    struct stat st {};
    if (::fstat(fd_, &st) != 0) {
      const Error error = IOErrorFromErrno("read LMDB data file", path);
      ::close(fd_);
      throw error;
    }
    size_ = static_cast<uint64_t>(st.st_size);
  }
  ~DataFile() { ::close(fd_); }
  DataFile(const DataFile&) = delete;
  DataFile& operator=(const DataFile&) = delete;

  uint64_t size() const { return size_; }

  // `length` bytes at `offset`, or fewer where the file ends.
  std::string Read(uint64_t offset, size_t length) const {
    std::string bytes(length, '\0');
    size_t done = 0;
    while (done < length) {
      const ssize_t n = ::pread(fd_, bytes.data() + done, length - done,
                                static_cast<off_t>(offset + done));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) throw IOErrorFromErrno("read LMDB data file", path_);
      if (n == 0) break;
      done += static_cast<size_t>(n);
    }
    bytes.resize(done);
    return bytes;
  }

 private:
  std::string path_;
  int fd_ = -1;
  uint64_t size_ = 0;
};

struct Meta {
  uint64_t page_size = 0;
  uint16_t flags = 0;
  uint16_t depth = 0;
  uint64_t entries = 0;
  uint64_t root = kNoPage;
  uint64_t last_page = 0;
  uint64_t txn_id = 0;
};

class Checker {
 public:
  Checker(const std::string& path, const DataFile& file) : path_(path), file_(file) {}

  void Run(uint64_t txn_id) {
    const Meta meta = ChooseMeta(txn_id);
    page_size_ = meta.page_size;
    last_page_ = meta.last_page;
    const uint64_t needed = (meta.last_page + 1) * meta.page_size;
    if (file_.size() < needed) {
      Fail(StrCat("the file is cut short: it holds ", file_.size(), " bytes, but its ",
                  meta.last_page + 1, " pages of ", meta.page_size, " bytes need ", needed));
    }
    if (meta.flags & kDuplicateFlags) {
      Fail(StrCat("its main database has the flags ", meta.flags,
                  " (sorted duplicates), which no dataset has"));
    }
    if (meta.root == kNoPage) {
      if (meta.entries != 0) Fail(StrCat("it counts ", meta.entries, " records but has no tree"));
      return;
    }
    if (meta.depth < 1 || meta.depth > kMaxDepth) {
      Fail(StrCat("its tree claims a depth of ", meta.depth));
    }
    depth_ = meta.depth;
    Walk(meta.root, 1);
    if (records_ != meta.entries) {
      Fail(StrCat("its meta page counts ", meta.entries, " records, its tree holds ", records_));
    }
  }

 private:
  [[noreturn]] void Fail(const std::string& what) const {
    throw Corruption(StrCat("LMDB data file '", path_, "' is damaged: ", what,
                            "; rebuild the database"));
  }

  Meta ReadMeta(uint64_t offset, int index) const {
    const std::string page = file_.Read(offset, kMetaSize);
    if (page.size() < kMetaSize) Fail(StrCat("meta page ", index, " is missing"));
    if (Load<uint32_t>(page, kMetaMagic) != kMagic) {
      Fail(StrCat("meta page ", index, " lacks LMDB's magic number"));
    }
    if (Load<uint32_t>(page, kMetaVersion) != kDataVersion) {
      Fail(StrCat("meta page ", index, " has format version ", Load<uint32_t>(page, kMetaVersion),
                  ", not ", kDataVersion));
    }
    Meta meta;
    meta.page_size = Load<uint32_t>(page, kMetaPageSize);
    meta.flags = Load<uint16_t>(page, kMetaMainFlags);
    meta.depth = Load<uint16_t>(page, kMetaMainDepth);
    meta.entries = Load<uint64_t>(page, kMetaMainEntries);
    meta.root = Load<uint64_t>(page, kMetaMainRoot);
    meta.last_page = Load<uint64_t>(page, kMetaLastPage);
    meta.txn_id = Load<uint64_t>(page, kMetaTxnId);
    const uint64_t size = meta.page_size;
    if (size < 256 || size > 65536 || (size & (size - 1)) != 0) {
      Fail(StrCat("meta page ", index, " gives the page size ", size));
    }
    if (meta.last_page < 1 || meta.last_page > file_.size()) {
      Fail(StrCat("meta page ", index, " gives the last page as ", meta.last_page));
    }
    if (meta.root != kNoPage && (meta.root < 2 || meta.root > meta.last_page)) {
      Fail(StrCat("meta page ", index, " puts the root at page ", meta.root, " of ",
                  meta.last_page + 1));
    }
    return meta;
  }

  Meta ChooseMeta(uint64_t txn_id) const {
    const Meta first = ReadMeta(0, 0);
    const Meta second = ReadMeta(first.page_size, 1);
    if (second.page_size != first.page_size) {
      Fail(StrCat("its meta pages disagree on the page size (", first.page_size, " and ",
                  second.page_size, ")"));
    }
    if (txn_id != 0 && first.txn_id == txn_id) return first;
    if (txn_id != 0 && second.txn_id == txn_id) return second;
    return second.txn_id > first.txn_id ? second : first;
  }

  void Walk(uint64_t page_number, int depth) {
    if (!visited_.insert(page_number).second) {
      Fail(StrCat("page ", page_number, " is reached twice"));
    }
    const std::string page = file_.Read(page_number * page_size_, page_size_);
    if (page.size() < page_size_) Fail(StrCat("page ", page_number, " is past the file's end"));
    if (Load<uint64_t>(page, 0) != page_number) {
      Fail(StrCat("page ", page_number, " records the number ", Load<uint64_t>(page, 0)));
    }
    const bool leaf = depth == depth_;
    const uint16_t kind = Load<uint16_t>(page, 10) & kPageKinds;
    if (kind != (leaf ? kLeaf : kBranch)) {
      Fail(StrCat("page ", page_number, " at depth ", depth, " of ", depth_, " should be a ",
                  leaf ? "leaf" : "branch", " page, its flags are ", kind));
    }
    const uint16_t lower = Load<uint16_t>(page, 12);
    const uint16_t upper = Load<uint16_t>(page, 14);
    if (lower < kPageHeader || lower > upper || upper > page_size_ || (lower - kPageHeader) % 2) {
      Fail(StrCat("page ", page_number, " has free space [", lower, ", ", upper, ")"));
    }
    const size_t nodes = (lower - kPageHeader) / 2;
    if (nodes == 0) Fail(StrCat("page ", page_number, " holds no nodes"));
    for (size_t i = 0; i < nodes; ++i) {
      const std::string where = StrCat("page ", page_number, " node ", i);
      const uint16_t offset = Load<uint16_t>(page, kPageHeader + 2 * i);
      if (offset < upper || offset + kNodeHeader > page_size_) {
        Fail(StrCat(where, " starts at ", offset, ", outside the page's nodes [", upper, ", ",
                    page_size_, ")"));
      }
      const uint16_t lo = Load<uint16_t>(page, offset);
      const uint16_t hi = Load<uint16_t>(page, offset + 2);
      const uint16_t flags = Load<uint16_t>(page, offset + 4);
      const uint16_t key_size = Load<uint16_t>(page, offset + 6);
      const size_t value_at = offset + kNodeHeader + key_size;
      if (value_at > page_size_) Fail(StrCat(where, " has a key of ", key_size, " bytes"));
      if (!leaf) {
        const uint64_t child = lo | (uint64_t{hi} << 16) | (uint64_t{flags} << 32);
        if (child < 2 || child > last_page_) {
          Fail(StrCat(where, " points to page ", child, " of ", last_page_ + 1));
        }
        Walk(child, depth + 1);
        continue;
      }
      ++records_;
      // LMDB reads a duplicates flag on a record of a database without duplicates through a
      // null cursor.
      if (flags & ~(kBigData | kSubData)) Fail(StrCat(where, " has the flags ", flags));
      const uint64_t value_size = lo | (uint64_t{hi} << 16);
      if ((flags & kBigData) == 0) {
        if (value_at + value_size > page_size_) {
          Fail(StrCat(where, " has a value of ", value_size, " bytes"));
        }
        continue;
      }
      if (value_at + sizeof(uint64_t) > page_size_) {
        Fail(StrCat(where, " has no room for its value's page number"));
      }
      const uint64_t first = Load<uint64_t>(page, value_at);
      const uint64_t pages = (kPageHeader - 1 + value_size) / page_size_ + 1;
      if (first < 2 || first > last_page_ || pages > last_page_ + 1 - first) {
        Fail(StrCat(where, " puts its value of ", value_size, " bytes at pages ", first, "..",
                    first + pages - 1, " of ", last_page_ + 1));
      }
    }
  }

  std::string path_;
  const DataFile& file_;
  uint64_t page_size_ = 0;
  uint64_t last_page_ = 0;
  int depth_ = 0;
  uint64_t records_ = 0;
  std::unordered_set<uint64_t> visited_;
};

}  // namespace

void CheckLmdbDataFile(const std::string& data_file, uint64_t txn_id) {
  const DataFile file(data_file);
  Checker(data_file, file).Run(txn_id);
}

}  // namespace crema
