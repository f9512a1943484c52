#include "crema/layers/image_data_layer.h"

#include <glog/logging.h>

#include <algorithm>
#include <numeric>
#include <random>

#include "crema/core/rank.h"
#include "crema/core/rng.h"
#include "crema/data/shard.h"

namespace crema {

ImageDataLayer::~ImageDataLayer() { StopPrefetching(); }

void ImageDataLayer::LayerSetUp(const BlobVec& /*bottom*/, const BlobVec& top) {
  const caffe::ImageDataParameter& p = layer_param_.image_data_param();
  if (p.source().empty()) Fail("needs image_data_param.source, the list of images to read");
  batch_size_ = RankBatchSize(p.batch_size(), "image_data_param.batch_size");
  if ((p.new_height() > 0) != (p.new_width() > 0)) {
    Fail("give both new_height and new_width, or neither (got ", p.new_height(), " and ",
         p.new_width(), ")");
  }
  new_height_ = static_cast<int>(p.new_height());
  new_width_ = static_cast<int>(p.new_width());
  color_mode_ = p.is_color() ? ColorMode::kColor : ColorMode::kGray;
  root_ = ImageRootPrefix(p.root_folder());
  output_labels_ = top.size() > 1;

  entries_ = WithErrorContext(Describe(), [&] { return ReadImageList(p.source()); });
  if (entries_.empty()) Fail("the list '", p.source(), "' names no images");
  const RankInfo rank = GetRankInfo();
  const auto total = static_cast<int64_t>(entries_.size());
  samples_per_pass_ = total;
  if (rank.world_size > 1 && layer_param_.crema_data_param().shard()) {
    const int64_t batch = batch_size_;
    const IndexRange range = WithErrorContext(Describe(), [&] {
      return ShardRange(total, rank.rank, rank.world_size, phase_, batch);
    });
    // A TEST rank left without a batch reads the first batch's range but owns none of it.
    const bool idle = phase_ == caffe::TEST &&
                      ShareOfBatches((total + batch - 1) / batch, rank.rank, rank.world_size) == 0;
    entries_ = std::vector<ImageListEntry>(entries_.begin() + range.begin, entries_.begin() + range.end);
    samples_per_pass_ = idle ? 0 : range.size();
    LOG(INFO) << Describe() << ": rank " << rank.rank << " of " << rank.world_size
              << " reads entries [" << range.begin << ", " << range.end << ") of " << p.source();
  }

  transformer_ = WithErrorContext(Describe(), [&] {
    return std::make_unique<DataTransformer>(layer_param_.transform_param(), phase_);
  });
  // The first usable image fixes the shape of every batch.
  Image first;
  bool found = false;
  std::string first_bad, first_why;  // the first image that failed, for when all do
  for (const ImageListEntry& entry : entries_) {
    std::string bytes;
    const bool read = ReadFileBytes(root_ + entry.path, &bytes);
    if (read && DecodeImage(bytes, color_mode_, new_height_, new_width_, &first)) {
      found = true;
      break;
    }
    const char* why = read ? "is not a decodable image" : "cannot be read (missing or unreadable)";
    if (first_bad.empty()) {
      first_bad = root_ + entry.path;
      first_why = why;
    }
    ReportBadImage(root_ + entry.path, why);
  }
  if (!found) {
    Fail("none of the ", entries_.size(), " images of '", p.source(), "' can be read; the first, '",
         first_bad, "', ", first_why);
  }
  image_shape_ = {first.channels, first.height, first.width};
  data_shape_ = WithErrorContext(Describe(), [&] { return transformer_->InferBlobShape(image_shape_); });
  data_shape_[0] = batch_size_;
  seed_ = RandomKey(ThreadRng()(), static_cast<uint64_t>(rank.rank));
  if (p.rand_skip() > 0) {
    const uint32_t skip = std::uniform_int_distribution<uint32_t>(0, p.rand_skip() - 1)(ThreadRng());
    LOG(INFO) << Describe() << ": skipping the first " << skip << " images";
    position_ = skip;
  }
  scratch_.resize(static_cast<size_t>(num_workers()));

  top[0]->Reshape(data_shape_);
  if (output_labels_) top[1]->Reshape({data_shape_[0]});
  StartPrefetching(data_shape_[0], /*default_depth=*/4);
}

void ImageDataLayer::ArrangeEpoch(int64_t epoch) {
  order_.resize(entries_.size());
  std::iota(order_.begin(), order_.end(), int64_t{0});
  if (layer_param_.image_data_param().shuffle()) {
    std::mt19937_64 rng(RandomKey(seed_, static_cast<uint64_t>(epoch)));
    std::shuffle(order_.begin(), order_.end(), rng);
  }
  order_epoch_ = epoch;
}

void ImageDataLayer::ReadBatch(int64_t /*index*/, Batch* batch) {
  const int64_t size = static_cast<int64_t>(entries_.size());
  batch->items.resize(static_cast<size_t>(batch_size_));
  for (StagedItem& item : batch->items) {
    const int64_t epoch = position_ / size;
    if (epoch != order_epoch_) ArrangeEpoch(epoch);
    const ImageListEntry& entry = entries_[static_cast<size_t>(order_[static_cast<size_t>(position_ % size)])];
    item.key.assign(entry.path);  // the id; FillBatch prepends root_
    item.label = entry.label;
    ++position_;
  }
}

void ImageDataLayer::ReportBadImage(const std::string& path, const std::string& why) {
  std::lock_guard<std::mutex> lock(bad_mutex_);
  if (reported_.insert(path).second) {
    LOG(WARNING) << Describe() << ": skipping image '" << path << "': " << why;
  }
}

bool ImageDataLayer::LoadImage(const std::string& path, Scratch* scratch) {
  Image* image = &scratch->image;
  if (!ReadFileBytes(path, &scratch->bytes)) {
    ReportBadImage(path, "cannot be read (missing or unreadable)");
    return false;
  }
  if (!DecodeImage(scratch->bytes, color_mode_, new_height_, new_width_, image)) {
    ReportBadImage(path, "is not a decodable image");
    return false;
  }
  if (image->channels != image_shape_[0] || image->height != image_shape_[1] ||
      image->width != image_shape_[2]) {
    ReportBadImage(path, StrCat("is ", image->height, "x", image->width, " but the first image is ",
                                image_shape_[1], "x", image_shape_[2],
                                "; set new_height and new_width to resize every image"));
    return false;
  }
  return true;
}

void ImageDataLayer::FillBatch(int64_t index, Batch* batch, int worker) {
  Scratch& scratch = scratch_[static_cast<size_t>(worker)];
  const Image& image = scratch.image;
  batch->data.Reshape(data_shape_);
  if (output_labels_) batch->label.Reshape({batch_size_});
  float* data = batch->data.mutable_cpu_data();
  float* label = output_labels_ ? batch->label.mutable_cpu_data() : nullptr;
  const size_t item_count = static_cast<size_t>(batch->data.count(1));
  int first_good = -1;
  std::vector<bool>& good = scratch.good;
  good.assign(static_cast<size_t>(batch_size_), false);
  for (int i = 0; i < batch_size_; ++i) {
    const StagedItem& item = batch->items[static_cast<size_t>(i)];
    scratch.path.assign(root_);
    scratch.path.append(item.key);
    if (!LoadImage(scratch.path, &scratch)) continue;
    DatumPixels pixels;
    pixels.bytes = image.pixels.data();
    pixels.channels = image.channels;
    pixels.height = image.height;
    pixels.width = image.width;
    const uint64_t item_number = static_cast<uint64_t>(index) * batch_size_ + i;
    transformer_->Transform(pixels, RandomKey(seed_, item_number), data + i * item_count);
    if (label != nullptr) label[i] = static_cast<float>(item.label);
    good[static_cast<size_t>(i)] = true;
    if (first_good < 0) first_good = i;
  }
  if (first_good < 0) {
    Fail("none of the ", batch_size_, " images of batch ", index, " can be read (the first is '",
         root_, batch->items[0].key, "')");
  }
  // A bad image's place goes to the nearest usable image before it (or the first one), and
  // its id is cleared: the item is not that image.
  int last_good = first_good;
  for (int i = 0; i < batch_size_; ++i) {
    if (good[static_cast<size_t>(i)]) {
      last_good = i;
      continue;
    }
    std::copy_n(data + last_good * item_count, item_count, data + i * item_count);
    if (label != nullptr) label[i] = label[last_good];
    batch->items[static_cast<size_t>(i)].key.clear();
  }
}

}  // namespace crema
