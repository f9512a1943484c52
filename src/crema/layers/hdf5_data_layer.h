// HDF5 data layer ("HDF5Data"): emits batches of rows read from datasets in HDF5 files.
//
// Tops: one per dataset. Top i is filled from the dataset named like the top (e.g. tops
// "data" and "label" read datasets "data" and "label") in every listed file:
//   top[i]  (N, d1, ..., dk)   N = batch_size; d1..dk = the dataset's dimensions after the
//                              first (row) one, the same in every file. A 1-D dataset of
//                              labels gives (N); an (rows, 1) dataset gives (N, 1).
// No bottoms, no parameters, no gradient.
//
//   top[i][n][...] = dataset_i[r][...] converted to float (any integer or floating-point
//   dataset; a double is rounded to the nearest float), where r is the n-th row read for
//   the batch. Row r is the same row of every dataset of a file, so the tops stay aligned.
//
// hdf5_data_param:
//   source      a text file listing .h5 files, one per line. Blank lines are ignored and
//               surrounding whitespace is trimmed. A relative path is taken relative to the
//               working directory, and when no file is there, relative to the directory of
//               the list file.
//   batch_size  rows per batch, > 0
//   shuffle     [false] see Order
// crema_data_param.shard [true]: see Sharding.
//
// Order: rows are numbered globally, file after file in list order and, within a file, row
// after row. This rank reads its share of those rows (all of them when not sharding) cut
// into segments, one per file it overlaps. An epoch reads the segments in order and the rows
// of each segment in order; at the end of the share reading wraps around to its start, so a
// batch may span segments, files and epochs. With shuffle, each epoch reads the segments in
// a new random order, and the rows of each segment in a new random order every time it is
// reached; every row is still read exactly once per epoch.
//
// Memory: at SetUp only each file's dataset shapes are read. The rows of one segment are
// held in memory at a time, loaded when reading reaches it (and kept while reading stays in
// it, e.g. for a single-file dataset), so a dataset larger than memory can be read as long
// as one segment fits.
//
// Sharding: at SetUp the layer reads crema::GetRankInfo(). With more than one rank and
// crema_data_param.shard (default true), the rank reads only the global rows
// ShardRange(total_rows, rank, world_size, phase) (data/shard.h): in TRAIN every rank the
// same number of rows, disjoint, the last total_rows mod world_size rows left out; in TEST
// the shares cover every row exactly once. A rank opens for reading only the files its
// share overlaps, and only their rows in its share.
//
// Sample ids (Layer::set_keep_batch_ids, batch_ids): "<file>:<row>", the file as the list
// names it and the row's number within that file (from 0).
//
// Randomness: the shuffles are a pure function of a seed drawn from crema::ThreadRng() at
// SetUp (only when shuffle is set) and of the epoch and segment numbers, so a fixed solver
// seed reproduces them, and SkipBatches lands on the same order without replaying draws.
//
// Errors: SetUp throws crema::Error prefixed with the layer's name, each naming the file at
// fault: InvalidArgument for batch_size 0 or no source; IOError for a list file or .h5 file
// that cannot be opened; Corruption for a file that is not HDF5, lacks a top's dataset, or
// whose dataset is a scalar; InvalidArgument when a file's datasets differ in row count
// (naming both datasets and counts), when a dataset's row shape differs from the first
// file's (naming both shapes), when the files hold no rows, when a batch would exceed 2^31
// values, or when this rank's share is empty (TEST with fewer rows than ranks) or cannot be
// made (TRAIN with fewer rows than ranks). Forward loads files as reading reaches them and
// throws Corruption/IOError naming the file when one has become unreadable, holds
// non-numeric values, or changed shape since SetUp.
#ifndef CREMA_LAYERS_HDF5_DATA_LAYER_H_
#define CREMA_LAYERS_HDF5_DATA_LAYER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "crema/layers/layer.h"

namespace crema {

class HDF5DataLayer : public Layer {
 public:
  explicit HDF5DataLayer(const caffe::LayerParameter& param) : Layer(param) {}

  const char* type() const override { return "HDF5Data"; }
  int ExactNumBottomBlobs() const override { return 0; }
  int MinTopBlobs() const override { return 1; }

  // Gives the tops the shapes SetUp found (cheap when they already have them).
  void Reshape(const BlobVec& bottom, const BlobVec& top) override;

  // Advances by n·batch_size rows, so that the next Forward emits what it would have
  // emitted after n more Forwards (shuffled orders included). Loads nothing itself.
  // Throws InvalidArgument naming the layer when n < 0 or n·batch_size overflows.
  // REQUIRES: SetUp has run.
  void SkipBatches(int64_t n) override;

  // Rows in all listed files, and rows this rank reads per epoch (its share).
  int64_t total_rows() const { return total_rows_; }
  int64_t rows_per_epoch() const { return share_rows_; }

  // Rows this rank owns (rows_per_epoch(), or 0 for a TEST rank left without a batch), and
  // ids "<file as listed>:<row in that file>" (see Layer).
  int64_t samples_per_pass() const override { return samples_per_pass_; }
  void set_keep_batch_ids(bool keep) override;
  const std::vector<std::string>& batch_ids() const override { return batch_ids_; }

 protected:
  void LayerSetUp(const BlobVec& bottom, const BlobVec& top) override;
  void ForwardCpu(const BlobVec& bottom, const BlobVec& top) override;
  void BackwardCpu(const BlobVec& /*top*/, const std::vector<bool>& /*propagate_down*/,
                   const BlobVec& /*bottom*/) override {}

 private:
  struct File {
    std::string path;    // absolute
    std::string listed;  // as the list file gives it (for ids)
    int64_t rows = 0;
  };
  // Rows [begin, end) of files_[file]; never empty.
  struct Segment {
    int file = 0;
    int64_t begin = 0;
    int64_t end = 0;
    int64_t size() const { return end - begin; }
  };

  // Reads the list file into files_ (paths resolved; rows not yet known).
  void ReadList();
  // Reads every file's dataset shapes: fills files_[].rows, row_dims_, top_shapes_.
  void ReadShapes();
  // Cuts this rank's share of the global rows into segments_.
  void MakeSegments();
  // order_ for epoch_: the segments in list order, or shuffled.
  void MakeOrder();
  // perm_ for the current segment in epoch_ (shuffle only).
  void MakeRowOrder();
  // Moves to the next segment, starting a new epoch after the last.
  void NextSegment();
  // Reads the rows of segments_[segment] into buffers_.
  void Load(int segment);

  int batch_size_ = 0;
  bool shuffle_ = false;
  uint64_t seed_ = 0;
  std::vector<File> files_;
  std::vector<std::vector<int64_t>> row_dims_;  // per top: dataset dims after the first
  std::vector<std::vector<int>> top_shapes_;    // per top: (batch_size, row dims...)
  std::vector<int> row_sizes_;                  // per top: values in one row
  int64_t total_rows_ = 0;
  int64_t share_rows_ = 0;
  int64_t samples_per_pass_ = 0;
  bool keep_batch_ids_ = false;
  std::vector<std::string> batch_ids_;  // the last Forward's ids, when kept
  std::vector<Segment> segments_;

  // Read position: epoch number, slot in order_, row within the segment order_[slot_]
  // (row_ == its size means "at its end": the next read moves on).
  int64_t epoch_ = 0;
  int slot_ = 0;
  int64_t row_ = 0;
  std::vector<int> order_;      // segment indices in this epoch's order
  std::vector<int64_t> perm_;   // with shuffle: row order within the current segment

  int loaded_ = -1;                          // segment held in buffers_, -1 for none
  std::vector<std::vector<float>> buffers_;  // per top: the loaded segment's rows
};

}  // namespace crema

#endif  // CREMA_LAYERS_HDF5_DATA_LAYER_H_
