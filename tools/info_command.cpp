// crema info: what a net is made of — per layer its type, top shapes, learnable parameters
// and forward FLOPs; totals for parameters, FLOPs and activation memory at the net's batch.
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>

#include "commands.h"
#include "crema/core/error.h"
#include "crema/net/net.h"
#include "crema/net/net_file.h"
#include "crema/net/net_summary.h"

namespace crema::tools {

namespace {

// 60965224 -> "60,965,224".
std::string Grouped(int64_t value) {
  const std::string digits = std::to_string(value < 0 ? -value : value);
  std::string text = value < 0 ? "-" : "";
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) text += ',';
    text += digits[i];
  }
  return text;
}

// (1.234e9, "FLOP") -> "1.23 GFLOP"; (56, "FLOP") -> "56 FLOP"; (37.6e6, "") -> "37.60 M".
std::string Scaled(double value, const char* unit) {
  const char* prefixes[] = {"", "K", "M", "G", "T"};
  int p = 0;
  while (value >= 1000 && p < 4) {
    value /= 1000;
    ++p;
  }
  const std::string suffix = std::string(prefixes[p]) + unit;
  char text[64];
  std::snprintf(text, sizeof text, p == 0 ? "%.0f%s%s" : "%.2f%s%s", value,
                suffix.empty() ? "" : " ", suffix.c_str());
  return text;
}

// Top shapes as "64x20x24x24 64"; a 0-axis top is "scalar".
std::string Shapes(const std::vector<std::vector<int>>& shapes) {
  std::string text;
  for (const auto& shape : shapes) {
    if (!text.empty()) text += ' ';
    if (shape.empty()) text += "scalar";
    for (size_t d = 0; d < shape.size(); ++d) {
      if (d > 0) text += 'x';
      text += std::to_string(shape[d]);
    }
  }
  return text.empty() ? "-" : text;
}

}  // namespace

int Info(const Args& args) {
  CREMA_REQUIRE(args.empty(), "unexpected argument '", args.empty() ? "" : args[0],
                "'; info takes flags only");
  CREMA_REQUIRE(!FLAGS_model.empty(), "info needs -model NET.prototxt");
  caffe::Phase phase = caffe::TRAIN;
  if (FLAGS_phase == "TEST") {
    phase = caffe::TEST;
  } else {
    CREMA_REQUIRE(FLAGS_phase.empty() || FLAGS_phase == "TRAIN",
                  "-phase must be TRAIN or TEST, got '", FLAGS_phase, "'");
  }
  caffe::NetParameter param = ReadNetForPhase(FLAGS_model, phase);
  ReplaceMissingDataWithInputs(&param);
  const std::unique_ptr<Net> built = BuildNetFromFile(FLAGS_model, param);
  Net& net = *built;
  if (!FLAGS_weights.empty()) net.CopyTrainedLayersFromFile(FLAGS_weights);
  const NetSummary summary = SummarizeNet(net);

  size_t name_width = 5, type_width = 4, shape_width = 10;
  for (const LayerSummary& layer : summary.layers) {
    name_width = std::max(name_width, layer.name.size());
    type_width = std::max(type_width, layer.type.size());
    shape_width = std::max(shape_width, Shapes(layer.top_shapes).size());
  }
  std::printf("Net '%s', phase %s%s%s\n", net.name().c_str(),
              phase == caffe::TRAIN ? "TRAIN" : "TEST",
              FLAGS_weights.empty() ? "" : ", weights ", FLAGS_weights.c_str());
  const int nw = static_cast<int>(name_width), tw = static_cast<int>(type_width),
            sw = static_cast<int>(shape_width);
  std::printf("%-*s  %-*s  %-*s  %14s  %12s\n", nw, "layer", tw, "type", sw, "top shapes",
              "parameters", "forward FLOPs");
  for (const LayerSummary& layer : summary.layers) {
    std::printf("%-*s  %-*s  %-*s  %14s  %12s\n", nw, layer.name.c_str(), tw,
                layer.type.c_str(), sw, Shapes(layer.top_shapes).c_str(),
                Grouped(layer.learnable_params).c_str(), Scaled(layer.forward_flops, "").c_str());
  }
  std::printf("Learnable parameters: %s (%s)\n", Grouped(summary.learnable_params).c_str(),
              Scaled(static_cast<double>(summary.learnable_params) * 4, "B").c_str());
  if (summary.statistics > 0) {
    std::printf("BatchNorm statistics: %s values (not learned)\n",
                Grouped(summary.statistics).c_str());
  }
  const int batch = summary.batch_size > 0 ? summary.batch_size : 1;
  std::printf("Forward FLOPs: %s per batch of %d (%s per item)\n",
              Scaled(summary.forward_flops, "FLOP").c_str(), batch,
              Scaled(summary.forward_flops / batch, "FLOP").c_str());
  std::printf("Activation memory: %s at batch %d (twice that when training: diffs)\n",
              Scaled(static_cast<double>(summary.activation_bytes), "B").c_str(), batch);
  std::fflush(stdout);
  return 0;
}

}  // namespace crema::tools
