// `edgeloop search`: multi-objective subnet search over a trained supernet, with latencies
// predicted and verified live on edge servers. Thin over search/search_job.h.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "base/atomic_file.h"
#include "base/interrupt.h"
#include "search/search_job.h"
#include "tools/cli/command.h"
#include "tools/measurement_flags.h"

namespace edgeloop {
namespace {

using cli::FlagSet;

void PrintCandidate(const char* label, const search::Candidate& c) {
  std::printf("  %-9s %-44s val MSE %.5f  (%.1f mm/s, %.2f W)  latency %.3f ms %s\n", label,
              c.key.c_str(), c.val_mse, c.rmse_speed_mm_s, c.rmse_power_w, c.latency_ms(),
              c.measured() ? "measured" : "PREDICTED");
}

// Prints the front, the chosen subnet and the outputs; the exit code.
int PrintSearchResult(const search::SearchJobResult& done, const std::string& objective,
                      const std::string& out_dir, bool exported) {
  const search::SearchResult& result = done.result;
  int evaluated = 0, measured = 0;
  for (const auto& c : result.archive) {
    evaluated += !std::isnan(c.val_mse);
    measured += c.measured();
  }
  std::printf("search (%s) on %s: %d subnets scored, %d measured live, %.1f s\n", objective.c_str(),
              done.device.c_str(), evaluated, measured, result.seconds);
  std::printf("front (%zu, %s):\n", result.front.size(),
              result.verified ? "every latency measured" : "some latencies predicted only");
  for (int i : result.front)
    PrintCandidate(i == result.chosen ? "* chosen" : "", result.archive[i]);
  if (result.chosen >= 0 &&
      std::find(result.front.begin(), result.front.end(), result.chosen) == result.front.end()) {
    PrintCandidate("chosen", result.archive[result.chosen]);
  }
  if (result.baseline) PrintCandidate("baseline", *result.baseline);
  std::printf("outputs: %s/{front.csv,front.json,log.jsonl,pareto.png%s}\n", out_dir.c_str(),
              exported ? ",chosen/model.pt" : "");
  if (!result.message.empty())
    std::fprintf(stderr, "edgeloop search: %s\n", result.message.c_str());
  return result.feasible ? cli::kExitOk : cli::kExitBadInput;
}

int SearchCommand(const std::vector<std::string>& args) {
  const char* kCmd = "search";
  search::SearchJobConfig job;
  std::string data, edges, token_file, objective = "pareto";
  int64_t batch = 1, population = 24, generations = 8, seed = 0, eval_batch = 16,
          measure_per_gen = 4, verify_rounds = 6, threads = 2, workers = 2;
  double max_latency = 0;
  bool resume = false, quiet = false, no_export = false;
  FlagSet flags(kCmd,
                "Searches the supernet of a run for the accuracy/latency trade-off: inherited-"
                "weight val MSE on a fixed validation subset x latency predicted by an XGBoost "
                "model, with the most valuable candidates measured live on edge servers each "
                "generation (the predictor recalibrates as results stream back). Writes "
                "front.csv, front.json, log.jsonl, pareto.png and chosen/ (TorchScript) to --out.");
  flags.String("run", &job.run_dir, "run directory of a trained supernet", true);
  flags.String("data", &data, "HDF5 data file(s) or directories of them, comma-separated",
               cli::InputPath().List(), true);
  flags.String("val-split", &job.accuracy.split,
               "validation split spec (see `edgeloop data --help`)", true);
  flags.String("predictor", &job.latency.model_path,
               "latency model MODEL.json (default: the device's latest version in --db)",
               cli::InputFile());
  flags.String("db", &job.latency.db_path, "measurement store (created when missing)", true);
  flags.String("edge", &edges, "comma-separated ws://HOST:PORT or wss:// edge servers (optional)");
  flags.String("token-file", &token_file, "file holding the servers' bearer token",
               cli::InputFile());
  flags.String("ca-file", &job.latency.ca_file, "PEM certificates trusted for wss://",
               cli::InputFile());
  flags.String("device", &job.latency.device,
               "device fingerprint (default: the edge's, else the predictor's)");
  flags.Int("batch", &batch, "batch size the latency is predicted and measured at",
            cli::Between(1, cli::kIntMax));
  flags.String("out", &job.out_dir, "search directory", cli::OutputDir(), true);
  flags.String("objective", &objective, "pareto | constrained | weighted | random");
  flags.Double("max-latency-ms", &max_latency,
               "constrained: the latency budget; pareto: choose the most accurate under it "
               "(0: none)",
               cli::AtLeast(0));
  flags.Int("population", &population, "population size (also the per-generation budget)",
            cli::Between(2, cli::kIntMax));
  flags.Int("generations", &generations, "generations after the initial population",
            cli::Between(0, cli::kIntMax));
  flags.Double("mutation", &job.search.mutation_prob, "per-gene mutation probability",
               cli::Fraction());
  flags.Double("crossover", &job.search.crossover_prob, "crossover probability", cli::Fraction());
  flags.Int("seed", &seed, "seed of the search", cli::AtLeast(0));
  flags.Int("samples", &job.accuracy.samples,
            "validation samples per accuracy evaluation (-1: all)", cli::AtLeast(1).Or(-1));
  flags.Int("eval-batch", &eval_batch, "samples per forward pass when scoring accuracy",
            cli::Between(1, cli::kIntMax));
  flags.Int("measure-per-gen", &measure_per_gen, "live measurements requested per generation",
            cli::Between(0, cli::kIntMax));
  flags.Double("edge-wait", &job.search.edge_wait_s,
               "seconds a generation waits for its measurements",
               cli::Between(0, cli::kMaxSeconds));
  flags.Double("connect-timeout", &job.latency.connect_timeout_s,
               "seconds to wait for the edge at start", cli::Between(0, cli::kMaxSeconds));
  cli::MeasurementFlags measurement;
  measurement.Register(&flags);
  flags.Int("verify-rounds", &verify_rounds, "final rounds measuring unmeasured front members",
            cli::Between(0, cli::kIntMax));
  flags.Int("threads", &threads, "CPU threads for the supernet (torch::set_num_threads)",
            cli::Between(1, 1024));
  flags.Int("workers", &workers, "data loading threads", cli::Between(0, 1024));
  flags.Bool("resume", &resume, "continue the search saved in --out");
  flags.Bool("no-export", &no_export, "do not export the chosen subnet");
  flags.Bool("quiet", &quiet, "no progress lines");
  int code;
  if (!cli::ParseFlags(&flags, kCmd, args, &code)) return code;
  auto strategy = search::ParseStrategy(objective);
  if (!strategy.ok()) return cli::ReportError(kCmd, strategy.status());
  job.search.strategy = *strategy;
  job.search.max_latency_ms = max_latency;
  job.search.population = static_cast<int>(population);
  job.search.generations = static_cast<int>(generations);
  job.search.seed = static_cast<uint64_t>(seed);
  job.search.measure_per_generation = static_cast<int>(measure_per_gen);
  job.search.verify_rounds = static_cast<int>(verify_rounds);
  job.search.resume = resume;
  job.search.progress = !quiet;
  job.accuracy.files = absl::StrSplit(data, ',', absl::SkipEmpty());
  job.accuracy.batch_size = static_cast<int>(eval_batch);
  job.accuracy.workers = static_cast<int>(workers);
  job.accuracy.progress = !quiet;
  job.latency.edges = absl::StrSplit(edges, ',', absl::SkipWhitespace());
  job.latency.batch = static_cast<int>(batch);
  auto settings = measurement.Settings();
  if (!settings.ok()) return cli::ReportError(kCmd, settings.status());
  job.latency.settings = *settings;
  job.threads = static_cast<int>(threads);
  job.export_chosen = !no_export;
  if (!token_file.empty()) {
    auto token = ReadFile(token_file);
    if (!token.ok()) return cli::ReportError(kCmd, token.status());
    job.latency.token = std::string(absl::StripAsciiWhitespace(*token));
  }
  InstallInterruptHandlers();
  auto done = search::RunSearchJob(job);
  if (!done.ok()) {
    if (absl::IsCancelled(done.status())) {
      std::fprintf(stderr,
                   "edgeloop search: interrupted; the last finished generation is saved in "
                   "%s/state.json: continue with --resume\n",
                   job.out_dir.c_str());
      return cli::kExitInterrupted;
    }
    return cli::ReportError(kCmd, done.status());
  }
  if (done->served) return cli::kExitOk;  // a scoring rank of a multi-process search
  return PrintSearchResult(*done, objective, job.out_dir, !no_export);
}

const cli::CommandRegistrar kRegister({
    {"search", "multi-objective subnet search with the edge in the loop", SearchCommand},
});

}  // namespace
}  // namespace edgeloop
