// HDF5Output: writes its two bottoms to an HDF5 file, batch after batch.
//
// Shapes: bottom[0] (N, …) the data, bottom[1] (N, …) the labels, each with at most 4 axes;
// no top, no parameters, no gradient. The file hdf5_output_param.file_name is created (an
// existing file is replaced) at SetUp. Every Forward appends the batch's rows to two float32
// datasets:
//   "data"   (rows, C, H, W)    bottom[0] in Caffe's legacy 4-D shape: missing trailing axes
//   "label"  (rows, C', H', W') are 1, so (N, 3) is written as (N, 3, 1, 1), (N) as (N, 1, 1, 1)
// created at the first Forward (so a file that saw one batch holds exactly what Caffe writes)
// and extended by each later one (Caffe aborts on a second batch). The file is flushed after
// every batch and closed when the layer is destroyed; HDF5Data reads it back.
//
// Errors (crema::Error naming the layer): SetUp throws InvalidArgument for an empty
// file_name and IOError when the file cannot be created. Reshape throws InvalidArgument when
// the bottoms' first dimensions differ, a bottom has more than 4 axes or a zero dimension
// after the first, or a bottom's (C, H, W) changes after the datasets were created. Forward
// throws IOError naming the file when HDF5 cannot write (a full disk): like a data layer's
// read error, a failure of the file system rather than of the input. A layer is used by one
// thread at a time. In a job of several ranks every rank writes the file named, so give each
// rank's net its own file name.
#ifndef CREMA_LAYERS_HDF5_OUTPUT_LAYER_H_
#define CREMA_LAYERS_HDF5_OUTPUT_LAYER_H_

#include <array>
#include <cstdint>
#include <optional>
#include <vector>

#include "crema/data/hdf5_dataset.h"
#include "crema/layers/layer.h"

namespace crema {

class HDF5OutputLayer : public Layer {
 public:
  using Layer::Layer;
  const char* type() const override { return "HDF5Output"; }
  int ExactNumBottomBlobs() const override { return 2; }
  int ExactNumTopBlobs() const override { return 0; }
  void Reshape(const BlobVec& bottom, const BlobVec& top) override;

 protected:
  void LayerSetUp(const BlobVec& bottom, const BlobVec& top) override;
  void ForwardCpu(const BlobVec& bottom, const BlobVec& top) override;
  void BackwardCpu(const BlobVec& /*top*/, const std::vector<bool>& /*propagate_down*/,
                   const BlobVec& /*bottom*/) override {}

 private:
  // The (C, H, W) of `blob` in Caffe's legacy 4-D reading; fails for more than 4 axes.
  std::array<int64_t, 3> RowDims(const Blob& blob, int index) const;

  std::optional<Hdf5File> file_;
  bool created_ = false;  // whether the datasets exist (after the first Forward)
  std::vector<int64_t> data_rows_, label_rows_;  // row dims of the current bottoms
};

}  // namespace crema

#endif  // CREMA_LAYERS_HDF5_OUTPUT_LAYER_H_
