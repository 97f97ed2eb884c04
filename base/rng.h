// Deterministic random numbers for edgeloop.
//
// The C++ standard library leaves distributions implementation-defined, so results would
// differ between libstdc++ and libc++ builds. Rng is a SplitMix64-seeded xoshiro256**
// generator whose integer and real draws are fully specified here: the same seed gives the
// same stream on every platform and compiler.
#ifndef EDGELOOP_BASE_RNG_H_
#define EDGELOOP_BASE_RNG_H_

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace edgeloop {

class Rng {
 public:
  explicit Rng(uint64_t seed);

  // Derives an independent stream, e.g. Rng::Derive(seed, step) for per-step sampling
  // that every process of a distributed job reproduces.
  static Rng Derive(uint64_t seed, uint64_t stream);

  uint64_t Next();
  // Uniform integer in [0, n); n must be > 0. Unbiased (rejection sampling).
  uint64_t Uniform(uint64_t n);
  // Uniform double in [0, 1) with 53 random bits.
  double UniformDouble();
  bool Bernoulli(double p) { return UniformDouble() < p; }
  // Standard normal draw (Box-Muller; no cached second value, so the stream stays simple).
  double Normal();

  template <typename T>
  const T& Choice(const std::vector<T>& v) {
    return v[Uniform(v.size())];
  }
  // Fisher-Yates shuffle.
  template <typename T>
  void Shuffle(std::vector<T>* v) {
    for (size_t i = v->size(); i > 1; --i) {
      size_t j = Uniform(i);
      std::swap((*v)[i - 1], (*v)[j]);
    }
  }

  // Full generator state, for checkpoints.
  std::vector<uint64_t> State() const;
  void SetState(const std::vector<uint64_t>& state);

 private:
  uint64_t s_[4];
};

}  // namespace edgeloop

#endif  // EDGELOOP_BASE_RNG_H_
