#include "crema/core/synced_memory.h"

#include <cstdlib>
#include <cstring>
#include <new>

namespace crema {

namespace {
constexpr size_t kAlignment = 64;  // one cache line; what AVX-512 loads want
}  // namespace

SyncedMemory::SyncedMemory(size_t size_bytes) : size_(size_bytes) {}

SyncedMemory::SyncedMemory(void* external, size_t size_bytes)
    : host_ptr_(external), size_(size_bytes), owns_host_(false), head_(Head::kAtHost) {}

SyncedMemory::~SyncedMemory() {
  if (owns_host_) std::free(host_ptr_);
}

void SyncedMemory::ToHost() {
  if (head_ != Head::kUninitialized) return;
  const size_t rounded = ((size_ + kAlignment - 1) / kAlignment) * kAlignment;
  host_ptr_ = std::aligned_alloc(kAlignment, rounded == 0 ? kAlignment : rounded);
  if (host_ptr_ == nullptr) throw std::bad_alloc();
  std::memset(host_ptr_, 0, size_);
  head_ = Head::kAtHost;
}

const void* SyncedMemory::host_data() {
  ToHost();
  return host_ptr_;
}

void* SyncedMemory::mutable_host_data() {
  ToHost();
  head_ = Head::kAtHost;
  return host_ptr_;
}

}  // namespace crema
