// The machine's practical fp32 rate: oneDNN's dnnl_sgemm on square row-major matrices (the
// GEMM Crema itself calls), best of REPEATS timed calls after one untimed call; and its peak:
// independent vector multiply-adds on every thread, nothing else (what no kernel can beat).
// Prints one JSON line {"size": …, "repeats": …, "threads": …, "gflops": best,
// "median_gflops": …, "fma_peak_gflops": …}. Threads are OpenMP's (OMP_NUM_THREADS). Used
// by bench/cpu as the denominator of Crema's achieved fraction.
//
//   crema_sgemm_bench [SIZE (2048)] [REPEATS (5)]
#include <dnnl.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <random>
#include <string>
#include <vector>

namespace {

// The widest vector -march=native gives (16 floats: one AVX-512 register, or two AVX ones).
typedef float Vec16 __attribute__((vector_size(64)));

// GFLOP/s of multiply-adds on all threads at once: per thread 12 independent accumulators,
// enough to keep every FMA pipe busy whatever its latency; best of 3 rounds.
double FmaPeakGflops() {
  constexpr long kSteps = 20000000;
  constexpr int kChains = 12;
  double best = 0;
  for (int round = 0; round < 3; ++round) {
    double sink = 0;
    const auto start = std::chrono::steady_clock::now();
#pragma omp parallel reduction(+ : sink)
    {
      Vec16 acc[kChains];
      const float seed = static_cast<float>(omp_get_thread_num() + round);
      for (int i = 0; i < kChains; ++i) acc[i] = Vec16{} + seed * 1e-3f + static_cast<float>(i);
      const Vec16 scale = Vec16{} + 0.9999999f, shift = Vec16{} + 1e-7f;
      for (long step = 0; step < kSteps; ++step) {
#pragma GCC unroll 12
        for (int i = 0; i < kChains; ++i) acc[i] = acc[i] * scale + shift;
      }
      for (int i = 0; i < kChains; ++i) sink += acc[i][0];
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double flops = 2.0 * 16 * kChains * static_cast<double>(kSteps) * omp_get_max_threads();
    if (sink != sink) return 0;  // keeps the loop; never true
    best = std::max(best, flops / seconds / 1e9);
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 3) {
    std::cerr << "usage: crema_sgemm_bench [SIZE] [REPEATS]\n";
    return 1;
  }
  const int n = argc > 1 ? std::stoi(argv[1]) : 2048;
  const int repeats = argc > 2 ? std::stoi(argv[2]) : 5;
  if (n <= 0 || repeats <= 0) {
    std::cerr << "crema_sgemm_bench: SIZE and REPEATS must be positive\n";
    return 1;
  }
  const size_t count = static_cast<size_t>(n) * static_cast<size_t>(n);
  std::vector<float> a(count), b(count), c(count, 0.f);
  std::mt19937 gen(1);
  std::uniform_real_distribution<float> uniform(-1.f, 1.f);
  for (size_t i = 0; i < count; ++i) {
    a[i] = uniform(gen);
    b[i] = uniform(gen);
  }
  auto gemm = [&] {
    return dnnl_sgemm('N', 'N', n, n, n, 1.f, a.data(), n, b.data(), n, 0.f, c.data(), n);
  };
  if (gemm() != dnnl_success) {
    std::cerr << "crema_sgemm_bench: dnnl_sgemm failed\n";
    return 1;
  }
  std::vector<double> rates;
  const double flops = 2.0 * n * static_cast<double>(n) * n;
  for (int r = 0; r < repeats; ++r) {
    const auto start = std::chrono::steady_clock::now();
    gemm();
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    rates.push_back(flops / seconds / 1e9);
  }
  std::sort(rates.begin(), rates.end());
  std::printf(
      "{\"size\": %d, \"repeats\": %d, \"threads\": %d, \"gflops\": %.2f, "
      "\"median_gflops\": %.2f, \"fma_peak_gflops\": %.2f}\n",
      n, repeats, omp_get_max_threads(), rates.back(), rates[rates.size() / 2],
      FmaPeakGflops());
  return 0;
}
