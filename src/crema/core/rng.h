// Random numbers for fillers, dropout and data augmentation.
//
// Each thread owns one generator (std::mt19937). SetRandomSeed seeds the calling thread's
// generator; a thread that was never seeded draws a seed from std::random_device on first use.
// With a fixed seed and one thread a run is bit-for-bit reproducible.
#ifndef CREMA_CORE_RNG_H_
#define CREMA_CORE_RNG_H_

#include <cstdint>
#include <random>

namespace crema {

using RngEngine = std::mt19937;

// The calling thread's generator.
RngEngine& ThreadRng();
// Reseeds the calling thread's generator.
void SetRandomSeed(uint64_t seed);

// Fill r[0..n) with U[a, b). REQUIRES: a <= b.
void RngUniform(int n, float a, float b, float* r);
// Fill r[0..n) with N(mean, stddev). REQUIRES: stddev > 0.
void RngGaussian(int n, float mean, float stddev, float* r);
// Fill r[0..n) with 1 with probability p, else 0. REQUIRES: 0 <= p <= 1.
void RngBernoulli(int n, float p, unsigned* r);
// A uniformly distributed integer in [0, n). REQUIRES: n > 0.
int RngInt(int n);

// SplitMix64's output function: a well-mixed 64-bit value from any 64-bit input.
uint64_t SplitMix64(uint64_t x);
// A 64-bit key mixing a seed and an item number. Random streams keyed this way (augmentation
// per data item, dropout masks per pass) depend on the item number alone, not on what was
// drawn before, so any number of threads and a resumed run draw the same values.
uint64_t RandomKey(uint64_t seed, uint64_t item);

}  // namespace crema

#endif  // CREMA_CORE_RNG_H_
