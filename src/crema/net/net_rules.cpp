#include "crema/net/net_rules.h"

#include <algorithm>
#include <map>
#include <utility>

#include "crema/core/error.h"

namespace crema {

namespace {
bool HasStage(const caffe::NetState& state, const std::string& stage) {
  return std::find(state.stage().begin(), state.stage().end(), stage) != state.stage().end();
}
}  // namespace

bool StateMeetsRule(const caffe::NetState& state, const caffe::NetStateRule& rule) {
  if (rule.has_phase() && rule.phase() != state.phase()) return false;
  if (rule.has_min_level() && state.level() < rule.min_level()) return false;
  if (rule.has_max_level() && state.level() > rule.max_level()) return false;
  for (const std::string& stage : rule.stage()) {
    if (!HasStage(state, stage)) return false;
  }
  for (const std::string& stage : rule.not_stage()) {
    if (HasStage(state, stage)) return false;
  }
  return true;
}

caffe::NetParameter FilterNet(const caffe::NetParameter& param) {
  caffe::NetParameter filtered(param);
  filtered.clear_layer();
  for (const caffe::LayerParameter& layer : param.layer()) {
    CREMA_REQUIRE(layer.include_size() == 0 || layer.exclude_size() == 0, "layer '",
                  layer.name(), "' has both include and exclude rules; give one kind only");
    // Without include rules a layer is in unless an exclude rule is met; with include rules
    // it is out unless one is met.
    bool included = layer.include_size() == 0;
    for (const auto& rule : layer.exclude()) {
      if (StateMeetsRule(param.state(), rule)) included = false;
    }
    for (const auto& rule : layer.include()) {
      if (StateMeetsRule(param.state(), rule)) included = true;
    }
    if (included) *filtered.add_layer() = layer;
  }
  return filtered;
}

std::string SplitLayerName(const std::string& layer_name, const std::string& blob_name,
                           int blob_index) {
  return StrCat(blob_name, "_", layer_name, "_", blob_index, "_split");
}

std::string SplitBlobName(const std::string& layer_name, const std::string& blob_name,
                          int blob_index, int split_index) {
  return StrCat(blob_name, "_", layer_name, "_", blob_index, "_split_", split_index);
}

caffe::NetParameter InsertSplits(const caffe::NetParameter& param) {
  using TopIndex = std::pair<int, int>;  // (layer, top)
  std::map<std::string, TopIndex> last_producer;
  std::map<TopIndex, TopIndex> bottom_source;  // (layer, bottom) -> producing top
  std::map<TopIndex, int> consumers;           // top -> number of bottoms (+1 if weighted loss)
  std::map<TopIndex, float> loss_weights;
  for (int i = 0; i < param.layer_size(); ++i) {
    const caffe::LayerParameter& layer = param.layer(i);
    for (int j = 0; j < layer.bottom_size(); ++j) {
      auto it = last_producer.find(layer.bottom(j));
      CREMA_REQUIRE(it != last_producer.end(), "layer '", layer.name(), "' (", layer.type(),
                    ") reads bottom blob '", layer.bottom(j),
                    "', which no earlier layer produces");
      bottom_source[{i, j}] = it->second;
      ++consumers[it->second];
    }
    for (int j = 0; j < layer.top_size(); ++j) last_producer[layer.top(j)] = {i, j};
    for (int j = 0; j < layer.loss_weight_size() && j < layer.top_size(); ++j) {
      if (layer.loss_weight(j) != 0.f) {
        loss_weights[{i, j}] = layer.loss_weight(j);
        ++consumers[{i, j}];
      }
    }
  }

  caffe::NetParameter out(param);
  out.clear_layer();
  std::map<TopIndex, int> next_split;  // next split top to hand out, per producing top
  for (int i = 0; i < param.layer_size(); ++i) {
    caffe::LayerParameter* layer = out.add_layer();
    *layer = param.layer(i);
    for (int j = 0; j < layer->bottom_size(); ++j) {
      const TopIndex source = bottom_source[{i, j}];
      if (consumers[source] > 1) {
        const std::string& producer = param.layer(source.first).name();
        layer->set_bottom(j, SplitBlobName(producer, layer->bottom(j), source.second,
                                           next_split[source]++));
      }
    }
    // Split layers go right after their producer; copy the producer's tops first since
    // adding layers may move `layer` in memory.
    const std::string layer_name = layer->name();
    const std::vector<std::string> tops(layer->top().begin(), layer->top().end());
    for (int j = 0; j < static_cast<int>(tops.size()); ++j) {
      const int count = consumers[{i, j}];
      if (count <= 1) continue;
      const float loss_weight = loss_weights.count({i, j}) ? loss_weights[{i, j}] : 0.f;
      if (loss_weight != 0.f) {
        // The split's first top carries the loss; the producer's own weights move there.
        out.mutable_layer(out.layer_size() - 1)->clear_loss_weight();
        ++next_split[{i, j}];
      }
      caffe::LayerParameter* split = out.add_layer();
      split->set_name(SplitLayerName(layer_name, tops[j], j));
      split->set_type("Split");
      split->add_bottom(tops[j]);
      for (int k = 0; k < count; ++k) {
        split->add_top(SplitBlobName(layer_name, tops[j], j, k));
        if (loss_weight != 0.f) split->add_loss_weight(k == 0 ? loss_weight : 0.f);
      }
    }
  }
  return out;
}

}  // namespace crema
