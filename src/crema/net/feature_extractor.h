// FeatureExtractor: runs a net once over this rank's part of its dataset and hands each
// sample's record — its id, the requested blobs' values for that sample, optionally its
// label — to a FeatureWriter (data/feature_writer.h). The library side of `crema features`.
//
// The dataset is the one read by the net's first layer that reads a dataset (Data,
// ImageData, HDF5Data: Layer::samples_per_pass() >= 0). This rank owns n = samples_per_pass()
// of its samples (its shard in a job, see data/shard.h), so Run makes ⌈n / B⌉ Forward passes
// (B: the data layer's batch, the first dimension of its first top) and emits the first n
// items: what the layer reads after wrapping around its shard is dropped, and nothing is cut
// short by an iteration count.
//
// A record has one column per requested blob, in the order asked, then the label blob's
// column when one is asked for (the label is appended to the features). Sample
// n of a blob is its values [n·K, (n+1)·K), K = count / B, so only blobs whose first
// dimension is the batch (one row per sample) can be columns; losses and accuracies, which
// hold one value per batch, cannot.
//
// Thread-safety: none; the extractor drives the net it was given.
#ifndef CREMA_NET_FEATURE_EXTRACTOR_H_
#define CREMA_NET_FEATURE_EXTRACTOR_H_

#include <cstdint>
#include <string>
#include <vector>

#include "crema/data/feature_writer.h"
#include "crema/net/net.h"
#include "crema/proto/caffe.pb.h"

namespace crema {

class FeatureExtractor {
 public:
  // Reading the dataset exactly once means starting at its first record: clears
  // data_param.rand_skip and image_data_param.rand_skip in every layer of `param`. Returns
  // the names of the layers changed.
  static std::vector<std::string> DisableRandomSkips(caffe::NetParameter* param);

  // Prepares `net` (not owned; it must outlive the extractor and must not have run a
  // Forward): finds its data layer and asks it to name its samples.
  // Throws InvalidArgument
  //   - when the net has no layer that reads a dataset (the sentence says features needs
  //     one, and names the net's MemoryData or Input layers if it has any);
  //   - in a job of several ranks, when that layer does not shard
  //     (crema_data_param.shard: false: every rank would emit every sample);
  //   - when `blobs` is empty or a name is given twice (label included);
  //   - for a name that is not a blob of the net (the sentence lists the net's blobs);
  //   - for a blob whose first dimension is not the batch: one sentence naming the blob and
  //     saying it holds one value per batch, not one per sample.
  FeatureExtractor(Net* net, const std::vector<std::string>& blobs, const std::string& label);

  // The columns of every record, for FeatureWriter::Create.
  const std::vector<FeatureColumn>& columns() const { return columns_; }
  const Layer& data_layer() const { return *data_layer_; }
  int batch_size() const { return batch_size_; }
  // Samples this rank owns, and the Forward passes Run makes for them.
  int64_t samples() const { return samples_; }
  int64_t batches() const { return (samples_ + batch_size_ - 1) / batch_size_; }

  // Makes batches() Forward passes and appends one record per owned sample to `writer`
  // (which must have been made with columns()). Items the data layer could not read (an
  // empty id: ImageData's unreadable images) are skipped and counted in skipped().
  // Returns the records appended. Throws what Forward and the writer throw, and
  // InvalidArgument naming a requested blob whose shape changed between batches.
  // REQUIRES: called once.
  int64_t Run(FeatureWriter* writer);
  int64_t skipped() const { return skipped_; }

 private:
  Net* net_;
  Layer* data_layer_ = nullptr;
  int batch_size_ = 0;
  int64_t samples_ = 0;
  std::vector<Blob*> column_blobs_;
  std::vector<FeatureColumn> columns_;
  int64_t skipped_ = 0;
};

}  // namespace crema

#endif  // CREMA_NET_FEATURE_EXTRACTOR_H_
