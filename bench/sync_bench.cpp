// Gradient synchronisation cost: Crema's bucketed allreduce of a net's gradients against a
// bare MPI_Allreduce of the same number of floats, alternating, in one run.
//
//   mpirun -np 2 crema_sync_bench NET.prototxt ROUNDS
//
// Rank 0 prints one JSON line: median milliseconds of each and their ratio.
#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <vector>

#include "crema/core/error.h"
#include "crema/core/rank.h"
#include "crema/dist/bucketed_allreduce.h"
#include "crema/dist/communicator.h"
#include "crema/io/proto_io.h"
#include "crema/solver/solver.h"

namespace {
double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}
}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: mpirun -np N crema_sync_bench NET.prototxt ROUNDS\n";
    return 1;
  }
  try {
    auto comm = crema::Communicator::Create({});
    if (!comm->distributed()) {
      std::cerr << "crema_sync_bench: start it with mpirun -np 2 (or more)\n";
      return 1;
    }
    crema::SetRankInfo({comm->rank(), comm->world_size()});
    caffe::SolverParameter param;
    *param.mutable_net_param() = crema::ReadNetParamsFromTextFile(argv[1]);
    param.set_base_lr(0.01f);
    param.set_lr_policy("fixed");
    param.set_snapshot_after_train(false);
    auto solver = crema::CreateSolver(param);
    crema::SyncOptions options;
    auto sync = crema::GradientSync::Create(options, comm.get(), solver.get());
    auto* buckets = dynamic_cast<crema::BucketedAllreduce*>(sync.get());
    const int64_t count = buckets->arena_size();
    std::vector<float> bare(static_cast<size_t>(count), 1.f);
    const int rounds = std::stoi(argv[2]);
    std::vector<double> crema_ms, mpi_ms;
    using Clock = std::chrono::steady_clock;
    for (int r = 0; r < rounds + 10; ++r) {
      comm->Barrier("round start");
      auto t0 = Clock::now();
      buckets->OnStart();
      buckets->SynchronizeAllBuckets();
      auto t1 = Clock::now();
      comm->Barrier("round middle");
      auto t2 = Clock::now();
      MPI_Allreduce(MPI_IN_PLACE, bare.data(), static_cast<int>(count), MPI_FLOAT, MPI_SUM,
                    MPI_COMM_WORLD);
      auto t3 = Clock::now();
      if (r < 10) continue;  // warm-up
      crema_ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
      mpi_ms.push_back(std::chrono::duration<double, std::milli>(t3 - t2).count());
    }
    if (comm->rank() == 0) {
      const double c = Median(crema_ms), m = Median(mpi_ms);
      std::printf("{\"floats\": %lld, \"buckets\": %zu, \"crema_ms\": %.4f, \"mpi_allreduce_ms\": %.4f, \"ratio\": %.3f}\n",
                  static_cast<long long>(count), buckets->bucket_sizes().size(), c, m, c / m);
    }
    return 0;
  } catch (const crema::Error& e) {
    std::cerr << "crema_sync_bench: " << e.what() << "\n";
    return 1;
  }
}
