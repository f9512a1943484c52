#include "crema/net/memory_plan.h"

#include <algorithm>
#include <numeric>

namespace crema {

namespace {

size_t RoundUp(size_t bytes, size_t alignment) {
  return (bytes + alignment - 1) & ~(alignment - 1);
}

bool Overlap(const BufferLifetime& a, const BufferLifetime& b) {
  return a.first <= b.last && b.first <= a.last;
}

}  // namespace

BufferPlacement PackBuffers(const std::vector<BufferLifetime>& buffers, size_t alignment) {
  BufferPlacement placement;
  placement.offsets.assign(buffers.size(), 0);
  std::vector<size_t> order(buffers.size());
  std::iota(order.begin(), order.end(), size_t{0});
  // Largest first; ties by start so the result does not depend on the sort's stability.
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return buffers[a].bytes > buffers[b].bytes;
  });

  std::vector<size_t> placed;  // indices already given an offset
  std::vector<std::pair<size_t, size_t>> busy;  // [begin, end) of overlapping placed buffers
  for (size_t index : order) {
    const BufferLifetime& buffer = buffers[index];
    const size_t size = RoundUp(buffer.bytes, alignment);
    if (size == 0) continue;
    busy.clear();
    for (size_t other : placed) {
      if (!Overlap(buffer, buffers[other])) continue;
      const size_t begin = placement.offsets[other];
      busy.emplace_back(begin, begin + RoundUp(buffers[other].bytes, alignment));
    }
    std::sort(busy.begin(), busy.end());
    size_t offset = 0;
    for (const auto& [begin, end] : busy) {
      if (offset + size <= begin) break;  // fits in the gap before this one
      offset = std::max(offset, end);
    }
    placement.offsets[index] = offset;
    placement.arena_bytes = std::max(placement.arena_bytes, offset + size);
    placed.push_back(index);
  }
  return placement;
}

}  // namespace crema
