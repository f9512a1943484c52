#include "crema/layers/data_layer.h"

#include <algorithm>
#include <cstdint>
#include <filesystem>

#include <glog/logging.h>

#include "crema/core/rank.h"
#include "crema/core/rng.h"
#include "crema/data/datum.h"
#include "crema/data/lmdb_dataset.h"
#include "crema/data/shard.h"

namespace crema {

namespace {

bool LooksLikeLevelDb(const std::string& path) {
  std::error_code ec;
  return std::filesystem::is_regular_file(std::filesystem::path(path) / "CURRENT", ec);
}

}  // namespace

DataLayer::~DataLayer() { StopPrefetching(); }

void DataLayer::OpenSource() {
  const caffe::DataParameter& dp = layer_param_.data_param();
  const std::string& source = dp.source();
  if (dp.has_backend() && dp.backend() == caffe::DataParameter::LEVELDB) {
    throw Error(ErrorCode::kUnsupported,
                StrCat(Describe(), ": source '", source,
                       "' uses backend LEVELDB; LevelDB is not supported: convert the "
                       "dataset to LMDB and set `backend: LMDB`"));
  }
  // With no backend given (the schema would say LEVELDB), the source is read as LMDB.
  if (!dp.has_backend() && !IsLmdbDirectory(source) && LooksLikeLevelDb(source)) {
    throw Error(ErrorCode::kUnsupported,
                StrCat(Describe(), ": source '", source,
                       "' looks like a LevelDB database; LevelDB is not supported: convert "
                       "the dataset to LMDB and set `backend: LMDB`"));
  }
  source_ = WithErrorContext(Describe(), [&] { return std::make_unique<LmdbReader>(source); });
  if (source_->size() == 0) Fail(source_->Describe(), " holds no records");
  const RankInfo rank = GetRankInfo();
  const int64_t total = source_->size();
  samples_per_pass_ = total;
  if (rank.world_size > 1 && layer_param_.crema_data_param().shard()) {
    const int64_t batch = batch_size_;
    const IndexRange range = WithErrorContext(Describe(), [&] {
      return ShardRange(total, rank.rank, rank.world_size, phase_, batch);
    });
    source_ = std::make_unique<ShardedSource>(std::move(source_), range);
    // A TEST rank left without a batch reads the first batch's range but owns none of it.
    const bool idle = phase_ == caffe::TEST &&
                      ShareOfBatches((total + batch - 1) / batch, rank.rank, rank.world_size) == 0;
    samples_per_pass_ = idle ? 0 : range.size();
    LOG(INFO) << Describe() << ": rank " << rank.rank << " of " << rank.world_size << " reads "
              << source_->Describe();
  }
}

void DataLayer::LayerSetUp(const BlobVec& /*bottom*/, const BlobVec& top) {
  const caffe::DataParameter& dp = layer_param_.data_param();
  if (!layer_param_.has_data_param() || dp.source().empty()) {
    Fail("needs data_param.source, the dataset to read");
  }
  batch_size_ = RankBatchSize(dp.batch_size(), "data_param.batch_size");
  output_labels_ = top.size() > 1;
  // The upgrade moves these out of V0/V1 layers only; in a current-format layer they are
  // ignored, as Caffe ignores them, which is worth a warning.
  if (dp.has_scale() || dp.has_mean_file() || dp.has_crop_size() || dp.has_mirror()) {
    LOG(WARNING) << Describe() << ": data_param scale/mean_file/crop_size/mirror are "
                 << "deprecated and ignored; set them in transform_param";
  }

  OpenSource();
  transformer_ = WithErrorContext(Describe(), [&] {
    return std::make_unique<DataTransformer>(layer_param_.transform_param(), phase_);
  });
  scratch_.resize(static_cast<size_t>(num_workers()));

  // The first record fixes the shape of every batch.
  WithErrorContext(StrCat(Describe(), ": ", source_->Describe()), [&] {
    Scratch& s = scratch_[0];
    ParseDatum(source_->value(), source_->key(), &s.datum);
    ValidateDatum(s.datum, source_->key());
    image_shape_ = DatumImage(s.datum, source_->key(), transformer_->color_mode(), &s.image).shape();
  });
  data_shape_ = WithErrorContext(Describe(), [&] { return transformer_->InferBlobShape(image_shape_); });
  data_shape_[0] = batch_size_;
  seed_ = RandomKey(ThreadRng()(), static_cast<uint64_t>(GetRankInfo().rank));

  if (dp.rand_skip() > 0) {
    const uint32_t skip =
        std::uniform_int_distribution<uint32_t>(0, dp.rand_skip() - 1)(ThreadRng());
    LOG(INFO) << Describe() << ": skipping the first " << skip << " records";
    source_->Skip(skip);
  }

  top[0]->Reshape(data_shape_);
  if (output_labels_) top[1]->Reshape({data_shape_[0]});
  VLOG(1) << Describe() << ": output data size " << top[0]->shape_string();
  StartPrefetching(data_shape_[0], static_cast<int>(dp.prefetch()));
}

void DataLayer::SkipItems(int64_t n) {
  const int64_t size = source_->size();
  source_->Skip(n % size);
}

void DataLayer::ReadBatch(int64_t /*index*/, Batch* batch) {
  batch->items.resize(static_cast<size_t>(batch_size_));
  for (StagedItem& item : batch->items) {
    item.key.assign(source_->key());  // reuses the strings' buffers
    item.bytes.assign(source_->value());
    source_->Next();
  }
}

void DataLayer::FillBatch(int64_t index, Batch* batch, int worker) {
  Scratch& s = scratch_[static_cast<size_t>(worker)];
  batch->data.Reshape(data_shape_);
  if (output_labels_) batch->label.Reshape({batch_size_});
  float* data = batch->data.mutable_cpu_data();
  float* label = output_labels_ ? batch->label.mutable_cpu_data() : nullptr;
  const int item_count = batch->data.count(1);
  for (int i = 0; i < batch_size_; ++i) {
    const StagedItem& item = batch->items[static_cast<size_t>(i)];
    try {
      ParseDatum(item.bytes, item.key, &s.datum);
      ValidateDatum(s.datum, item.key);
      const DatumPixels pixels = DatumImage(s.datum, item.key, transformer_->color_mode(), &s.image);
      if (pixels.channels != image_shape_[0] || pixels.height != image_shape_[1] ||
          pixels.width != image_shape_[2]) {
        throw InvalidArgument(StrCat("record '", item.key, "' has shape ",
                                     Blob::ShapeString(pixels.shape()),
                                     " but the first record has shape ",
                                     Blob::ShapeString(image_shape_)));
      }
      const uint64_t item_number = static_cast<uint64_t>(index) * batch_size_ + i;
      transformer_->Transform(pixels, RandomKey(seed_, item_number),
                              data + static_cast<size_t>(i) * item_count);
    } catch (const Error& e) {
      throw Error(e.code(), StrCat(Describe(), ": ", source_->Describe(), ": ", e.what()));
    }
    if (label != nullptr) label[i] = static_cast<float>(s.datum.label());
  }
}

}  // namespace crema
