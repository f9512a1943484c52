// Data layer ("Data"): reads a dataset of serialized Datum records and emits batches.
//
// Tops:
//   top[0] data   (N, C, H', W')  N = batch_size; C×H×W from the first record; H' = W' =
//                                 crop_size when cropping, else H and W
//   top[1] label  (N)             optional; Datum.label as float
// No bottoms, no parameters, no gradient.
//
// Each item is transform_param applied to one record (data/transformer.h):
//   data[n][c][h][w] = (pixel − mean) · scale, with crop and mirror as documented there.
// Records are read in key order and wrap around at the end of the dataset, so an epoch
// boundary can fall inside a batch.
//
// data_param:
//   source     the dataset: an LMDB directory (as written by convert_imageset,
//              convert_mnist_data, ...)
//   backend    LMDB. LEVELDB (the schema's default) is refused when given explicitly.
//              Leniency: when `backend` is not set at all, the source is read as LMDB
//              (an LMDB directory opens; anything else gets an error saying what it is).
//   batch_size items per batch, > 0
//   rand_skip  [0] skip a random number of records in [0, rand_skip) at start, drawn from
//              crema::ThreadRng() during SetUp (so a fixed solver seed reproduces it)
//   prefetch   [4] batches prepared ahead on a background thread
//   scale, mean_file, crop_size, mirror: deprecated here; io/upgrade.h moves them into
//              transform_param in legacy (V0/V1) files, and this layer reads only
//              transform_param. In a current-format layer they are ignored with a warning,
//              as Caffe ignores them.
//
// Prefetching: a background thread (data/batch_prefetcher.h) reads, parses and transforms
// records into batches; Forward copies the next ready batch into the tops. The thread
// starts on the first Forward, so SkipBatches can still reposition the reader before.
// The transformer's random generator is seeded from crema::ThreadRng() during SetUp.
//
// Errors: SetUp throws crema::Error prefixed with the layer's name for a missing or
// unreadable source (naming the path), LevelDB, an empty dataset, an unusable first record
// (corrupt, encoded, wrong size) and bad parameters (batch_size 0, crop larger than the
// image, mean shape mismatch, ...). A later record that is corrupt, or whose C×H×W differs
// from the first record's (the message names its key and both shapes), makes the Forward
// that reaches its batch throw that error.
#ifndef CREMA_LAYERS_DATA_LAYER_H_
#define CREMA_LAYERS_DATA_LAYER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "crema/data/batch_prefetcher.h"
#include "crema/data/record_source.h"
#include "crema/data/transformer.h"
#include "crema/layers/layer.h"

namespace crema {

class DataLayer : public Layer {
 public:
  explicit DataLayer(const caffe::LayerParameter& param);
  // Stops the prefetch thread before anything it uses is destroyed.
  ~DataLayer() override;

  const char* type() const override { return "Data"; }
  int ExactNumBottomBlobs() const override { return 0; }
  int MinTopBlobs() const override { return 1; }
  int MaxTopBlobs() const override { return 2; }

  // Tops keep the shape SetUp gave them; nothing to do.
  void Reshape(const BlobVec& bottom, const BlobVec& top) override;

  // Advances the read position by n·batch_size records (wrapping around) and replays the
  // transformer's random draws for them, so that a run resumed from a snapshot continues
  // with the data, crops and flips an uninterrupted run would have used.
  // Throws InvalidArgument naming the layer when n < 0 or the first Forward already ran.
  // REQUIRES: SetUp has run.
  void SkipBatches(int64_t n) override;

  // Seconds the last Forward waited for the prefetch thread (0 when a batch was ready).
  double last_prefetch_wait_seconds() const;

 protected:
  void LayerSetUp(const BlobVec& bottom, const BlobVec& top) override;
  void ForwardCpu(const BlobVec& bottom, const BlobVec& top) override;
  void BackwardCpu(const BlobVec& /*top*/, const std::vector<bool>& /*propagate_down*/,
                   const BlobVec& /*bottom*/) override {}

 private:
  // Opens data_param.source as the backend says. Throws as documented above.
  void OpenSource();
  // Runs on the prefetch thread: fills one batch from the next batch_size records.
  void FillBatch(Batch* batch);

  int batch_size_ = 0;
  bool output_labels_ = false;
  std::unique_ptr<RecordSource> source_;
  std::unique_ptr<DataTransformer> transformer_;
  std::vector<int> datum_shape_;  // C, H, W of the first record
  std::vector<int> data_shape_;   // N, C, H', W'
  std::vector<int> label_shape_;  // N
  caffe::Datum datum_;            // parse buffer of the prefetch thread
  // Declared last so it is destroyed (and its thread joined) first.
  std::unique_ptr<BatchPrefetcher> prefetcher_;
};

}  // namespace crema

#endif  // CREMA_LAYERS_DATA_LAYER_H_
