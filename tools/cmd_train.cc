// `edgeloop train`: supernet training (--space) or stand-alone training of one architecture
// (--arch), in one process or as a multi-process job (torchrun-style or Slurm variables).
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/interrupt.h"
#include "dist/launch_env.h"
#include "supernet/train/trainer.h"
#include "tools/cli/command.h"

namespace edgeloop {
namespace {

// --shrink-phases: the two step fractions where phases 2 and 3 begin, "a,b" with
// 0 <= a <= b <= 1.
absl::StatusOr<std::vector<double>> ParseShrinkPhases(const std::string& phases) {
  std::vector<double> fractions;
  for (absl::string_view part : absl::StrSplit(phases, ',', absl::SkipWhitespace())) {
    double f;
    if (!absl::SimpleAtod(part, &f) || !(f >= 0 && f <= 1)) {
      return absl::InvalidArgumentError(
          absl::StrCat("flag --shrink-phases: '", part, "' is not a fraction in [0, 1]"));
    }
    fractions.push_back(f);
  }
  if (fractions.size() != 2 || fractions[0] > fractions[1]) {
    return absl::InvalidArgumentError(
        absl::StrCat("flag --shrink-phases: got '", phases,
                     "', expected two non-decreasing fractions a,b with 0 <= a <= b <= 1"));
  }
  return fractions;
}

void PrintTrainSummary(const supernet::train::TrainSummary& summary, const std::string& out) {
  if (summary.interrupted) {
    std::printf(
        "interrupted at step %lld: checkpoint written to %s/checkpoints; continue with "
        "--resume\n",
        static_cast<long long>(summary.steps_done), out.c_str());
    return;
  }
  std::printf("trained %lld steps (%.1f samples/s)\n", static_cast<long long>(summary.steps_done),
              summary.samples_per_second);
  for (const auto& [name, mse] : summary.val_mse)
    std::printf("  val MSE %-9s %.5f\n", name.c_str(), mse);
  if (summary.mean_predictor_mse >= 0) {
    std::printf("  val MSE of predicting the training mean %.5f\n", summary.mean_predictor_mse);
  }
}

int TrainCommand(const std::vector<std::string>& args) {
  supernet::train::TrainConfig c;
  std::string data, phases = "0.2,0.4";
  int64_t batch = c.batch_size, seed = 0, threads = c.threads, workers = c.workers,
          random_subnets = c.sandwich.random_subnets, keep = c.keep_checkpoints;
  cli::FlagSet flags(
      "train",
      "Trains a weight-sharing supernet over a search space (--space), with the sandwich rule\n"
      "and in-place distillation, or one architecture stand-alone (--arch). Runs as one process\n"
      "or as one rank of a multi-process job: rank and world come from RANK/WORLD_SIZE/\n"
      "MASTER_ADDR/MASTER_PORT (torchrun style) or SLURM_PROCID/SLURM_NTASKS/SLURM_JOB_NODELIST.\n"
      "SIGINT/SIGTERM write a checkpoint and exit 75; --resume continues from the last one\n"
      "(--resume needs an existing run in --out).");
  flags.String("space", &c.space_path, "search space file: train the supernet of this space",
               cli::InputFile());
  flags.String("arch", &c.arch, "train this architecture stand-alone: JSON, .json file or baseline",
               cli::InputFileIfPathLike());
  flags.String("init-from", &c.init_from,
               "stand-alone: start from the inherited weights of this supernet run directory",
               cli::InputDir());
  flags.String("init-supernet-from", &c.init_supernet_from,
               "supernet: seed the shared weights with a stand-alone state dict of the space's "
               "baseline architecture (as `export --from-state-dict` reads it)",
               cli::InputFile());
  flags.String("data", &data, "HDF5 file(s) or directories of them, comma-separated",
               cli::InputPath().List(), true);
  flags.String("train-split", &c.train_split, "training split, e.g. 'C027:layers[0:80%]'");
  flags.String("val-split", &c.val_split,
               "validation split for the final summary, e.g. 'C027:layers[80%:100%]'");
  flags.String("out", &c.out, "run directory to create (or continue with --resume)",
               cli::OutputDir(), true);
  flags.Int("steps", &c.steps, "optimizer steps (overrides --epochs)", cli::AtLeast(0));
  flags.Double("epochs", &c.epochs, "epochs of the training split (when --steps is 0)",
               cli::AtLeast(0));
  flags.Int("batch-size", &batch, "global batch size, divided over the ranks",
            cli::Between(1, cli::kIntMax));
  flags.Double("lr", &c.lr, "peak learning rate (AdamW)", cli::Positive().AtMost(10));
  flags.Double("weight-decay", &c.weight_decay, "AdamW weight decay (not on norms and biases)",
               cli::AtLeast(0));
  flags.Int("warmup-steps", &c.warmup_steps, "linear warm-up steps (-1: 5% of the steps)",
            cli::AtLeast(0).Or(-1));
  flags.Double("clip-norm", &c.clip_norm, "gradient clipping norm (0: off)", cli::AtLeast(0));
  flags.Int("random-subnets", &random_subnets, "random subnets per step besides max and min",
            cli::Between(0, cli::kIntMax));
  flags.Double("distill-weight", &c.sandwich.distill_weight,
               "weight of the in-place distillation loss from the largest subnet", cli::AtLeast(0));
  flags.Double("distill-warmup", &c.sandwich.distill_warmup,
               "fraction of the steps before distillation starts (then a linear ramp over as "
               "many steps to --distill-weight); 0: distil from the first step",
               cli::Between(0, 0.5));
  flags.Bool("member-resolutions", &c.sandwich.member_resolutions,
             "each sandwich member at its own input resolution (max at the largest, min at the "
             "smallest); off: one resolution per step");
  flags.Double("progressive-resolution", &c.sandwich.progressive_resolution,
               "fraction of the steps over which the space's input resolutions open from the "
               "smallest up (0: all from the first step)",
               cli::Fraction());
  flags.Bool("progressive-shrinking", &c.sandwich.progressive_shrinking,
             "open the elastic dimensions in phases (largest only; + depth and MLP; all)");
  flags.String("shrink-phases", &phases,
               "step fractions a,b (0 <= a <= b <= 1) where phases 2 and 3 begin");
  flags.Bool("output-bias-to-mean", &c.output_bias_to_mean,
             "start a fresh model's output bias at the training split's mean target");
  flags.Bool("head-dropout", &c.head_dropout,
             "the reference head's dropout(0.5) in training (off: it slows small subnets)");
  flags.Int("seed", &seed, "random seed (subnets, resolutions, data order, initial weights)",
            cli::AtLeast(0));
  flags.String("device", &c.device, "cpu or cuda");
  flags.Int("threads", &threads, "intra-op threads per process", cli::Between(1, 1024));
  flags.Int("workers", &workers, "data loading threads per process (0: in the training thread)",
            cli::Between(0, 1024));
  flags.Bool("amp", &c.amp, "bf16 mixed precision on CUDA");
  flags.Int("checkpoint-every", &c.checkpoint_every, "steps between checkpoints", cli::AtLeast(1));
  flags.Int("keep-checkpoints", &keep, "checkpoints kept (the newest; 0: all)",
            cli::Between(0, cli::kIntMax));
  flags.Int("log-every", &c.log_every, "steps between log.jsonl lines", cli::AtLeast(1));
  flags.Int("val-samples", &c.val_samples, "validation samples for the final summary",
            cli::AtLeast(1));
  flags.Int("val-every", &c.val_every,
            "steps between validations of the min and max subnets, logged to log.jsonl (0: off)",
            cli::AtLeast(0));
  flags.Bool("resume", &c.resume, "continue the run in --out from its last checkpoint");
  flags.Bool("quiet", &c.quiet, "no progress line");
  int code;
  if (!cli::ParseFlags(&flags, "train", args, &code)) return code;
  c.data_files = absl::StrSplit(data, ',', absl::SkipEmpty());
  c.batch_size = static_cast<int>(batch);
  c.seed = static_cast<uint64_t>(seed);
  c.threads = static_cast<int>(threads);
  c.workers = static_cast<int>(workers);
  c.sandwich.random_subnets = static_cast<int>(random_subnets);
  c.keep_checkpoints = static_cast<int>(keep);
  auto shrink_phases = ParseShrinkPhases(phases);
  if (!shrink_phases.ok()) return cli::ReportError("train", shrink_phases.status());
  c.sandwich.shrink_phases = *std::move(shrink_phases);
  auto env = dist::LaunchEnvFromProcess();
  if (!env.ok()) return cli::ReportError("train", env.status());
  InstallInterruptHandlers();
  auto summary = supernet::train::Train(c, *env);
  if (!summary.ok()) return cli::ReportError("train", summary.status());
  if (env->rank == 0) PrintTrainSummary(*summary, c.out);
  // Every rank tells an interrupted run from a finished one: a job script requeues on 75.
  return summary->interrupted ? cli::kExitInterrupted : cli::kExitOk;
}

const cli::CommandRegistrar kRegister({
    {"train", "train the supernet of a space, or one architecture stand-alone", TrainCommand},
});

}  // namespace
}  // namespace edgeloop
