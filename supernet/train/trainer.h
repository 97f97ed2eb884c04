// Training: the supernet with the sandwich rule and in-place distillation, or one fixed
// architecture stand-alone; one process or many (c10d data parallel).
//
// Supernet step: the largest subnet, the smallest and `random_subnets` uniformly drawn ones
// run on the same batch at the step's resolution (drawn from the space), or each at its own
// (member_resolutions); every member but the largest also learns from the largest's
// detached prediction (distill_weight); gradients are accumulated, averaged over ranks in
// flat buckets, clipped, and AdamW steps with a warm-up + cosine schedule. Subnets and
// resolutions are functions of (seed, step), so every rank trains the same ones and a
// resumed run continues exactly. Progressive resolution (on by default) opens the input
// resolutions from the smallest up; optional progressive shrinking opens the other
// dimensions in phases (the largest subnet only, + depth and MLP ratio, then all).
//
// Rank 0 alone writes the run directory (supernet/run_dir.h): checkpoints every
// checkpoint_every steps, on SIGINT/SIGTERM (all ranks agree on the step) and at the end,
// log.jsonl, and summary.json with the validation MSE of the min, max and baseline subnets
// beside that of predicting the training mean (what a collapsed supernet scores).
#ifndef EDGELOOP_SUPERNET_TRAIN_TRAINER_H_
#define EDGELOOP_SUPERNET_TRAIN_TRAINER_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "dist/launch_env.h"

namespace edgeloop::supernet::train {

struct TrainConfig {
  // Exactly one of space_path (supernet) and arch (stand-alone: JSON, .json file, or a name).
  std::string space_path;
  std::string arch;
  std::string init_from;           // stand-alone: inherit weights from this supernet run dir
  std::string init_supernet_from;  // supernet: seed shared weights from a state dict file
  std::vector<std::string> data_files;
  std::string train_split = "all";
  std::string val_split;  // empty: no validation summary
  std::string out;

  int64_t steps = 0;   // > 0: train this many steps ...
  double epochs = 0;   // ... else this many epochs of the training split
  int batch_size = 8;  // global batch (divided over ranks)
  double lr = 1e-3;
  double weight_decay = 0.05;
  int64_t warmup_steps = -1;  // -1: 5% of the steps
  double final_lr_fraction = 0.01;
  double clip_norm = 1.0;
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
  // A fresh model's output bias starts at the training split's mean target (not with
  // --init-from / --init-supernet-from / --resume, which bring their own weights).
  bool output_bias_to_mean = true;
  // The reference head's dropout(0.5) on the pooled features. Off by default: on subnets a
  // few dozen channels wide it delays learning the motion cue (see supernet/README.md).
  bool head_dropout = false;
  uint64_t seed = 0;
  std::string device = "cpu";
  int threads = 2;
  int workers = 2;
  bool amp = true;  // bf16 autocast on CUDA
  int64_t checkpoint_every = 200;
  int keep_checkpoints = 3;
  int64_t log_every = 10;
  int64_t val_samples = 256;
  int64_t val_every = 0;  // > 0: log.jsonl gets the val MSE of min and max every N steps
  bool resume = false;
  bool quiet = false;  // no progress line (tests)
};

struct TrainSummary {
  int64_t steps_done = 0;
  bool interrupted = false;
  double samples_per_second = 0;
  // Validation MSE (normalised targets) by subnet name ("min", "max", "baseline" or "arch").
  std::vector<std::pair<std::string, double>> val_mse;
  // Validation MSE of predicting the training split's mean target (a model that learnt only
  // its output bias); -1 without validation.
  double mean_predictor_mse = -1;
};

// InvalidArgument (FailedPrecondition for --device cuda without CUDA) for a config that no
// run can take: the checks that need neither data nor a run directory.
absl::Status CheckTrainConfig(const TrainConfig& config);

// Trains as `config` says, in this process's place of the job `env` describes (a Trainer,
// trainer_loop.h, run to the end). InvalidArgument/FailedPrecondition/AlreadyExists for bad
// input (exit 2), Aborted when a peer rank died, Unavailable when the rendezvous is
// unreachable.
absl::StatusOr<TrainSummary> Train(const TrainConfig& config, const dist::LaunchEnv& env);

}  // namespace edgeloop::supernet::train

#endif  // EDGELOOP_SUPERNET_TRAIN_TRAINER_H_
