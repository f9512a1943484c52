// Packing of buffers that live during known intervals into one arena.
//
// A net's intermediate gradients (and, at inference, its activations) are each needed only
// between two layers; buffers whose intervals do not overlap can use the same memory. PackBuffers
// places every buffer at an offset in one arena so that any two buffers whose intervals overlap
// occupy disjoint bytes, and keeps the arena small: buffers are placed largest first, each at the
// lowest offset that is free for its whole interval (a first-fit heuristic; the optimum is
// NP-hard, and this is within a few percent of the peak of live bytes on the nets we run).
#ifndef CREMA_NET_MEMORY_PLAN_H_
#define CREMA_NET_MEMORY_PLAN_H_

#include <cstddef>
#include <vector>

namespace crema {

struct BufferLifetime {
  size_t bytes = 0;
  int first = 0;  // first step (e.g. layer index) that uses the buffer
  int last = 0;   // last step that uses it; REQUIRES: first <= last
};

struct BufferPlacement {
  std::vector<size_t> offsets;  // one per buffer, multiples of `alignment`
  size_t arena_bytes = 0;       // the arena's size: max(offset + rounded size)
};

// Places `buffers`; every offset is a multiple of `alignment` (a power of two) and every size is
// rounded up to it. Buffers of 0 bytes get offset 0.
BufferPlacement PackBuffers(const std::vector<BufferLifetime>& buffers, size_t alignment = 64);

}  // namespace crema

#endif  // CREMA_NET_MEMORY_PLAN_H_
