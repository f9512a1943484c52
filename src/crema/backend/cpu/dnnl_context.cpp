#include "crema/backend/cpu/dnnl_context.h"

#include <array>
#include <cstdlib>
#include <new>

namespace crema::cpu {

namespace {

constexpr size_t kAlignment = 64;

class ScratchBuffers {
 public:
  ScratchBuffers() = default;
  ScratchBuffers(const ScratchBuffers&) = delete;
  ScratchBuffers& operator=(const ScratchBuffers&) = delete;
  ~ScratchBuffers() {
    for (void* buffer : buffers_) std::free(buffer);
  }

  void* Get(int slot, size_t bytes) {
    const size_t s = static_cast<size_t>(slot);
    if (bytes > sizes_[s]) {
      std::free(buffers_[s]);
      buffers_[s] = nullptr;
      sizes_[s] = 0;
      const size_t rounded = (bytes + kAlignment - 1) / kAlignment * kAlignment;
      buffers_[s] = std::aligned_alloc(kAlignment, rounded);
      if (buffers_[s] == nullptr) throw std::bad_alloc();
      sizes_[s] = rounded;
    }
    return buffers_[s];
  }

 private:
  std::array<void*, kScratchSlots> buffers_{};
  std::array<size_t, kScratchSlots> sizes_{};
};

}  // namespace

const dnnl::engine& DnnlEngine() {
  static const dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

dnnl::stream& DnnlStream() {
  thread_local dnnl::stream stream(DnnlEngine());
  return stream;
}

void* ThreadScratch(int slot, size_t bytes) {
  thread_local ScratchBuffers buffers;
  return buffers.Get(slot, bytes);
}

}  // namespace crema::cpu
