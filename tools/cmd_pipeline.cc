// `edgeloop pipeline`: the whole job end to end on a profile's embedded defaults.
// Thin over tools/pipeline/pipeline.h.
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "base/atomic_file.h"
#include "base/interrupt.h"
#include "tools/cli/command.h"
#include "tools/pipeline/pipeline.h"

namespace edgeloop {
namespace {

using cli::FlagSet;

int PipelineCommand(const std::vector<std::string>& args) {
  const char* kCmd = "pipeline";
  std::string profile = "quick", data, edges, token_file, out;
  pipeline::PipelineConfig config;
  int64_t seed = 1, threads = 0;
  FlagSet flags(kCmd,
                "Runs edgeloop end to end: synthetic data (unless --data), supernet training, a "
                "latency predictor bootstrapped live on the edge (a local server on loopback "
                "unless --edge), the search with the edge in the loop, fine-tuning of the chosen "
                "subnet, stand-alone training of the human-designed baseline, live latency and "
                "test-split evaluation of both, and DIR/report.md. Re-running skips finished "
                "stages and resumes an interrupted one. Profiles: " +
                    absl::StrJoin(pipeline::ProfileNames(), ", ") + ".");
  flags.String("profile", &profile,
               "quick (<= 15 min on 2 CPU cores), paper (the reference's "
               "settings, for a GPU node / cluster) or micro (tests)");
  flags.String(
      "data", &data,
      "RAISE-LPBF HDF5 file(s) or directories of them, comma-separated (default: synthetic)",
      cli::InputPath().List());
  flags.String("train-split", &config.train_split, "training split (required with --data)");
  flags.String("val-split", &config.val_split,
               "validation split for the search (required with --data)");
  flags.String("test-split", &config.test_split,
               "held-out test split, other objects (required with --data)");
  flags.String("edge", &edges,
               "edge server(s) ws://HOST:PORT (default: a local server on loopback)");
  flags.String("token-file", &token_file, "file holding the edge servers' bearer token",
               cli::InputFile());
  flags.String("out", &out, "output directory", cli::OutputDir(), true);
  flags.Int("seed", &seed, "seed of every stage", cli::AtLeast(0));
  flags.Int("threads", &threads, "CPU threads (0: the profile's)", cli::Between(0, 1024));
  int64_t nproc = 1;
  flags.Int("nproc", &nproc,
            "supernet training processes on this node (data parallel, c10d); "
            "under srun/torchrun the launcher's ranks are used instead",
            cli::Between(1, 1024));
  flags.String("device", &config.device, "training device: cpu or cuda");
  flags.Bool("quiet", &config.quiet, "no progress lines");
  int code;
  if (!cli::ParseFlags(&flags, kCmd, args, &code)) return code;
  auto chosen = pipeline::GetProfile(profile);
  if (!chosen.ok()) return cli::ReportError(kCmd, chosen.status());
  config.profile = *chosen;
  if (threads > 0) config.profile.threads = static_cast<int>(threads);
  config.data_files = absl::StrSplit(data, ',', absl::SkipEmpty());
  config.edges = absl::StrSplit(edges, ',', absl::SkipWhitespace());
  config.out_dir = out;
  config.seed = static_cast<uint64_t>(seed);
  config.nproc = static_cast<int>(nproc);
  if (!token_file.empty()) {
    auto token = ReadFile(token_file);
    if (!token.ok()) return cli::ReportError(kCmd, token.status());
    config.token = std::string(absl::StripAsciiWhitespace(*token));
  }
  InstallInterruptHandlers();
  absl::Status status = pipeline::RunPipeline(config);
  if (absl::IsCancelled(status)) {
    std::fprintf(stderr,
                 "edgeloop pipeline: interrupted (%s); finished stages are kept: re-run the "
                 "same command to continue\n",
                 std::string(status.message()).c_str());
    return cli::kExitInterrupted;
  }
  if (!status.ok()) return cli::ReportError(kCmd, status);
  std::printf("pipeline finished: %s/report.md\n", out.c_str());
  return cli::kExitOk;
}

const cli::CommandRegistrar kRegister({
    {"pipeline", "the whole job end to end: data, supernet, predictor, search, baseline, report",
     PipelineCommand},
});

}  // namespace
}  // namespace edgeloop
