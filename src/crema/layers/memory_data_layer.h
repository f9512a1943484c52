// MemoryData layer ("MemoryData"): serves batches from arrays the caller owns.
//
// Tops:
//   top[0] data   (N, C, H, W)  N = batch_size, C/H/W = channels/height/width
//   top[1] label  (N)
// No bottoms, no parameters, no gradient.
//
// The caller hands over n items with Reset(data, labels, n): data holds n·C·H·W floats
// (item after item, each C×H×W row-major) and labels n floats. Each Forward copies the next
// batch_size items into the tops; after the last batch it starts again from the first.
// Values are copied as they are (transform_param is not applied).
//
// memory_data_param: batch_size, channels, height, width (all > 0). The CaffeOnSpark fields
// (source, share_in_parallel, dataframe_column_select, image_encoded, dataframe_format)
// are accepted and ignored.
//
// Errors: SetUp throws InvalidArgument naming the layer when a dimension is 0. Reset throws
// it when n is not a positive multiple of batch_size or a pointer is null; Forward throws it
// when Reset was never called.
#ifndef CREMA_LAYERS_MEMORY_DATA_LAYER_H_
#define CREMA_LAYERS_MEMORY_DATA_LAYER_H_

#include <vector>

#include "crema/layers/layer.h"

namespace crema {

class MemoryDataLayer : public Layer {
 public:
  using Layer::Layer;

  const char* type() const override { return "MemoryData"; }
  int ExactNumBottomBlobs() const override { return 0; }
  int ExactNumTopBlobs() const override { return 2; }

  void Reshape(const BlobVec& bottom, const BlobVec& top) override;

  // Serves data[0 .. n·C·H·W) and labels[0 .. n) from the next Forward on, starting with the
  // first item. The arrays are not copied.
  // REQUIRES: both arrays stay valid and unchanged until the next Reset or the layer's
  // destruction.
  void Reset(const float* data, const float* labels, int n);

  int batch_size() const { return batch_size_; }

 protected:
  void LayerSetUp(const BlobVec& bottom, const BlobVec& top) override;
  void ForwardCpu(const BlobVec& bottom, const BlobVec& top) override;
  void BackwardCpu(const BlobVec& /*top*/, const std::vector<bool>& /*propagate_down*/,
                   const BlobVec& /*bottom*/) override {}

 private:
  int batch_size_ = 0;
  int channels_ = 0;
  int height_ = 0;
  int width_ = 0;
  int item_size_ = 0;  // C·H·W
  const float* data_ = nullptr;
  const float* labels_ = nullptr;
  int n_ = 0;    // items given to Reset
  int pos_ = 0;  // first item of the next batch
};

}  // namespace crema

#endif  // CREMA_LAYERS_MEMORY_DATA_LAYER_H_
