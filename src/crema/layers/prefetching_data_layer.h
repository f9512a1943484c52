// PrefetchingDataLayer: the base of data layers that read a dataset in order (Data,
// ImageData): batches are made ahead of time on background threads (data/batch_prefetcher.h)
// and each Forward copies the next ready batch into the tops.
//
// Subclasses implement the two stages of making batch k:
//   ReadBatch(k, batch)          serial, in order: stage the next batch_size records
//   FillBatch(k, batch, worker)  parallel: decode/transform them into batch->data/label
// and SkipItems(n), which advances their reader by n items (for resuming). FillBatch must
// derive any randomness from k (see Note [Keyed randomness] in data/transformer.h) so that
// batches do not depend on the number of threads.
//
// Knobs: crema_data_param.threads [1] workers; crema_data_param.queue_depth [0 = the layer's
// default, data_param.prefetch for Data] batches made ahead.
// The workers start on the first Forward, so SkipBatches can still reposition the reader.
//
// Sample ids (Layer::batch_ids): the key the read stage stages for each item
// (StagedItem::key) is the item's id; subclasses stage it as their header says and clear it
// for an item whose sample could not be read. Copied out only when set_keep_batch_ids(true)
// asked for it.
#ifndef CREMA_LAYERS_PREFETCHING_DATA_LAYER_H_
#define CREMA_LAYERS_PREFETCHING_DATA_LAYER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "crema/data/batch_prefetcher.h"
#include "crema/layers/layer.h"

namespace crema {

class PrefetchingDataLayer : public Layer {
 public:
  explicit PrefetchingDataLayer(const caffe::LayerParameter& param) : Layer(param) {}
  ~PrefetchingDataLayer() override;

  int ExactNumBottomBlobs() const override { return 0; }
  int MinTopBlobs() const override { return 1; }
  int MaxTopBlobs() const override { return 2; }
  // Tops keep the shape SetUp gave them.
  void Reshape(const BlobVec& /*bottom*/, const BlobVec& /*top*/) override {}

  // Advances by n batches: the reader by n·batch_size items, and the batch numbering, so a
  // resumed run reads and transforms what an uninterrupted run would have.
  // Throws InvalidArgument naming the layer when n < 0 or the first Forward already ran.
  void SkipBatches(int64_t n) override;
  double last_data_wait_seconds() const override;
  int64_t samples_per_pass() const override { return samples_per_pass_; }
  void set_keep_batch_ids(bool keep) override { keep_batch_ids_ = keep; }
  const std::vector<std::string>& batch_ids() const override { return batch_ids_; }

 protected:
  // Called by the subclass at the end of its LayerSetUp, once shapes are known.
  // `default_depth` applies when crema_data_param.queue_depth is 0.
  void StartPrefetching(int batch_size, int default_depth);
  // Stops and joins the workers. REQUIRES: every subclass destructor calls it first, since
  // the workers use the subclass's members, which die before this base.
  void StopPrefetching();
  int num_workers() const;

  virtual void ReadBatch(int64_t index, Batch* batch) = 0;
  virtual void FillBatch(int64_t index, Batch* batch, int worker) = 0;
  virtual void SkipItems(int64_t n) = 0;

  void ForwardCpu(const BlobVec& bottom, const BlobVec& top) override;
  void BackwardCpu(const BlobVec& /*top*/, const std::vector<bool>& /*propagate_down*/,
                   const BlobVec& /*bottom*/) override {}

  int batch_size_ = 0;
  bool output_labels_ = false;
  // What samples_per_pass() returns; set by the subclass's LayerSetUp.
  int64_t samples_per_pass_ = 0;

 private:
  bool keep_batch_ids_ = false;
  std::vector<std::string> batch_ids_;  // the last Forward's ids, when kept
  int64_t skipped_batches_ = 0;
  std::unique_ptr<BatchPrefetcher> prefetcher_;
};

}  // namespace crema

#endif  // CREMA_LAYERS_PREFETCHING_DATA_LAYER_H_
