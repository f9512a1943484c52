#include "crema/net/feature_extractor.h"

#include <glog/logging.h>

#include <algorithm>
#include <set>

#include "crema/core/error.h"
#include "crema/core/rank.h"

namespace crema {

namespace {

std::string JoinNames(const std::vector<std::string>& names) {
  std::string joined;
  for (const std::string& name : names) joined += (joined.empty() ? "" : ", ") + name;
  return joined;
}

}  // namespace

std::vector<std::string> FeatureExtractor::DisableRandomSkips(caffe::NetParameter* param) {
  std::vector<std::string> changed;
  for (caffe::LayerParameter& layer : *param->mutable_layer()) {
    bool skips = false;
    if (layer.has_data_param() && layer.data_param().rand_skip() > 0) {
      layer.mutable_data_param()->clear_rand_skip();
      skips = true;
    }
    if (layer.has_image_data_param() && layer.image_data_param().rand_skip() > 0) {
      layer.mutable_image_data_param()->clear_rand_skip();
      skips = true;
    }
    if (skips) changed.push_back(layer.name());
  }
  return changed;
}

FeatureExtractor::FeatureExtractor(Net* net, const std::vector<std::string>& blobs,
                                   const std::string& label)
    : net_(net) {
  int data_layer_id = -1;
  std::vector<std::string> inputs;  // layers that feed the net from memory
  for (size_t i = 0; i < net->layers().size(); ++i) {
    Layer* layer = net->layers()[i].get();
    if (layer->samples_per_pass() >= 0) {
      data_layer_id = static_cast<int>(i);
      break;
    }
    const std::string type = layer->type();
    if (type == "MemoryData" || type == "Input") inputs.push_back(layer->Describe());
  }
  if (data_layer_id < 0) {
    throw InvalidArgument(StrCat(
        "features needs a data layer that reads a dataset (Data, ImageData or HDF5Data), "
        "but net '", net->name(), "' has none",
        inputs.empty() ? "" : StrCat(" (it is fed by ", JoinNames(inputs), ")")));
  }
  data_layer_ = net->layers()[static_cast<size_t>(data_layer_id)].get();
  const RankInfo rank = GetRankInfo();
  if (rank.world_size > 1 && !data_layer_->layer_param().crema_data_param().shard()) {
    throw InvalidArgument(StrCat(data_layer_->Describe(), " sets crema_data_param.shard: false,",
                                 " so each of the ", rank.world_size,
                                 " ranks would write every sample; let it shard"));
  }
  const BlobVec& data_tops = net->top_vecs()[static_cast<size_t>(data_layer_id)];
  CREMA_DCHECK(!data_tops.empty());
  batch_size_ = data_tops[0]->num_axes() > 0 ? data_tops[0]->shape(0) : 1;
  samples_ = data_layer_->samples_per_pass();

  std::vector<std::string> names = blobs;
  if (names.empty()) throw InvalidArgument("features needs at least one blob to extract");
  if (!label.empty()) names.push_back(label);
  std::set<std::string> seen;
  for (const std::string& name : names) {
    if (!seen.insert(name).second) {
      throw InvalidArgument(StrCat("blob '", name, "' is asked for twice; name each blob once",
                                   label == name ? " (it is also the -label blob)" : ""));
    }
    if (!net->has_blob(name)) {
      throw InvalidArgument(StrCat("net '", net->name(), "' has no blob '", name,
                                   "' (its blobs: ", JoinNames(net->blob_names()), ")"));
    }
    Blob* blob = net->blob_by_name(name);
    if (blob->num_axes() == 0 || blob->shape(0) != batch_size_) {
      throw InvalidArgument(StrCat(
          "blob '", name, "' holds one value per batch, not one per sample, so it cannot be "
          "extracted as a feature (it ",
          blob->num_axes() == 0 ? "is a scalar" : "has shape " + blob->shape_string(),
          "; a feature's first dimension is the batch size, ", batch_size_, ")"));
    }
    column_blobs_.push_back(blob);
    columns_.push_back({name, blob->count(1)});
  }
  data_layer_->set_keep_batch_ids(true);
}

int64_t FeatureExtractor::Run(FeatureWriter* writer) {
  CREMA_DCHECK(writer->columns().size() == columns_.size());
  std::vector<const float*> values(columns_.size());
  const int64_t total_batches = batches();
  const int64_t log_every = std::max<int64_t>(1, total_batches / 10);
  int64_t emitted = 0;
  int64_t written = 0;
  for (int64_t b = 0; b < total_batches; ++b) {
    net_->Forward();
    for (size_t c = 0; c < columns_.size(); ++c) {
      const Blob* blob = column_blobs_[c];
      if (blob->num_axes() == 0 || blob->shape(0) != batch_size_ ||
          blob->count(1) != columns_[c].size) {
        throw InvalidArgument(StrCat("blob '", columns_[c].name, "' changed shape to ",
                                     blob->shape_string(), " at batch ", b,
                                     "; features need one fixed shape per batch"));
      }
    }
    const std::vector<std::string>& ids = data_layer_->batch_ids();
    const int64_t take = std::min<int64_t>(batch_size_, samples_ - emitted);
    if (static_cast<int64_t>(ids.size()) < take) {
      throw InvalidArgument(StrCat(data_layer_->Describe(), " named ", ids.size(),
                                   " samples of a batch of ", batch_size_));
    }
    for (int64_t i = 0; i < take; ++i) {
      const std::string& id = ids[static_cast<size_t>(i)];
      if (id.empty()) {
        ++skipped_;
        continue;
      }
      for (size_t c = 0; c < columns_.size(); ++c) {
        values[c] = column_blobs_[c]->cpu_data() + i * columns_[c].size;
      }
      writer->Append(id, values);
      ++written;
    }
    emitted += take;
    if ((b + 1) % log_every == 0 && total_batches >= 20) {
      LOG(INFO) << "Batch " << b + 1 << " of " << total_batches << ": " << written
                << " records";
    }
  }
  return written;
}

}  // namespace crema
