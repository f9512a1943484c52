// Helpers shared by the libFuzzer targets of fuzz/ (one target a file, fuzz_<reader>.cpp).
//
// Every target feeds its input to one of Crema's readers of untrusted files exactly as the
// engine reads them, and treats a crema::Error as the expected way to refuse an input. Any
// other outcome is a finding: a sanitizer report, an abort, an exception of another type
// (std::bad_alloc from a size the input declares included), a run over the time limit or over
// the memory limit scripts/fuzz gives libFuzzer.
//
// The helpers are for one fuzzing process; they are not thread-safe.
#ifndef CREMA_FUZZ_COMMON_H_
#define CREMA_FUZZ_COMMON_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include <google/protobuf/message.h>

#include "crema/data/hdf5_dataset.h"

namespace crema::fuzz {

// Keeps glog and protobuf from writing a line for every input (HDF5's error printing Crema
// switches off itself); call from LLVMFuzzerInitialize.
void QuietLogging();

// `name` inside a scratch directory of this process (created on first use under $TMPDIR or
// /tmp, removed at exit). Readers that take a path get their input through it.
std::string ScratchPath(const std::string& name);

// Writes data[0, size) to ScratchPath(name), replacing it; returns the path.
std::string WriteScratchFile(const std::string& name, const uint8_t* data, size_t size);
std::string WriteScratchFile(const std::string& name, const std::string& contents);

// True when every integer field of `message`, at any depth, is within [-limit, limit] and
// every repeated field holds at most `max_repeated` entries. Targets that build nets use it
// to keep the fuzzer from spending its time and memory on valid but enormous blobs.
bool SmallNumbers(const google::protobuf::Message& message, int64_t limit, int max_repeated);

// False when dataset `name` of `file` declares more than `max_values` values; true when it
// declares fewer or its shape cannot be read (what else is wrong with the file is left for the
// reader under test to find). Targets that read HDF5 use it as SmallNumbers.
bool SmallDataset(const Hdf5File& file, const std::string& name, int64_t max_values);

}  // namespace crema::fuzz

#endif  // CREMA_FUZZ_COMMON_H_
