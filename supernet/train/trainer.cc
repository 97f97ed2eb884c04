#include "supernet/train/trainer.h"

#include <ATen/autocast_mode.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <fstream>
#include <filesystem>
#include <map>
#include <memory>
#include <sstream>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "arch/arch_config.h"
#include "arch/space.h"
#include "base/atomic_file.h"
#include "base/interrupt.h"
#include "base/json.h"
#include "base/progress.h"
#include "base/rng.h"
#include "data/pipeline.h"
#include "supernet/evaluate.h"
#include "supernet/run_dir.h"
#include "supernet/state_dict.h"
#include "supernet/supernet.h"
#include "supernet/train/distributed.h"
#include "supernet/train/lr_schedule.h"
#include "supernet/video_swin.h"

namespace edgeloop::train {
namespace {

using supernet::RunDir;

// Streams (of Rng::Derive) so that the draws of different purposes never coincide.
constexpr uint64_t kSubnetStream = 0x53554254;      // "SUBT"
constexpr uint64_t kResolutionStream = 0x5245534f;  // "RESO"
constexpr uint64_t kTorchStream = 0x54524348;       // "TRCH"

constexpr char kOutputBias[] = "linear_layers.2.bias";  // the regression head's last bias

// A stand-alone architecture trains as the supernet of a space holding only it: the same
// run directory, checkpoints, evaluation and export serve both kinds of run.
std::string SingleArchSpaceText(const ArchConfig& a) {
  const auto list = [](const auto& v) { return absl::StrCat("[", absl::StrJoin(v, ", "), "]"); };
  std::string text = absl::StrCat(
      "# The one architecture of a stand-alone run.\nname: \"arch_", CanonicalKey(a),
      "\"\npatch_size { t: [", a.patch_size(0), "] h: [", a.patch_size(1), "] w: [",
      a.patch_size(2), "] }\nembed_dim: [", a.embed_dim(), "]\n");
  for (int s = 0; s < kNumStages; ++s)
    absl::StrAppend(&text, "stage { depth: [", a.depths(s), "] num_heads: [", a.num_heads(s),
                    "] }\n");
  absl::StrAppend(&text, "mlp_ratio: [", absl::StrFormat("%.10g", a.mlp_ratio()),
                  "]\nwindow_size: ", list(a.window_size()), "\nresolution: [", a.resolution(),
                  "]\nframes: [", a.frames(), "]\n");
  return text;
}

int64_t ExtraInt(const supernet::Checkpoint& ckpt, const std::string& key, int64_t fallback) {
  auto it = ckpt.extras.find(key);
  return it != ckpt.extras.end() && it->second.isInt() ? it->second.toInt() : fallback;
}

struct Member {
  std::string name;
  ArchConfig arch;
};

ArchConfig AtResolution(ArchConfig a, int resolution) {
  a.set_resolution(resolution);
  return a;
}

// Progressive shrinking: phase 0 trains the largest subnet only (resolution stays elastic);
// phase 1 also opens depth and MLP ratio; phase 2 opens everything.
ArchConfig Restrict(const ArchConfig& a, const ArchConfig& max, int phase) {
  if (phase >= 2) return a;
  ArchConfig r = AtResolution(max, a.resolution());
  if (phase == 1) {
    *r.mutable_depths() = a.depths();
    r.set_mlp_ratio(a.mlp_ratio());
  }
  return r;
}

int ShrinkPhase(const TrainConfig& c, int64_t step, int64_t total) {
  if (!c.progressive_shrinking) return 2;
  const double f = static_cast<double>(step) / static_cast<double>(std::max<int64_t>(1, total));
  int phase = 0;
  for (double boundary : c.shrink_phases)
    if (f >= boundary) ++phase;
  return std::min(phase, 2);
}

// The resolutions drawn from at `step`: all of `choices` (in the space's order), or with
// progressive resolution the smallest ones opened so far.
std::vector<int> OpenResolutions(const std::vector<int>& choices, double progressive, int64_t step,
                                 int64_t total) {
  if (progressive <= 0 || choices.size() == 1) return choices;
  std::vector<int> sorted = choices;
  std::sort(sorted.begin(), sorted.end());
  const double f = static_cast<double>(step) / static_cast<double>(std::max<int64_t>(1, total));
  const size_t later = sorted.size() - 1;
  size_t open = 1;
  while (open < sorted.size() && f >= progressive * static_cast<double>(open) / later) ++open;
  if (open == sorted.size()) return choices;
  sorted.resize(open);
  return sorted;
}

int ResolutionFor(const std::vector<int>& choices, uint64_t seed, int64_t epoch, int64_t index) {
  if (choices.size() == 1) return choices[0];
  Rng r = Rng::Derive(seed ^ kResolutionStream, static_cast<uint64_t>(epoch) * 1000003ULL +
                                                    static_cast<uint64_t>(index));
  return choices[r.Uniform(choices.size())];
}

// resolution 0: every member keeps its own resolution (max the largest, min the smallest).
std::vector<Member> SandwichMembers(const Space& space, const TrainConfig& c, int64_t step,
                                    int resolution, int phase) {
  auto at = [resolution](ArchConfig a) { return resolution > 0 ? AtResolution(a, resolution) : a; };
  const ArchConfig max = at(space.Max());
  std::vector<Member> members = {{"max", max}};
  if (phase == 0) return members;
  members.push_back({"min", Restrict(at(space.Min()), max, phase)});
  Rng rng = Rng::Derive(c.seed ^ kSubnetStream, static_cast<uint64_t>(step));
  for (int k = 0; k < c.random_subnets; ++k) {
    ArchConfig a = at(space.Sample(&rng));
    members.push_back({absl::StrCat("rand", k + 1), Restrict(a, max, phase)});
  }
  return members;
}

// The in-place distillation weight of `step`: 0 for the first distill_warmup of the steps,
// then a linear ramp to distill_weight over as many steps again.
double DistillWeightAt(const TrainConfig& c, int64_t step, int64_t total) {
  const double warmup = c.distill_warmup * static_cast<double>(total);
  if (warmup <= 0) return c.distill_weight;
  const double ramp = (static_cast<double>(step) - warmup) / warmup;
  return c.distill_weight * std::clamp(ramp, 0.0, 1.0);
}

// The subnets a run's validation reports: its architecture, or the space's min, max and
// (when the space names one inside it) baseline.
std::vector<Member> ValidationSubnets(const Space& space, bool standalone,
                                      const ArchConfig& fixed_arch) {
  if (standalone) return {{"arch", fixed_arch}};
  std::vector<Member> subnets = {{"min", space.Min()}, {"max", space.Max()}};
  auto baseline = space.Named("baseline");
  if (baseline.ok() && space.Contains(*baseline).ok()) subnets.push_back({"baseline", *baseline});
  return subnets;
}

// The targets of a pipeline's whole split, normalised as its batches carry them (labels
// only, no frames are read).
std::vector<std::array<float, 2>> SplitTargets(const data::Pipeline& p) {
  std::vector<std::array<float, 2>> targets(static_cast<size_t>(p.split_size()));
  for (size_t i = 0; i < targets.size(); ++i) {
    const data::ScanLine& line =
        p.reader().lines()[static_cast<size_t>(p.line_of_sample(static_cast<int64_t>(i)))];
    data::Targets(line.speed, line.power, p.transform(), targets[i].data());
  }
  return targets;
}

std::array<double, 2> MeanTarget(const data::Pipeline& p) {
  std::array<double, 2> sum = {0, 0};
  const std::vector<std::array<float, 2>> targets = SplitTargets(p);
  for (const auto& t : targets) {
    sum[0] += t[0];
    sum[1] += t[1];
  }
  const double n = static_cast<double>(std::max<size_t>(1, targets.size()));
  return {sum[0] / n, sum[1] / n};
}

// The validation MSE of predicting `train_mean` (the training split's mean target): where a
// model that learnt nothing but the output bias sits (the samples EvaluateSubnet takes).
absl::StatusOr<double> MeanPredictorMse(const std::array<double, 2>& train_mean,
                                        const supernet::EvalOptions& eval, int frames,
                                        int resolution) {
  data::PipelineOptions po = supernet::EvalPipelineOptions(eval, frames, resolution);
  po.workers = 0;  // labels only: no batch is built
  auto val = data::Pipeline::Open(po);
  if (!val.ok()) return val.status();
  const std::vector<std::array<float, 2>> targets = SplitTargets(**val);
  double sum = 0;
  for (const auto& t : targets)
    sum += std::pow(t[0] - train_mean[0], 2) + std::pow(t[1] - train_mean[1], 2);
  return sum / (2.0 * static_cast<double>(std::max<size_t>(1, targets.size())));
}

template <typename T>
absl::Status Guard(const char* what, T&& fn) {
  try {
    return fn();
  } catch (const std::exception& e) {
    std::string msg = e.what();
    return absl::InternalError(absl::StrCat(what, ": ", msg.substr(0, msg.find('\n'))));
  }
}

torch::Tensor ToTensor(const std::vector<float>& data, std::vector<int64_t> shape,
                       const torch::Device& device) {
  return torch::from_blob(const_cast<float*>(data.data()), shape, torch::kFloat)
      .to(device, /*non_blocking=*/false, /*copy=*/true);
}

absl::Status CheckConfig(const TrainConfig& c) {
  if (c.space_path.empty() == c.arch.empty())
    return absl::InvalidArgumentError("give exactly one of --space (supernet) and --arch (stand-alone)");
  if (c.data_files.empty()) return absl::InvalidArgumentError("--data is required");
  if (c.out.empty()) return absl::InvalidArgumentError("--out is required");
  if (c.steps <= 0 && c.epochs <= 0)
    return absl::InvalidArgumentError("give --steps > 0 or --epochs > 0");
  if (c.batch_size < 1) return absl::InvalidArgumentError("--batch-size must be >= 1");
  if (!(c.lr > 0)) return absl::InvalidArgumentError("--lr must be > 0");
  if (c.random_subnets < 0) return absl::InvalidArgumentError("--random-subnets must be >= 0");
  if (c.device != "cpu" && c.device != "cuda")
    return absl::InvalidArgumentError(absl::StrCat("--device '", c.device, "': cpu or cuda"));
  if (c.device == "cuda" && !torch::cuda::is_available())
    return absl::FailedPreconditionError("--device cuda: this LibTorch sees no CUDA device");
  if (!(c.distill_warmup >= 0 && c.distill_warmup <= 0.5))
    return absl::InvalidArgumentError("--distill-warmup must be a fraction of the steps in [0, 0.5]");
  if (c.val_every < 0) return absl::InvalidArgumentError("--val-every must be >= 0");
  if (c.val_every > 0 && c.val_split.empty())
    return absl::InvalidArgumentError("--val-every needs --val-split");
  if (c.member_resolutions && c.space_path.empty())
    return absl::InvalidArgumentError("--member-resolutions goes with --space (supernet training)");
  if (!(c.progressive_resolution >= 0 && c.progressive_resolution <= 1))
    return absl::InvalidArgumentError(absl::StrCat("--progressive-resolution ",
                                                   c.progressive_resolution, " is not in [0, 1]"));
  if (!c.init_from.empty() && c.arch.empty())
    return absl::InvalidArgumentError("--init-from goes with --arch (stand-alone training)");
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<TrainSummary> Train(const TrainConfig& c, const LaunchEnv& env) {
  if (auto s = CheckConfig(c); !s.ok()) return s;
  torch::set_num_threads(std::max(1, c.threads));
  const torch::Device device(c.device == "cuda" ? torch::kCUDA : torch::kCPU);

  // What is trained: a space (supernet) or one architecture (a space holding only it).
  const bool standalone = c.space_path.empty();
  ArchConfig fixed_arch;
  std::string space_text;
  std::string space_origin = c.space_path;
  if (standalone) {
    auto a = ResolveArch(c.arch, nullptr);
    if (!a.ok()) return a.status();
    fixed_arch = *a;
    space_text = SingleArchSpaceText(fixed_arch);
    space_origin = "--arch";
  } else {
    auto text = ReadFile(c.space_path);
    if (!text.ok())
      return absl::InvalidArgumentError(absl::StrCat("--space: ", text.status().message()));
    space_text = *text;
  }
  auto space_or = Space::FromText(space_text, space_origin);
  if (!space_or.ok()) return space_or.status();
  const Space space = std::move(*space_or);
  if (space.spec().frames_size() != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "space '", space.name(), "' has several frame counts; training needs exactly one"));
  }
  const int frames = space.spec().frames(0);
  const std::vector<int> resolutions(space.spec().resolution().begin(),
                                     space.spec().resolution().end());

  // The job.
  Distributed::Options dist_options;
  dist_options.use_cuda = device.is_cuda();
  auto dist_or = Distributed::Init(env, dist_options);
  if (!dist_or.ok()) return dist_or.status();
  Distributed& dist = **dist_or;
  if (c.batch_size % dist.world_size() != 0) {
    return absl::InvalidArgumentError(absl::StrCat("--batch-size ", c.batch_size,
                                                   " is not divisible by the world size ",
                                                   dist.world_size()));
  }

  // Data: this rank's shard; each batch at the resolution of its step.
  struct StepSchedule {
    int64_t batches_per_epoch = 0;
    int64_t total_steps = 0;
  };
  auto schedule = std::make_shared<StepSchedule>();
  data::PipelineOptions train_opts;
  train_opts.files = c.data_files;
  train_opts.split = c.train_split;
  train_opts.batch_size = c.batch_size / dist.world_size();
  train_opts.frames = frames;
  const bool member_resolutions = c.member_resolutions && resolutions.size() > 1;
  if (member_resolutions) {  // the batch at the largest resolution, and at every other
    train_opts.resolution = *std::max_element(resolutions.begin(), resolutions.end());
    for (int r : resolutions)
      if (r != train_opts.resolution) train_opts.also_resolutions.push_back(r);
  } else {
    train_opts.resolution = resolutions.front();
    // A batch's step is its position in the run: epoch x batches per epoch + index (the
    // pipeline hands out each batch once, one per step). Both are known once it is open,
    // before StartEpoch starts the workers that call this.
    train_opts.resolution_for_batch = [resolutions, seed = c.seed, schedule,
                                       progressive = c.progressive_resolution](int64_t epoch,
                                                                               int64_t index) {
      const int64_t step = epoch * schedule->batches_per_epoch + index;
      return ResolutionFor(OpenResolutions(resolutions, progressive, step, schedule->total_steps),
                           seed, epoch, index);
    };
  }
  train_opts.train = true;
  train_opts.seed = c.seed;
  train_opts.workers = c.workers;
  train_opts.rank = dist.rank();
  train_opts.world_size = dist.world_size();
  auto pipeline_or = data::Pipeline::Open(train_opts);
  if (!pipeline_or.ok()) return pipeline_or.status();
  data::Pipeline& pipeline = **pipeline_or;
  if (pipeline.batches_per_epoch() == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "training split '", c.train_split, "' has ", pipeline.num_samples(),
        " samples per rank, fewer than one batch of ", train_opts.batch_size));
  }
  if (!pipeline.labelled())
    return absl::InvalidArgumentError("the training data carries no labels (laser_params)");
  const int64_t total_steps =
      c.steps > 0 ? c.steps
                  : static_cast<int64_t>(std::ceil(c.epochs * pipeline.batches_per_epoch()));
  schedule->batches_per_epoch = pipeline.batches_per_epoch();
  schedule->total_steps = total_steps;
  WarmupCosine lr_schedule{c.lr, c.warmup_steps >= 0 ? c.warmup_steps : total_steps / 20,
                           total_steps, c.final_lr_fraction};

  // The run directory: rank 0 creates it (or checks the one to resume); the others open it
  // once everyone knows rank 0 succeeded.
  absl::Status setup = absl::OkStatus();
  if (dist.is_primary()) {
    auto existing = RunDir::Open(c.out);
    if (existing.ok()) {
      if (!c.resume) {
        setup = absl::AlreadyExistsError(absl::StrCat(
            c.out, " already holds a run; pass --resume to continue it or choose another --out"));
      } else if (supernet::SpaceFingerprint(existing->space()) !=
                 supernet::SpaceFingerprint(space)) {
        setup = absl::InvalidArgumentError(absl::StrCat(
            "--resume: ", c.out, " was trained for space '", existing->space().name(),
            "', not for '", space.name(), "' (another space or architecture)"));
      }
    } else if (existing.status().code() != absl::StatusCode::kNotFound) {
      setup = existing.status();  // a damaged or foreign run directory: never overwrite it
    } else {
      const std::string space_file = c.out + ".space.tmp";
      std::error_code ec;
      std::filesystem::create_directories(std::filesystem::path(c.out).parent_path().empty()
                                              ? std::filesystem::path(".")
                                              : std::filesystem::path(c.out).parent_path(),
                                          ec);
      setup = WriteFileAtomically(space_file, space_text);
      if (setup.ok()) setup = RunDir::Create(c.out, space_file, c.seed).status();
      std::filesystem::remove(space_file, ec);
    }
  }
  torch::Tensor failed = torch::full({1}, setup.ok() ? 0.0f : 1.0f);
  if (auto s = dist.AllReduceMean({failed}); !s.ok()) return s;
  if (failed.item<float>() > 0) {
    if (!setup.ok()) return setup;
    return absl::AbortedError("rank 0 could not set up the run directory");
  }
  auto run = RunDir::Open(c.out);
  if (!run.ok()) return run.status();

  // The model: the run's newest intact checkpoint (step 0 holds the initial weights).
  auto net_or = supernet::MakeSupernet(space, c.seed);
  if (!net_or.ok()) return net_or.status();
  supernet::Supernet net = *net_or;
  std::string ckpt_path;
  auto ckpt = run->ReadNewestCheckpoint(&ckpt_path);
  if (!ckpt.ok()) return ckpt.status();
  if (auto s = supernet::LoadCheckpointInto(*ckpt, *net); !s.ok()) return s;
  const bool resuming = ckpt->step > 0;
  if (resuming && !c.resume) {
    return absl::FailedPreconditionError(
        absl::StrCat(c.out, " already holds trained steps; pass --resume"));
  }

  if (!resuming && !c.init_from.empty()) {
    auto source = RunDir::Open(c.init_from);
    if (!source.ok()) return source.status();
    if (auto s = source->space().Contains(fixed_arch); !s.ok())
      return absl::InvalidArgumentError(absl::StrCat("--init-from ", c.init_from, ": ", s.message()));
    auto source_net = source->LoadSupernet();
    if (!source_net.ok()) return source_net.status();
    auto extracted = (*source_net)->extract(fixed_arch);
    if (!extracted.ok()) return extracted.status();
    if (auto s = net->LoadSubnetWeights(fixed_arch, supernet::StateDictOf(**extracted)); !s.ok())
      return s;
  }
  if (!resuming && !c.init_supernet_from.empty()) {
    if (standalone)
      return absl::InvalidArgumentError("--init-supernet-from goes with --space (supernet training)");
    auto state = supernet::ReadStateDictFile(c.init_supernet_from);
    if (!state.ok()) return state.status();
    auto arch = space.Named("baseline");
    if (!arch.ok()) return arch.status();
    if (auto s = net->LoadSubnetWeights(*arch, *state); !s.ok()) return s;
  }
  const std::array<double, 2> train_mean = MeanTarget(pipeline);
  if (!resuming && c.init_from.empty() && c.init_supernet_from.empty() && c.output_bias_to_mean) {
    // The targets (speed/900, power/215) sit near 1, far from a zero-initialised output: at
    // AdamW's ~lr per step the output bias alone would need ~1/lr steps to get there, so
    // the whole head bends to fit the mean first and the trunk learns nothing meanwhile.
    // Starting at the training mean leaves only the part the frames can explain.
    torch::NoGradGuard no_grad;
    auto params = net->named_parameters();
    torch::Tensor* bias = params.find(kOutputBias);
    if (bias == nullptr) return absl::InternalError(absl::StrCat("the model has no ", kOutputBias));
    bias->copy_(torch::tensor({train_mean[0], train_mean[1]}, torch::kFloat));
  }
  net->to(device);
  net->train();

  // Optimiser: no weight decay on norms and biases (1-D tensors).
  std::vector<torch::Tensor> decay, no_decay, all_params;
  for (auto& p : net->parameters()) {
    (p.dim() >= 2 ? decay : no_decay).push_back(p);
    all_params.push_back(p);
  }
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(decay, std::make_unique<torch::optim::AdamWOptions>(
                                 torch::optim::AdamWOptions(c.lr).weight_decay(c.weight_decay)));
  groups.emplace_back(no_decay, std::make_unique<torch::optim::AdamWOptions>(
                                    torch::optim::AdamWOptions(c.lr).weight_decay(0)));
  torch::optim::AdamW optimizer(std::move(groups));


  // Resume where the checkpoint left off: step, data position, optimizer state.
  int64_t step = 0, epoch = 0, batch_in_epoch = 0;
  if (resuming) {
    const int64_t world = ExtraInt(*ckpt, "world_size", -1);
    if (world != dist.world_size()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "--resume: the checkpoint was written by a job of ", world, " processes, this one has ",
          dist.world_size(), "; resume with the same world size"));
    }
    step = ckpt->step;
    epoch = ExtraInt(*ckpt, "epoch", 0);
    batch_in_epoch = ExtraInt(*ckpt, "batch", 0);
    auto opt = ckpt->extras.find("optimizer");
    if (opt == ckpt->extras.end() || !opt->second.isTensor())
      return absl::DataLossError(absl::StrCat(ckpt_path, ": no optimizer state"));
    if (auto s = Guard("loading the optimizer state", [&] {
          torch::Tensor bytes = opt->second.toTensor().contiguous();
          std::istringstream in(std::string(static_cast<const char*>(bytes.data_ptr()),
                                            static_cast<size_t>(bytes.numel())));
          torch::serialize::InputArchive archive;
          archive.load_from(in);
          optimizer.load(archive);
          return absl::OkStatus();
        });
        !s.ok())
      return s;
    net->to(device);
    if (dist.is_primary())
      std::fprintf(stderr, "edgeloop train: resuming from step %lld (%s)\n",
                   static_cast<long long>(step), ckpt_path.c_str());
  }
  if (auto s = pipeline.StartEpoch(epoch); !s.ok()) return s;
  if (batch_in_epoch > 0) {
    if (auto s = pipeline.SkipBatches(batch_in_epoch); !s.ok()) return s;
  }

  auto save = [&](int64_t at_step) -> absl::Status {
    if (!dist.is_primary()) return absl::OkStatus();
    std::ostringstream opt_bytes;
    absl::Status serialised = Guard("saving the optimizer state", [&] {
      torch::serialize::OutputArchive archive;
      optimizer.save(archive);
      archive.save_to(opt_bytes);
      return absl::OkStatus();
    });
    if (!serialised.ok()) return serialised;
    const std::string bytes = opt_bytes.str();
    std::map<std::string, c10::IValue> extras;
    extras["epoch"] = epoch;
    extras["batch"] = batch_in_epoch;
    extras["world_size"] = static_cast<int64_t>(dist.world_size());
    extras["global_batch"] = static_cast<int64_t>(c.batch_size);
    // Bytes as a uint8 tensor keep the checkpoint loadable by Python's torch.load.
    extras["optimizer"] = torch::from_blob(const_cast<char*>(bytes.data()),
                                           {static_cast<int64_t>(bytes.size())}, torch::kUInt8)
                              .clone();
    return run->SaveCheckpoint(*net, at_step, extras, c.keep_checkpoints);
  };

  supernet::EvalOptions eval;
  eval.files = c.data_files;
  eval.split = c.val_split;
  eval.max_samples = c.val_samples;
  eval.workers = c.workers;
  const std::vector<Member> val_subnets = ValidationSubnets(space, standalone, fixed_arch);
  // Validation runs on the CPU copy of the weights (extraction makes a static model there).
  auto validate = [&](const std::vector<Member>& subnets,
                      std::vector<std::pair<std::string, supernet::EvalResult>>* results) {
    if (device.is_cuda()) net->to(torch::kCPU);
    absl::Status status = absl::OkStatus();
    for (const Member& m : subnets) {
      auto r = supernet::EvaluateSubnet(*net, m.arch, eval);
      if (!r.ok()) {
        status = r.status();
        break;
      }
      results->emplace_back(m.name, *r);
    }
    if (device.is_cuda()) net->to(device);
    return status;
  };

  double mean_predictor = 0;
  if (!c.val_split.empty() && dist.is_primary()) {
    auto m = MeanPredictorMse(train_mean, eval, frames, resolutions.front());
    if (!m.ok()) return m.status();
    mean_predictor = *m;
  }

  std::unique_ptr<std::ofstream> log;
  if (dist.is_primary()) log = std::make_unique<std::ofstream>(c.out + "/log.jsonl", std::ios::app);
  Progress progress(standalone ? "train" : "train supernet", total_steps, "steps", 2.0);
  TrainSummary summary;
  const auto start_time = std::chrono::steady_clock::now();
  int64_t samples_this_run = 0;
  data::Batch batch;
  std::vector<std::pair<std::string, double>> last_losses;
  if (c.device == "cuda" && c.amp) at::autocast::set_autocast_gpu_dtype(at::kBFloat16);

  while (step < total_steps) {
    // All ranks agree on stopping, so they checkpoint the same step.
    torch::Tensor stop = torch::full({1}, Interrupted() ? 1.0f : 0.0f);
    if (auto s = dist.AllReduceMean({stop}); !s.ok()) return s;
    if (stop.item<float>() > 0) {
      summary.interrupted = true;
      break;
    }
    auto more = pipeline.Next(&batch);
    if (!more.ok()) return more.status();
    if (!*more) {
      ++epoch;
      batch_in_epoch = 0;
      if (auto s = pipeline.StartEpoch(epoch); !s.ok()) return s;
      continue;
    }
    const auto t0 = std::chrono::steady_clock::now();
    const int resolution = static_cast<int>(batch.resolution);
    std::vector<Member> members;
    if (standalone) {
      members = {{"arch", fixed_arch}};
    } else {
      members = SandwichMembers(space, c, step, member_resolutions ? 0 : resolution,
                                ShrinkPhase(c, step, total_steps));
      if (member_resolutions) {  // resolutions not open yet run at the largest open one
        const std::vector<int> open =
            OpenResolutions(resolutions, c.progressive_resolution, step, total_steps);
        const int largest_open = *std::max_element(open.begin(), open.end());
        for (Member& m : members)
          if (m.arch.resolution() > largest_open) m.arch.set_resolution(largest_open);
      }
    }
    const double lr = lr_schedule.At(step);
    const double distill_weight = DistillWeightAt(c, step, total_steps);
    for (auto& group : optimizer.param_groups())
      static_cast<torch::optim::AdamWOptions&>(group.options()).lr(lr);

    absl::Status step_status = Guard("training step", [&]() -> absl::Status {
      torch::manual_seed(Rng::Derive(c.seed ^ kTorchStream,
                                     static_cast<uint64_t>(step) * 4096 + dist.rank())
                             .Next());
      // The inputs at each member's resolution, built once per step.
      std::map<int, torch::Tensor> inputs;
      auto input_at = [&](int r) -> absl::StatusOr<torch::Tensor> {
        if (auto it = inputs.find(r); it != inputs.end()) return it->second;
        const std::vector<float>* floats = &batch.inputs;
        if (r != resolution) {
          auto it = batch.inputs_at.find(r);
          if (it == batch.inputs_at.end())
            return absl::InternalError(absl::StrCat("no inputs at resolution ", r, " in the batch"));
          floats = &it->second;
        }
        return inputs[r] = ToTensor(*floats, {batch.batch_size, 1, batch.frames, r, r}, device);
      };
      auto y = ToTensor(batch.targets, {batch.batch_size, 2}, device);
      if (!c.head_dropout) net->eval();  // LayerNorm only: eval() just drops dropout
      optimizer.zero_grad();
      torch::Tensor teacher;
      last_losses.clear();
      for (size_t i = 0; i < members.size(); ++i) {
        if (auto s = net->set_active(members[i].arch); !s.ok()) return s;
        auto x = input_at(static_cast<int>(members[i].arch.resolution()));
        if (!x.ok()) return x.status();
        if (c.device == "cuda" && c.amp) at::autocast::set_enabled(true);
        torch::Tensor pred = net->forward(*x).to(torch::kFloat);
        if (c.device == "cuda" && c.amp) {
          at::autocast::set_enabled(false);
          at::autocast::clear_cache();
        }
        torch::Tensor loss = torch::mse_loss(pred, y);
        last_losses.emplace_back(members[i].name, loss.item<double>());
        if (i == 0) {
          teacher = pred.detach();
        } else if (distill_weight > 0) {
          loss = loss + distill_weight * torch::mse_loss(pred, teacher);
        }
        loss.backward();
      }
      std::vector<torch::Tensor> grads;
      for (auto& p : all_params)
        if (p.grad().defined()) grads.push_back(p.grad());
      if (auto s = dist.AllReduceMean(grads); !s.ok()) return s;
      if (c.clip_norm > 0) torch::nn::utils::clip_grad_norm_(all_params, c.clip_norm);
      optimizer.step();
      return absl::OkStatus();
    });
    if (!step_status.ok()) return step_status;
    ++step;
    ++batch_in_epoch;
    samples_this_run += c.batch_size;
    const double step_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_time).count();
    if (dist.is_primary() && (step % c.log_every == 0 || step == total_steps)) {
      std::string losses, keys;
      for (const auto& [name, value] : last_losses)
        absl::StrAppend(&losses, losses.empty() ? "" : ",", JsonQuote(name), ":",
                        JsonNumberText(value));
      for (const Member& m : members)
        absl::StrAppend(&keys, keys.empty() ? "" : ",", JsonQuote(m.name), ":",
                        JsonQuote(CanonicalKey(m.arch)));
      *log << absl::StrCat("{\"step\":", step, ",\"epoch\":", epoch, ",\"lr\":",
                           JsonNumberText(lr), ",\"distill_weight\":",
                           JsonNumberText(standalone ? 0.0 : distill_weight),
                           ",\"resolution\":", resolution, ",\"loss\":{",
                           losses, "},\"subnets\":{", keys, "},\"samples_per_s\":",
                           JsonNumberText(samples_this_run / std::max(1e-9, elapsed)),
                           ",\"step_s\":", JsonNumberText(step_seconds), "}\n");
      log->flush();
    }
    if (dist.is_primary() && !c.quiet) {
      progress.Update(step, absl::StrFormat("loss(max) %.4f  lr %.2e  res %d",
                                            last_losses.front().second, lr, resolution));
    }
    if (dist.is_primary() && c.val_every > 0 && step % c.val_every == 0 && step < total_steps) {
      // The supernet's learning curve: min and max (or the architecture), in log.jsonl.
      const std::vector<Member> subnets(
          val_subnets.begin(), val_subnets.begin() + std::min<size_t>(2, val_subnets.size()));
      std::vector<std::pair<std::string, supernet::EvalResult>> results;
      if (auto s = validate(subnets, &results); !s.ok()) return s;
      std::string mse;
      for (const auto& [name, r] : results)
        absl::StrAppend(&mse, mse.empty() ? "" : ",", JsonQuote(name), ":", JsonNumberText(r.mse));
      *log << absl::StrCat("{\"step\":", step, ",\"val_mse\":{", mse,
                           "},\"mean_predictor_mse\":", JsonNumberText(mean_predictor), "}\n");
      log->flush();
    }
    if (step % c.checkpoint_every == 0 && step < total_steps) {
      if (auto s = save(step); !s.ok()) return s;
    }
  }
  if (auto s = save(step); !s.ok()) return s;
  if (dist.is_primary() && !c.quiet) progress.Finish(summary.interrupted ? "interrupted" : "done");
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_time).count();
  summary.steps_done = step;
  summary.samples_per_second = samples_this_run / std::max(1e-9, elapsed);
  if (summary.interrupted || c.val_split.empty()) return summary;

  // Rank 0 alone evaluates; the other ranks are done.
  if (!dist.is_primary()) return summary;
  std::vector<std::pair<std::string, supernet::EvalResult>> results;
  if (auto s = validate(val_subnets, &results); !s.ok()) return s;
  summary.mean_predictor_mse = mean_predictor;
  std::string mse_json;
  for (const auto& [name, r] : results) {
    summary.val_mse.emplace_back(name, r.mse);
    absl::StrAppend(&mse_json, mse_json.empty() ? "" : ",", JsonQuote(name), ":{\"mse\":",
                    JsonNumberText(r.mse), ",\"rmse_speed_mm_s\":",
                    JsonNumberText(r.rmse_speed_mm_s), ",\"rmse_power_w\":",
                    JsonNumberText(r.rmse_power_w), ",\"samples\":", r.samples, "}");
  }
  const std::string json = absl::StrCat(
      "{\"steps\":", step, ",\"samples_per_s\":", JsonNumberText(summary.samples_per_second),
      ",\"val_split\":", JsonQuote(c.val_split), ",\"val\":{", mse_json,
      "},\"mean_predictor_mse\":", JsonNumberText(mean_predictor), "}\n");
  if (auto s = WriteFileAtomically(c.out + "/summary.json", json); !s.ok()) return s;
  return summary;
}

}  // namespace edgeloop::train
