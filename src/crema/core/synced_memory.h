// A byte buffer that knows where its current copy lives.
//
// Crema only computes on the host today, but layers must not assume forever that the pointer
// they get is a host pointer: every access goes through host_data()/mutable_host_data() (and,
// once the CUDA backend lands, device_data()/mutable_device_data()), which copy lazily when the
// other side holds the newer copy. This is the contract Caffe's SyncedMemory established.
//
// Memory is allocated on first access, 64-byte aligned, and zero-filled. A SyncedMemory is not
// thread-safe; a Blob and its buffers belong to one thread at a time.
#ifndef CREMA_CORE_SYNCED_MEMORY_H_
#define CREMA_CORE_SYNCED_MEMORY_H_

#include <cstddef>

namespace crema {

class SyncedMemory {
 public:
  enum class Head { kUninitialized, kAtHost };

  explicit SyncedMemory(size_t size_bytes);
  // Memory owned by someone else (e.g. a slice of a communication buffer), already holding
  // the current values. REQUIRES: `external` stays valid for this object's lifetime.
  SyncedMemory(void* external, size_t size_bytes);
  ~SyncedMemory();
  SyncedMemory(const SyncedMemory&) = delete;
  SyncedMemory& operator=(const SyncedMemory&) = delete;

  // Read-only view of the host copy. Allocates (zeroed) on first use.
  const void* host_data();
  // Writable host copy; marks the host copy as the newest one.
  void* mutable_host_data();

  size_t size() const { return size_; }
  Head head() const { return head_; }

 private:
  void ToHost();

  void* host_ptr_ = nullptr;
  size_t size_;
  bool owns_host_ = true;
  Head head_ = Head::kUninitialized;
};

}  // namespace crema

#endif  // CREMA_CORE_SYNCED_MEMORY_H_
