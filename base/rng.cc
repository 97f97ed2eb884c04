#include "base/rng.h"

#include <cmath>
#include <stdexcept>

namespace edgeloop {
namespace {

uint64_t SplitMix64(uint64_t* x) {
  uint64_t z = (*x += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

}  // namespace

Rng::Rng(uint64_t seed) {
  uint64_t x = seed;
  for (auto& s : s_) s = SplitMix64(&x);
}

Rng Rng::Derive(uint64_t seed, uint64_t stream) {
  uint64_t x = seed ^ 0x5851F42D4C957F2DULL;
  uint64_t a = SplitMix64(&x);
  uint64_t y = stream + 0x14057B7EF767814FULL;
  uint64_t b = SplitMix64(&y);
  return Rng(a ^ Rotl(b, 17));
}

uint64_t Rng::Next() {
  const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = Rotl(s_[3], 45);
  return result;
}

uint64_t Rng::Uniform(uint64_t n) {
  if (n <= 1) return 0;
  // Reject the top partial block so every residue is equally likely.
  const uint64_t limit = UINT64_MAX - (UINT64_MAX % n);
  uint64_t r;
  do {
    r = Next();
  } while (r >= limit);
  return r % n;
}

double Rng::UniformDouble() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

double Rng::Normal() {
  double u1 = UniformDouble();
  double u2 = UniformDouble();
  if (u1 < 1e-300) u1 = 1e-300;
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
}

std::vector<uint64_t> Rng::State() const { return {s_[0], s_[1], s_[2], s_[3]}; }

void Rng::SetState(const std::vector<uint64_t>& state) {
  if (state.size() != 4) return;
  for (int i = 0; i < 4; ++i) s_[i] = state[i];
}

}  // namespace edgeloop
