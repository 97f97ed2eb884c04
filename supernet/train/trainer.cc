#include "supernet/train/trainer.h"

#include <memory>

#include <torch/torch.h>

#include "absl/strings/str_cat.h"
#include "supernet/train/trainer_loop.h"

namespace edgeloop::supernet::train {

absl::Status CheckTrainConfig(const TrainConfig& c) {
  if (c.space_path.empty() == c.arch.empty())
    return absl::InvalidArgumentError(
        "give exactly one of --space (supernet) and --arch (stand-alone)");
  if (c.data_files.empty()) return absl::InvalidArgumentError("--data is required");
  if (c.out.empty()) return absl::InvalidArgumentError("--out is required");
  if (c.steps <= 0 && c.epochs <= 0)
    return absl::InvalidArgumentError("give --steps > 0 or --epochs > 0");
  if (c.batch_size < 1) return absl::InvalidArgumentError("--batch-size must be >= 1");
  if (!(c.lr > 0)) return absl::InvalidArgumentError("--lr must be > 0");
  if (c.sandwich.random_subnets < 0)
    return absl::InvalidArgumentError("--random-subnets must be >= 0");
  if (c.device != "cpu" && c.device != "cuda")
    return absl::InvalidArgumentError(absl::StrCat("--device '", c.device, "': cpu or cuda"));
  if (c.device == "cuda" && !torch::cuda::is_available())
    return absl::FailedPreconditionError("--device cuda: this LibTorch sees no CUDA device");
  if (!(c.sandwich.distill_warmup >= 0 && c.sandwich.distill_warmup <= 0.5))
    return absl::InvalidArgumentError(
        "--distill-warmup must be a fraction of the steps in [0, 0.5]");
  if (c.val_every < 0) return absl::InvalidArgumentError("--val-every must be >= 0");
  if (c.val_every > 0 && c.val_split.empty())
    return absl::InvalidArgumentError("--val-every needs --val-split");
  if (c.sandwich.member_resolutions && c.space_path.empty())
    return absl::InvalidArgumentError("--member-resolutions goes with --space (supernet training)");
  if (!(c.sandwich.progressive_resolution >= 0 && c.sandwich.progressive_resolution <= 1))
    return absl::InvalidArgumentError(absl::StrCat(
        "--progressive-resolution ", c.sandwich.progressive_resolution, " is not in [0, 1]"));
  if (!c.init_from.empty() && c.arch.empty())
    return absl::InvalidArgumentError("--init-from goes with --arch (stand-alone training)");
  return absl::OkStatus();
}

absl::StatusOr<TrainSummary> Train(const TrainConfig& config, const dist::LaunchEnv& env) {
  absl::StatusOr<std::unique_ptr<Trainer>> trainer = Trainer::Create(config, env);
  if (!trainer.ok()) return trainer.status();
  return (*trainer)->Run();
}

}  // namespace edgeloop::supernet::train
