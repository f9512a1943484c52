// The machine's practical fp32 rate: oneDNN's dnnl_sgemm on square row-major matrices (the
// GEMM Crema itself calls), best of REPEATS timed calls after one untimed call. Prints one
// JSON line {"size": …, "repeats": …, "threads": …, "gflops": best, "median_gflops": …}.
// Threads are OpenMP's (OMP_NUM_THREADS). Used by bench/cpu as the denominator of Crema's
// achieved fraction.
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
      "\"median_gflops\": %.2f}\n",
      n, repeats, omp_get_max_threads(), rates.back(), rates[rates.size() / 2]);
  return 0;
}
