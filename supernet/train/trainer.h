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
#include "supernet/train/sandwich.h"

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
  SandwichOptions sandwich;  // the schedule (sandwich.h); its seed is set from `seed`
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
