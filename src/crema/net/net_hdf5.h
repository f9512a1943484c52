// Caffe's HDF5 model files (`.caffemodel.h5`, written with snapshot_format: HDF5), and the
// two HDF5 file helpers the snapshot code shares.
//
// Layout, as Caffe writes it:
//   /data/<layer>/<i>   float32 dataset in the shape of the layer's i-th parameter blob, for
//                       every parameter the layer owns (a parameter shared by ParamSpec name
//                       is stored once, at the layer that owns it)
//   /diff/<layer>/<i>   only with write_diff (snapshot_diff): the gradient of every parameter,
//                       shared ones included
// Every instantiated layer, Split layers included, gets its group under /data (and /diff),
// empty when it has no parameters. HDF5 reads '/' as a separator, so a '/' in a layer name
// nests groups; Crema reads such files back, but Caffe's reader, which lists only the direct
// members of /data, does not see those layers.
//
// Thread-safety: as Hdf5File (one process-wide HDF5 lock); a Net is used by one thread.
#ifndef CREMA_NET_NET_HDF5_H_
#define CREMA_NET_NET_HDF5_H_

#include <functional>
#include <string>

#include "crema/data/hdf5_dataset.h"
#include "crema/net/net.h"

namespace crema {

// Writes `net`'s parameters (and, with `write_diff`, gradients) to `path` in the layout above,
// atomically (WriteHdf5FileAtomically). Throws IOError naming the file when it cannot be
// written.
void WriteNetToHdf5(const Net& net, const std::string& path, bool write_diff = false);

// Copies parameters from the .caffemodel.h5 at `path` into `net`, matching layers by name as
// Caffe does: a layer of the file the net lacks is ignored, a layer of the net the file lacks
// keeps its weights. For a matched layer the file may not hold more blobs than the layer has,
// and must hold every blob the layer owns (a shared one may be absent: its owner brings it);
// each blob's shape must equal the layer's exactly.
// Throws IOError or Corruption naming the file when it cannot be read or is not a Caffe HDF5
// model (no /data group, unreadable datasets, a truncated file), InvalidArgument naming the
// file, the layer and both shapes for a blob that does not fit.
void CopyTrainedLayersFromHdf5(Net* net, const std::string& path);

// Whether a weights or state file is HDF5: its name ends in ".h5" (how Caffe chooses for
// solver states, and how a corrupt .h5 gets an HDF5 error rather than a protobuf one), or it
// starts with the HDF5 signature at one of the offsets HDF5 allows (how Caffe chooses for
// weights, so a .caffemodel that is really HDF5 loads too). A file that cannot be read is
// not HDF5 here; its reader reports why.
bool IsHdf5File(const std::string& path);

// Creates an HDF5 file at a temporary name beside `path`, lets `write` fill it, closes it,
// flushes it to disk and renames it to `path`, so a crash or an error never leaves a partial
// file under the final name (an existing `path` is replaced only on success). On error the
// temporary file is removed and the error (IOError naming the file, or whatever `write`
// threw) is rethrown.
void WriteHdf5FileAtomically(const std::string& path, const std::function<void(Hdf5File*)>& write);

}  // namespace crema

#endif  // CREMA_NET_NET_HDF5_H_
