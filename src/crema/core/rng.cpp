#include "crema/core/rng.h"

#include <memory>

namespace crema {

namespace {
thread_local std::unique_ptr<RngEngine> t_engine;
}  // namespace

RngEngine& ThreadRng() {
  if (!t_engine) t_engine = std::make_unique<RngEngine>(std::random_device{}());
  return *t_engine;
}

void SetRandomSeed(uint64_t seed) {
  t_engine = std::make_unique<RngEngine>(static_cast<RngEngine::result_type>(seed));
}

uint64_t SplitMix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

uint64_t RandomKey(uint64_t seed, uint64_t item) { return SplitMix64(seed ^ SplitMix64(item)); }

void RngUniform(int n, float a, float b, float* r) {
  std::uniform_real_distribution<float> dist(a, b);
  auto& engine = ThreadRng();
  for (int i = 0; i < n; ++i) r[i] = (a == b) ? a : dist(engine);
}

void RngGaussian(int n, float mean, float stddev, float* r) {
  std::normal_distribution<float> dist(mean, stddev);
  auto& engine = ThreadRng();
  for (int i = 0; i < n; ++i) r[i] = dist(engine);
}

void RngBernoulli(int n, float p, unsigned* r) {
  std::bernoulli_distribution dist(p);
  auto& engine = ThreadRng();
  for (int i = 0; i < n; ++i) r[i] = dist(engine) ? 1u : 0u;
}

int RngInt(int n) {
  std::uniform_int_distribution<int> dist(0, n - 1);
  return dist(ThreadRng());
}

}  // namespace crema
