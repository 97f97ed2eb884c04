#include "tools/pipeline/pipeline.h"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <memory>
#include <optional>
#include <thread>

#include <torch/torch.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "arch/arch_config.h"
#include "arch/cost_model.h"
#include "arch/space.h"
#include "base/atomic_file.h"
#include "base/interrupt.h"
#include "base/proto_json.h"
#include "data/synth.h"
#include "dist/launch_env.h"
#include "edge_bench/client.h"
#include "predictor/bootstrap.h"
#include "predictor/edge_adapter.h"
#include "predictor/metrics.h"
#include "predictor/model_io.h"
#include "search/search_job.h"
#include "search/search_state.h"
#include "supernet/evaluate.h"
#include "supernet/run_dir.h"
#include "supernet/train/trainer.h"
#include "tools/pipeline/local_edge.h"
#include "tools/pipeline/local_launch.h"
#include "tools/pipeline/report.h"
#include "tools/pipeline/stage_record.pb.h"

namespace edgeloop::pipeline {
namespace {

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

// The predictor's cross-validation metrics as the JSON object the predictor writes them.
absl::StatusOr<google::protobuf::Struct> MetricsObject(const predictor::AccuracyMetrics& m) {
  google::protobuf::Struct object;
  if (absl::Status s = ProtoFromJson(predictor::MetricsToJson(m), "cv", &object); !s.ok()) {
    return s;
  }
  return object;
}

// A recorded stage, or nullopt when it has not finished (or its record is unreadable, in
// which case the stage runs again).
template <typename Record>
std::optional<Record> Recorded(const std::string& path) {
  if (!PathExists(path)) return std::nullopt;
  absl::StatusOr<std::string> text = ReadFile(path);
  Record record;
  if (!text.ok() || !ProtoFromJson(*text, path, &record).ok()) return std::nullopt;
  return record;
}

class Pipeline {
 public:
  explicit Pipeline(const PipelineConfig& config) : config_(config), p_(config.profile) {}

  absl::Status Run();

 private:
  std::string Path(const std::string& rel) const { return config_.out_dir + "/" + rel; }
  // Runs `body` unless the stage is recorded: `body` returns the stage's record, which gets
  // the stage's name and times and is written to DIR/stages/<name>.json (by rank 0).
  template <typename Record, typename Body>
  absl::StatusOr<Record> Stage(const std::string& name, const Body& body);
  // Stage(), storing the record in *out.
  template <typename Record, typename Body>
  absl::Status StageInto(const std::string& name, const Body& body, Record* out) {
    absl::StatusOr<Record> record = Stage<Record>(name, body);
    if (!record.ok()) return record.status();
    *out = *std::move(record);
    return absl::OkStatus();
  }
  absl::Status EnsureEdge();
  absl::StatusOr<DataStage> Data();
  // `all_ranks`: the training joins a multi-process launch (the supernet); otherwise it
  // runs in this process alone.
  absl::StatusOr<TrainStage> TrainRun(const std::string& out, const std::string& space_path,
                                      const std::string& arch, const std::string& init_from,
                                      double epochs, double lr, bool all_ranks);
  absl::StatusOr<PredictorStage> Predictor();
  // The latency the chosen subnet must meet: the baseline's, measured on the edge, divided
  // by the reference's speed-up.
  absl::StatusOr<double> LatencyBudget();
  search::SearchJobConfig SearchJob(double budget_ms) const;
  absl::StatusOr<SearchStage> Search();
  absl::StatusOr<MeasuredSubnet> MeasureSubnet(const std::string& arch_path);
  absl::StatusOr<MeasureStage> Measure();
  absl::StatusOr<TestedSubnet> TestSubnet(const std::string& name, const std::string& run_dir);
  absl::StatusOr<TestStage> Test();
  // Everything after the supernet, on rank 0: the stages up to the test, then the report
  // (`start`: when this run began).
  absl::Status RunAfterSupernet(std::chrono::steady_clock::time_point start, ReportInputs* inputs);
  void Say(const std::string& line) const {
    if (!config_.quiet) std::fprintf(stderr, "\n== pipeline: %s\n", line.c_str());
  }

  const PipelineConfig& config_;
  const Profile& p_;
  std::vector<std::string> files_;
  std::string train_split_, val_split_, test_split_;
  std::unique_ptr<LocalEdgeServer> local_edge_;
  std::vector<std::string> edges_;
  std::unique_ptr<edge_bench::EdgeClient> client_;
  std::vector<std::string> finished_;  // stages run in this invocation
  bool primary_ = true;                // rank 0 of a multi-process launch (or alone)
};

template <typename Record, typename Body>
absl::StatusOr<Record> Pipeline::Stage(const std::string& name, const Body& body) {
  const std::string path = Path("stages/" + name + ".json");
  if (std::optional<Record> done = Recorded<Record>(path)) {
    if (!config_.quiet)
      std::fprintf(stderr, "== pipeline: %s: done earlier (%s)\n", name.c_str(), path.c_str());
    return *std::move(done);
  }
  if (Interrupted()) return absl::CancelledError("pipeline interrupted");
  Say(absl::StrCat("stage ", name));
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<Record> record = body();
  if (!record.ok()) {
    return absl::Status(record.status().code(),
                        absl::StrCat("stage ", name, ": ", record.status().message()));
  }
  record->set_stage(name);
  record->set_seconds(Seconds(start));
  record->set_finished_unix(static_cast<double>(std::time(nullptr)));
  if (primary_) {
    absl::StatusOr<std::string> json = ProtoToJson(*record);
    if (!json.ok()) return json.status();
    if (absl::Status s = WriteFileAtomically(path, *json + "\n"); !s.ok()) return s;
  }
  finished_.push_back(name);
  return record;
}

absl::Status Pipeline::EnsureEdge() {
  if (client_) return absl::OkStatus();
  edges_ = config_.edges;
  if (edges_.empty()) {
    auto server =
        LocalEdgeServer::Start(Path("edge/serve.log"), Path("edge/results_cache.pb"), p_.threads);
    if (!server.ok()) return server.status();
    local_edge_ = std::move(*server);
    edges_ = {local_edge_->url()};
    Say(absl::StrCat("local edge server ", local_edge_->url(), " (log edge/serve.log)"));
  }
  edge_bench::ClientOptions options;
  options.servers = edges_;
  options.token = config_.token;
  options.client_name = "edgeloop pipeline";
  auto client = edge_bench::EdgeClient::Create(options);
  if (!client.ok()) return client.status();
  if (absl::Status s = (*client)->WaitConnected(60); !s.ok()) {
    return absl::UnavailableError(absl::StrCat("edge unreachable: ", s.message()));
  }
  client_ = std::move(*client);
  return absl::OkStatus();
}

absl::StatusOr<DataStage> Pipeline::Data() {
  std::vector<std::string> files = config_.data_files;
  const bool synthetic = files.empty();
  if (synthetic) {
    data::SynthOptions o;
    o.out = Path("data/lpbf.h5");
    o.objects = p_.objects;
    o.layers = p_.layers;
    o.lines_per_layer = p_.lines_per_layer;
    o.frame_size = p_.frame_size;
    o.seed = config_.seed;
    auto lines = data::WriteSynthetic(o);
    if (!lines.ok()) return lines.status();
    files = {o.out};
  }
  DataStage record;
  for (const std::string& file : files) record.add_files(file);
  record.set_synthetic(synthetic);
  record.set_train_split(train_split_);
  record.set_val_split(val_split_);
  record.set_test_split(test_split_);
  return record;
}

absl::StatusOr<TrainStage> Pipeline::TrainRun(const std::string& out, const std::string& space_path,
                                              const std::string& arch, const std::string& init_from,
                                              double epochs, double lr, bool all_ranks) {
  supernet::train::TrainConfig c;
  c.space_path = space_path;
  c.arch = arch;
  c.init_from = init_from;
  c.data_files = files_;
  c.train_split = train_split_;
  c.val_split = val_split_;
  c.out = out;
  c.epochs = epochs;
  c.batch_size = p_.batch_size;
  c.lr = lr;
  c.sandwich.distill_weight = p_.distill_weight;
  c.head_dropout = p_.head_dropout;
  c.seed = config_.seed;
  c.threads = p_.threads;
  c.val_samples = p_.eval_samples;
  c.device = config_.device;
  c.resume = PathExists(out + "/run.json");
  c.quiet = config_.quiet;
  absl::StatusOr<dist::LaunchEnv> env =
      all_ranks ? dist::LaunchEnvFromProcess() : dist::LaunchEnv{};
  if (!env.ok()) return env.status();
  const auto start = std::chrono::steady_clock::now();
  std::optional<LocalRanks> ranks;
  if (all_ranks && config_.nproc > 1 && env->world_size == 1) {
    std::vector<std::string> args = {
        "train",
        "--space",
        space_path,
        "--data",
        absl::StrJoin(files_, ","),
        "--train-split",
        train_split_,
        "--val-split",
        val_split_,
        "--out",
        out,
        "--epochs",
        absl::StrCat(epochs),
        "--batch-size",
        absl::StrCat(c.batch_size),
        "--lr",
        absl::StrCat(lr),
        "--distill-weight",
        absl::StrCat(c.sandwich.distill_weight),
        absl::StrCat("--head-dropout=", c.head_dropout ? "true" : "false"),
        "--seed",
        absl::StrCat(c.seed),
        "--threads",
        absl::StrCat(c.threads),
        "--val-samples",
        absl::StrCat(c.val_samples),
        "--device",
        c.device,
        "--quiet"};
    if (c.resume) args.push_back("--resume");
    auto started = LocalRanks::Start(config_.nproc, args, out + "_rank");
    if (!started.ok()) return started.status();
    ranks.emplace(std::move(*started));
    *env = ranks->rank0();
  }
  absl::StatusOr<supernet::train::TrainSummary> summary = supernet::train::Train(c, *env);
  if (ranks) {
    // Interrupted ranks exit 75: the interruption, not their exit code, is what to report.
    absl::Status s = ranks->Wait();
    if (!s.ok() && summary.ok() && !summary->interrupted) return s;
  }
  if (!summary.ok()) return summary.status();
  if (summary->interrupted)
    return absl::CancelledError("training interrupted (checkpoint written)");
  TrainStage record;
  record.set_run(out);
  record.set_steps(static_cast<double>(summary->steps_done));
  record.set_epochs(epochs);
  record.set_samples_per_second(summary->samples_per_second);
  record.set_train_seconds(Seconds(start));
  for (const auto& [name, mse] : summary->val_mse) (*record.mutable_val_mse())[name] = mse;
  return record;
}

absl::StatusOr<PredictorStage> Pipeline::Predictor() {
  if (absl::Status s = EnsureEdge(); !s.ok()) return s;
  auto space = arch::Space::FromFile(Path("space.textproto"));
  if (!space.ok()) return space.status();
  auto store = predictor::MeasurementStore::Open(Path("measurements.db"));
  if (!store.ok()) return store.status();
  predictor::BootstrapOptions o;
  o.device = client_->Devices().front().fingerprint();
  o.samples = p_.bootstrap_samples;
  o.batches = {1};
  o.seed = config_.seed;
  o.folds = std::min(5, std::max(2, p_.bootstrap_samples / 4));
  o.params.seed = config_.seed;
  predictor::EdgeMeasurerOptions mo;
  mo.device = o.device;
  mo.settings = MeasurementSettingsOf(p_);
  auto result = predictor::RunBootstrap(*space, o, predictor::MakeEdgeMeasurer(client_.get(), mo),
                                        store->get());
  if (!result.ok()) return result.status();
  if (absl::Status s = MakeDirectories(Path("predictor")); !s.ok()) return s;
  if (absl::Status s = predictor::SaveModel(result->model, Path("predictor/model.json")); !s.ok())
    return s;
  absl::StatusOr<google::protobuf::Struct> cv = MetricsObject(result->cv);
  if (!cv.ok()) return cv.status();
  PredictorStage record;
  record.set_model(Path("predictor/model.json"));
  record.set_device(o.device);
  record.set_measured(static_cast<double>(result->measured));
  *record.mutable_cv() = *std::move(cv);
  *record.mutable_edge() = client_->Devices().front();
  return record;
}

absl::StatusOr<double> Pipeline::LatencyBudget() {
  auto baseline_text = ReadFile(Path("baseline.json"));
  if (!baseline_text.ok()) return baseline_text.status();
  auto baseline_arch = arch::ArchFromJson(*baseline_text);
  if (!baseline_arch.ok()) return baseline_arch.status();
  edge_bench::MeasureRequest request;
  *request.mutable_arch() = *baseline_arch;
  request.add_batch_sizes(1);
  *request.mutable_settings() = MeasurementSettingsOf(p_);
  auto baseline_latency = client_->Measure(request, 3600);
  if (!baseline_latency.ok()) return baseline_latency.status();
  const double budget_ms = baseline_latency->batches(0).median_ms() / kReferenceLatencyRatio;
  Say(absl::StrFormat(
      "baseline %.4g ms on the edge: choosing the most accurate subnet under %.4g ms",
      baseline_latency->batches(0).median_ms(), budget_ms));
  return budget_ms;
}

search::SearchJobConfig Pipeline::SearchJob(double budget_ms) const {
  search::SearchJobConfig job;
  job.run_dir = Path("supernet");
  job.out_dir = Path("search");
  job.accuracy.files = files_;
  job.accuracy.split = val_split_;
  job.accuracy.samples = p_.eval_samples;
  job.accuracy.progress = !config_.quiet;
  job.latency.model_path = Path("predictor/model.json");
  job.latency.db_path = Path("measurements.db");
  job.latency.edges = edges_;
  job.latency.token = config_.token;
  job.latency.batch = 1;
  job.latency.settings = MeasurementSettingsOf(p_);
  job.search.population = p_.population;
  job.search.generations = p_.generations;
  job.search.measure_per_generation = p_.measure_per_generation;
  job.search.seed = config_.seed;
  job.search.max_latency_ms = budget_ms;
  job.search.resume = search::HasSearchState(Path("search"));
  job.search.progress = !config_.quiet;
  job.threads = p_.threads;
  job.single_process = true;  // the other ranks of a launch left after the supernet stage
  return job;
}

absl::StatusOr<SearchStage> Pipeline::Search() {
  if (absl::Status s = EnsureEdge(); !s.ok()) return s;
  // The chosen subnet is the most accurate one at least as much faster than the baseline as
  // the reference's model was (8.8x): the baseline is measured first to set that budget.
  absl::StatusOr<double> budget_ms = LatencyBudget();
  if (!budget_ms.ok()) return budget_ms.status();
  auto done = search::RunSearchJob(SearchJob(*budget_ms));
  if (!done.ok()) return done.status();
  const search::SearchResult& r = done->result;
  if (r.chosen < 0) return absl::InternalError("the search chose no subnet");
  if (!r.message.empty()) Say(r.message);
  int measured = 0;
  for (const auto& c : r.archive) measured += c.measured();
  SearchStage record;
  record.set_dir(Path("search"));
  record.set_evaluated(static_cast<int>(r.archive.size()));
  record.set_measured(measured);
  record.set_front_size(static_cast<int>(r.front.size()));
  record.set_verified(r.verified);
  record.set_latency_budget_ms(*budget_ms);
  record.set_budget_met(r.feasible);
  record.set_search_seconds(r.seconds);
  *record.mutable_chosen() = search::CandidateToRecord(r.archive[r.chosen]);
  return record;
}

absl::StatusOr<MeasuredSubnet> Pipeline::MeasureSubnet(const std::string& arch_path) {
  auto text = ReadFile(arch_path);
  if (!text.ok()) return text.status();
  auto arch = arch::ArchFromJson(*text);
  if (!arch.ok()) return arch.status();
  edge_bench::MeasureRequest request;
  *request.mutable_arch() = *arch;
  for (int b : p_.measure_batches) request.add_batch_sizes(b);
  *request.mutable_settings() = MeasurementSettingsOf(p_);
  auto result = client_->Measure(request, 3600);
  if (!result.ok()) return result.status();
  MeasuredSubnet subnet;
  subnet.set_key(arch::CanonicalKey(*arch));
  for (const auto& b : result->batches()) {
    BatchLatency& latency = (*subnet.mutable_batches())[b.batch_size()];
    latency.set_median_ms(b.median_ms());
    latency.set_p90_ms(b.p90_ms());
    latency.set_runs(b.runs());
  }
  return subnet;
}

absl::StatusOr<MeasureStage> Pipeline::Measure() {
  if (absl::Status s = EnsureEdge(); !s.ok()) return s;
  MeasureStage record;
  absl::StatusOr<MeasuredSubnet> chosen = MeasureSubnet(Path("search/chosen/model.json"));
  if (!chosen.ok()) return chosen.status();
  *record.mutable_chosen() = *std::move(chosen);
  absl::StatusOr<MeasuredSubnet> baseline = MeasureSubnet(Path("baseline.json"));
  if (!baseline.ok()) return baseline.status();
  *record.mutable_baseline() = *std::move(baseline);
  *record.mutable_edge() = client_->Devices().front();
  return record;
}

// `name`: "chosen" (fine-tuned), "chosen_inherited" (the chosen subnet in the supernet's
// run) or "baseline"; `run_dir` holds its weights.
absl::StatusOr<TestedSubnet> Pipeline::TestSubnet(const std::string& name,
                                                  const std::string& run_dir) {
  auto run = supernet::RunDir::Open(run_dir);
  if (!run.ok()) return run.status();
  auto net = run->LoadSupernet();
  if (!net.ok()) return net.status();
  ArchConfig arch = run->space().Max();
  if (name == "chosen_inherited") {
    auto text = ReadFile(Path("search/chosen/model.json"));
    if (!text.ok()) return text.status();
    auto chosen = arch::ArchFromJson(*text);
    if (!chosen.ok()) return chosen.status();
    arch = *chosen;
  }
  supernet::EvalOptions o;
  o.files = files_;
  o.split = test_split_;
  o.progress = !config_.quiet;
  torch::set_num_threads(p_.threads);
  auto result = supernet::EvaluateSubnet(**net, arch, o);
  if (!result.ok()) return result.status();
  TestedSubnet tested;
  tested.set_key(arch::CanonicalKey(arch));
  tested.set_mse(result->mse);
  tested.set_rmse_speed_mm_s(result->rmse_speed_mm_s);
  tested.set_rmse_power_w(result->rmse_power_w);
  tested.set_samples(static_cast<double>(result->samples));
  tested.set_params(static_cast<double>(arch::CountParams(arch)));
  tested.set_flops(static_cast<double>(arch::ComputeCost(arch).flops));
  return tested;
}

absl::StatusOr<TestStage> Pipeline::Test() {
  TestStage record;
  const struct {
    const char* name;
    const char* run;
    TestedSubnet* result;
  } subnets[] = {{"chosen", "finetune", record.mutable_chosen()},
                 {"chosen_inherited", "supernet", record.mutable_chosen_inherited()},
                 {"baseline", "baseline", record.mutable_baseline()}};
  for (const auto& subnet : subnets) {
    absl::StatusOr<TestedSubnet> tested = TestSubnet(subnet.name, Path(subnet.run));
    if (!tested.ok()) return tested.status();
    *subnet.result = *std::move(tested);
  }
  return record;
}

absl::Status Pipeline::RunAfterSupernet(std::chrono::steady_clock::time_point start,
                                        ReportInputs* in) {
  absl::Status s = StageInto(
      "predictor", [&] { return Predictor(); }, &in->predictor);
  if (s.ok())
    s = StageInto(
        "search", [&] { return Search(); }, &in->search);
  if (s.ok()) {
    s = StageInto(
        "finetune",
        [&] {
          return TrainRun(Path("finetune"), "", Path("search/chosen/model.json"), Path("supernet"),
                          p_.finetune_epochs, p_.finetune_lr, false);
        },
        &in->finetune);
  }
  if (s.ok()) {
    s = StageInto(
        "baseline",
        [&] {
          return TrainRun(Path("baseline"), "", Path("baseline.json"), "", p_.epochs, p_.lr, false);
        },
        &in->baseline);
  }
  if (s.ok())
    s = StageInto(
        "measure", [&] { return Measure(); }, &in->measure);
  if (s.ok())
    s = StageInto(
        "test", [&] { return Test(); }, &in->test);
  if (!s.ok()) return s;
  client_.reset();
  local_edge_.reset();
  in->this_run_seconds = Seconds(start);
  if (s = WriteReport(*in); !s.ok()) return s;
  Say(absl::StrCat("report: ", Path("report.md")));
  return absl::OkStatus();
}

absl::Status Pipeline::Run() {
  for (const char* dir : {"", "/stages", "/data", "/edge"}) {
    if (absl::Status s = MakeDirectories(config_.out_dir + dir); !s.ok()) return s;
  }
  train_split_ = config_.train_split.empty() ? p_.train_split : config_.train_split;
  val_split_ = config_.val_split.empty() ? p_.val_split : config_.val_split;
  test_split_ = config_.test_split.empty() ? p_.test_split : config_.test_split;
  // The space and the baseline this directory works with, written once.
  if (!PathExists(Path("space.textproto"))) {
    auto space = arch::Space::FromText(p_.space_text, p_.name);
    if (!space.ok()) return space.status();
    if (absl::Status s = WriteFileAtomically(Path("space.textproto"), p_.space_text); !s.ok())
      return s;
  }
  if (!PathExists(Path("baseline.json"))) {
    ArchConfig baseline = arch::BaselineArch();
    if (p_.baseline_resolution > 0) baseline.set_resolution(p_.baseline_resolution);
    if (p_.baseline_frames > 0) baseline.set_frames(p_.baseline_frames);
    if (absl::Status s =
            WriteFileAtomically(Path("baseline.json"), arch::ArchToJson(baseline) + "\n");
        !s.ok())
      return s;
  }
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<dist::LaunchEnv> env = dist::LaunchEnvFromProcess();
  if (!env.ok()) return env.status();
  primary_ = env->rank == 0;
  if (env->rank != 0 && config_.data_files.empty()) {
    return absl::InvalidArgumentError(
        "a multi-process pipeline needs --data (each rank reads the same files)");
  }

  ReportInputs inputs;
  inputs.out_dir = config_.out_dir;
  inputs.profile = p_.name;
  auto data = Stage<DataStage>("data", [&] { return Data(); });
  if (!data.ok()) return data.status();
  files_.assign(data->files().begin(), data->files().end());
  inputs.data = *std::move(data);
  auto supernet_stage = Stage<TrainStage>("supernet", [&] {
    return TrainRun(Path("supernet"), Path("space.textproto"), "", "", p_.epochs, p_.lr, true);
  });
  if (!supernet_stage.ok()) return supernet_stage.status();
  inputs.supernet = *std::move(supernet_stage);
  if (env->rank != 0) return absl::OkStatus();  // the other ranks only train
  return RunAfterSupernet(start, &inputs);
}

}  // namespace

absl::Status RunPipeline(const PipelineConfig& config) {
  if (config.out_dir.empty()) return absl::InvalidArgumentError("--out is required");
  if (!config.data_files.empty() &&
      (config.train_split.empty() || config.val_split.empty() || config.test_split.empty())) {
    return absl::InvalidArgumentError(
        "with --data, give --train-split, --val-split and --test-split (the test split should "
        "hold objects the training split does not)");
  }
  Pipeline pipeline(config);
  return pipeline.Run();
}

}  // namespace edgeloop::pipeline
