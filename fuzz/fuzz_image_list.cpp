// Fuzzes image list files ("path label" a line) as the ImageData layer and `crema convert
// imageset` read them (ReadImageList), and checks that what it accepts survives a round trip
// through FormatImageList unchanged.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "common.h"
#include "crema/core/error.h"
#include "crema/data/image_list.h"

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  crema::fuzz::QuietLogging();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = crema::fuzz::WriteScratchFile("list.txt", data, size);
  std::vector<crema::ImageListEntry> entries;
  try {
    entries = crema::ReadImageList(path);
  } catch (const crema::Error&) {
    return 0;
  }
  std::string formatted;
  try {
    formatted = crema::FormatImageList(entries);
  } catch (const crema::Error&) {
    return 0;  // a path with a line break: refused, as documented
  }
  const std::string again = crema::fuzz::WriteScratchFile("list2.txt", formatted);
  if (crema::ReadImageList(again) != entries) {
    std::fprintf(stderr, "fuzz_image_list: the list does not read back as it was written\n");
    std::abort();
  }
  return 0;
}
