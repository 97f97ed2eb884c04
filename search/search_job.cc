#include "search/search_job.h"

#include <chrono>
#include <cstdio>

#include <torch/torch.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/atomic_file.h"
#include "dist/launch_env.h"
#include "dist/process_group.h"
#include "search/distributed_accuracy.h"
#include "search/outputs.h"
#include "search/search_state.h"
#include "supernet/run_dir.h"
#include "supernet/torchscript_export.h"

namespace edgeloop::search {
namespace {

absl::Status ExportChosen(supernet::SupernetImpl& net, const SearchResult& result,
                          const std::string& dir) {
  if (result.chosen < 0) return absl::OkStatus();
  if (absl::Status s = MakeDirectories(dir); !s.ok()) return s;
  const Candidate& c = result.archive[result.chosen];
  absl::StatusOr<supernet::VideoSwin> model = net.extract(c.arch);
  if (!model.ok()) return model.status();
  (*model)->eval();
  if (absl::Status s = supernet::ExportTorchScript(**model, dir + "/model.pt"); !s.ok()) return s;
  absl::StatusOr<std::string> json = CandidateToJson(c);
  if (!json.ok()) return json.status();
  return WriteFileAtomically(dir + "/candidate.json", *json + "\n");
}

// What a saved search must match to be resumed: everything its scores and choices depend on.
std::string SearchIdentity(const SearchJobConfig& config, const SearchOptions& options,
                           const supernet::RunDir& run, const std::string& checkpoint) {
  return absl::StrCat("space ", supernet::SpaceFingerprint(run.space()), " checkpoint ", checkpoint,
                      " data ", absl::StrJoin(config.accuracy.files, ","), " split ",
                      config.accuracy.split, " samples ", config.accuracy.samples, " batch ",
                      config.latency.batch, " population ", options.population, " mutation ",
                      options.mutation_prob, " crossover ", options.crossover_prob, " max-latency ",
                      options.max_latency_ms);
}

}  // namespace

absl::StatusOr<SearchJobResult> RunSearchJob(const SearchJobConfig& config) {
  if (config.threads < 1) return absl::InvalidArgumentError("--threads must be >= 1");
  torch::set_num_threads(config.threads);
  absl::StatusOr<supernet::RunDir> run = supernet::RunDir::Open(config.run_dir);
  if (!run.ok()) return run.status();
  absl::StatusOr<std::string> checkpoint = run->LatestCheckpointPath();
  if (!checkpoint.ok()) return checkpoint.status();
  absl::StatusOr<supernet::Supernet> net = run->LoadSupernet();
  if (!net.ok()) return net.status();

  absl::StatusOr<dist::LaunchEnv> env = dist::LaunchEnvFromProcess();
  if (!env.ok()) return env.status();
  std::unique_ptr<dist::Distributed> group;
  if (env->world_size > 1 && !config.single_process) {
    dist::Distributed::Options group_options;
    // Serving ranks wait through rank 0's edge rounds between generations.
    group_options.timeout = std::chrono::minutes(30);
    absl::StatusOr<std::unique_ptr<dist::Distributed>> joined =
        dist::Distributed::Init(*env, group_options);
    if (!joined.ok()) return joined.status();
    group = std::move(*joined);
  }
  if (group && !group->is_primary()) {
    SupernetAccuracyOptions share = config.accuracy;
    share.interruptible = false;  // rank 0 decides when the search stops
    share.progress = false;
    absl::StatusOr<std::unique_ptr<AccuracyEvaluator>> local =
        CreateSupernetAccuracy(net->get(), share);
    if (!local.ok()) return local.status();
    DistributedAccuracy service(group.get(), local->get());
    if (absl::Status s = service.Serve(); !s.ok()) return s;
    SearchJobResult served;
    served.served = true;
    return served;
  }

  SearchJobResult job;
  auto warn = [&](const std::string& w) {
    job.warnings.push_back(w);
    if (config.warn) {
      config.warn(w);
    } else {
      std::fprintf(stderr, "edgeloop search: warning: %s\n", w.c_str());
    }
  };
  std::vector<std::string> warnings;
  absl::StatusOr<std::unique_ptr<LatencySource>> latency =
      CreatePredictorLatency(config.latency, &warnings);
  if (!latency.ok()) return latency.status();
  for (const std::string& w : warnings) warn(w);
  absl::StatusOr<std::unique_ptr<AccuracyEvaluator>> accuracy =
      CreateSupernetAccuracy(net->get(), config.accuracy);
  if (!accuracy.ok()) return accuracy.status();

  if (config.search.resume && !HasSearchState(config.out_dir)) {
    return absl::NotFoundError(absl::StrCat("--resume: ", config.out_dir,
                                            " holds no saved search; start it without --resume"));
  }
  if (absl::Status s = MakeDirectories(config.out_dir); !s.ok()) return s;
  if (!config.search.resume && HasSearchState(config.out_dir)) {
    return absl::AlreadyExistsError(
        absl::StrCat(config.out_dir,
                     " holds a search already; continue it with --resume or choose another --out"));
  }
  SearchOptions options = config.search;
  options.out_dir = config.out_dir;
  if (absl::StatusOr<ArchConfig> baseline = run->space().Named("baseline"); baseline.ok()) {
    options.baseline = *baseline;
  }
  options.identity = SearchIdentity(config, options, *run, *checkpoint);
  std::unique_ptr<DistributedAccuracy> spread;
  AccuracyEvaluator* evaluator = accuracy->get();
  if (group) {
    spread = std::make_unique<DistributedAccuracy>(group.get(), accuracy->get());
    evaluator = spread.get();
  }
  absl::StatusOr<SearchResult> result = RunSearch(run->space(), options, evaluator, latency->get());
  if (spread) {
    if (absl::Status s = spread->Shutdown(); !s.ok() && result.ok()) return s;
  }
  if (!result.ok()) return result.status();
  job.device = (*latency)->Device();

  OutputContext context;
  context.strategy = StrategyName(options.strategy);
  context.device = job.device;
  context.batch = config.latency.batch;
  context.max_latency_ms = options.max_latency_ms;
  if (absl::Status s = WriteFrontCsv(*result, config.out_dir + "/front.csv"); !s.ok()) return s;
  if (absl::Status s = WriteFrontJson(*result, context, config.out_dir + "/front.json"); !s.ok())
    return s;
  if (absl::Status s = PlotPareto(*result, context, config.out_dir + "/pareto.png"); !s.ok()) {
    warn(std::string(s.message()));
  }
  if (config.export_chosen) {
    if (absl::Status s = ExportChosen(**net, *result, config.out_dir + "/chosen"); !s.ok())
      return s;
  }
  job.result = std::move(*result);
  return job;
}

}  // namespace edgeloop::search
