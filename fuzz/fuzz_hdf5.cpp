// Fuzzes HDF5 data files as the HDF5Data layer reads them: the input is written to an .h5
// file named by a list file, and a net holding one HDF5Data layer (tops "data" and "label",
// batch_size 3, shuffled or not) is set up and run Forward four times, so reading wraps
// around the file. Datasets that declare more than 2^20 values are skipped: HDF5 lets a
// small file declare a huge (unwritten) dataset, and the layer holds a file's rows in memory.
//
// libhdf5 is not instrumented: a report inside it with our arguments valid is HDF5's.
#include <cstdint>
#include <string>
#include <vector>

#include "common.h"
#include "crema/core/error.h"
#include "crema/data/hdf5_dataset.h"
#include "crema/io/proto_io.h"
#include "crema/net/net.h"

namespace {

constexpr int64_t kMaxValues = int64_t{1} << 20;

// False when a top's dataset declares more than kMaxValues values. Whatever else is wrong
// with the file is left for the layer to find.
bool SmallDatasets(const std::string& path) {
  try {
    const crema::Hdf5File file = crema::Hdf5File::Open(path);
    for (const char* name : {"data", "label"}) {
      if (!crema::fuzz::SmallDataset(file, name, kMaxValues)) return false;
    }
  } catch (const crema::Error&) {
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  crema::fuzz::QuietLogging();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string h5 = crema::fuzz::WriteScratchFile("data.h5", data, size);
  const std::string list = crema::fuzz::WriteScratchFile("list.txt", h5 + "\n");
  try {
    if (!SmallDatasets(h5)) return 0;
    for (bool shuffle : {false, true}) {
      caffe::NetParameter param;
      crema::ParseTextProto(R"pb(
        layer { name: "h5" type: "HDF5Data" top: "data" top: "label"
                hdf5_data_param { batch_size: 3 } }
      )pb", "fuzz_hdf5", &param);
      param.mutable_layer(0)->mutable_hdf5_data_param()->set_source(list);
      param.mutable_layer(0)->mutable_hdf5_data_param()->set_shuffle(shuffle);
      crema::Net net(param);
      for (int i = 0; i < 4; ++i) net.Forward();
    }
  } catch (const crema::Error&) {
  }
  return 0;
}
