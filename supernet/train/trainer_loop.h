// The Trainer: Train() (trainer.h) in its phases, so that a caller (a test) can drive a
// training run step by step without the command line.
//
// Create sets a run up: the space (or the one architecture), the process group, this rank's
// data shard, the run directory (rank 0 creates it, or checks the one to resume), the
// model (the run's newest checkpoint, then the initial weights the config asks for), the
// optimizer, and the position to resume from. Step trains one sandwich step on the next
// batch; Validate evaluates subnets on the validation split; SaveCheckpoint saves the run's
// state; Summarize ends a run. Run is Train's whole loop.
//
// A Trainer is a function of its config: the same config and seed give the same batches,
// subnets, losses and weights, and a run resumed from a checkpoint continues exactly. All
// ranks of a job must call Step, SaveCheckpoint and Summarize alike; rank 0 alone writes files.
#ifndef EDGELOOP_SUPERNET_TRAIN_TRAINER_LOOP_H_
#define EDGELOOP_SUPERNET_TRAIN_TRAINER_LOOP_H_

#include <array>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <torch/torch.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "arch/space.h"
#include "base/progress.h"
#include "data/pipeline.h"
#include "dist/launch_env.h"
#include "dist/process_group.h"
#include "supernet/evaluate.h"
#include "supernet/run_dir.h"
#include "supernet/supernet.h"
#include "supernet/train/lr_schedule.h"
#include "supernet/train/sandwich.h"
#include "supernet/train/trainer.h"

namespace edgeloop::supernet::train {

class Trainer {
 public:
  // What one step trained.
  struct StepResult {
    int64_t step = 0;    // steps done, this one included
    int64_t epoch = 0;   // the epoch of its batch
    int resolution = 0;  // the batch's input resolution
    double lr = 0;
    double distill_weight = 0;  // 0 in a stand-alone run
    std::vector<Member> members;
    // Each member's MSE to the targets (distillation not included), in member order.
    std::vector<std::pair<std::string, double>> losses;
    double seconds = 0;
  };
  using Validation = std::vector<std::pair<std::string, supernet::EvalResult>>;

  // The errors of Train (trainer.h) that arise before the first step.
  static absl::StatusOr<std::unique_ptr<Trainer>> Create(const TrainConfig& config,
                                                         const dist::LaunchEnv& env);
  ~Trainer();
  Trainer(const Trainer&) = delete;
  Trainer& operator=(const Trainer&) = delete;

  int64_t step() const { return position_.step; }
  int64_t total_steps() const { return schedule_->total_steps(); }
  const arch::Space& space() const { return *space_; }
  SupernetImpl& net() { return *net_; }

  // Trains the step after step() on the next batch (a new epoch starts when one ends).
  absl::StatusOr<StepResult> Step();
  // Evaluates `subnets` on the validation split (config.val_split) with the current weights.
  absl::StatusOr<Validation> Validate(const std::vector<Member>& subnets);
  // Rank 0 writes the checkpoint of step() with the optimizer state and data position.
  absl::Status SaveCheckpoint();
  // Ends the run: the final checkpoint; then, unless `interrupted`, rank 0 validates the
  // run's subnets (ValidationSubnets) and writes summary.json when there is a val_split.
  absl::StatusOr<TrainSummary> Summarize(bool interrupted);
  // Steps to total_steps (log.jsonl, progress, periodic validation and checkpoints) or
  // until every rank agrees to stop on SIGINT/SIGTERM, then Summarize.
  absl::StatusOr<TrainSummary> Run();

 private:
  explicit Trainer(const TrainConfig& config);

  absl::Status Setup(const dist::LaunchEnv& env);
  absl::Status InitSpace();
  absl::Status InitJob(const dist::LaunchEnv& env);
  absl::Status OpenData();
  absl::Status InitRunDir();
  absl::StatusOr<bool> InitModel(supernet::Checkpoint* newest, std::string* newest_path);
  absl::Status InheritWeights();
  absl::Status SetOutputBiasToMean();
  void InitOptimizer();
  absl::Status Resume(const supernet::Checkpoint& checkpoint, const std::string& path);
  absl::Status InitValidation();

  absl::Status NextBatch();
  absl::StatusOr<std::vector<std::pair<std::string, double>>> TrainMembers(
      const std::vector<Member>& members, double distill_weight);
  absl::Status ApplyGradients();
  absl::StatusOr<bool> AgreeToStop();
  absl::Status AfterStep(const StepResult& result);
  void LogStep(const StepResult& result);
  absl::Status LogValidation();
  absl::Status WriteSummary(const Validation& results, TrainSummary* summary);
  double SecondsSinceStart() const;

  const TrainConfig config_;
  const torch::Device device_;
  const bool standalone_;
  ArchConfig fixed_arch_;   // the architecture of a stand-alone run
  std::string space_text_;  // the space file of the run directory
  std::optional<arch::Space> space_;
  int frames_ = 0;
  std::vector<int> resolutions_;  // the space's, in its order

  std::unique_ptr<dist::Distributed> dist_;
  // Declared before pipeline_: the pipeline's workers ask it for each batch's resolution.
  std::unique_ptr<SandwichSchedule> schedule_;
  std::unique_ptr<data::Pipeline> pipeline_;
  WarmupCosine lr_schedule_;
  std::optional<supernet::RunDir> run_;
  Supernet net_{nullptr};
  std::vector<torch::Tensor> params_;
  std::unique_ptr<torch::optim::AdamW> optimizer_;
  supernet::TrainingPosition position_;
  std::array<double, 2> train_mean_ = {0, 0};

  supernet::EvalOptions eval_;
  std::vector<Member> val_subnets_;
  double mean_predictor_mse_ = 0;

  std::unique_ptr<std::ofstream> log_;  // rank 0: log.jsonl
  std::unique_ptr<Progress> progress_;
  std::chrono::steady_clock::time_point start_;
  int64_t samples_this_run_ = 0;
  data::Batch batch_;
};

}  // namespace edgeloop::supernet::train

#endif  // EDGELOOP_SUPERNET_TRAIN_TRAINER_LOOP_H_
