// Times one net on one synthetic in-memory batch, training or inference, and prints one JSON
// line. Used by bench/cpu (bench/cpu_bench.py).
//
//   crema_net_bench NET.prototxt MODE ITERATIONS WARMUP [BATCH]
//
// NET starts with an Input layer whose tops are "data" (and "label" when training). BATCH,
// when given, replaces the first axis of every shape of the Input layers.
//   train  — the TRAIN-phase net (it must end in a loss) trained by SGD with a fixed learning
//            rate of 0.01, momentum 0.9 and weight decay 5e-4; one Solver::Step per iteration
//            (forward, backward, update).
//   infer  — the TEST-phase net, forward only, memory-planned and fused as `crema test` runs
//            it. BatchNorm layers use their global statistics, set here to mean 0 and
//            variance 1 (a fresh net's are all zero, which would scale every activation by
//            1/√eps and overflow a deep net).
// Input pixels are uniform in [0, 1) and labels i mod 10. The threads are OpenMP's
// (OMP_NUM_THREADS). Output:
//   {"mode": …, "batch": …, "iterations": …, "seconds": …, "images_per_second": …,
//    "max_rss_mb": …, "threads": …, "learnable_params": …, "forward_flops": …, "loss": …}
// with forward_flops those of one forward pass of the whole batch (net/net_summary.h) and loss
// the last training iteration's (0 in inference).
#include <omp.h>
#include <sys/resource.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>
#include <random>
#include <string>

#include "crema/core/error.h"
#include "crema/net/net.h"
#include "crema/net/net_file.h"
#include "crema/net/net_summary.h"
#include "crema/solver/solver.h"

namespace {

void SetBatch(caffe::NetParameter* param, int batch) {
  for (caffe::LayerParameter& layer : *param->mutable_layer()) {
    if (layer.type() != "Input") continue;
    for (caffe::BlobShape& shape : *layer.mutable_input_param()->mutable_shape()) {
      if (shape.dim_size() > 0) shape.set_dim(0, batch);
    }
  }
}

void FillInputs(crema::Net* net) {
  std::mt19937 gen(5);
  std::uniform_real_distribution<float> pixel(0.f, 1.f);
  crema::Blob* data = net->blob_by_name("data");
  float* x = data->mutable_cpu_data();
  for (int i = 0; i < data->count(); ++i) x[i] = pixel(gen);
  if (net->has_blob("label")) {
    crema::Blob* label = net->blob_by_name("label");
    float* y = label->mutable_cpu_data();
    for (int i = 0; i < label->count(); ++i) y[i] = static_cast<float>(i % 10);
  }
}

// Running statistics mean 0, variance 1, scale factor 1: the identity normalisation.
void SetUnitStatistics(crema::Net* net) {
  for (const auto& layer : net->layers()) {
    if (std::string(layer->type()) != "BatchNorm") continue;
    auto& blobs = layer->blobs();
    float* mean = blobs[0]->mutable_cpu_data();
    float* variance = blobs[1]->mutable_cpu_data();
    for (int c = 0; c < blobs[0]->count(); ++c) {
      mean[c] = 0.f;
      variance[c] = 1.f;
    }
    blobs[2]->mutable_cpu_data()[0] = 1.f;
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5 && argc != 6) {
    std::cerr << "usage: crema_net_bench NET.prototxt train|infer ITERATIONS WARMUP [BATCH]\n";
    return 1;
  }
  try {
    const std::string mode = argv[2];
    CREMA_REQUIRE(mode == "train" || mode == "infer", "MODE must be train or infer, got '",
                  mode, "'");
    const int iterations = std::stoi(argv[3]);
    const int warmup = std::stoi(argv[4]);
    CREMA_REQUIRE(iterations > 0 && warmup >= 0, "ITERATIONS must be positive, WARMUP >= 0");
    caffe::NetParameter net_param = crema::ReadNetFile(argv[1]);
    if (argc == 6) SetBatch(&net_param, std::stoi(argv[5]));

    std::unique_ptr<crema::Solver> solver;
    std::unique_ptr<crema::Net> test_net;
    crema::Net* net = nullptr;
    if (mode == "train") {
      caffe::SolverParameter param;
      *param.mutable_net_param() = net_param;
      param.set_base_lr(0.01f);
      param.set_lr_policy("fixed");
      param.set_momentum(0.9f);
      param.set_weight_decay(0.0005f);
      param.set_max_iter(1000000);
      param.set_display(0);
      param.set_snapshot_after_train(false);
      param.set_random_seed(1);
      solver = crema::CreateSolver(param);
      net = solver->net();
    } else {
      net_param.mutable_state()->set_phase(caffe::TEST);
      test_net = std::make_unique<crema::Net>(net_param);
      test_net->PlanMemory({.training = false, .keep = {}});
      test_net->FuseForInference();
      net = test_net.get();
      SetUnitStatistics(net);
    }
    FillInputs(net);
    const crema::NetSummary summary = crema::SummarizeNet(*net);
    const int batch = net->blob_by_name("data")->shape(0);

    auto run = [&](int n) {
      if (solver) {
        solver->Step(n);
      } else {
        for (int i = 0; i < n; ++i) net->Forward();
      }
    };
    run(warmup);
    const auto start = std::chrono::steady_clock::now();
    run(iterations);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double loss = solver ? static_cast<double>(solver->smoothed_loss()) : 0.0;
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    std::printf(
        "{\"mode\": \"%s\", \"batch\": %d, \"iterations\": %d, \"seconds\": %.4f, "
        "\"images_per_second\": %.3f, \"max_rss_mb\": %.1f, \"threads\": %d, "
        "\"learnable_params\": %lld, \"forward_flops\": %.6g, \"loss\": %s}\n",
        mode.c_str(), batch, iterations, seconds,
        static_cast<double>(iterations) * batch / seconds, usage.ru_maxrss / 1024.0,
        omp_get_max_threads(), static_cast<long long>(summary.learnable_params),
        summary.forward_flops, std::isfinite(loss) ? std::to_string(loss).c_str() : "null");
    return 0;
  } catch (const crema::Error& e) {
    std::cerr << "crema_net_bench: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "crema_net_bench: " << e.what() << "\n";
    return 1;
  }
}
