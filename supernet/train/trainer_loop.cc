#include "supernet/train/trainer_loop.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "arch/arch_config.h"
#include "base/atomic_file.h"
#include "base/interrupt.h"
#include "base/json.h"
#include "base/rng.h"
#include "supernet/state_dict.h"
#include "supernet/train/mean_predictor.h"
#include "supernet/train/torch_compat.h"
#include "supernet/train/training_log.h"

namespace edgeloop::supernet::train {
namespace {

using supernet::RunDir;

// The stream (of Rng::Derive) of each step's torch seed, apart from the schedule's draws.
constexpr uint64_t kTorchStream = 0x54524348;  // "TRCH"

constexpr char kOutputBias[] = "linear_layers.2.bias";  // the regression head's last bias

// Runs `fn`, turning a LibTorch exception into an Internal error that starts with `what`.
template <typename T>
absl::Status Guard(const char* what, T&& fn) {
  try {
    return fn();
  } catch (const std::exception& e) {
    std::string msg = e.what();  // c10::Error appends a backtrace
    return absl::InternalError(absl::StrCat(what, ": ", msg.substr(0, msg.find('\n'))));
  }
}

torch::Tensor ToTensor(const std::vector<float>& data, std::vector<int64_t> shape,
                       const torch::Device& device) {
  return torch::from_blob(const_cast<float*>(data.data()), shape, torch::kFloat)
      .to(device, /*non_blocking=*/false, /*copy=*/true);
}

// A batch's inputs as tensors on `device`, one per resolution, each built when first used.
class BatchInputs {
 public:
  BatchInputs(const data::Batch& batch, const torch::Device& device)
      : batch_(batch), device_(device) {}

  absl::StatusOr<torch::Tensor> At(int r) {
    if (auto it = tensors_.find(r); it != tensors_.end()) return it->second;
    const std::vector<float>* floats = &batch_.inputs;
    if (r != static_cast<int>(batch_.resolution)) {
      auto it = batch_.inputs_at.find(r);
      if (it == batch_.inputs_at.end())
        return absl::InternalError(absl::StrCat("no inputs at resolution ", r, " in the batch"));
      floats = &it->second;
    }
    return tensors_[r] = ToTensor(*floats, {batch_.batch_size, 1, batch_.frames, r, r}, device_);
  }

 private:
  const data::Batch& batch_;
  const torch::Device& device_;
  std::map<int, torch::Tensor> tensors_;
};

SandwichOptions SandwichOptionsOf(const TrainConfig& c) {
  SandwichOptions o = c.sandwich;
  o.seed = c.seed;
  return o;
}

}  // namespace

// ---- Setup ---------------------------------------------------------------------------

Trainer::Trainer(const TrainConfig& config)
    : config_(config),
      device_(config.device == "cuda" ? torch::kCUDA : torch::kCPU),
      standalone_(config.space_path.empty()) {}

Trainer::~Trainer() = default;

absl::StatusOr<std::unique_ptr<Trainer>> Trainer::Create(const TrainConfig& config,
                                                         const dist::LaunchEnv& env) {
  if (auto s = CheckTrainConfig(config); !s.ok()) return s;
  std::unique_ptr<Trainer> trainer(new Trainer(config));
  if (auto s = trainer->Setup(env); !s.ok()) return s;
  return trainer;
}

absl::Status Trainer::Setup(const dist::LaunchEnv& env) {
  torch::set_num_threads(std::max(1, config_.threads));
  if (auto s = InitSpace(); !s.ok()) return s;
  if (auto s = InitJob(env); !s.ok()) return s;
  if (auto s = OpenData(); !s.ok()) return s;
  if (auto s = InitRunDir(); !s.ok()) return s;
  supernet::Checkpoint newest;
  std::string newest_path;
  absl::StatusOr<bool> resuming = InitModel(&newest, &newest_path);
  if (!resuming.ok()) return resuming.status();
  InitOptimizer();
  if (*resuming) {
    if (auto s = Resume(newest, newest_path); !s.ok()) return s;
  }
  if (auto s = pipeline_->StartEpoch(position_.epoch); !s.ok()) return s;
  if (position_.batch_in_epoch > 0) {
    if (auto s = pipeline_->SkipBatches(position_.batch_in_epoch); !s.ok()) return s;
  }
  if (auto s = InitValidation(); !s.ok()) return s;
  if (dist_->is_primary()) {
    const std::string log_path = config_.out + "/log.jsonl";
    if (*resuming) {
      if (auto s = TrimTrainingLog(log_path, position_.step); !s.ok()) return s;
    }
    log_ = std::make_unique<std::ofstream>(log_path, std::ios::app);
  }
  progress_ = std::make_unique<Progress>(standalone_ ? "train" : "train supernet", total_steps(),
                                         "steps", 2.0);
  start_ = std::chrono::steady_clock::now();
  return absl::OkStatus();
}

// What is trained: a space (supernet) or one architecture (a space holding only it).
absl::Status Trainer::InitSpace() {
  std::string origin = config_.space_path;
  if (standalone_) {
    auto a = arch::ResolveArch(config_.arch, nullptr);
    if (!a.ok()) return a.status();
    fixed_arch_ = *a;
    space_text_ = SingleArchSpaceText(fixed_arch_);
    origin = "--arch";
  } else {
    auto text = ReadFile(config_.space_path);
    if (!text.ok())
      return absl::InvalidArgumentError(absl::StrCat("--space: ", text.status().message()));
    space_text_ = *text;
  }
  auto space = arch::Space::FromText(space_text_, origin);
  if (!space.ok()) return space.status();
  space_.emplace(std::move(*space));
  if (space_->spec().frames_size() != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "space '", space_->name(), "' has several frame counts; training needs exactly one"));
  }
  frames_ = space_->spec().frames(0);
  resolutions_.assign(space_->spec().resolution().begin(), space_->spec().resolution().end());
  return absl::OkStatus();
}

absl::Status Trainer::InitJob(const dist::LaunchEnv& env) {
  dist::Distributed::Options options;
  options.use_cuda = device_.is_cuda();
  auto dist = dist::Distributed::Init(env, options);
  if (!dist.ok()) return dist.status();
  dist_ = std::move(*dist);
  if (config_.batch_size % dist_->world_size() != 0) {
    return absl::InvalidArgumentError(absl::StrCat("--batch-size ", config_.batch_size,
                                                   " is not divisible by the world size ",
                                                   dist_->world_size()));
  }
  position_.world_size = dist_->world_size();
  position_.global_batch = config_.batch_size;
  return absl::OkStatus();
}

// This rank's shard; each batch at the resolution the schedule gives its step, or (member
// resolutions) at the largest and at every other resolution of the space.
absl::Status Trainer::OpenData() {
  data::PipelineOptions o;
  o.files = config_.data_files;
  o.split = config_.train_split;
  o.batch_size = config_.batch_size / dist_->world_size();
  o.frames = frames_;
  if (config_.sandwich.member_resolutions && resolutions_.size() > 1) {
    o.resolution = *std::max_element(resolutions_.begin(), resolutions_.end());
    for (int r : resolutions_)
      if (r != o.resolution) o.also_resolutions.push_back(r);
  } else {
    o.resolution = resolutions_.front();
    // The workers that call this start with the first epoch, after schedule_ is set below.
    o.resolution_for_batch = [this](int64_t epoch, int64_t index) {
      return schedule_->BatchResolution(epoch, index);
    };
  }
  o.train = true;
  o.seed = config_.seed;
  o.workers = config_.workers;
  o.rank = dist_->rank();
  o.world_size = dist_->world_size();
  auto pipeline = data::Pipeline::Open(o);
  if (!pipeline.ok()) return pipeline.status();
  pipeline_ = std::move(*pipeline);
  const int64_t batches = pipeline_->batches_per_epoch();
  if (batches == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("training split '", config_.train_split, "' has ", pipeline_->num_samples(),
                     " samples per rank, fewer than one batch of ", o.batch_size));
  }
  if (!pipeline_->labelled())
    return absl::InvalidArgumentError("the training data carries no labels (laser_params)");
  const int64_t total =
      config_.steps > 0 ? config_.steps : static_cast<int64_t>(std::ceil(config_.epochs * batches));
  schedule_ =
      std::make_unique<SandwichSchedule>(*space_, SandwichOptionsOf(config_), total, batches);
  lr_schedule_ =
      WarmupCosine{config_.lr, config_.warmup_steps >= 0 ? config_.warmup_steps : total / 20, total,
                   config_.final_lr_fraction};
  return absl::OkStatus();
}

// Rank 0 creates the run directory (or checks the one to resume); the others open it once
// everyone knows rank 0 succeeded.
absl::Status Trainer::InitRunDir() {
  absl::Status setup = absl::OkStatus();
  if (dist_->is_primary()) {
    setup =
        RunDir::PrepareForTraining(config_.out, *space_, space_text_, config_.seed, config_.resume);
  }
  torch::Tensor failed = torch::full({1}, setup.ok() ? 0.0f : 1.0f);
  if (auto s = dist_->AllReduceMean({failed}); !s.ok()) return s;
  if (failed.item<float>() > 0) {
    if (!setup.ok()) return setup;
    return absl::AbortedError("rank 0 could not set up the run directory");
  }
  auto run = RunDir::Open(config_.out);
  if (!run.ok()) return run.status();
  run_.emplace(std::move(*run));
  return absl::OkStatus();
}

// The model: the run's newest intact checkpoint (step 0 holds the initial weights), then
// for a fresh run the weights the config brings. True when the checkpoint is a later step.
absl::StatusOr<bool> Trainer::InitModel(supernet::Checkpoint* newest, std::string* newest_path) {
  auto net = supernet::MakeSupernet(*space_, config_.seed);
  if (!net.ok()) return net.status();
  net_ = *net;
  auto checkpoint = run_->ReadNewestCheckpoint(newest_path);
  if (!checkpoint.ok()) return checkpoint.status();
  *newest = std::move(*checkpoint);
  if (auto s = supernet::LoadCheckpointInto(*newest, *net_); !s.ok()) return s;
  const bool resuming = newest->step > 0;
  if (resuming && !config_.resume) {
    return absl::FailedPreconditionError(
        absl::StrCat(config_.out, " already holds trained steps; pass --resume"));
  }
  if (!resuming) {
    if (auto s = InheritWeights(); !s.ok()) return s;
  }
  train_mean_ = MeanTarget(*pipeline_);
  if (!resuming && config_.init_from.empty() && config_.init_supernet_from.empty() &&
      config_.output_bias_to_mean) {
    if (auto s = SetOutputBiasToMean(); !s.ok()) return s;
  }
  net_->to(device_);
  net_->train();
  return resuming;
}

// --init-from (a stand-alone run inherits its subnet's weights from a supernet run) and
// --init-supernet-from (a supernet's shared weights seeded from a state dict of its baseline).
absl::Status Trainer::InheritWeights() {
  if (!config_.init_from.empty()) {
    auto source = RunDir::Open(config_.init_from);
    if (!source.ok()) return source.status();
    if (auto s = source->space().Contains(fixed_arch_); !s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--init-from ", config_.init_from, ": ", s.message()));
    }
    auto source_net = source->LoadSupernet();
    if (!source_net.ok()) return source_net.status();
    auto extracted = (*source_net)->extract(fixed_arch_);
    if (!extracted.ok()) return extracted.status();
    if (auto s = net_->LoadSubnetWeights(fixed_arch_, supernet::StateDictOf(**extracted)); !s.ok())
      return s;
  }
  if (!config_.init_supernet_from.empty()) {
    if (standalone_) {
      return absl::InvalidArgumentError(
          "--init-supernet-from goes with --space (supernet training)");
    }
    auto state = supernet::ReadStateDictFile(config_.init_supernet_from);
    if (!state.ok()) return state.status();
    auto arch = space_->Named("baseline");
    if (!arch.ok()) return arch.status();
    if (auto s = net_->LoadSubnetWeights(*arch, *state); !s.ok()) return s;
  }
  return absl::OkStatus();
}

// The targets (speed/900, power/215) sit near 1, far from a zero-initialised output: at
// AdamW's ~lr per step the output bias alone would need ~1/lr steps to get there, so the
// whole head bends to fit the mean first and the trunk learns nothing meanwhile. Starting
// at the training mean leaves only the part the frames can explain.
absl::Status Trainer::SetOutputBiasToMean() {
  torch::NoGradGuard no_grad;
  auto params = net_->named_parameters();
  torch::Tensor* bias = params.find(kOutputBias);
  if (bias == nullptr) return absl::InternalError(absl::StrCat("the model has no ", kOutputBias));
  bias->copy_(torch::tensor({train_mean_[0], train_mean_[1]}, torch::kFloat));
  return absl::OkStatus();
}

// AdamW; no weight decay on norms and biases (1-D tensors).
void Trainer::InitOptimizer() {
  std::vector<torch::Tensor> decay, no_decay;
  for (auto& p : net_->parameters()) {
    (p.dim() >= 2 ? decay : no_decay).push_back(p);
    params_.push_back(p);
  }
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(
      decay, std::make_unique<torch::optim::AdamWOptions>(
                 torch::optim::AdamWOptions(config_.lr).weight_decay(config_.weight_decay)));
  groups.emplace_back(no_decay, std::make_unique<torch::optim::AdamWOptions>(
                                    torch::optim::AdamWOptions(config_.lr).weight_decay(0)));
  optimizer_ = std::make_unique<torch::optim::AdamW>(std::move(groups));
}

// Resumes where the checkpoint left off: step, data position, optimizer state.
absl::Status Trainer::Resume(const supernet::Checkpoint& checkpoint, const std::string& path) {
  const supernet::TrainingPosition saved = supernet::TrainingPositionOf(checkpoint);
  if (saved.world_size != dist_->world_size()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "--resume: the checkpoint was written by a job of ", saved.world_size,
        " processes, this one has ", dist_->world_size(), "; resume with the same world size"));
  }
  if (auto s = supernet::LoadOptimizerState(checkpoint, path, *optimizer_); !s.ok()) return s;
  position_.step = saved.step;
  position_.epoch = saved.epoch;
  position_.batch_in_epoch = saved.batch_in_epoch;
  net_->to(device_);
  if (dist_->is_primary()) {
    std::fprintf(stderr, "edgeloop train: resuming from step %lld (%s)\n",
                 static_cast<long long>(saved.step), path.c_str());
  }
  return absl::OkStatus();
}

// Validation options and subnets, and rank 0's mean-predictor baseline.
absl::Status Trainer::InitValidation() {
  eval_.files = config_.data_files;
  eval_.split = config_.val_split;
  eval_.max_samples = config_.val_samples;
  eval_.workers = config_.workers;
  val_subnets_ = ValidationSubnets(*space_, standalone_, fixed_arch_);
  if (!config_.val_split.empty() && dist_->is_primary()) {
    auto mse = MeanPredictorMse(train_mean_, eval_, frames_, resolutions_.front());
    if (!mse.ok()) return mse.status();
    mean_predictor_mse_ = *mse;
  }
  return absl::OkStatus();
}

// ---- Step ----------------------------------------------------------------------------

absl::StatusOr<Trainer::StepResult> Trainer::Step() {
  if (auto s = NextBatch(); !s.ok()) return s;
  const auto t0 = std::chrono::steady_clock::now();
  const int64_t step = position_.step;
  StepResult result;
  result.resolution = static_cast<int>(batch_.resolution);
  result.members = standalone_ ? std::vector<Member>{{"arch", fixed_arch_}}
                               : schedule_->Members(step, result.resolution);
  result.lr = lr_schedule_.At(step);
  const double distill_weight = schedule_->DistillWeight(step);
  for (auto& group : optimizer_->param_groups())
    static_cast<torch::optim::AdamWOptions&>(group.options()).lr(result.lr);
  auto losses = TrainMembers(result.members, distill_weight);
  if (!losses.ok()) return losses.status();
  ++position_.step;
  ++position_.batch_in_epoch;
  samples_this_run_ += config_.batch_size;
  result.step = position_.step;
  result.epoch = position_.epoch;
  result.distill_weight = standalone_ ? 0.0 : distill_weight;
  result.losses = std::move(*losses);
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return result;
}

// The next batch into batch_; a new epoch starts when the current one is over.
absl::Status Trainer::NextBatch() {
  while (true) {
    auto more = pipeline_->Next(&batch_);
    if (!more.ok()) return more.status();
    if (*more) return absl::OkStatus();
    ++position_.epoch;
    position_.batch_in_epoch = 0;
    if (auto s = pipeline_->StartEpoch(position_.epoch); !s.ok()) return s;
  }
}

// The sandwich on batch_: every member's loss to the targets, plus for all but the first
// (the largest) the distillation MSE to the first's detached prediction; gradients
// accumulate over the members, then one optimizer step.
absl::StatusOr<std::vector<std::pair<std::string, double>>> Trainer::TrainMembers(
    const std::vector<Member>& members, double distill_weight) {
  std::vector<std::pair<std::string, double>> losses;
  absl::Status status = Guard("training step", [&]() -> absl::Status {
    torch::manual_seed(Rng::Derive(config_.seed ^ kTorchStream,
                                   static_cast<uint64_t>(position_.step) * 4096 + dist_->rank())
                           .Next());
    BatchInputs inputs(batch_, device_);
    const torch::Tensor y = ToTensor(batch_.targets, {batch_.batch_size, 2}, device_);
    if (!config_.head_dropout) net_->eval();  // LayerNorm only: eval() just drops dropout
    optimizer_->zero_grad();
    torch::Tensor teacher;
    for (size_t i = 0; i < members.size(); ++i) {
      if (auto s = net_->set_active(members[i].arch); !s.ok()) return s;
      auto x = inputs.At(static_cast<int>(members[i].arch.resolution()));
      if (!x.ok()) return x.status();
      torch::Tensor pred;
      {
        compat::ScopedCudaAutocast autocast(device_.is_cuda() && config_.amp);
        pred = net_->forward(*x).to(torch::kFloat);
      }
      torch::Tensor loss = torch::mse_loss(pred, y);
      losses.emplace_back(members[i].name, loss.item<double>());
      if (i == 0) {
        teacher = pred.detach();
      } else if (distill_weight > 0) {
        loss = loss + distill_weight * torch::mse_loss(pred, teacher);
      }
      loss.backward();
    }
    return ApplyGradients();
  });
  if (!status.ok()) return status;
  return losses;
}

// Gradients averaged over the ranks, clipped, and the optimizer's step.
absl::Status Trainer::ApplyGradients() {
  std::vector<torch::Tensor> grads;
  for (auto& p : params_)
    if (p.grad().defined()) grads.push_back(p.grad());
  if (auto s = dist_->AllReduceMean(grads); !s.ok()) return s;
  // The norm is computed on every rank from the averaged gradients, so all ranks agree to
  // stop when any rank's loss was not finite; the weights are then left as they were.
  const double max_norm =
      config_.clip_norm > 0 ? config_.clip_norm : std::numeric_limits<double>::infinity();
  const double norm = torch::nn::utils::clip_grad_norm_(params_, max_norm);
  if (!std::isfinite(norm)) {
    return absl::AbortedError(absl::StrCat(
        "training diverged at step ", position_.step + 1,
        ": the gradients are not finite (loss not a number); the weights of this step were not "
        "kept and no checkpoint holds them: resume from the last checkpoint with a lower --lr "
        "or a --clip-norm"));
  }
  optimizer_->step();
  return absl::OkStatus();
}

// ---- Validation, checkpoints, summary ------------------------------------------------

// Validation runs on the CPU copy of the weights (extraction makes a static model there).
absl::StatusOr<Trainer::Validation> Trainer::Validate(const std::vector<Member>& subnets) {
  if (device_.is_cuda()) net_->to(torch::kCPU);
  Validation results;
  absl::Status status = absl::OkStatus();
  for (const Member& m : subnets) {
    auto r = supernet::EvaluateSubnet(*net_, m.arch, eval_);
    if (!r.ok()) {
      status = r.status();
      break;
    }
    results.emplace_back(m.name, *r);
  }
  if (device_.is_cuda()) net_->to(device_);
  if (!status.ok()) return status;
  return results;
}

absl::Status Trainer::SaveCheckpoint() {
  if (!dist_->is_primary()) return absl::OkStatus();
  return run_->SaveTrainingCheckpoint(*net_, *optimizer_, position_, config_.keep_checkpoints);
}

absl::StatusOr<TrainSummary> Trainer::Summarize(bool interrupted) {
  // Every rank waits for rank 0's checkpoint: a rank that exited first could make a launcher
  // (srun --kill-on-bad-exit, torchrun) stop rank 0 while it writes.
  const absl::Status saved = SaveCheckpoint();
  torch::Tensor failed = torch::full({1}, saved.ok() ? 0.0f : 1.0f);
  if (auto s = dist_->AllReduceMean({failed}); !s.ok()) return s;
  if (!saved.ok()) return saved;
  if (failed.item<float>() > 0) return absl::AbortedError("rank 0 could not write its checkpoint");
  if (dist_->is_primary() && !config_.quiet)
    progress_->Finish(interrupted ? "interrupted" : "done");
  TrainSummary summary;
  summary.interrupted = interrupted;
  summary.steps_done = position_.step;
  summary.samples_per_second = samples_this_run_ / std::max(1e-9, SecondsSinceStart());
  // Rank 0 alone evaluates; the other ranks are done.
  if (interrupted || config_.val_split.empty() || !dist_->is_primary()) return summary;
  auto results = Validate(val_subnets_);
  if (!results.ok()) return results.status();
  if (auto s = WriteSummary(*results, &summary); !s.ok()) return s;
  return summary;
}

// summary.json: the validation of every subnet beside the mean predictor's MSE.
absl::Status Trainer::WriteSummary(const Validation& results, TrainSummary* summary) {
  summary->mean_predictor_mse = mean_predictor_mse_;
  std::string mse_json;
  for (const auto& [name, r] : results) {
    summary->val_mse.emplace_back(name, r.mse);
    absl::StrAppend(&mse_json, mse_json.empty() ? "" : ",", JsonQuote(name),
                    ":{\"mse\":", JsonNumberText(r.mse),
                    ",\"rmse_speed_mm_s\":", JsonNumberText(r.rmse_speed_mm_s),
                    ",\"rmse_power_w\":", JsonNumberText(r.rmse_power_w),
                    ",\"samples\":", r.samples, "}");
  }
  const std::string json =
      absl::StrCat("{\"steps\":", position_.step,
                   ",\"samples_per_s\":", JsonNumberText(summary->samples_per_second),
                   ",\"val_split\":", JsonQuote(config_.val_split), ",\"val\":{", mse_json,
                   "},\"mean_predictor_mse\":", JsonNumberText(mean_predictor_mse_), "}\n");
  return WriteFileAtomically(config_.out + "/summary.json", json);
}

// ---- The loop ------------------------------------------------------------------------

absl::StatusOr<TrainSummary> Trainer::Run() {
  bool interrupted = false;
  while (position_.step < total_steps()) {
    absl::StatusOr<bool> stop = AgreeToStop();
    if (!stop.ok()) return stop.status();
    if (*stop) {
      interrupted = true;
      break;
    }
    absl::StatusOr<StepResult> result = Step();
    if (!result.ok()) return result.status();
    if (auto s = AfterStep(*result); !s.ok()) return s;
  }
  return Summarize(interrupted);
}

// All ranks agree on stopping, so they checkpoint the same step.
absl::StatusOr<bool> Trainer::AgreeToStop() {
  torch::Tensor stop = torch::full({1}, Interrupted() ? 1.0f : 0.0f);
  if (auto s = dist_->AllReduceMean({stop}); !s.ok()) return s;
  return stop.item<float>() > 0;
}

// log.jsonl and the progress line (rank 0), periodic validation and checkpoints.
absl::Status Trainer::AfterStep(const StepResult& result) {
  const int64_t step = result.step;
  const bool last = step == total_steps();
  if (dist_->is_primary() && (step % config_.log_every == 0 || last)) LogStep(result);
  if (dist_->is_primary() && !config_.quiet) {
    progress_->Update(
        step, absl::StrFormat("loss(max) %.4f  lr %.2e  res %d", result.losses.front().second,
                              result.lr, result.resolution));
  }
  if (dist_->is_primary() && config_.val_every > 0 && step % config_.val_every == 0 && !last) {
    if (auto s = LogValidation(); !s.ok()) return s;
  }
  if (step % config_.checkpoint_every == 0 && !last) return SaveCheckpoint();
  return absl::OkStatus();
}

// A step line: lr, distillation weight, resolution, each member's loss and canonical key.
void Trainer::LogStep(const StepResult& result) {
  std::string losses, keys;
  for (const auto& [name, value] : result.losses)
    absl::StrAppend(&losses, losses.empty() ? "" : ",", JsonQuote(name), ":",
                    JsonNumberText(value));
  for (const Member& m : result.members)
    absl::StrAppend(&keys, keys.empty() ? "" : ",", JsonQuote(m.name), ":",
                    JsonQuote(arch::CanonicalKey(m.arch)));
  *log_ << absl::StrCat("{\"step\":", result.step, ",\"epoch\":", result.epoch,
                        ",\"lr\":", JsonNumberText(result.lr),
                        ",\"distill_weight\":", JsonNumberText(result.distill_weight),
                        ",\"resolution\":", result.resolution, ",\"loss\":{", losses,
                        "},\"subnets\":{", keys, "},\"samples_per_s\":",
                        JsonNumberText(samples_this_run_ / std::max(1e-9, SecondsSinceStart())),
                        ",\"step_s\":", JsonNumberText(result.seconds), "}\n");
  log_->flush();
}

// The supernet's learning curve: min and max (or the architecture), in log.jsonl.
absl::Status Trainer::LogValidation() {
  const std::vector<Member> subnets(
      val_subnets_.begin(), val_subnets_.begin() + std::min<size_t>(2, val_subnets_.size()));
  auto results = Validate(subnets);
  if (!results.ok()) return results.status();
  std::string mse;
  for (const auto& [name, r] : *results)
    absl::StrAppend(&mse, mse.empty() ? "" : ",", JsonQuote(name), ":", JsonNumberText(r.mse));
  *log_ << absl::StrCat("{\"step\":", position_.step, ",\"val_mse\":{", mse,
                        "},\"mean_predictor_mse\":", JsonNumberText(mean_predictor_mse_), "}\n");
  log_->flush();
  return absl::OkStatus();
}

double Trainer::SecondsSinceStart() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

}  // namespace edgeloop::supernet::train
