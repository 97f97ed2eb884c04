#include "supernet/train/sandwich.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "arch/arch_config.h"
#include "base/rng.h"

namespace edgeloop::supernet::train {
namespace {

// Streams (of Rng::Derive) so that the draws of different purposes never coincide; the
// trainer's torch seeds use a third ("TRCH").
constexpr uint64_t kSubnetStream = 0x53554254;      // "SUBT"
constexpr uint64_t kResolutionStream = 0x5245534f;  // "RESO"

ArchConfig AtResolution(ArchConfig a, int resolution) {
  a.set_resolution(resolution);
  return a;
}

double Fraction(int64_t step, int64_t total) {
  return static_cast<double>(step) / static_cast<double>(std::max<int64_t>(1, total));
}

}  // namespace

std::string SingleArchSpaceText(const ArchConfig& a) {
  const auto list = [](const auto& v) { return absl::StrCat("[", absl::StrJoin(v, ", "), "]"); };
  std::string text = absl::StrCat("# The one architecture of a stand-alone run.\nname: \"arch_",
                                  arch::CanonicalKey(a), "\"\npatch_size { t: [", a.patch_size(0),
                                  "] h: [", a.patch_size(1), "] w: [", a.patch_size(2),
                                  "] }\nembed_dim: [", a.embed_dim(), "]\n");
  for (int s = 0; s < arch::kNumStages; ++s)
    absl::StrAppend(&text, "stage { depth: [", a.depths(s), "] num_heads: [", a.num_heads(s),
                    "] }\n");
  absl::StrAppend(&text, "mlp_ratio: [", absl::StrFormat("%.10g", a.mlp_ratio()),
                  "]\nwindow_size: ", list(a.window_size()), "\nresolution: [", a.resolution(),
                  "]\nframes: [", a.frames(), "]\n");
  return text;
}

std::vector<Member> ValidationSubnets(const arch::Space& space, bool standalone,
                                      const ArchConfig& fixed_arch) {
  if (standalone) return {{"arch", fixed_arch}};
  std::vector<Member> subnets = {{"min", space.Min()}, {"max", space.Max()}};
  auto baseline = space.Named("baseline");
  if (baseline.ok() && space.Contains(*baseline).ok()) subnets.push_back({"baseline", *baseline});
  return subnets;
}

int ShrinkPhase(bool progressive_shrinking, const std::vector<double>& boundaries, int64_t step,
                int64_t total) {
  if (!progressive_shrinking) return 2;
  const double f = Fraction(step, total);
  int phase = 0;
  for (double boundary : boundaries)
    if (f >= boundary) ++phase;
  return std::min(phase, 2);
}

ArchConfig Restrict(const ArchConfig& a, const ArchConfig& max, int phase) {
  if (phase >= 2) return a;
  ArchConfig r = AtResolution(max, a.resolution());
  if (phase == 1) {
    *r.mutable_depths() = a.depths();
    r.set_mlp_ratio(a.mlp_ratio());
  }
  return r;
}

std::vector<int> OpenResolutions(const std::vector<int>& choices, double progressive, int64_t step,
                                 int64_t total) {
  if (progressive <= 0 || choices.size() == 1) return choices;
  std::vector<int> sorted = choices;
  std::sort(sorted.begin(), sorted.end());
  const double f = Fraction(step, total);
  const size_t later = sorted.size() - 1;
  size_t open = 1;
  while (open < sorted.size() && f >= progressive * static_cast<double>(open) / later) ++open;
  if (open == sorted.size()) return choices;
  sorted.resize(open);
  return sorted;
}

int ResolutionFor(const std::vector<int>& choices, uint64_t seed, int64_t epoch, int64_t index) {
  if (choices.size() == 1) return choices[0];
  Rng r = Rng::Derive(seed ^ kResolutionStream,
                      static_cast<uint64_t>(epoch) * 1000003ULL + static_cast<uint64_t>(index));
  return choices[r.Uniform(choices.size())];
}

double DistillWeightAt(double weight, double warmup, int64_t step, int64_t total) {
  const double warmup_steps = warmup * static_cast<double>(total);
  if (warmup_steps <= 0) return weight;
  const double ramp = (static_cast<double>(step) - warmup_steps) / warmup_steps;
  return weight * std::clamp(ramp, 0.0, 1.0);
}

std::vector<Member> SandwichMembers(const arch::Space& space, uint64_t seed, int random_subnets,
                                    int64_t step, int resolution, int phase) {
  auto at = [resolution](ArchConfig a) { return resolution > 0 ? AtResolution(a, resolution) : a; };
  const ArchConfig max = at(space.Max());
  std::vector<Member> members = {{"max", max}};
  if (phase == 0) return members;
  members.push_back({"min", Restrict(at(space.Min()), max, phase)});
  Rng rng = Rng::Derive(seed ^ kSubnetStream, static_cast<uint64_t>(step));
  for (int k = 0; k < random_subnets; ++k) {
    ArchConfig a = at(space.Sample(&rng));
    members.push_back({absl::StrCat("rand", k + 1), Restrict(a, max, phase)});
  }
  return members;
}

SandwichSchedule::SandwichSchedule(arch::Space space, SandwichOptions options, int64_t total_steps,
                                   int64_t batches_per_epoch)
    : space_(std::move(space)),
      options_(std::move(options)),
      resolutions_(space_.spec().resolution().begin(), space_.spec().resolution().end()),
      total_steps_(total_steps),
      batches_per_epoch_(batches_per_epoch),
      member_resolutions_(options_.member_resolutions && resolutions_.size() > 1) {}

std::vector<int> SandwichSchedule::OpenAt(int64_t step) const {
  return OpenResolutions(resolutions_, options_.progressive_resolution, step, total_steps_);
}

int SandwichSchedule::BatchResolution(int64_t epoch, int64_t index) const {
  return ResolutionFor(OpenAt(epoch * batches_per_epoch_ + index), options_.seed, epoch, index);
}

std::vector<Member> SandwichSchedule::Members(int64_t step, int batch_resolution) const {
  const int phase =
      ShrinkPhase(options_.progressive_shrinking, options_.shrink_phases, step, total_steps_);
  std::vector<Member> members =
      SandwichMembers(space_, options_.seed, options_.random_subnets, step,
                      member_resolutions_ ? 0 : batch_resolution, phase);
  if (member_resolutions_) {  // resolutions not open yet run at the largest open one
    const std::vector<int> open = OpenAt(step);
    const int largest_open = *std::max_element(open.begin(), open.end());
    for (Member& m : members)
      if (m.arch.resolution() > largest_open) m.arch.set_resolution(largest_open);
  }
  return members;
}

double SandwichSchedule::DistillWeight(int64_t step) const {
  return DistillWeightAt(options_.distill_weight, options_.distill_warmup, step, total_steps_);
}

}  // namespace edgeloop::supernet::train
