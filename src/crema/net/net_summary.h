// NetSummary: what a net costs — per layer its top shapes, learnable parameters and forward
// FLOPs, and totals — for `crema info` and the benchmarks.
//
// Counting rules:
// - Learnable parameters are the elements of every parameter blob a layer owns; a blob shared
//   by name (ParamSpec) counts once, at its owner. BatchNorm's mean, variance and scale
//   factor are running statistics, not learned: they are counted apart (`statistics`).
// - FLOPs are those of one forward pass at the net's batch size, a multiply-add counting 2:
//   convolution 2·|top|·(C_in/group·k_h·k_w) (+|top| with bias), deconvolution
//   2·|bottom|·(C_out/group·k_h·k_w), inner product 2·M·K·N, recurrent layers 2·(their
//   weights)·T·N, pooling |top|·(window area), LRN |top|·(2·local_size + 3); element-wise
//   and normalisation layers about one per element and operand; layers that only move data
//   (Split, Reshape, Flatten, Concat, Slice, Crop, data layers) none.
// - Activation memory is the data of every distinct blob of the net, in bytes (training keeps
//   as much again for the diffs).
#ifndef CREMA_NET_NET_SUMMARY_H_
#define CREMA_NET_NET_SUMMARY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "crema/net/net.h"

namespace crema {

struct LayerSummary {
  std::string name;
  std::string type;
  std::vector<std::vector<int>> top_shapes;
  int64_t learnable_params = 0;
  int64_t statistics = 0;
  double forward_flops = 0;
};

struct NetSummary {
  std::vector<LayerSummary> layers;
  int64_t learnable_params = 0;
  int64_t statistics = 0;
  double forward_flops = 0;
  int64_t activation_bytes = 0;
  int batch_size = 0;  // first axis of the first layer's first top; 0 when none
};

// Summarises a net that has been set up (its shapes are those of the last Reshape).
NetSummary SummarizeNet(const Net& net);

// Forward FLOPs of one layer for its current bottom and top shapes (rules above).
double LayerForwardFlops(const Layer& layer, const BlobVec& bottom, const BlobVec& top);

}  // namespace crema

#endif  // CREMA_NET_NET_SUMMARY_H_
