#include "crema/net/net.h"

#include <glog/logging.h>

#include <algorithm>
#include <climits>
#include <set>

#include "crema/backend/cpu/blas.h"
#include "crema/data/hdf5_dataset.h"
#include "crema/io/proto_io.h"
#include "crema/layers/registry.h"
#include "crema/net/memory_plan.h"
#include "crema/net/net_hdf5.h"
#include "crema/net/net_rules.h"

namespace crema {

Net::Net(const caffe::NetParameter& in_param, LayerImplementation implementation) {
  const caffe::NetParameter param = InsertSplits(FilterNet(in_param));
  name_ = param.name();
  phase_ = param.state().phase();
  std::map<std::string, int> available;  // blobs produced and not yet consumed -> blob id

  const int num_layers = param.layer_size();
  bottom_vecs_.resize(num_layers);
  bottom_id_vecs_.resize(num_layers);
  bottom_need_backward_.resize(num_layers);
  top_vecs_.resize(num_layers);
  top_id_vecs_.resize(num_layers);
  for (int layer_id = 0; layer_id < num_layers; ++layer_id) {
    caffe::LayerParameter layer_param = param.layer(layer_id);
    if (!layer_param.has_phase()) layer_param.set_phase(phase_);
    CREMA_REQUIRE(layer_param.propagate_down_size() == 0 ||
                      layer_param.propagate_down_size() == layer_param.bottom_size(),
                  "layer '", layer_param.name(), "' gives ", layer_param.propagate_down_size(),
                  " propagate_down values for ", layer_param.bottom_size(),
                  " bottoms; give none or one per bottom");
    CREMA_REQUIRE(layer_index_.count(layer_param.name()) == 0, "two layers are named '",
                  layer_param.name(), "'; layer names must be unique");
    layers_.push_back(LayerRegistry::Global().Create(layer_param, implementation));
    Layer* layer = layers_.back().get();
    layer_names_.push_back(layer_param.name());
    layer_index_[layer_param.name()] = layer_id;
    VLOG(1) << "Creating Layer " << layer_param.name();

    bool need_backward = false;
    for (int bottom_id = 0; bottom_id < layer_param.bottom_size(); ++bottom_id) {
      const int blob_id = AppendBottom(layer_param, layer_id, bottom_id, &available);
      need_backward = need_backward || blob_need_backward_[blob_id];
    }
    for (int top_id = 0; top_id < layer_param.top_size(); ++top_id) {
      AppendTop(layer_param, layer_id, top_id, &available);
    }
    if (layer->AutoTopBlobs()) {
      const int needed = std::max(layer->MinTopBlobs(), layer->ExactNumTopBlobs());
      for (int top_id = layer_param.top_size(); top_id < needed; ++top_id) {
        // An anonymous top: nobody reads it, so it becomes a net output.
        auto blob = std::make_shared<Blob>();
        const int blob_id = static_cast<int>(blobs_.size());
        blobs_.push_back(blob);
        blob_names_.push_back(StrCat("(automatic top ", top_id, " of ", layer_param.name(), ")"));
        blob_need_backward_.push_back(false);
        top_vecs_[layer_id].push_back(blob.get());
        top_id_vecs_[layer_id].push_back(blob_id);
        available[blob_names_.back()] = blob_id;
      }
    }

    layer->SetUp(bottom_vecs_[layer_id], top_vecs_[layer_id]);
    for (size_t top_id = 0; top_id < top_vecs_[layer_id].size(); ++top_id) {
      const int blob_id = top_id_vecs_[layer_id][top_id];
      if (blob_loss_weights_.size() <= static_cast<size_t>(blob_id)) {
        blob_loss_weights_.resize(blob_id + 1, 0.f);
      }
      blob_loss_weights_[blob_id] = layer->loss(static_cast<int>(top_id));
      VLOG(1) << "Top shape: " << top_vecs_[layer_id][top_id]->shape_string();
    }

    const int num_param_blobs = static_cast<int>(layer->blobs().size());
    // The param specs as the layer holds them after SetUp, which may have added some
    // (BatchNorm gives its statistics lr_mult 0); AppendParam reads the same ones.
    const caffe::LayerParameter& set_up_param = layer->layer_param();
    CREMA_REQUIRE(set_up_param.param_size() <= num_param_blobs, layer->Describe(), " has ",
                  set_up_param.param_size(), " param specs but only ", num_param_blobs,
                  " parameter blobs");
    for (int param_id = 0; param_id < num_param_blobs; ++param_id) {
      const bool learns = param_id >= set_up_param.param_size() ||
                          set_up_param.param(param_id).lr_mult() != 0.f;
      need_backward = need_backward || learns;
      layer->set_param_propagate_down(param_id, learns);
    }
    for (int param_id = 0; param_id < num_param_blobs; ++param_id) AppendParam(layer_id, param_id);
    layer_need_backward_.push_back(need_backward);
    if (need_backward) {
      for (int blob_id : top_id_vecs_[layer_id]) blob_need_backward_[blob_id] = true;
    }
  }

  DecideBackward(param.force_backward());
  for (const auto& [blob_name, blob_id] : available) {
    output_blobs_.push_back(blobs_[blob_id].get());
    output_blob_indices_.push_back(blob_id);
  }
  // Shared parameters use their owner's memory for data and gradient.
  for (size_t i = 0; i < params_.size(); ++i) {
    if (param_owners_[i] < 0) continue;
    params_[i]->ShareData(*params_[param_owners_[i]]);
    params_[i]->ShareDiff(*params_[param_owners_[i]]);
  }
  for (size_t i = 0; i < layers_.size(); ++i) layers_[i]->set_need_backward(layer_need_backward_[i]);
  ShareKeptCopies();
  VLOG(1) << "Network initialization done.";
}

void Net::ShareKeptCopies() {
  for (size_t i = 0; i < layers_.size(); ++i) {
    for (size_t k = 0; k < bottom_id_vecs_[i].size(); ++k) {
      const int blob_id = bottom_id_vecs_[i][k];
      // The bottom's values are what the last earlier layer writing the blob left there.
      for (int j = static_cast<int>(i) - 1; j >= 0; --j) {
        const std::vector<int>& tops = top_id_vecs_[j];
        auto it = std::find(tops.begin(), tops.end(), blob_id);
        if (it == tops.end()) continue;
        const Blob* copy = layers_[j]->KeptTopCopy(static_cast<int>(it - tops.begin()));
        if (copy != nullptr) layers_[i]->UseKeptBottomCopy(static_cast<int>(k), copy);
        break;
      }
    }
  }
}

int Net::AppendBottom(const caffe::LayerParameter& param, int layer_id, int bottom_id,
                      std::map<std::string, int>* available) {
  const std::string& blob_name = param.bottom(bottom_id);
  auto it = blob_index_.find(blob_name);
  CREMA_REQUIRE(it != blob_index_.end(), "layer '", param.name(), "' (", param.type(),
                ") reads bottom blob '", blob_name, "', which no earlier layer produces");
  const int blob_id = it->second;
  bottom_vecs_[layer_id].push_back(blobs_[blob_id].get());
  bottom_id_vecs_[layer_id].push_back(blob_id);
  available->erase(blob_name);
  bool need_backward = blob_need_backward_[blob_id];
  if (param.propagate_down_size() > 0) need_backward = param.propagate_down(bottom_id);
  bottom_need_backward_[layer_id].push_back(need_backward);
  return blob_id;
}

void Net::AppendTop(const caffe::LayerParameter& param, int layer_id, int top_id,
                    std::map<std::string, int>* available) {
  const std::string& blob_name = param.top(top_id);
  const bool in_place = top_id < param.bottom_size() && param.bottom(top_id) == blob_name;
  int blob_id;
  if (in_place) {
    blob_id = blob_index_.at(blob_name);
  } else {
    CREMA_REQUIRE(blob_index_.count(blob_name) == 0, "layer '", param.name(),
                  "' produces top blob '", blob_name,
                  "', which an earlier layer already produces; only in-place layers "
                  "(top = bottom at the same position) may reuse a name");
    blob_id = static_cast<int>(blobs_.size());
    blobs_.push_back(std::make_shared<Blob>());
    blob_names_.push_back(blob_name);
    blob_need_backward_.push_back(false);
    blob_index_[blob_name] = blob_id;
  }
  top_vecs_[layer_id].push_back(blobs_[blob_id].get());
  top_id_vecs_[layer_id].push_back(blob_id);
  (*available)[blob_name] = blob_id;
}

void Net::AppendParam(int layer_id, int param_id) {
  const caffe::LayerParameter& layer_param = layers_[layer_id]->layer_param();
  static const caffe::ParamSpec kDefaultSpec;
  const caffe::ParamSpec& spec =
      param_id < layer_param.param_size() ? layer_param.param(param_id) : kDefaultSpec;
  const std::string& param_name = spec.name();
  param_display_names_.push_back(param_name.empty() ? std::to_string(param_id) : param_name);
  const int net_param_id = static_cast<int>(params_.size());
  params_.push_back(layers_[layer_id]->blobs()[param_id]);
  param_layer_indices_.emplace_back(layer_id, param_id);

  auto owner_it = param_name.empty() ? param_names_index_.end() : param_names_index_.find(param_name);
  if (owner_it == param_names_index_.end()) {
    // This layer owns the blob.
    param_owners_.push_back(-1);
    if (!param_name.empty()) param_names_index_[param_name] = net_param_id;
    learnable_param_ids_.push_back(static_cast<int>(learnable_params_.size()));
    learnable_params_.push_back(params_[net_param_id].get());
    has_params_lr_.push_back(spec.has_lr_mult());
    has_params_decay_.push_back(spec.has_decay_mult());
    params_lr_.push_back(spec.lr_mult());
    params_weight_decay_.push_back(spec.decay_mult());
    return;
  }
  // A name seen before: share the owner's blob.
  const int owner_id = owner_it->second;
  param_owners_.push_back(owner_id);
  const Blob& mine = *params_[net_param_id];
  const Blob& owner = *params_[owner_id];
  const std::string owner_layer = layer_names_[param_layer_indices_[owner_id].first];
  if (spec.share_mode() == caffe::ParamSpec::PERMISSIVE) {
    CREMA_REQUIRE(mine.count() == owner.count(), "layer '", layer_param.name(),
                  "' cannot share parameter '", param_name, "' with layer '", owner_layer,
                  "': counts differ (", mine.shape_string(), " vs ", owner.shape_string(), ")");
  } else {
    CREMA_REQUIRE(mine.shape() == owner.shape(), "layer '", layer_param.name(),
                  "' cannot share parameter '", param_name, "' with layer '", owner_layer,
                  "': shapes differ (", mine.shape_string(), " vs ", owner.shape_string(),
                  "); set share_mode: PERMISSIVE to share by count");
  }
  const int learnable_id = learnable_param_ids_[owner_id];
  learnable_param_ids_.push_back(learnable_id);
  if (spec.has_lr_mult()) {
    if (has_params_lr_[learnable_id]) {
      CREMA_REQUIRE(spec.lr_mult() == params_lr_[learnable_id], "shared parameter '", param_name,
                    "' has mismatched lr_mult in layer '", layer_param.name(), "'");
    } else {
      has_params_lr_[learnable_id] = true;
      params_lr_[learnable_id] = spec.lr_mult();
    }
  }
  if (spec.has_decay_mult()) {
    if (has_params_decay_[learnable_id]) {
      CREMA_REQUIRE(spec.decay_mult() == params_weight_decay_[learnable_id], "shared parameter '",
                    param_name, "' has mismatched decay_mult in layer '", layer_param.name(), "'");
    } else {
      has_params_decay_[learnable_id] = true;
      params_weight_decay_[learnable_id] = spec.decay_mult();
    }
  }
}

void Net::DecideBackward(bool force_backward) {
  // Walk from the last layer: a layer needs Backward only if a loss depends on one of its
  // tops and some top's gradient can flow (not every consumer skipped it).
  std::set<std::string> blobs_under_loss;
  std::set<std::string> blobs_skip_backprop;
  for (int layer_id = static_cast<int>(layers_.size()) - 1; layer_id >= 0; --layer_id) {
    bool contributes_loss = false;
    bool skip_propagate_down = true;
    for (size_t top_id = 0; top_id < top_vecs_[layer_id].size(); ++top_id) {
      const std::string& blob_name = blob_names_[top_id_vecs_[layer_id][top_id]];
      if (layers_[layer_id]->loss(static_cast<int>(top_id)) != 0.f ||
          blobs_under_loss.count(blob_name)) {
        contributes_loss = true;
      }
      if (!blobs_skip_backprop.count(blob_name)) skip_propagate_down = false;
      if (contributes_loss && !skip_propagate_down) break;
    }
    if (layer_need_backward_[layer_id] && skip_propagate_down) {
      layer_need_backward_[layer_id] = false;
      for (size_t b = 0; b < bottom_vecs_[layer_id].size(); ++b) {
        bottom_need_backward_[layer_id][b] = false;
      }
    }
    if (!contributes_loss) layer_need_backward_[layer_id] = false;
    for (size_t b = 0; b < bottom_vecs_[layer_id].size(); ++b) {
      const std::string& blob_name = blob_names_[bottom_id_vecs_[layer_id][b]];
      if (contributes_loss) {
        blobs_under_loss.insert(blob_name);
      } else {
        bottom_need_backward_[layer_id][b] = false;
      }
      if (!bottom_need_backward_[layer_id][b]) blobs_skip_backprop.insert(blob_name);
    }
  }
  if (!force_backward) return;
  for (size_t layer_id = 0; layer_id < layers_.size(); ++layer_id) {
    layer_need_backward_[layer_id] = true;
    for (size_t b = 0; b < bottom_vecs_[layer_id].size(); ++b) {
      const bool allowed = layers_[layer_id]->AllowForceBackward(static_cast<int>(b));
      bottom_need_backward_[layer_id][b] = bottom_need_backward_[layer_id][b] || allowed;
      const int blob_id = bottom_id_vecs_[layer_id][b];
      blob_need_backward_[blob_id] = blob_need_backward_[blob_id] || bottom_need_backward_[layer_id][b];
    }
    for (size_t p = 0; p < layers_[layer_id]->blobs().size(); ++p) {
      layers_[layer_id]->set_param_propagate_down(static_cast<int>(p), true);
    }
  }
}

float Net::ForwardFromTo(int start, int end) {
  float loss = 0;
  for (int i = start; i <= end; ++i) {
    if (layer_folded(i)) continue;
    loss += layers_[i]->Forward(bottom_vecs_[i], top_vecs_[i]);
  }
  return loss_scale_ == 1.f ? loss : loss / loss_scale_;
}

void Net::SetLossScale(float scale) {
  CREMA_REQUIRE(scale > 0, "the loss scale must be positive, got ", scale);
  loss_scale_ = scale;
  // A loss top's diff holds its weight (Layer::SetLossWeights): backward starts from it.
  for (size_t i = 0; i < layers_.size(); ++i) {
    for (size_t t = 0; t < top_vecs_[i].size(); ++t) {
      const float weight = layers_[i]->loss(static_cast<int>(t));
      if (weight == 0.f) continue;
      cpu::Set(top_vecs_[i][t]->count(), weight * scale, top_vecs_[i][t]->mutable_cpu_diff());
    }
  }
}

const std::vector<Blob*>& Net::Forward(float* loss) {
  const float total = layers_.empty() ? 0.f : ForwardFromTo(0, static_cast<int>(layers_.size()) - 1);
  if (loss != nullptr) *loss = total;
  return output_blobs_;
}

void Net::BackwardFromTo(int start, int end) {
  for (int i = start; i >= end; --i) {
    if (layer_need_backward_[i]) {
      layers_[i]->Backward(top_vecs_[i], bottom_need_backward_[i], bottom_vecs_[i]);
    }
    if (after_backward_) after_backward_(i);
  }
}

void Net::Backward() {
  if (!layers_.empty()) BackwardFromTo(static_cast<int>(layers_.size()) - 1, 0);
}

void Net::Reshape() {
  for (size_t i = 0; i < layers_.size(); ++i) layers_[i]->Reshape(bottom_vecs_[i], top_vecs_[i]);
}

int Net::FuseForInference() {
  const int num_layers = static_cast<int>(layers_.size());
  layer_folded_.assign(num_layers, false);
  int folded = 0;
  // A layer j > i "follows i in place" when it reads and writes exactly i's top.
  auto in_place_on = [&](int j, int blob_id) {
    return bottom_id_vecs_[j].size() == 1 && top_id_vecs_[j].size() == 1 &&
           bottom_id_vecs_[j][0] == blob_id && top_id_vecs_[j][0] == blob_id;
  };
  for (int i = 0; i < num_layers; ++i) {
    if (top_id_vecs_[i].size() != 1) continue;
    const int blob_id = top_id_vecs_[i][0];
    const Blob& top = *blobs_[blob_id];
    if (top.num_axes() < 2) continue;
    const int channels = top.shape(1);
    std::vector<const Layer*> affines;
    int j = i + 1;
    while (j < num_layers && in_place_on(j, blob_id) &&
           layers_[j]->PerChannelAffine(channels, nullptr, nullptr)) {
      affines.push_back(layers_[j].get());
      ++j;
    }
    const bool relu = j < num_layers && in_place_on(j, blob_id) &&
                      std::string(layers_[j]->type()) == "ReLU";
    if (affines.empty() && !relu) continue;
    const float slope = relu ? layers_[j]->layer_param().relu_param().negative_slope() : 0.f;
    if (!layers_[i]->FuseEpilogue(affines, relu, slope)) continue;
    const int last = relu ? j : j - 1;
    for (int k = i + 1; k <= last; ++k) layer_folded_[k] = true;
    folded += last - i;
    i = last;
  }
  return folded;
}

namespace {

// Blobs sharing one buffer form a group, planned as a whole.
struct BufferGroups {
  std::map<const SyncedMemory*, int> index;
  std::vector<std::shared_ptr<SyncedMemory>> memory;
  std::vector<int> of_blob;  // -1: no buffer yet (an empty blob)
};

BufferGroups GroupBuffers(const std::vector<std::shared_ptr<Blob>>& blobs, bool diff) {
  BufferGroups groups;
  groups.of_blob.assign(blobs.size(), -1);
  for (size_t b = 0; b < blobs.size(); ++b) {
    const std::shared_ptr<SyncedMemory>& memory =
        diff ? blobs[b]->diff_memory() : blobs[b]->data_memory();
    if (memory == nullptr) continue;
    auto [it, inserted] = groups.index.emplace(memory.get(), static_cast<int>(groups.memory.size()));
    if (inserted) groups.memory.push_back(memory);
    groups.of_blob[b] = it->second;
  }
  return groups;
}

// A group's window on the timeline, and whether it may join the arena.
struct GroupLife {
  bool eligible = true;
  int first = INT_MAX;
  int last = -1;
  void Touch(int time) {
    first = std::min(first, time);
    last = std::max(last, time);
  }
};

}  // namespace

Net::MemoryPlan Net::PlanMemory(const MemoryPlanOptions& options) {
  // Blobs of the first plan point into its arena; a second plan would free it under them.
  CREMA_REQUIRE(!memory_planned_, "net '", name_, "' has its memory planned already; plan once");
  memory_planned_ = true;
  // Forward of layer i happens at time i, its Backward at time 2L - 1 - i.
  const int num_layers = static_cast<int>(layers_.size());
  if (!options.training) {
    for (int i = 0; i < num_layers; ++i) {
      layer_need_backward_[i] = false;
      layers_[i]->set_need_backward(false);
    }
  }
  auto backward_time = [num_layers](int layer_id) { return 2 * num_layers - 1 - layer_id; };

  // Values.
  const BufferGroups data = GroupBuffers(blobs_, /*diff=*/false);
  std::vector<GroupLife> data_life(data.memory.size());
  auto pin_data = [&](int blob_id) {
    if (data.of_blob[blob_id] >= 0) data_life[data.of_blob[blob_id]].eligible = false;
  };
  for (int b : output_blob_indices_) pin_data(b);
  for (const std::string& name : options.keep) {
    auto it = blob_index_.find(name);
    if (it == blob_index_.end()) {
      throw NotFound(StrCat("net '", name_, "' has no blob '", name, "' to keep"));
    }
    pin_data(it->second);
  }
  for (int i = 0; i < num_layers; ++i) {
    if (bottom_id_vecs_[i].empty()) {
      for (int b : top_id_vecs_[i]) pin_data(b);
    }
    for (int b : bottom_id_vecs_[i]) {
      if (data.of_blob[b] >= 0) data_life[data.of_blob[b]].Touch(i);
    }
    for (int b : top_id_vecs_[i]) {
      if (data.of_blob[b] >= 0) data_life[data.of_blob[b]].Touch(i);
    }
    if (!options.training || !layer_need_backward_[i]) continue;
    for (size_t k = 0; k < bottom_id_vecs_[i].size(); ++k) {
      const int group = data.of_blob[bottom_id_vecs_[i][k]];
      if (group >= 0 && layers_[i]->BackwardReadsBottomData(static_cast<int>(k))) {
        data_life[group].Touch(backward_time(i));
      }
    }
    for (size_t t = 0; t < top_id_vecs_[i].size(); ++t) {
      const int group = data.of_blob[top_id_vecs_[i][t]];
      if (group >= 0 && layers_[i]->BackwardReadsTopData(static_cast<int>(t))) {
        data_life[group].Touch(backward_time(i));
      }
    }
  }

  // Gradients (training only). Walking Backward's order, a layer that runs Backward reads its
  // tops' diffs, then writes the diffs of the bottoms it propagates to; a group qualifies when
  // a write precedes every read.
  const BufferGroups diff = GroupBuffers(blobs_, /*diff=*/true);
  std::vector<GroupLife> diff_life(diff.memory.size());
  std::vector<bool> written(diff.memory.size(), false);
  if (options.training) {
    for (const auto& param : params_) {
      auto it = diff.index.find(param->diff_memory().get());
      if (it != diff.index.end()) diff_life[it->second].eligible = false;
    }
    for (size_t b = 0; b < blobs_.size(); ++b) {
      const int group = diff.of_blob[b];
      if (group >= 0 && blob_loss_weights_[b] != 0.f) diff_life[group].eligible = false;
    }
    for (int b : output_blob_indices_) {
      if (diff.of_blob[b] >= 0) diff_life[diff.of_blob[b]].eligible = false;
    }
    for (int i = num_layers - 1; i >= 0; --i) {
      for (int b : top_id_vecs_[i]) {
        const int group = diff.of_blob[b];
        if (group < 0) continue;
        diff_life[group].Touch(backward_time(i));
        if (layer_need_backward_[i] && !written[group]) diff_life[group].eligible = false;
      }
      for (size_t k = 0; k < bottom_id_vecs_[i].size(); ++k) {
        const int group = diff.of_blob[bottom_id_vecs_[i][k]];
        if (group < 0) continue;
        diff_life[group].Touch(backward_time(i));
        if (layer_need_backward_[i] && bottom_need_backward_[i][k]) written[group] = true;
      }
    }
  }

  // Pack every planned buffer into one arena.
  struct Planned {
    bool is_diff;
    int group;
  };
  std::vector<Planned> planned;
  std::vector<BufferLifetime> lifetimes;
  MemoryPlan plan;
  auto add = [&](bool is_diff, int group, const GroupLife& life, size_t bytes) {
    planned.push_back({is_diff, group});
    lifetimes.push_back({bytes, life.first, life.last});
    plan.separate_bytes += bytes;
  };
  for (size_t g = 0; g < data.memory.size(); ++g) {
    if (data_life[g].eligible && data_life[g].last >= 0) {
      add(false, static_cast<int>(g), data_life[g], data.memory[g]->size());
    }
  }
  for (size_t g = 0; g < diff.memory.size(); ++g) {
    if (diff_life[g].eligible && written[g]) {
      add(true, static_cast<int>(g), diff_life[g], diff.memory[g]->size());
    }
  }
  if (planned.empty()) return plan;
  const BufferPlacement placement = PackBuffers(lifetimes);
  memory_arena_ = std::make_shared<SyncedMemory>(placement.arena_bytes);
  auto* arena = static_cast<char*>(memory_arena_->mutable_host_data());
  std::vector<std::shared_ptr<SyncedMemory>> data_views(data.memory.size());
  std::vector<std::shared_ptr<SyncedMemory>> diff_views(diff.memory.size());
  for (size_t j = 0; j < planned.size(); ++j) {
    auto view = std::make_shared<SyncedMemory>(arena + placement.offsets[j], lifetimes[j].bytes);
    (planned[j].is_diff ? diff_views : data_views)[planned[j].group] = std::move(view);
  }
  for (size_t b = 0; b < blobs_.size(); ++b) {
    if (data.of_blob[b] >= 0 && data_views[data.of_blob[b]] != nullptr) {
      blobs_[b]->SetDataMemory(data_views[data.of_blob[b]]);
      ++plan.data_blobs;
    }
    if (diff.of_blob[b] >= 0 && diff_views[diff.of_blob[b]] != nullptr) {
      blobs_[b]->SetDiffMemory(diff_views[diff.of_blob[b]], /*keep_values=*/false);
      ++plan.diff_blobs;
    }
  }
  plan.arena_bytes = placement.arena_bytes;
  return plan;
}

void Net::ClearParamDiffs() {
  for (Blob* blob : learnable_params_) cpu::Set(blob->count(), 0.f, blob->mutable_cpu_diff());
}

void Net::Update() {
  for (Blob* blob : learnable_params_) blob->Update();
}

void Net::CopyTrainedLayersFrom(const caffe::NetParameter& trained) {
  for (const caffe::LayerParameter& source : trained.layer()) {
    auto it = layer_index_.find(source.name());
    if (it == layer_index_.end()) {
      VLOG(1) << "Ignoring source layer " << source.name();
      continue;
    }
    auto& target = layers_[it->second]->blobs();
    CREMA_REQUIRE(static_cast<int>(target.size()) == source.blobs_size(),
                  "cannot copy weights into layer '", source.name(), "': the model holds ",
                  source.blobs_size(), " blobs for it, the net has ", target.size());
    for (int j = 0; j < source.blobs_size(); ++j) {
      const caffe::BlobProto& blob = source.blobs(j);
      // A blob the model declares wrongly (a dimension out of range, fewer values than its
      // shape holds) is reported as this blob of this layer.
      const std::string where =
          StrCat("cannot copy weights into layer '", source.name(), "': blob ", j);
      if (!target[j]->ShapeEquals(blob)) {
        const std::vector<int> shape =
            WithErrorContext(where, [&] { return Blob::ProtoShape(blob); });
        throw InvalidArgument(StrCat(where, " has shape ", Blob::ShapeString(shape),
                                     " in the model but ", target[j]->shape_string(),
                                     " in the net (rename the layer to learn its parameters "
                                     "from scratch)"));
      }
      WithErrorContext(where, [&] { target[j]->FromProto(blob, /*reshape=*/false); });
    }
  }
}

namespace {

// 'a', 'b', 'c' (at most five names, then how many more).
std::string QuotedList(const std::vector<std::string>& names) {
  std::string list;
  for (size_t i = 0; i < names.size() && i < 5; ++i) list += StrCat(i ? ", '" : "'", names[i], "'");
  if (names.size() > 5) list += StrCat(" and ", names.size() - 5, " more");
  return list.empty() ? "none" : list;
}

}  // namespace

void Net::CheckModelFits(const std::vector<std::string>& model_layers) const {
  // A model sharing no layer with parameters with this net is the model of another net:
  // copying nothing from it would silently leave every weight at its initial value.
  std::vector<std::string> learnable;
  for (size_t i = 0; i < layers_.size(); ++i) {
    if (layers_[i]->blobs().empty()) continue;
    const auto& name = layer_names_[i];
    if (std::find(model_layers.begin(), model_layers.end(), name) != model_layers.end()) return;
    learnable.push_back(name);
  }
  if (learnable.empty()) return;
  throw InvalidArgument(StrCat("the model has no weights for any layer of net '", name_,
                               "' (its layers with parameters: ", QuotedList(learnable),
                               "; the model's layers: ", QuotedList(model_layers),
                               "); is it the model of another net?"));
}

void Net::CopyTrainedLayersFromFile(const std::string& path) {
  try {
    if (IsHdf5File(path)) {
      CopyTrainedLayersFromHdf5(this, path);
      CheckModelFits(Hdf5File::Open(path).List("data"));
    } else {
      const caffe::NetParameter model = ReadNetParamsFromBinaryFile(path);
      CopyTrainedLayersFrom(model);
      std::vector<std::string> model_layers;
      for (const auto& layer : model.layer()) model_layers.push_back(layer.name());
      CheckModelFits(model_layers);
    }
  } catch (const Error& e) {
    // Say which file when the message does not already.
    const std::string what = e.what();
    if (what.rfind(path + ":", 0) == 0 || what.find("'" + path + "'") != std::string::npos) throw;
    throw Error(e.code(), StrCat(path, ": ", what));
  }
}

void Net::ShareTrainedLayersWith(const Net& other) {
  for (size_t i = 0; i < other.layers_.size(); ++i) {
    auto it = layer_index_.find(other.layer_names_[i]);
    if (it == layer_index_.end()) continue;
    auto& target = layers_[it->second]->blobs();
    const auto& source = other.layers_[i]->blobs();
    CREMA_REQUIRE(target.size() == source.size(), "cannot share weights of layer '",
                  other.layer_names_[i], "': ", source.size(), " blobs vs ", target.size());
    for (size_t j = 0; j < source.size(); ++j) {
      CREMA_REQUIRE(target[j]->shape() == source[j]->shape(), "cannot share weights of layer '",
                    other.layer_names_[i], "': blob ", j, " has shape ",
                    source[j]->shape_string(), " vs ", target[j]->shape_string());
      target[j]->ShareData(*source[j]);
    }
  }
}

void Net::ToProto(caffe::NetParameter* param, bool write_diff) const {
  param->Clear();
  param->set_name(name_);
  for (const auto& layer : layers_) layer->ToProto(param->add_layer(), write_diff);
}

Blob* Net::blob_by_name(const std::string& name) const {
  auto it = blob_index_.find(name);
  if (it == blob_index_.end()) throw NotFound(StrCat("net '", name_, "' has no blob '", name, "'"));
  return blobs_[it->second].get();
}

Layer* Net::layer_by_name(const std::string& name) const {
  return layers_[layer_index(name)].get();
}

int Net::layer_index(const std::string& name) const {
  auto it = layer_index_.find(name);
  if (it == layer_index_.end()) throw NotFound(StrCat("net '", name_, "' has no layer '", name, "'"));
  return it->second;
}

}  // namespace crema
