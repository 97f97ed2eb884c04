// FNV-1a, 64-bit: the project's one stable, dependency-free hash for fingerprints (spaces,
// devices) and for deriving seeds from names. Not for security.
#ifndef EDGELOOP_BASE_HASH_H_
#define EDGELOOP_BASE_HASH_H_

#include <cstdint>

#include "absl/strings/string_view.h"

namespace edgeloop {

inline constexpr uint64_t kFnvOffsetBasis = 1469598103934665603ULL;
inline constexpr uint64_t kFnvPrime = 1099511628211ULL;

// One FNV-1a step: folds `value` (a byte, or any integer taken whole) into `hash`.
inline constexpr uint64_t FnvMix(uint64_t hash, uint64_t value) {
  return (hash ^ value) * kFnvPrime;
}

// FNV-1a over the bytes of `text`, continuing from `hash`.
inline uint64_t Fnv1a64(absl::string_view text, uint64_t hash = kFnvOffsetBasis) {
  for (unsigned char c : text) hash = FnvMix(hash, c);
  return hash;
}

}  // namespace edgeloop

#endif  // EDGELOOP_BASE_HASH_H_
