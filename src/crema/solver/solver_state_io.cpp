#include "crema/solver/solver_state_io.h"

#include <set>
#include <vector>

#include "crema/core/error.h"
#include "crema/data/hdf5_dataset.h"
#include "crema/io/proto_io.h"
#include "crema/net/net_hdf5.h"

namespace crema {

namespace {

bool EndsWithH5(const std::string& path) {
  return path.size() >= 3 && path.compare(path.size() - 3, 3, ".h5") == 0;
}

void WriteHdf5State(const std::string& path, const caffe::SolverState& state) {
  WriteHdf5FileAtomically(path, [&state, &path](Hdf5File* file) {
    file->WriteInt("iter", state.iter());
    file->WriteString("learned_net", state.learned_net());
    file->WriteInt("current_step", state.current_step());
    file->CreateGroup("history");
    for (int k = 0; k < state.history_size(); ++k) {
      const caffe::BlobProto& blob = state.history(k);
      std::vector<int64_t> shape(blob.shape().dim().begin(), blob.shape().dim().end());
      int64_t count = 1;
      for (int64_t d : shape) count *= d;
      CREMA_REQUIRE(count == blob.data_size(), "cannot write history blob ", k, " to ", path,
                    ": its shape holds ", count, " values but it has ", blob.data_size());
      file->WriteFloat(StrCat("history/", k), shape, blob.data().data());
    }
  });
}

caffe::SolverState ReadHdf5State(const std::string& path) {
  const Hdf5File file = Hdf5File::Open(path);
  caffe::SolverState state;
  state.set_iter(file.ReadInt("iter"));
  if (file.Exists("learned_net")) state.set_learned_net(file.ReadString("learned_net"));
  state.set_current_step(file.ReadInt("current_step"));
  if (!file.Exists("history")) {
    throw Corruption(StrCat("HDF5 file '", path, "' has no group 'history'; it is not a "
                            "solver state (.solverstate.h5)"));
  }
  const std::vector<std::string> members = file.List("history");
  const std::set<std::string> names(members.begin(), members.end());
  for (size_t k = 0; k < members.size(); ++k) {
    const std::string name = std::to_string(k);
    if (names.count(name) == 0) {
      throw Corruption(StrCat("HDF5 file '", path, "' holds ", members.size(),
                              " history entries but none named '", name,
                              "'; expected '0' to '", members.size() - 1, "'"));
    }
    const std::string dataset = "history/" + name;
    caffe::BlobProto* blob = state.add_history();
    for (int64_t d : file.Shape(dataset)) blob->mutable_shape()->add_dim(d);
    const std::vector<float> values = file.ReadFloat(dataset);
    blob->mutable_data()->Add(values.begin(), values.end());
  }
  return state;
}

}  // namespace

void WriteSolverState(const std::string& path, const caffe::SolverState& state,
                      caffe::SolverParameter::SnapshotFormat format) {
  if (format == caffe::SolverParameter::HDF5) {
    WriteHdf5State(path, state);
  } else {
    WriteBinaryProto(path, state);
  }
}

caffe::SolverState ReadSolverState(const std::string& path) {
  if (EndsWithH5(path)) return ReadHdf5State(path);
  caffe::SolverState state;
  ReadBinaryProto(path, &state);
  return state;
}

}  // namespace crema
