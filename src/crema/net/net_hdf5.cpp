#include "crema/net/net_hdf5.h"

#include <fcntl.h>
#include <glog/logging.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <map>
#include <set>
#include <utility>
#include <vector>

#include "crema/core/error.h"
#include "crema/io/proto_io.h"

namespace crema {

namespace {

// (layer index, blob index) → index into net.params(), to find who owns a layer's blob.
std::map<std::pair<int, int>, int> ParamIndex(const Net& net) {
  std::map<std::pair<int, int>, int> index;
  const auto& where = net.param_layer_indices();
  for (size_t i = 0; i < where.size(); ++i) index[where[i]] = static_cast<int>(i);
  return index;
}

// Whether blob `blob_id` of layer `layer_id` belongs to another layer (a shared parameter).
bool SharedFromElsewhere(const Net& net, const std::map<std::pair<int, int>, int>& index,
                         int layer_id, int blob_id) {
  auto it = index.find({layer_id, blob_id});
  return it != index.end() && net.param_owners()[it->second] >= 0;
}

std::vector<int64_t> ShapeOf(const Blob& blob) {
  return std::vector<int64_t>(blob.shape().begin(), blob.shape().end());
}

std::string ShapeText(const std::vector<int64_t>& dims) {
  std::vector<int> shape;
  for (int64_t d : dims) shape.push_back(static_cast<int>(d));
  return Blob::ShapeString(shape);
}

bool IsIndexName(const std::string& name) {
  return !name.empty() && name.find_first_not_of("0123456789") == std::string::npos;
}

}  // namespace

void WriteHdf5FileAtomically(const std::string& path,
                             const std::function<void(Hdf5File*)>& write) {
  const std::string tmp = path + ".tmp." + std::to_string(getpid());
  try {
    Hdf5File file = Hdf5File::Create(tmp);
    write(&file);
    file.Close();
    // Close hands HDF5's buffers to the kernel; fsync puts them on disk before the rename
    // makes the file visible under its final name.
    const int fd = ::open(tmp.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw IOErrorFromErrno("reopen to flush", tmp);
    const bool synced = ::fsync(fd) == 0;
    Error error = IOErrorFromErrno("flush", tmp);
    ::close(fd);
    if (!synced) throw error;
  } catch (...) {
    std::remove(tmp.c_str());
    throw;
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    Error error = IOErrorFromErrno("rename into place", path);
    std::remove(tmp.c_str());
    throw error;
  }
  SyncParentDirectory(path);
}

bool IsHdf5File(const std::string& path) {
  if (path.size() >= 3 && path.compare(path.size() - 3, 3, ".h5") == 0) return true;
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return false;
  // The superblock sits at byte 0 or after a user block of 512, 1024, 2048, … bytes.
  static const char kSignature[8] = {'\x89', 'H', 'D', 'F', '\r', '\n', '\x1a', '\n'};
  bool found = false;
  for (long offset = 0; !found && offset <= (1L << 30); offset = offset == 0 ? 512 : offset * 2) {
    char head[8];
    if (std::fseek(f, offset, SEEK_SET) != 0 || std::fread(head, 1, 8, f) != 8) break;
    found = std::memcmp(head, kSignature, 8) == 0;
  }
  std::fclose(f);
  return found;
}

void WriteNetToHdf5(const Net& net, const std::string& path, bool write_diff) {
  const auto index = ParamIndex(net);
  WriteHdf5FileAtomically(path, [&](Hdf5File* file) {
    file->CreateGroup("data");
    if (write_diff) file->CreateGroup("diff");
    for (size_t layer_id = 0; layer_id < net.layers().size(); ++layer_id) {
      const std::string& name = net.layer_names()[layer_id];
      file->CreateGroup("data/" + name);
      if (write_diff) file->CreateGroup("diff/" + name);
      const auto& blobs = net.layers()[layer_id]->blobs();
      for (size_t j = 0; j < blobs.size(); ++j) {
        const Blob& blob = *blobs[j];
        const std::string member = StrCat(name, "/", j);
        if (!SharedFromElsewhere(net, index, static_cast<int>(layer_id), static_cast<int>(j))) {
          file->WriteFloat("data/" + member, ShapeOf(blob), blob.cpu_data());
        }
        if (write_diff) file->WriteFloat("diff/" + member, ShapeOf(blob), blob.cpu_diff());
      }
    }
  });
}

void CopyTrainedLayersFromHdf5(Net* net, const std::string& path) {
  const Hdf5File file = Hdf5File::Open(path);
  if (!file.Exists("data")) {
    throw Corruption(StrCat("HDF5 file '", path, "' has no group 'data'; it is not a Caffe "
                            "model (.caffemodel.h5)"));
  }
  const auto index = ParamIndex(*net);
  if (VLOG_IS_ON(1)) {
    for (const std::string& source : file.List("data")) {
      if (!net->has_layer(source)) VLOG(1) << "Ignoring source layer " << source;
    }
  }
  for (size_t layer_id = 0; layer_id < net->layers().size(); ++layer_id) {
    const std::string& name = net->layer_names()[layer_id];
    const std::string group = "data/" + name;
    if (!file.Exists(group)) continue;
    auto& target = net->layers()[layer_id]->blobs();
    size_t stored = 0;
    for (const std::string& member : file.List(group)) stored += IsIndexName(member) ? 1 : 0;
    CREMA_REQUIRE(stored <= target.size(), path, ": cannot copy weights into layer '", name,
                  "': the model holds ", stored, " blobs for it, the net has ", target.size());
    for (size_t j = 0; j < target.size(); ++j) {
      const std::string dataset = StrCat(group, "/", j);
      if (!file.Exists(dataset)) {
        if (SharedFromElsewhere(*net, index, static_cast<int>(layer_id), static_cast<int>(j))) {
          continue;  // its owner's blob brings the values
        }
        throw InvalidArgument(StrCat(path, ": cannot copy weights into layer '", name,
                                     "': the model holds no blob ", j, " for it, the net has ",
                                     target.size()));
      }
      const std::vector<int64_t> dims = file.Shape(dataset);
      if (dims != ShapeOf(*target[j])) {
        throw InvalidArgument(StrCat(
            path, ": cannot copy weights into layer '", name, "': blob ", j, " has shape ",
            ShapeText(dims), " in the model but ", target[j]->shape_string(),
            " in the net (rename the layer to learn its parameters from scratch)"));
      }
      const std::vector<float> values = file.ReadFloat(dataset);
      std::copy(values.begin(), values.end(), target[j]->mutable_cpu_data());
    }
  }
}

}  // namespace crema
