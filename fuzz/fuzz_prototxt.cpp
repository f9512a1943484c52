// Fuzzes the prototxt readers: a net file as every command reads it (ReadNetFile: text
// parse, the legacy V0/V1/data/input/BatchNorm upgrades, the layer-type check), then a
// solver file (ReadSolverParamsFromTextFile: text parse, solver_type upgrade, nets given
// inline upgraded too). A net that parses, has only layers that open no files and declares
// only small numbers is then built and run Forward and Backward once, so the layers' SetUp
// and Reshape checks meet hostile parameters.
#include <cstdint>
#include <set>
#include <string>

#include "common.h"
#include "crema/core/error.h"
#include "crema/io/proto_io.h"
#include "crema/io/upgrade.h"
#include "crema/net/net.h"
#include "crema/net/net_file.h"

namespace {

// Layers that read or write files named in the net (or wait on a producer): not built here.
bool OpensFiles(const caffe::LayerParameter& layer) {
  static const std::set<std::string> kFileLayers = {"Data", "ImageData", "HDF5Data",
                                                    "HDF5Output", "WindowData", "Python"};
  return kFileLayers.count(layer.type()) > 0 ||
         (layer.type() == "InfogainLoss" && layer.infogain_loss_param().has_source());
}

// Sizes the input may declare before the net is built (any integer field, repeated fields,
// layers), and values all the net's blobs may hold before it is run.
constexpr int64_t kMaxNumber = 16;
constexpr int kMaxRepeated = 16;
constexpr int kMaxLayers = 24;
constexpr int64_t kMaxValues = int64_t{1} << 22;

void BuildAndRun(caffe::NetParameter param) {
  if (param.layer_size() > kMaxLayers) return;
  for (const caffe::LayerParameter& layer : param.layer()) {
    if (OpensFiles(layer) || !crema::fuzz::SmallNumbers(layer, kMaxNumber, kMaxRepeated)) return;
  }
  if (!crema::fuzz::SmallNumbers(param.state(), kMaxNumber, kMaxRepeated)) return;
  crema::Net net(param);
  int64_t values = 0;
  for (const auto& blob : net.blobs()) values += blob->count();
  for (const auto& blob : net.params()) values += blob->count();
  if (values > kMaxValues) return;
  net.Forward();
  net.Backward();
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  crema::fuzz::QuietLogging();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = crema::fuzz::WriteScratchFile("net.prototxt", data, size);
  try {
    BuildAndRun(crema::ReadNetFile(path));
  } catch (const crema::Error&) {
  }
  try {
    const caffe::SolverParameter solver = crema::ReadSolverParamsFromTextFile(path);
    if (solver.has_net_param()) BuildAndRun(solver.net_param());
    if (solver.has_train_net_param()) BuildAndRun(solver.train_net_param());
  } catch (const crema::Error&) {
  }
  return 0;
}
