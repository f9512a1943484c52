#include "crema/data/record_source.h"

namespace crema {

void RecordSource::Skip(int64_t n) {
  const int64_t count = size();
  if (count <= 0 || n <= 0) return;
  for (int64_t i = n % count; i > 0; --i) Next();
}

void RecordSource::Seek(int64_t index) {
  SeekToFirst();
  Skip(index);
}

}  // namespace crema
