// Fuzzes .caffemodel loading as `crema test`/`train --weights` do it: the file is read
// (binary NetParameter, or HDF5 when its contents say so), legacy formats are upgraded and
// the weights are copied by layer name into a small fixed net (small_net.h), which then runs
// Forward once.
#include <cstdint>
#include <memory>

#include "common.h"
#include "crema/core/error.h"
#include "crema/io/proto_io.h"
#include "crema/net/net.h"
#include "small_net.h"

namespace {
std::unique_ptr<crema::Net> g_net;
}  // namespace

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  crema::fuzz::QuietLogging();
  caffe::NetParameter param;
  crema::ParseTextProto(crema::fuzz::kSmallNet, "small_net.h", &param);
  g_net = std::make_unique<crema::Net>(param);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = crema::fuzz::WriteScratchFile("model.caffemodel", data, size);
  try {
    g_net->CopyTrainedLayersFromFile(path);
    g_net->Forward();
  } catch (const crema::Error&) {
  }
  return 0;
}
