// The schedule of supernet training: which subnets a step trains, at which input
// resolution, and how much in-place distillation weighs. Pure functions of the run's seed,
// the step and the step count: every rank computes the same answers, and a resumed run
// continues exactly where it stopped.
//
// A step trains the sandwich: the largest subnet ("max"), the smallest ("min") and
// `random_subnets` uniformly drawn ones ("rand1", ...), all on the same batch. Progressive
// resolution opens the space's input resolutions from the smallest up; progressive
// shrinking opens the other dimensions in phases. No LibTorch here.
#ifndef EDGELOOP_SUPERNET_TRAIN_SANDWICH_H_
#define EDGELOOP_SUPERNET_TRAIN_SANDWICH_H_

#include <cstdint>
#include <string>
#include <vector>

#include "arch/space.h"
#include "proto/arch.pb.h"

namespace edgeloop::supernet::train {

// A subnet a step trains or a validation reports, under the name log.jsonl gives it.
struct Member {
  std::string name;
  ArchConfig arch;
};

// The space of a stand-alone run: a space holding only `arch`, named "arch_<key>", so the
// run directory, checkpoints, evaluation and export serve both kinds of run.
std::string SingleArchSpaceText(const ArchConfig& arch);

// The subnets a run's validation reports: {"arch"} for a stand-alone run; else the space's
// "min" and "max", then "baseline" when the space names one that lies inside it.
std::vector<Member> ValidationSubnets(const arch::Space& space, bool standalone,
                                      const ArchConfig& fixed_arch);

// Progressive shrinking's phase at `step` of `total`: the number of `boundaries` (fractions
// of the steps) reached, at most 2. Phase 0 trains the largest subnet only, 1 also opens
// depth and MLP ratio, 2 everything. Without shrinking every step is in phase 2.
int ShrinkPhase(bool progressive_shrinking, const std::vector<double>& boundaries, int64_t step,
                int64_t total);

// `arch` cut back to what `phase` opens: phase 0 gives `max` at arch's resolution, phase 1
// that with arch's depths and MLP ratio, phase 2 `arch` itself.
ArchConfig Restrict(const ArchConfig& arch, const ArchConfig& max, int phase);

// The resolutions open at `step` of `total`: all `choices` in their given order, or with
// progressive resolution (`progressive` > 0, the fraction of the steps over which they
// open) the smallest ones so far, ascending: with R choices the k-th smallest opens at
// k/(R-1) of it. A single choice is always open.
std::vector<int> OpenResolutions(const std::vector<int>& choices, double progressive, int64_t step,
                                 int64_t total);

// The resolution drawn for batch `index` of `epoch`: uniform over `choices` (non-empty),
// a function of (seed, epoch, index) only.
int ResolutionFor(const std::vector<int>& choices, uint64_t seed, int64_t epoch, int64_t index);

// The distillation weight of `step` of `total`: 0 for the first `warmup` fraction of the
// steps, then a linear ramp to `weight` over as many steps again; `weight` throughout
// when `warmup` is 0.
double DistillWeightAt(double weight, double warmup, int64_t step, int64_t total);

// The sandwich of `step` in `phase`: max, then (phase > 0) min and `random_subnets` draws
// of the stream (seed, step), each Restricted to the phase. `resolution` > 0 puts every
// member at it; 0 leaves each at its own (max the largest, min the smallest, random ones
// as drawn).
std::vector<Member> SandwichMembers(const arch::Space& space, uint64_t seed, int random_subnets,
                                    int64_t step, int resolution, int phase);

// The schedule knobs of a supernet run (TrainConfig::sandwich in trainer.h).
struct SandwichOptions {
  uint64_t seed = 0;  // the run's seed (the trainer sets it from TrainConfig::seed)
  int random_subnets = 2;
  double distill_weight = 1.0;
  // In-place distillation starts after this fraction of the steps (a teacher that still
  // predicts the target mean only pulls the students there) and ramps linearly to
  // distill_weight over the same number of steps again.
  double distill_warmup = 0.25;
  // Each sandwich member runs at its own input resolution (BigNAS): the largest subnet at the
  // space's largest, the smallest at its smallest, random members at their sampled one; the
  // batch comes at every resolution of the space. Off: all members run at one resolution
  // drawn per step. Supernet training only.
  bool member_resolutions = false;
  // > 0: the space's input resolutions open from the smallest up over this fraction of the
  // steps (progressive resizing, as EfficientNetV2): with R resolutions the k-th smallest
  // joins the draw at k/(R-1) of it, so the first steps train at the smallest only. With
  // member_resolutions a member whose resolution is not open yet runs at the largest open
  // one. A supernet mixing resolutions from the first step learns the motion cue 3-4x later
  // than one trained at one resolution (supernet/README.md, "Ranking quality"). 0: all
  // resolutions from the first step. No effect with a single resolution.
  double progressive_resolution = 0.6;
  bool progressive_shrinking = false;
  std::vector<double> shrink_phases = {0.2, 0.4};  // step fractions where phases 2 and 3 begin
};

// The functions above bound to one run: its space, options and step count. Step s of the
// run is batch s mod batches_per_epoch of epoch s / batches_per_epoch (the data pipeline
// hands out every batch once, one per step).
class SandwichSchedule {
 public:
  // total_steps and batches_per_epoch are > 0.
  SandwichSchedule(arch::Space space, SandwichOptions options, int64_t total_steps,
                   int64_t batches_per_epoch);

  int64_t total_steps() const { return total_steps_; }
  // Each member runs at its own resolution: member_resolutions on a space with several.
  bool member_resolutions() const { return member_resolutions_; }

  // The resolutions open at `step` (OpenResolutions).
  std::vector<int> OpenAt(int64_t step) const;
  // The resolution of batch `index` of `epoch`: drawn from those open at its step.
  int BatchResolution(int64_t epoch, int64_t index) const;
  // The members of `step` on a batch at `batch_resolution`: all at it, or with
  // member_resolutions each at its own, capped at the largest open resolution.
  std::vector<Member> Members(int64_t step, int batch_resolution) const;
  double DistillWeight(int64_t step) const;

 private:
  arch::Space space_;
  SandwichOptions options_;
  std::vector<int> resolutions_;  // the space's, in its order
  int64_t total_steps_;
  int64_t batches_per_epoch_;
  bool member_resolutions_;
};

}  // namespace edgeloop::supernet::train

#endif  // EDGELOOP_SUPERNET_TRAIN_SANDWICH_H_
