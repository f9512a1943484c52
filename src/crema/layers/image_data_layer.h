// ImageData layer ("ImageData"): reads image files named by a list file and emits batches.
//
// Tops:
//   top[0] data   (N, C, H', W')  N = batch_size; C = 3 (BGR) when is_color, else 1;
//                                 H×W = new_height×new_width, or the first image's size;
//                                 H', W' after transform_param's crop
//   top[1] label  (N)             optional; the list's label as float
// No bottoms, no parameters, no gradient.
//
// image_data_param:
//   source       the list file: "relative/path label" per line (data/image_list.h)
//   root_folder  [""] prepended to every path
//   batch_size   [1] items per batch
//   new_height, new_width  [0] resize every image (bilinear, as Caffe) to this size; both
//                or neither
//   is_color     [true] decode to 3 channels (BGR), else to 1
//   shuffle      [false] a new random order every epoch (deterministic: keyed by the seed
//                and the epoch number, see below)
//   rand_skip    [0] skip a random number of entries in [0, rand_skip) at start
// transform_param applies as for Data (data/transformer.h).
//
// Bad images never stop training: a file that is missing, unreadable, not an image, or (without
// resizing) of another size than the first image is reported once, with its path, and
// skipped — its place in the batch is taken by another image of the same batch. Only a batch
// with no usable image at all is an error.
//
// Sample ids (Layer::set_keep_batch_ids, batch_ids): the image's path as the list gives it
// (without root_folder); empty for an item whose image was bad and was replaced.
//
// Sharding (core/rank.h, data/shard.h): each rank reads only its share of the list, unless
// crema_data_param.shard is false. Prefetching and threads: layers/prefetching_data_layer.h;
// files are read and decoded on the worker threads, so crema_data_param.threads > 1 speeds
// up large images. Randomness (shuffle order, crops, flips) is keyed by a seed drawn from
// crema::ThreadRng() at SetUp and mixed with the rank, so a fixed solver seed reproduces a
// run with any number of threads, and a resumed run (SkipBatches) continues exactly.
//
// Errors at SetUp, naming the layer: missing or malformed list (file:line), an empty list or
// shard, no decodable image in the list, new_height without new_width, crop larger than the
// images, mean shape mismatch.
#ifndef CREMA_LAYERS_IMAGE_DATA_LAYER_H_
#define CREMA_LAYERS_IMAGE_DATA_LAYER_H_

#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "crema/data/image_codec.h"
#include "crema/data/image_list.h"
#include "crema/data/transformer.h"
#include "crema/layers/prefetching_data_layer.h"

namespace crema {

class ImageDataLayer : public PrefetchingDataLayer {
 public:
  explicit ImageDataLayer(const caffe::LayerParameter& param) : PrefetchingDataLayer(param) {}
  ~ImageDataLayer() override;

  const char* type() const override { return "ImageData"; }

  // Entries this rank reads per epoch (its shard of the list).
  int64_t shard_size() const { return static_cast<int64_t>(entries_.size()); }

 protected:
  void LayerSetUp(const BlobVec& bottom, const BlobVec& top) override;
  void ReadBatch(int64_t index, Batch* batch) override;
  void FillBatch(int64_t index, Batch* batch, int worker) override;
  void SkipItems(int64_t n) override { position_ += n; }

 private:
  // Per-worker buffers, reused from batch to batch.
  struct Scratch {
    std::string path;  // root_ + the entry's path
    std::string bytes;
    Image image;
    std::vector<bool> good;  // which items of the batch loaded
  };

  // Reads, decodes and checks one image into scratch->image; false when it is unusable
  // (reported once).
  bool LoadImage(const std::string& path, Scratch* scratch);
  void ReportBadImage(const std::string& path, const std::string& why);
  // Sets order_ to the order of epoch `epoch`.
  void ArrangeEpoch(int64_t epoch);

  std::vector<ImageListEntry> entries_;  // this rank's share of the list
  std::vector<int64_t> order_;           // entry indices in the current epoch's order
  int64_t order_epoch_ = -1;
  int64_t position_ = 0;                 // items read since the start, over all epochs
  std::string root_;
  ColorMode color_mode_ = ColorMode::kColor;
  int new_height_ = 0;
  int new_width_ = 0;
  std::vector<int> image_shape_;  // C, H, W of every image (after resizing)
  std::vector<int> data_shape_;   // N, C, H', W'
  uint64_t seed_ = 0;
  std::unique_ptr<DataTransformer> transformer_;
  std::vector<Scratch> scratch_;  // one per worker

  std::mutex bad_mutex_;
  std::set<std::string> reported_;  // images already reported as bad
};

}  // namespace crema

#endif  // CREMA_LAYERS_IMAGE_DATA_LAYER_H_
