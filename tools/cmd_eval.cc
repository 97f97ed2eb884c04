// `edgeloop eval`: a subnet's accuracy with inherited weights on a data split. Apart from
// tools/cmd_supernet.cc because it reads HDF5 data, which the edge-only build has not.
#include <cstdio>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "arch/arch_config.h"
#include "arch/space.h"
#include "base/interrupt.h"
#include "supernet/evaluate.h"
#include "supernet/run_dir.h"
#include "tools/cli/command.h"

namespace edgeloop {
namespace {

using cli::FlagSet;

constexpr char kArchHelp[] =
    "architecture: JSON object, path to a .json file, or a name (min, max, baseline, ...)";

int Eval(const std::vector<std::string>& args) {
  std::string run_dir, arch_arg, data, split = "all";
  int64_t samples = -1, batch_size = 8, threads = 2, workers = 2;
  bool json = false;
  FlagSet flags("eval",
                "Evaluates a subnet with weights inherited from a run's supernet: MSE on "
                "normalised targets (speed/900, power/215) and RMSE in mm/s and W.");
  flags.String("run", &run_dir, "run directory", true);
  flags.String("arch", &arch_arg, kArchHelp, cli::InputFileIfPathLike(), true);
  flags.String("data", &data, "HDF5 data file(s) or directories of them, comma-separated",
               cli::InputPath().List(), true);
  flags.String("split", &split, "split spec (see `edgeloop data --help`)");
  flags.Int("samples", &samples, "evaluate the first N samples of the split, -1 = all",
            cli::AtLeast(1).Or(-1));
  flags.Int("batch-size", &batch_size, "samples per forward pass", cli::Between(1, cli::kIntMax));
  flags.Int("workers", &workers, "data loading threads", cli::Between(0, 1024));
  flags.Bool("json", &json, "print one JSON object");
  flags.Int("threads", &threads, "CPU threads for the model (torch::set_num_threads)",
            cli::Between(1, 1024));
  int code;
  if (!cli::ParseFlags(&flags, "eval", args, &code)) return code;
  torch::set_num_threads(static_cast<int>(threads));
  auto run = supernet::RunDir::Open(run_dir);
  if (!run.ok()) return cli::ReportError("eval", run.status());
  auto arch = arch::ResolveArch(arch_arg, &run->space());
  if (!arch.ok()) return cli::ReportError("eval", arch.status());
  if (auto s = run->space().Contains(*arch); !s.ok())
    return cli::ReportError("eval", absl::InvalidArgumentError(absl::StrCat(
                                        "architecture outside the run's space: ", s.message())));
  auto net = run->LoadSupernet();
  if (!net.ok()) return cli::ReportError("eval", net.status());
  supernet::EvalOptions options;
  options.files = absl::StrSplit(data, ',', absl::SkipEmpty());
  options.split = split;
  options.max_samples = samples;
  options.batch_size = static_cast<int>(batch_size);
  options.workers = static_cast<int>(workers);
  options.progress = !json;
  InstallInterruptHandlers();
  auto result = supernet::EvaluateSubnet(**net, *arch, options);
  if (!result.ok()) return cli::ReportError("eval", result.status());
  if (json) {
    std::printf(
        "{\"key\":\"%s\",\"mse\":%.9g,\"rmse_speed_mm_s\":%.6g,\"rmse_power_w\":%.6g,"
        "\"samples\":%lld,\"seconds\":%.3f,\"arch\":%s}\n",
        arch::CanonicalKey(*arch).c_str(), result->mse, result->rmse_speed_mm_s,
        result->rmse_power_w, static_cast<long long>(result->samples), result->seconds,
        arch::ArchToJson(*arch).c_str());
  } else {
    std::printf("%s\n  samples %lld  MSE %.6g  RMSE speed %.2f mm/s  RMSE power %.2f W  (%.2f s)\n",
                arch::CanonicalKey(*arch).c_str(), static_cast<long long>(result->samples),
                result->mse, result->rmse_speed_mm_s, result->rmse_power_w, result->seconds);
  }
  return cli::kExitOk;
}

const cli::CommandRegistrar kRegister({
    {"eval", "evaluate a subnet with inherited weights on a data split", Eval},
});

}  // namespace
}  // namespace edgeloop
