#include "crema/net/net_summary.h"

#include <algorithm>
#include <set>
#include <string_view>

namespace crema {

namespace {

double Count(const Blob* blob) { return static_cast<double>(blob->count()); }

double SumOfCounts(const BlobVec& blobs) {
  double total = 0;
  for (const Blob* blob : blobs) total += Count(blob);
  return total;
}

// Elements in the kernel window of a layer whose weights are (out, in/group, k_h, k_w) or
// (in, out/group, k_h, k_w): everything after the first axis.
double WeightsPerOutput(const Layer& layer) {
  const Blob& weights = *layer.blobs()[0];
  return weights.num_axes() > 1 ? static_cast<double>(weights.count(1)) : 1.0;
}

bool HasBias(const Layer& layer) { return layer.blobs().size() > 1; }

}  // namespace

double LayerForwardFlops(const Layer& layer, const BlobVec& bottom, const BlobVec& top) {
  const std::string_view type = layer.type();
  if (bottom.empty()) return 0;  // data and parameter layers
  if (type == "Convolution" && !layer.blobs().empty()) {
    const double macs = SumOfCounts(top) * WeightsPerOutput(layer);
    return 2 * macs + (HasBias(layer) ? SumOfCounts(top) : 0);
  }
  if (type == "Deconvolution" && !layer.blobs().empty()) {
    const double macs = SumOfCounts(bottom) * WeightsPerOutput(layer);
    return 2 * macs + (HasBias(layer) ? SumOfCounts(top) : 0);
  }
  if (type == "InnerProduct" && !layer.blobs().empty()) {
    // |top| = M·N and the weights hold N·K: M·N·K multiply-adds.
    const double weights = Count(layer.blobs()[0].get());
    const double outputs = layer.layer_param().inner_product_param().num_output();
    const double macs = SumOfCounts(top) * (outputs > 0 ? weights / outputs : 0);
    return 2 * macs + (HasBias(layer) ? SumOfCounts(top) : 0);
  }
  if (type == "LSTM" || type == "RNN") {
    // Every weight is used once per time step and sequence.
    double weights = 0;
    for (const auto& blob : layer.blobs()) weights += Count(blob.get());
    const double steps = bottom[0]->num_axes() >= 2
                             ? static_cast<double>(bottom[0]->shape(0)) * bottom[0]->shape(1)
                             : 1;
    return 2 * weights * steps;
  }
  if (type == "Pooling" || type == "SPP") {
    const auto& pool = layer.layer_param().pooling_param();
    if (type == "Pooling" && !pool.global_pooling()) {
      double window = 1;
      if (pool.has_kernel_h()) {
        window = static_cast<double>(pool.kernel_h()) * pool.kernel_w();
      } else if (pool.has_kernel_size()) {
        window = static_cast<double>(pool.kernel_size()) * pool.kernel_size();
      }
      return SumOfCounts(top) * window;
    }
    return SumOfCounts(bottom);
  }
  if (type == "LRN") {
    return SumOfCounts(top) * (2.0 * layer.layer_param().lrn_param().local_size() + 3);
  }
  static const std::set<std::string_view> kMovesDataOnly = {
      "Split", "Reshape", "Flatten", "Concat", "Slice", "Crop", "Silence", "Tile",
      "BatchReindex", "Filter", "Im2col", "Embed", "Input", "Data", "ImageData",
      "HDF5Data", "MemoryData", "DummyData", "HDF5Output", "Parameter"};
  if (kMovesDataOnly.count(type) > 0) return 0;
  // Element-wise and normalising layers: about one operation per element of every operand.
  return std::max(SumOfCounts(bottom), SumOfCounts(top));
}

NetSummary SummarizeNet(const Net& net) {
  NetSummary summary;
  const auto& layers = net.layers();
  const auto& owners = net.param_owners();
  const auto& param_layer = net.param_layer_indices();
  summary.layers.resize(layers.size());
  for (size_t i = 0; i < layers.size(); ++i) {
    LayerSummary& s = summary.layers[i];
    s.name = layers[i]->name();
    s.type = layers[i]->type();
    for (const Blob* top : net.top_vecs()[i]) s.top_shapes.push_back(top->shape());
    s.forward_flops = LayerForwardFlops(*layers[i], net.bottom_vecs()[i], net.top_vecs()[i]);
    summary.forward_flops += s.forward_flops;
  }
  for (size_t p = 0; p < net.params().size(); ++p) {
    if (owners[p] >= 0) continue;  // shared: counted at its owner
    LayerSummary& s = summary.layers[static_cast<size_t>(param_layer[p].first)];
    const int64_t count = net.params()[p]->count();
    if (s.type == "BatchNorm") {
      s.statistics += count;
      summary.statistics += count;
    } else {
      s.learnable_params += count;
      summary.learnable_params += count;
    }
  }
  for (const auto& blob : net.blobs()) {
    summary.activation_bytes += static_cast<int64_t>(blob->count()) * 4;
  }
  if (!layers.empty() && !net.top_vecs()[0].empty() && net.top_vecs()[0][0]->num_axes() > 0) {
    summary.batch_size = net.top_vecs()[0][0]->shape(0);
  }
  return summary;
}

}  // namespace crema
