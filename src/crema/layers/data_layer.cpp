#include "crema/layers/data_layer.h"

#include <algorithm>
#include <cstdint>
#include <filesystem>

#include <glog/logging.h>

#include "crema/core/rng.h"
#include "crema/data/datum.h"
#include "crema/data/lmdb_dataset.h"

namespace crema {

namespace {

// Runs `fn`, prefixing the message of any crema::Error it throws (the code is kept).
template <typename Fn>
auto WithContext(const std::string& prefix, Fn&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const Error& e) {
    throw Error(e.code(), StrCat(prefix, ": ", e.what()));
  }
}

bool LooksLikeLevelDb(const std::string& path) {
  std::error_code ec;
  return std::filesystem::is_regular_file(std::filesystem::path(path) / "CURRENT", ec);
}

}  // namespace

DataLayer::DataLayer(const caffe::LayerParameter& param) : Layer(param) {}

DataLayer::~DataLayer() { prefetcher_.reset(); }

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
  source_ = WithContext(Describe(), [&] { return std::make_unique<LmdbReader>(source); });
}

void DataLayer::LayerSetUp(const BlobVec& /*bottom*/, const BlobVec& top) {
  prefetcher_.reset();
  const caffe::DataParameter& dp = layer_param_.data_param();
  if (!layer_param_.has_data_param() || dp.source().empty()) {
    Fail("needs data_param.source, the dataset to read");
  }
  if (dp.batch_size() == 0) Fail("needs data_param.batch_size > 0");
  if (dp.batch_size() > static_cast<uint32_t>(INT32_MAX)) {
    Fail("data_param.batch_size ", dp.batch_size(), " is too large");
  }
  if (dp.prefetch() == 0) Fail("needs data_param.prefetch >= 1, got 0");
  batch_size_ = static_cast<int>(dp.batch_size());
  output_labels_ = top.size() > 1;
  // The upgrade moves these out of V0/V1 layers only; in a current-format layer they are
  // ignored, as Caffe ignores them, which is worth a warning.
  if (dp.has_scale() || dp.has_mean_file() || dp.has_crop_size() || dp.has_mirror()) {
    LOG(WARNING) << Describe() << ": data_param scale/mean_file/crop_size/mirror are "
                 << "deprecated and ignored; set them in transform_param";
  }

  OpenSource();
  if (source_->size() == 0) Fail(source_->Describe(), " holds no records");

  // The first record fixes the shape of every batch.
  const std::string context = StrCat(Describe(), ": ", source_->Describe());
  WithContext(context, [&] {
    ParseDatum(source_->value(), source_->key(), &datum_);
    ValidateDatum(datum_, source_->key());
  });
  datum_shape_ = DatumShape(datum_);

  const uint64_t seed = ThreadRng()();
  transformer_ = WithContext(Describe(), [&] {
    return std::make_unique<DataTransformer>(layer_param_.transform_param(), phase_, seed);
  });
  data_shape_ = WithContext(Describe(), [&] { return transformer_->InferBlobShape(datum_); });
  data_shape_[0] = batch_size_;
  label_shape_ = {batch_size_};

  if (dp.rand_skip() > 0) {
    const uint32_t skip =
        std::uniform_int_distribution<uint32_t>(0, dp.rand_skip() - 1)(ThreadRng());
    LOG(INFO) << Describe() << ": skipping the first " << skip << " records";
    source_->Skip(skip);
  }

  top[0]->Reshape(data_shape_);
  if (output_labels_) top[1]->Reshape(label_shape_);
  VLOG(1) << Describe() << ": output data size " << top[0]->shape_string();

  prefetcher_ = std::make_unique<BatchPrefetcher>(static_cast<int>(dp.prefetch()),
                                                  [this](Batch* batch) { FillBatch(batch); });
}

void DataLayer::Reshape(const BlobVec& /*bottom*/, const BlobVec& /*top*/) {}

void DataLayer::SkipBatches(int64_t n) {
  if (n < 0) Fail("cannot skip a negative number of batches (", n, ")");
  if (prefetcher_ == nullptr) Fail("SkipBatches needs SetUp to have run");
  if (prefetcher_->started()) Fail("SkipBatches must be called before the first Forward");
  if (n > INT64_MAX / batch_size_) Fail("cannot skip ", n, " batches of ", batch_size_);
  const int64_t size = source_->size();
  // (n · batch_size) mod size, without overflow.
  source_->Skip((n % size) * (batch_size_ % size) % size);
  // Replay the transformer's random draws too, so crops and flips continue as they would have.
  WithContext(Describe(), [&] { transformer_->SkipTransforms(n * batch_size_, datum_shape_); });
}

double DataLayer::last_prefetch_wait_seconds() const {
  return prefetcher_ != nullptr ? prefetcher_->last_pop_wait_seconds() : 0.0;
}

void DataLayer::FillBatch(Batch* batch) {
  batch->data.Reshape(data_shape_);
  if (output_labels_) batch->label.Reshape(label_shape_);
  float* data = batch->data.mutable_cpu_data();
  float* label = output_labels_ ? batch->label.mutable_cpu_data() : nullptr;
  const int item_count = batch->data.count(1);
  for (int i = 0; i < batch_size_; ++i) {
    try {
      ParseDatum(source_->value(), source_->key(), &datum_);
      ValidateDatum(datum_, source_->key());
      if (datum_.channels() != datum_shape_[0] || datum_.height() != datum_shape_[1] ||
          datum_.width() != datum_shape_[2]) {
        throw InvalidArgument(StrCat("record '", source_->key(), "' has shape ",
                                     Blob::ShapeString(DatumShape(datum_)),
                                     " but the first record has shape ",
                                     Blob::ShapeString(datum_shape_)));
      }
      transformer_->Transform(datum_, data + static_cast<size_t>(i) * item_count);
    } catch (const Error& e) {
      throw Error(e.code(), StrCat(Describe(), ": ", source_->Describe(), ": ", e.what()));
    }
    if (label != nullptr) label[i] = static_cast<float>(datum_.label());
    source_->Next();
  }
}

void DataLayer::ForwardCpu(const BlobVec& /*bottom*/, const BlobVec& top) {
  Batch* batch = prefetcher_->Pop();  // starts the thread; rethrows a producer's error
  if (batch == nullptr) Fail("the prefetch thread was stopped");
  top[0]->ReshapeLike(batch->data);
  std::copy_n(batch->data.cpu_data(), batch->data.count(), top[0]->mutable_cpu_data());
  if (output_labels_) {
    top[1]->ReshapeLike(batch->label);
    std::copy_n(batch->label.cpu_data(), batch->label.count(), top[1]->mutable_cpu_data());
  }
  prefetcher_->Release(batch);
}

}  // namespace crema
