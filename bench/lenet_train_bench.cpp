// Trains LeNet (batch 64, Caffe's solver recipe) on one synthetic in-memory batch and prints
// one JSON line: {"images_per_second": …, "max_rss_mb": …, "threads": …}.
//
//   crema_lenet_bench NET.prototxt ITERATIONS WARMUP
//
// Used by bench/lenet_vs_pytorch.py, which runs it and the PyTorch twin alternately.
#include <omp.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <random>
#include <string>

#include "crema/core/error.h"
#include "crema/io/proto_io.h"
#include "crema/solver/solver.h"

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: crema_lenet_bench NET.prototxt ITERATIONS WARMUP\n";
    return 1;
  }
  try {
    caffe::SolverParameter param;
    *param.mutable_net_param() = crema::ReadNetParamsFromTextFile(argv[1]);
    param.set_base_lr(0.01f);
    param.set_momentum(0.9f);
    param.set_weight_decay(0.0005f);
    param.set_lr_policy("inv");
    param.set_gamma(0.0001f);
    param.set_power(0.75f);
    param.set_max_iter(1000000);
    param.set_display(0);
    param.set_snapshot_after_train(false);
    param.set_random_seed(1);
    auto solver = crema::CreateSolver(param);
    crema::Net* net = solver->net();
    // MNIST-like input: pixels in [0, 1), labels 0..9.
    std::mt19937 gen(5);
    std::uniform_real_distribution<float> pixel(0.f, 1.f);
    crema::Blob* data = net->blob_by_name("data");
    crema::Blob* label = net->blob_by_name("label");
    for (int i = 0; i < data->count(); ++i) data->mutable_cpu_data()[i] = pixel(gen);
    for (int i = 0; i < label->count(); ++i) label->mutable_cpu_data()[i] = static_cast<float>(i % 10);

    const int iterations = std::stoi(argv[2]);
    const int warmup = std::stoi(argv[3]);
    solver->Step(warmup);
    const auto start = std::chrono::steady_clock::now();
    solver->Step(iterations);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    std::printf("{\"images_per_second\": %.1f, \"max_rss_mb\": %.1f, \"threads\": %d}\n",
                iterations * data->shape(0) / seconds, usage.ru_maxrss / 1024.0,
                omp_get_max_threads());
    return 0;
  } catch (const crema::Error& e) {
    std::cerr << "crema_lenet_bench: " << e.what() << "\n";
    return 1;
  }
}
