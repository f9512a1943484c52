// A structural check of an HDF5 file for what HDF5 1.10 does not check itself, for readers
// that must not trust the file.
//
// HDF5 1.10.8 (Debian 12) follows the free list of a group's local heap without noticing a
// loop, allocating a node per step: a 16 KB file whose list points back at itself takes every
// byte of memory before the kernel kills the reader. CheckHdf5LocalHeaps finds every local
// heap HDF5 could read — each begins with the signature "HEAP", so it looks at every place the
// file holds those four bytes followed by version 0 — and walks its free list as HDF5 would,
// throwing a Corruption naming the file and the heap's byte offset when the list loops or runs
// outside the heap's data segment. Lists that HDF5 itself refuses (an offset past the segment,
// a zero next offset) are left to it.
//
// Layout (HDF5 file format spec, version 0 local heap): "HEAP", version (1 byte), 3 reserved
// bytes, data segment size (length-sized), offset of the first free block in the segment
// (length-sized; 1 means none), address of the data segment (offset-sized, relative to the
// base address). A free block starts with the offset of the next free block and its own size
// (length-sized each). Lengths and offsets are 8 bytes unless the superblock — at byte 0, 512,
// 1024, 2048, ... — says otherwise.
//
// Cost: one sequential read of the file (the signature may be anywhere), and a read of each
// heap's data segment. Thread-safety: touches only the named file.
#ifndef CREMA_DATA_HDF5_CHECK_H_
#define CREMA_DATA_HDF5_CHECK_H_

#include <string>

namespace crema {

// Returns normally when every local heap of HDF5 file `path` has a free list HDF5 can walk,
// or when `path` has no HDF5 superblock (HDF5 says so itself). Throws IOError naming `path`
// when it cannot be read, Corruption naming `path` and the heap otherwise.
void CheckHdf5LocalHeaps(const std::string& path);

}  // namespace crema

#endif  // CREMA_DATA_HDF5_CHECK_H_
