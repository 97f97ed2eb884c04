// A search space of Video Swin architectures, read from a text-format SearchSpace file.
//
// The space is data: each dimension lists its choices, and an architecture is in the space
// when every field takes one of its choices and the structure is valid (heads divide the
// stage width). Sampling is uniform over the valid architectures and deterministic under
// the Rng. `min` is the cheapest corner (largest patch, smallest everything else), `max`
// the most expensive (smallest patch, largest everything else); both are always valid.
#ifndef EDGELOOP_ARCH_SPACE_H_
#define EDGELOOP_ARCH_SPACE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "base/rng.h"
#include "proto/arch.pb.h"

namespace edgeloop::arch {

class Space {
 public:
  // Parses and checks a space; errors are InvalidArgument naming file:line or the field.
  static absl::StatusOr<Space> FromText(absl::string_view text,
                                        absl::string_view origin = "<space>");
  static absl::StatusOr<Space> FromFile(const std::string& path);
  explicit Space(SearchSpace spec);  // spec must already be checked; prefer FromText

  const SearchSpace& spec() const { return spec_; }
  const std::string& name() const { return spec_.name(); }

  // OK when `arch` is structurally valid and inside the space; otherwise a one-line
  // InvalidArgument naming the field, the value and the allowed choices.
  absl::Status Contains(const ArchConfig& arch) const;

  ArchConfig Sample(Rng* rng) const;
  ArchConfig Min() const;
  ArchConfig Max() const;
  // "min", "max", "baseline" (the built-in human-designed model unless the file names its
  // own) or any name listed in the file's `named` entries.
  absl::StatusOr<ArchConfig> Named(absl::string_view name) const;
  std::vector<std::string> Names() const;

  // Each gene is resampled to a different allowed value with probability `prob`.
  ArchConfig Mutate(const ArchConfig& arch, double prob, Rng* rng) const;
  // Uniform crossover: each gene from either parent with equal probability.
  ArchConfig Crossover(const ArchConfig& a, const ArchConfig& b, Rng* rng) const;

  // Number of valid architectures (saturates at UINT64_MAX).
  uint64_t NumArchitectures() const;

  struct Dimension {
    std::string name;
    std::vector<std::string> choices;
  };
  std::vector<Dimension> Dimensions() const;

  // The genes an evolutionary search varies, in a fixed order; all are integer-coded as
  // indices into the dimension's choices. Exposed for searches and predictors.
  static constexpr int kNumGenes = 15;

 private:
  std::vector<int32_t> ValidHeads(int32_t embed_dim, int stage) const;
  ArchConfig Corner(bool cheapest) const;
  void RepairHeads(ArchConfig* arch, Rng* rng) const;
  void MutateGene(int gene, ArchConfig* arch, Rng* rng) const;
  void CopyGene(int gene, const ArchConfig& from, ArchConfig* to) const;

  SearchSpace spec_;
};

// Parses an --arch argument: a JSON object, a path to a JSON file, or a name known to the
// space (min, max, baseline, ...). `space` may be null, then only JSON and "baseline".
absl::StatusOr<ArchConfig> ResolveArch(absl::string_view arg, const Space* space);

}  // namespace edgeloop::arch

#endif  // EDGELOOP_ARCH_SPACE_H_
