#include "tools/pipeline/pipeline.h"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <functional>
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
#include "base/json.h"
#include "data/synth.h"
#include "edge_bench/client.h"
#include "google/protobuf/util/json_util.h"
#include "predictor/bootstrap.h"
#include "predictor/edge_adapter.h"
#include "predictor/metrics.h"
#include "search/search_job.h"
#include "supernet/evaluate.h"
#include "supernet/run_dir.h"
#include "supernet/train/launch_env.h"
#include "supernet/train/trainer.h"
#include "tools/pipeline/local_edge.h"
#include "tools/pipeline/local_launch.h"
#include "tools/pipeline/report.h"

namespace edgeloop::pipeline {
namespace {

using google::protobuf::Struct;

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

std::string DeviceJson(const edge::DeviceInfo& d) {
  google::protobuf::util::JsonPrintOptions o;
  o.preserve_proto_field_names = true;
  std::string out;
  if (!google::protobuf::util::MessageToJsonString(d, &out, o).ok()) return "{}";
  return out;
}

class Pipeline {
 public:
  explicit Pipeline(const PipelineConfig& config) : config_(config), p_(config.profile) {}

  absl::Status Run();

 private:
  std::string Path(const std::string& rel) const { return config_.out_dir + "/" + rel; }
  // Runs `body` unless the stage is recorded; `body` returns the JSON members of its record.
  absl::StatusOr<Struct> Stage(const std::string& name,
                               const std::function<absl::StatusOr<std::string>()>& body);
  absl::Status EnsureEdge();
  absl::StatusOr<std::string> Data();
  // `all_ranks`: the training joins a multi-process launch (the supernet); otherwise it
  // runs in this process alone.
  absl::StatusOr<std::string> TrainRun(const std::string& out, const std::string& space_path,
                                       const std::string& arch, const std::string& init_from,
                                       double epochs, double lr, bool all_ranks);
  absl::StatusOr<std::string> Predictor();
  absl::StatusOr<std::string> Search();
  absl::StatusOr<std::string> Measure();
  absl::StatusOr<std::string> Test();
  void Say(const std::string& line) const {
    if (!config_.quiet) std::fprintf(stderr, "\n== pipeline: %s\n", line.c_str());
  }

  const PipelineConfig& config_;
  const Profile& p_;
  std::vector<std::string> files_;
  std::string train_split_, val_split_, test_split_;
  std::unique_ptr<LocalEdgeServer> local_edge_;
  std::vector<std::string> edges_;
  std::unique_ptr<edge::EdgeClient> client_;
  std::vector<std::string> finished_;  // stages run in this invocation
  bool primary_ = true;                // rank 0 of a multi-process launch (or alone)
};

absl::StatusOr<Struct> Pipeline::Stage(const std::string& name,
                                       const std::function<absl::StatusOr<std::string>()>& body) {
  const std::string record = Path("stages/" + name + ".json");
  if (PathExists(record)) {
    absl::StatusOr<std::string> text = ReadFile(record);
    if (!text.ok()) return text.status();
    absl::StatusOr<Struct> parsed = ParseJsonObject(*text, record);
    if (parsed.ok()) {
      if (!config_.quiet) std::fprintf(stderr, "== pipeline: %s: done earlier (%s)\n", name.c_str(), record.c_str());
      return parsed;
    }
  }
  if (Interrupted()) return absl::CancelledError("pipeline interrupted");
  Say(absl::StrCat("stage ", name));
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<std::string> members = body();
  if (!members.ok()) {
    return absl::Status(members.status().code(),
                        absl::StrCat("stage ", name, ": ", members.status().message()));
  }
  const std::string text = absl::StrCat("{\"stage\":", JsonQuote(name), ",\"seconds\":",
                                        JsonNumberText(Seconds(start)), ",\"finished_unix\":",
                                        static_cast<int64_t>(std::time(nullptr)),
                                        members->empty() ? "" : ",", *members, "}\n");
  if (primary_) {
    if (absl::Status s = WriteFileAtomically(record, text); !s.ok()) return s;
  }
  finished_.push_back(name);
  return ParseJsonObject(text, record);
}

absl::Status Pipeline::EnsureEdge() {
  if (client_) return absl::OkStatus();
  edges_ = config_.edges;
  if (edges_.empty()) {
    auto server = LocalEdgeServer::Start(Path("edge/serve.log"), Path("edge/results_cache.pb"), p_.threads);
    if (!server.ok()) return server.status();
    local_edge_ = std::move(*server);
    edges_ = {local_edge_->url()};
    Say(absl::StrCat("local edge server ", local_edge_->url(), " (log edge/serve.log)"));
  }
  edge::ClientOptions options;
  options.servers = edges_;
  options.token = config_.token;
  options.client_name = "edgeloop pipeline";
  auto client = edge::EdgeClient::Create(options);
  if (!client.ok()) return client.status();
  if (absl::Status s = (*client)->WaitConnected(60); !s.ok()) {
    return absl::UnavailableError(absl::StrCat("edge unreachable: ", s.message()));
  }
  client_ = std::move(*client);
  return absl::OkStatus();
}

absl::StatusOr<std::string> Pipeline::Data() {
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
  return absl::StrCat("\"files\":", JsonStringArray(files), ",\"synthetic\":", synthetic ? "true" : "false",
                      ",\"train_split\":", JsonQuote(train_split_), ",\"val_split\":", JsonQuote(val_split_),
                      ",\"test_split\":", JsonQuote(test_split_));
}

absl::StatusOr<std::string> Pipeline::TrainRun(const std::string& out, const std::string& space_path,
                                               const std::string& arch, const std::string& init_from,
                                               double epochs, double lr, bool all_ranks) {
  train::TrainConfig c;
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
  c.distill_weight = p_.distill_weight;
  c.head_dropout = p_.head_dropout;
  c.seed = config_.seed;
  c.threads = p_.threads;
  c.val_samples = p_.eval_samples;
  c.device = config_.device;
  c.resume = PathExists(out + "/run.json");
  c.quiet = config_.quiet;
  absl::StatusOr<train::LaunchEnv> env = all_ranks ? train::LaunchEnvFromProcess() : train::LaunchEnv{};
  if (!env.ok()) return env.status();
  const auto start = std::chrono::steady_clock::now();
  std::optional<LocalRanks> ranks;
  if (all_ranks && config_.nproc > 1 && env->world_size == 1) {
    std::vector<std::string> args = {
        "train", "--space", space_path, "--data", absl::StrJoin(files_, ","),
        "--train-split", train_split_, "--val-split", val_split_, "--out", out,
        "--epochs", absl::StrCat(epochs), "--batch-size", absl::StrCat(c.batch_size),
        "--lr", absl::StrCat(lr), "--distill-weight", absl::StrCat(c.distill_weight),
        absl::StrCat("--head-dropout=", c.head_dropout ? "true" : "false"),
        "--seed", absl::StrCat(c.seed), "--threads", absl::StrCat(c.threads),
        "--val-samples", absl::StrCat(c.val_samples), "--device", c.device, "--quiet"};
    if (c.resume) args.push_back("--resume");
    auto started = LocalRanks::Start(config_.nproc, args, out + "_rank");
    if (!started.ok()) return started.status();
    ranks.emplace(std::move(*started));
    *env = ranks->rank0();
  }
  absl::StatusOr<train::TrainSummary> summary = train::Train(c, *env);
  if (ranks) {
    if (absl::Status s = ranks->Wait(); !s.ok() && summary.ok()) return s;
  }
  if (!summary.ok()) return summary.status();
  if (summary->interrupted) return absl::CancelledError("training interrupted (checkpoint written)");
  std::vector<std::string> val;
  for (const auto& [name, mse] : summary->val_mse) val.push_back(absl::StrCat(JsonQuote(name), ":", JsonNumberText(mse)));
  return absl::StrCat("\"run\":", JsonQuote(out), ",\"steps\":", summary->steps_done, ",\"epochs\":",
                      JsonNumberText(epochs), ",\"samples_per_second\":", JsonNumberText(summary->samples_per_second),
                      ",\"train_seconds\":", JsonNumberText(Seconds(start)), ",\"val_mse\":{",
                      absl::StrJoin(val, ","), "}");
}

absl::StatusOr<std::string> Pipeline::Predictor() {
  if (absl::Status s = EnsureEdge(); !s.ok()) return s;
  auto space = Space::FromFile(Path("space.textproto"));
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
  auto result = predictor::RunBootstrap(*space, o, predictor::MakeEdgeMeasurer(client_.get(), mo), store->get());
  if (!result.ok()) return result.status();
  if (absl::Status s = MakeDirectories(Path("predictor")); !s.ok()) return s;
  if (absl::Status s = result->model.Save(Path("predictor/model.json")); !s.ok()) return s;
  return absl::StrCat("\"model\":", JsonQuote(Path("predictor/model.json")), ",\"device\":",
                      JsonQuote(o.device), ",\"measured\":", result->measured, ",\"cv\":",
                      predictor::MetricsToJson(result->cv), ",\"edge\":",
                      DeviceJson(client_->Devices().front()));
}

absl::StatusOr<std::string> Pipeline::Search() {
  if (absl::Status s = EnsureEdge(); !s.ok()) return s;
  // The chosen subnet is the most accurate one at least as much faster than the baseline as
  // the reference's model was (8.8x): the baseline is measured first to set that budget.
  auto baseline_text = ReadFile(Path("baseline.json"));
  if (!baseline_text.ok()) return baseline_text.status();
  auto baseline_arch = ArchFromJson(*baseline_text);
  if (!baseline_arch.ok()) return baseline_arch.status();
  edge::MeasureRequest request;
  *request.mutable_arch() = *baseline_arch;
  request.add_batch_sizes(1);
  *request.mutable_settings() = MeasurementSettingsOf(p_);
  auto baseline_latency = client_->Measure(request, 3600);
  if (!baseline_latency.ok()) return baseline_latency.status();
  const double budget_ms = baseline_latency->batches(0).median_ms() / kReferenceLatencyRatio;
  Say(absl::StrFormat("baseline %.4g ms on the edge: choosing the most accurate subnet under %.4g ms",
                      baseline_latency->batches(0).median_ms(), budget_ms));
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
  job.search.resume = PathExists(Path("search/state.json"));
  job.search.progress = !config_.quiet;
  job.threads = p_.threads;
  job.single_process = true;  // the other ranks of a launch left after the supernet stage
  auto done = search::RunSearchJob(job);
  if (!done.ok()) return done.status();
  const search::SearchResult& r = done->result;
  if (r.chosen < 0) return absl::InternalError("the search chose no subnet");
  if (!r.message.empty()) Say(r.message);
  int measured = 0;
  for (const auto& c : r.archive) measured += c.measured();
  return absl::StrCat("\"dir\":", JsonQuote(Path("search")), ",\"evaluated\":", r.archive.size(),
                      ",\"measured\":", measured, ",\"front_size\":", r.front.size(),
                      ",\"verified\":", r.verified ? "true" : "false",
                      ",\"latency_budget_ms\":", JsonNumberText(budget_ms),
                      ",\"budget_met\":", r.feasible ? "true" : "false", ",\"search_seconds\":",
                      JsonNumberText(r.seconds), ",\"chosen\":", search::CandidateToJson(r.archive[r.chosen]));
}

absl::StatusOr<std::string> Pipeline::Measure() {
  if (absl::Status s = EnsureEdge(); !s.ok()) return s;
  std::vector<std::string> parts;
  for (const auto& [name, path] : {std::pair<std::string, std::string>{"chosen", Path("search/chosen/model.json")},
                                   {"baseline", Path("baseline.json")}}) {
    auto text = ReadFile(path);
    if (!text.ok()) return text.status();
    auto arch = ArchFromJson(*text);
    if (!arch.ok()) return arch.status();
    edge::MeasureRequest request;
    *request.mutable_arch() = *arch;
    for (int b : p_.measure_batches) request.add_batch_sizes(b);
    *request.mutable_settings() = MeasurementSettingsOf(p_);
    auto result = client_->Measure(request, 3600);
    if (!result.ok()) return result.status();
    std::vector<std::string> batches;
    for (const auto& b : result->batches()) {
      batches.push_back(absl::StrCat("\"", b.batch_size(), "\":{\"median_ms\":", JsonNumberText(b.median_ms()),
                                     ",\"p90_ms\":", JsonNumberText(b.p90_ms()), ",\"runs\":", b.runs(), "}"));
    }
    parts.push_back(absl::StrCat(JsonQuote(name), ":{\"key\":", JsonQuote(CanonicalKey(*arch)), ",\"batches\":{",
                                 absl::StrJoin(batches, ","), "}}"));
  }
  return absl::StrCat(absl::StrJoin(parts, ","), ",\"edge\":", DeviceJson(client_->Devices().front()));
}

absl::StatusOr<std::string> Pipeline::Test() {
  std::vector<std::string> parts;
  const std::pair<std::string, std::string> runs[] = {
      {"chosen", Path("finetune")}, {"chosen_inherited", Path("supernet")}, {"baseline", Path("baseline")}};
  for (const auto& [name, dir] : runs) {
    auto run = supernet::RunDir::Open(dir);
    if (!run.ok()) return run.status();
    auto net = run->LoadSupernet();
    if (!net.ok()) return net.status();
    ArchConfig arch = run->space().Max();
    if (name == "chosen_inherited") {
      auto text = ReadFile(Path("search/chosen/model.json"));
      if (!text.ok()) return text.status();
      auto chosen = ArchFromJson(*text);
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
    parts.push_back(absl::StrCat(JsonQuote(name), ":{\"key\":", JsonQuote(CanonicalKey(arch)),
                                 ",\"mse\":", JsonNumberText(result->mse), ",\"rmse_speed_mm_s\":",
                                 JsonNumberText(result->rmse_speed_mm_s), ",\"rmse_power_w\":",
                                 JsonNumberText(result->rmse_power_w), ",\"samples\":", result->samples,
                                 ",\"params\":", CountParams(arch), ",\"flops\":", ComputeCost(arch).flops, "}"));
  }
  return absl::StrJoin(parts, ",");
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
    auto space = Space::FromText(p_.space_text, p_.name);
    if (!space.ok()) return space.status();
    if (absl::Status s = WriteFileAtomically(Path("space.textproto"), p_.space_text); !s.ok()) return s;
  }
  if (!PathExists(Path("baseline.json"))) {
    ArchConfig baseline = BaselineArch();
    if (p_.baseline_resolution > 0) baseline.set_resolution(p_.baseline_resolution);
    if (p_.baseline_frames > 0) baseline.set_frames(p_.baseline_frames);
    if (absl::Status s = WriteFileAtomically(Path("baseline.json"), ArchToJson(baseline) + "\n"); !s.ok()) return s;
  }
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<train::LaunchEnv> env = train::LaunchEnvFromProcess();
  if (!env.ok()) return env.status();
  primary_ = env->rank == 0;
  if (env->rank != 0 && config_.data_files.empty()) {
    return absl::InvalidArgumentError(
        "a multi-process pipeline needs --data (each rank reads the same files)");
  }

  auto data = Stage("data", [&] { return Data(); });
  if (!data.ok()) return data.status();
  for (const auto& v : JsonField(*data, "files")->list_value().values()) files_.push_back(v.string_value());

  auto supernet_stage = Stage("supernet", [&] {
    return TrainRun(Path("supernet"), Path("space.textproto"), "", "", p_.epochs, p_.lr, true);
  });
  if (!supernet_stage.ok()) return supernet_stage.status();
  if (env->rank != 0) return absl::OkStatus();  // the other ranks only train

  auto predictor_stage = Stage("predictor", [&] { return Predictor(); });
  if (!predictor_stage.ok()) return predictor_stage.status();
  auto search_stage = Stage("search", [&] { return Search(); });
  if (!search_stage.ok()) return search_stage.status();
  auto finetune = Stage("finetune", [&] {
    return TrainRun(Path("finetune"), "", Path("search/chosen/model.json"), Path("supernet"),
                    p_.finetune_epochs, p_.finetune_lr, false);
  });
  if (!finetune.ok()) return finetune.status();
  auto baseline = Stage("baseline", [&] {
    return TrainRun(Path("baseline"), "", Path("baseline.json"), "", p_.epochs, p_.lr, false);
  });
  if (!baseline.ok()) return baseline.status();
  auto measure = Stage("measure", [&] { return Measure(); });
  if (!measure.ok()) return measure.status();
  auto test = Stage("test", [&] { return Test(); });
  if (!test.ok()) return test.status();
  client_.reset();
  local_edge_.reset();

  ReportInputs inputs;
  inputs.out_dir = config_.out_dir;
  inputs.profile = p_.name;
  inputs.data = *data;
  inputs.supernet = *supernet_stage;
  inputs.predictor = *predictor_stage;
  inputs.search = *search_stage;
  inputs.finetune = *finetune;
  inputs.baseline = *baseline;
  inputs.measure = *measure;
  inputs.test = *test;
  inputs.this_run_seconds = Seconds(start);
  if (absl::Status s = WriteReport(inputs); !s.ok()) return s;
  Say(absl::StrCat("report: ", Path("report.md")));
  return absl::OkStatus();
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
