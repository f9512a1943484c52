// crema time: per-layer forward/backward timings, Caffe's `caffe time`.
#include <glog/logging.h>

#include <chrono>
#include <iomanip>
#include <memory>
#include <string>

#include "commands.h"
#include "crema/core/error.h"
#include "crema/core/rng.h"
#include "crema/net/net.h"
#include "crema/net/net_file.h"

namespace crema::tools {

namespace {
using Clock = std::chrono::steady_clock;
double MillisSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}
}  // namespace

int Time(const Args& args) {
  CREMA_REQUIRE(args.empty(), "unexpected argument '", args.empty() ? "" : args[0],
                "'; time takes flags only");
  CREMA_REQUIRE(!FLAGS_model.empty(), "time needs -model NET.prototxt");
  CREMA_REQUIRE(FLAGS_iterations > 0, "-iterations must be positive, got ", FLAGS_iterations);
  RequireCpuOnly();
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
  // TRAIN times forward and backward as training runs them; TEST times forward as `crema
  // test` runs it: memory planned for inference, BatchNorm/Scale/ReLU folded into the
  // convolutions (and ReLUs into the sums) before them.
  const bool training = phase == caffe::TRAIN;
  net.PlanMemory({.training = training, .keep = {}});
  if (!training) net.FuseForInference();
  const auto& layers = net.layers();
  const auto& bottoms = net.bottom_vecs();
  const auto& tops = net.top_vecs();
  const auto& need_backward = net.bottom_need_backward();
  const int num_layers = static_cast<int>(layers.size());

  // The inputs hold uniform random values in [0, 1), not zeros: on zeros, code whose branches
  // depend on the data (max pooling, ReLU) would time as if every branch were predicted.
  // Further tops of an Input (labels) stay 0, a valid class.
  SetRandomSeed(1);
  for (int i = 0; i < num_layers; ++i) {
    if (std::string(layers[i]->type()) != "Input" || tops[i].empty()) continue;
    Blob* data = tops[i][0];
    RngUniform(data->count(), 0.f, 1.f, data->mutable_cpu_data());
  }

  // One untimed pass warms up caches and builds primitives.
  LOG(INFO) << "Performing Forward";
  float initial_loss;
  net.Forward(&initial_loss);
  LOG(INFO) << "Initial loss: " << initial_loss;
  if (training) {
    LOG(INFO) << "Performing Backward";
    net.Backward();
  }

  std::vector<double> forward_ms(layers.size(), 0), backward_ms(layers.size(), 0);
  double forward_total = 0, backward_total = 0;
  const auto all_start = Clock::now();
  for (int j = 0; j < FLAGS_iterations; ++j) {
    const auto iter_start = Clock::now();
    auto pass_start = Clock::now();
    for (int i = 0; i < num_layers; ++i) {
      if (net.layer_folded(i)) continue;
      const auto start = Clock::now();
      layers[i]->Forward(bottoms[i], tops[i]);
      forward_ms[i] += MillisSince(start);
    }
    forward_total += MillisSince(pass_start);
    if (training) {
      pass_start = Clock::now();
      for (int i = num_layers; i-- > 0;) {
        if (!net.layer_need_backward()[i]) continue;
        const auto start = Clock::now();
        layers[i]->Backward(tops[i], need_backward[i], bottoms[i]);
        backward_ms[i] += MillisSince(start);
      }
      backward_total += MillisSince(pass_start);
    }
    LOG(INFO) << "Iteration: " << j + 1 << (training ? " forward-backward" : " forward")
              << " time: " << MillisSince(iter_start) << " ms.";
  }
  const double total = MillisSince(all_start);
  const double n = FLAGS_iterations;
  LOG(INFO) << "Average time per layer: ";
  for (int i = 0; i < num_layers; ++i) {
    if (net.layer_folded(i)) {
      LOG(INFO) << std::setfill(' ') << std::setw(10) << layers[i]->name()
                << "\tforward: folded into the layer before it";
      continue;
    }
    LOG(INFO) << std::setfill(' ') << std::setw(10) << layers[i]->name()
              << "\tforward: " << forward_ms[i] / n << " ms.";
    if (training) {
      LOG(INFO) << std::setfill(' ') << std::setw(10) << layers[i]->name()
                << "\tbackward: " << backward_ms[i] / n << " ms.";
    }
  }
  LOG(INFO) << "Average Forward pass: " << forward_total / n << " ms.";
  if (training) {
    LOG(INFO) << "Average Backward pass: " << backward_total / n << " ms.";
    LOG(INFO) << "Average Forward-Backward: " << total / n << " ms.";
  }
  LOG(INFO) << "Total Time: " << total << " ms.";
  if (!tops.empty() && !tops[0].empty() && tops[0][0]->num_axes() > 0) {
    LOG(INFO) << "Throughput: " << tops[0][0]->shape(0) * n / (total / 1000) << " images/s.";
  }
  return 0;
}

}  // namespace crema::tools
