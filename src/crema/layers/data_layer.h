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
// Encoded records (JPEG/PNG, as convert_imageset --encoded writes them) are decoded with
// OpenCV, keeping the file's channel count unless transform_param force_color/force_gray says
// otherwise; every record must decode to the first record's C×H×W.
//
// Sharding: in a job of W ranks (core/rank.h) each rank reads only its share of the records
// (data/shard.h: equal shares in TRAIN, the whole set exactly once across ranks in TEST),
// unless crema_data_param.shard is false.
//
// Sample ids (Layer::set_keep_batch_ids, batch_ids): each item's LMDB key.
//
// Prefetching (layers/prefetching_data_layer.h): data_param.prefetch batches ahead (or
// crema_data_param.queue_depth), on crema_data_param.threads workers. Random crops and flips
// follow Note [Keyed randomness], keyed by a seed drawn from crema::ThreadRng() at SetUp
// mixed with the rank, and the item number, so a fixed solver seed reproduces a run with any
// number of threads, and a resumed run continues exactly.
//
// Errors: SetUp throws crema::Error prefixed with the layer's name for a missing or
// unreadable source (naming the path), LevelDB, an empty dataset or shard, an unusable first
// record (corrupt, undecodable, wrong size) and bad parameters (batch_size 0, crop larger
// than the image, mean shape mismatch, ...). A later record that is corrupt, or whose C×H×W
// differs from the first record's (the message names its key and both shapes), makes the
// Forward that reaches its batch throw that error.
#ifndef CREMA_LAYERS_DATA_LAYER_H_
#define CREMA_LAYERS_DATA_LAYER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "crema/data/record_source.h"
#include "crema/data/transformer.h"
#include "crema/layers/prefetching_data_layer.h"

namespace crema {

class DataLayer : public PrefetchingDataLayer {
 public:
  explicit DataLayer(const caffe::LayerParameter& param) : PrefetchingDataLayer(param) {}
  ~DataLayer() override;

  const char* type() const override { return "Data"; }

  // Records this rank reads per epoch (its shard).
  int64_t shard_size() const { return source_ ? source_->size() : 0; }

 protected:
  void LayerSetUp(const BlobVec& bottom, const BlobVec& top) override;
  void ReadBatch(int64_t index, Batch* batch) override;
  void FillBatch(int64_t index, Batch* batch, int worker) override;
  void SkipItems(int64_t n) override;

 private:
  // Opens data_param.source as the backend says, restricted to this rank's shard.
  void OpenSource();

  // Per-worker parse and decode buffers.
  struct Scratch {
    caffe::Datum datum;
    Image image;
  };

  std::unique_ptr<RecordSource> source_;
  std::unique_ptr<DataTransformer> transformer_;
  uint64_t seed_ = 0;
  std::vector<int> image_shape_;  // C, H, W of the first record (decoded)
  std::vector<int> data_shape_;   // N, C, H', W'
  std::vector<Scratch> scratch_;
};

}  // namespace crema

#endif  // CREMA_LAYERS_DATA_LAYER_H_
