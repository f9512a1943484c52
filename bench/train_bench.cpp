// Trains a net with an Input layer ("data", "label") on one synthetic in-memory batch with
// Caffe's SGD recipe (lr 0.01 "inv", momentum 0.9, weight decay 5e-4) and prints one JSON
// line: {"images_per_second": …, "max_rss_mb": …, "threads": …, "ranks": …}.
//
//   crema_train_bench NET.prototxt ITERATIONS WARMUP
//
// Started by mpirun it trains data-parallel (-sync bsp) and rank 0 prints the job's
// images/s (all ranks' images). Used by bench/lenet_vs_pytorch.py and bench/distributed.py.
#include <mpi.h>
#include <omp.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <random>
#include <string>

#include "crema/core/error.h"
#include "crema/core/rank.h"
#include "crema/dist/communicator.h"
#include "crema/dist/gradient_sync.h"
#include "crema/io/proto_io.h"
#include "crema/solver/solver.h"

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: crema_train_bench NET.prototxt ITERATIONS WARMUP\n";
    return 1;
  }
  try {
    auto comm = crema::Communicator::Create({});
    crema::SetRankInfo({comm->rank(), comm->world_size()});
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
    std::unique_ptr<crema::GradientSync> sync;
    if (comm->distributed()) {
      sync = crema::GradientSync::Create({}, comm.get(), solver.get());
      sync->BroadcastModel(false);
    }
    crema::Net* net = solver->net();
    // Input in [0, 1), labels 0..9; each rank its own.
    std::mt19937 gen(5 + comm->rank());
    std::uniform_real_distribution<float> pixel(0.f, 1.f);
    crema::Blob* data = net->blob_by_name("data");
    crema::Blob* label = net->blob_by_name("label");
    for (int i = 0; i < data->count(); ++i) data->mutable_cpu_data()[i] = pixel(gen);
    for (int i = 0; i < label->count(); ++i) label->mutable_cpu_data()[i] = static_cast<float>(i % 10);

    const int iterations = std::stoi(argv[2]);
    const int warmup = std::stoi(argv[3]);
    solver->Step(warmup);
    comm->Barrier("the start of the timed iterations");
    const auto start = std::chrono::steady_clock::now();
    solver->Step(iterations);
    comm->Barrier("the end of the timed iterations");
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (sync) sync->OnSolveEnd();
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    if (comm->rank() == 0) {
      std::printf("{\"images_per_second\": %.1f, \"max_rss_mb\": %.1f, \"threads\": %d, \"ranks\": %d}\n",
                  static_cast<double>(iterations) * data->shape(0) * comm->world_size() / seconds,
                  usage.ru_maxrss / 1024.0, omp_get_max_threads(), comm->world_size());
    }
    return 0;
  } catch (const crema::Error& e) {
    std::cerr << "crema_train_bench: " << e.what() << "\n";
    return 1;
  }
}
