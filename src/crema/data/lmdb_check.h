// A structural check of an LMDB data file, for readers that must not trust it.
//
// LMDB reads its file through a memory map and trusts every page: a data.mdb cut short kills
// the reader with SIGBUS, and a flipped bit in a page's node offsets or sizes sends it outside
// the map (SIGSEGV). CheckLmdbDataFile reads the pages LMDB would follow — with read(2), so
// the check itself cannot fault — and throws a Corruption naming the file and the page
// instead. It walks the main database's B-tree (branch and leaf pages, not the values in
// overflow pages, whose page ranges it checks against the file) and checks:
//   * the meta pages: magic, format version, a page size that is a power of two;
//   * that the file holds every page the meta page counts;
//   * every page: the number it records is its own, its kind (branch or leaf) fits its depth,
//     its node offsets lie inside it, each node's key and inline value fit the page, an
//     overflow value's pages lie inside the file, each page is reached once;
//   * the tree's depth and the record count against the meta page;
//   * that no record or database has the flags of sorted duplicates (LMDB follows those into
//     sub-trees, or through a null cursor when the database has none; no dataset uses them).
// It reads every branch and leaf page once (records up to about half a page are stored in
// them; larger ones in overflow pages it does not read): about as much I/O as one pass over
// a dataset of small records, and little for one of large images.
//
// Layout (LMDB 0.9, 64-bit; mdb.c): a page starts with a 16-byte header — page number (u64),
// pad (u16), flags (u16), then lower and upper bounds of its free space (u16 each; an
// overflow page's page count, u32, instead). A branch or leaf page holds after its header
// (lower − 16) / 2 node offsets (u16, from the page start); a node is lo, hi, flags, key size
// (u16 each), the key, then the value (a leaf's; lo | hi << 16 bytes, or a u64 overflow page
// number when flags has F_BIGDATA) — a branch node's child page is lo | hi << 16 | flags << 32.
// Pages 0 and 1 are meta pages; the newer (larger transaction id) is current.
//
// Thread-safety: touches only the named file.
#ifndef CREMA_DATA_LMDB_CHECK_H_
#define CREMA_DATA_LMDB_CHECK_H_

#include <cstdint>
#include <string>

namespace crema {

// Checks the data file `data_file` (a database directory's data.mdb) as of the meta page of
// transaction `txn_id` (what mdb_txn_id gives a read transaction), or of the newer meta page
// when `txn_id` is 0 or neither has that id (a writer committed since). Returns normally for
// an intact file, including an empty database.
// Throws IOError naming the file when it cannot be read, and Corruption naming the file and
// the page, node or count at fault otherwise.
// A writer that reuses pages while the check runs could make a sound file look damaged; hold
// a read transaction (as LmdbReader does) so that the pages of its snapshot stay put.
void CheckLmdbDataFile(const std::string& data_file, uint64_t txn_id = 0);

}  // namespace crema

#endif  // CREMA_DATA_LMDB_CHECK_H_
