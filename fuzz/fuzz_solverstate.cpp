// Fuzzes .solverstate loading as `crema train --snapshot` does it: the state is read (a
// binary SolverState, or HDF5 when the input starts with HDF5's signature: it is then written
// to a name ending in ".h5", Caffe's rule) and restored into an SGD and an Adam solver for
// a small fixed net (small_net.h), which checks the history blobs against the net's
// parameters and loads the weights the state names.
//
// The state names its weights file; only plain names (no '/') are followed, so the fuzzer
// cannot make the target read arbitrary files. "model.caffemodel" beside the state holds
// valid weights for the net. HDF5 history datasets that declare more than 2^22 values are
// skipped: a few bytes of HDF5 can declare up to 2^31 values (the most Crema reads), which
// would only measure the machine's memory.
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "common.h"
#include "crema/core/error.h"
#include "crema/data/hdf5_dataset.h"
#include "crema/io/proto_io.h"
#include "crema/net/net.h"
#include "crema/solver/solver.h"
#include "crema/solver/solver_state_io.h"
#include "small_net.h"

namespace {

constexpr int64_t kMaxValues = int64_t{1} << 22;

// False when a dataset under /history declares more than kMaxValues values. Whatever else is
// wrong with the file is left for ReadSolverState to find.
bool SmallHistory(const std::string& path) {
  try {
    const crema::Hdf5File file = crema::Hdf5File::Open(path);
    if (!file.Exists("history")) return true;
    for (const std::string& member : file.List("history")) {
      if (!crema::fuzz::SmallDataset(file, "history/" + member, kMaxValues)) return false;
    }
  } catch (const crema::Error&) {
  }
  return true;
}

std::unique_ptr<crema::Solver> g_sgd;
std::unique_ptr<crema::Solver> g_adam;

std::unique_ptr<crema::Solver> MakeSolver(const std::string& type) {
  caffe::SolverParameter param;
  crema::ParseTextProto(crema::fuzz::kSmallNet, "small_net.h", param.mutable_net_param());
  param.set_type(type);
  param.set_base_lr(0.01f);
  param.set_momentum(0.9f);
  param.set_lr_policy("fixed");
  param.set_max_iter(1);
  param.set_snapshot_prefix(crema::fuzz::ScratchPath("snapshot"));
  return crema::CreateSolver(param);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  crema::fuzz::QuietLogging();
  g_sgd = MakeSolver("SGD");
  g_adam = MakeSolver("Adam");
  caffe::NetParameter weights;
  g_sgd->net()->ToProto(&weights);
  crema::WriteBinaryProto(crema::fuzz::ScratchPath("model.caffemodel"), weights);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static constexpr char kHdf5Signature[] = "\x89HDF\r\n\x1a\n";
  const bool hdf5 = size >= 8 && std::memcmp(data, kHdf5Signature, 8) == 0;
  const std::string path = crema::fuzz::WriteScratchFile(
      hdf5 ? "state.solverstate.h5" : "state.solverstate", data, size);
  try {
    if (hdf5 && !SmallHistory(path)) return 0;
    const caffe::SolverState state = crema::ReadSolverState(path);
    if (state.learned_net().find('/') != std::string::npos) return 0;
    g_sgd->Restore(path);
    g_adam->Restore(path);
  } catch (const crema::Error&) {
  }
  return 0;
}
