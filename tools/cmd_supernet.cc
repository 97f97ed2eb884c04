// `edgeloop init | export | eval | supernet bench`: create a run directory with a fresh
// supernet, export a subnet (or an imported PyTorch state dict) as TorchScript, evaluate a
// subnet with inherited weights, time a static model's forward pass.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <torch/script.h>
#include <torch/torch.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "arch/arch_config.h"
#include "arch/space.h"
#include "base/timing_heap.h"
#include "supernet/run_dir.h"
#include "supernet/state_dict.h"
#include "supernet/torchscript_export.h"
#include "supernet/video_swin.h"
#include "tools/cli/command.h"

namespace edgeloop {
namespace {

using cli::FlagSet;
using supernet::VideoSwin;

constexpr char kArchHelp[] =
    "architecture: JSON object, path to a .json file, or a name (min, max, baseline, ...)";

void AddThreads(FlagSet* flags, int64_t* threads) {
  flags->Int("threads", threads, "CPU threads for the model (torch::set_num_threads)",
             cli::Between(1, 1024));
}

int Init(const std::vector<std::string>& args) {
  std::string space_path, out;
  int64_t seed = 0;
  FlagSet flags("init",
                "Creates a run directory: the search space, run.json and a checkpoint of "
                "a freshly initialised supernet (step 0).");
  flags.String("space", &space_path, "search space text-format file", cli::InputFile(), true);
  flags.String("out", &out, "run directory to create", cli::OutputDir(), true);
  flags.Int("seed", &seed, "seed of the initial weights", cli::AtLeast(0));
  int code;
  if (!cli::ParseFlags(&flags, "init", args, &code)) return code;
  auto run = supernet::RunDir::Create(out, space_path, static_cast<uint64_t>(seed));
  if (!run.ok()) return cli::ReportError("init", run.status());
  std::printf("created run %s (space %s, %s architectures, seed %lld)\n", out.c_str(),
              run->space().name().c_str(), absl::StrCat(run->space().NumArchitectures()).c_str(),
              static_cast<long long>(seed));
  return cli::kExitOk;
}

int Export(const std::vector<std::string>& args) {
  std::string run_dir, state_dict, arch_arg, out;
  FlagSet flags("export",
                "Writes a subnet as a TorchScript archive (runs in Python torch.jit.load and "
                "LibTorch) and its ArchConfig JSON beside it (model.pt -> model.json). The "
                "weights come from a run's latest checkpoint (--run) or from a PyTorch state dict "
                "saved with torch.save(model.state_dict(), FILE) (--from-state-dict).");
  flags.String("run", &run_dir, "run directory (weights inherited from its supernet)");
  flags.String("from-state-dict", &state_dict,
               "PyTorch file with the reference Video Swin's parameter names: "
               "torch.save(model.state_dict(), FILE), or a checkpoint holding it under "
               "'state_dict'/'model'/'model_state_dict' ('module.' prefixes are removed)");
  flags.String("arch", &arch_arg, kArchHelp, cli::InputFileIfPathLike(), true);
  flags.String("out", &out, "output TorchScript file, e.g. model.pt", cli::OutputFile(), true);
  int code;
  if (!cli::ParseFlags(&flags, "export", args, &code)) return code;
  if (run_dir.empty() == state_dict.empty()) {
    return cli::ReportError(
        "export", absl::InvalidArgumentError("give exactly one of --run and --from-state-dict"));
  }
  VideoSwin model{nullptr};
  if (!run_dir.empty()) {
    auto run = supernet::RunDir::Open(run_dir);
    if (!run.ok()) return cli::ReportError("export", run.status());
    auto arch = arch::ResolveArch(arch_arg, &run->space());
    if (!arch.ok()) return cli::ReportError("export", arch.status());
    if (auto s = run->space().Contains(*arch); !s.ok())
      return cli::ReportError(
          "export", absl::InvalidArgumentError(
                        absl::StrCat("architecture outside the run's space: ", s.message())));
    auto net = run->LoadSupernet();
    if (!net.ok()) return cli::ReportError("export", net.status());
    auto extracted = (*net)->extract(*arch);
    if (!extracted.ok()) return cli::ReportError("export", extracted.status());
    model = *extracted;
  } else {
    auto arch = arch::ResolveArch(arch_arg, nullptr);
    if (!arch.ok()) return cli::ReportError("export", arch.status());
    if (auto s = arch::ValidateStructure(*arch); !s.ok()) return cli::ReportError("export", s);
    auto state = supernet::ReadStateDictFile(state_dict);
    if (!state.ok()) return cli::ReportError("export", state.status());
    model = VideoSwin(*arch);
    if (auto s = supernet::LoadStateDict(*model, *state); !s.ok())
      return cli::ReportError("export",
                              absl::Status(s.code(), absl::StrCat(state_dict, ": ", s.message())));
  }
  model->eval();
  if (auto s = supernet::ExportTorchScript(*model, out); !s.ok())
    return cli::ReportError("export", s);
  std::printf("wrote %s and %s (%s)\n", out.c_str(), supernet::ArchJsonPath(out).c_str(),
              arch::CanonicalKey(model->arch()).c_str());
  return cli::kExitOk;
}

// Forward latency of a static model (random weights) on random input, in inference mode.
int Bench(const std::vector<std::string>& args) {
  std::string arch_arg = "baseline", space_path, model_path;
  int64_t batch = 1, runs = 10, warmup = 2, threads = 2;
  FlagSet flags("supernet bench",
                "Times the forward pass of a static Video Swin (random weights "
                "unless --model) on random input of the architecture's shape.");
  flags.String("arch", &arch_arg, kArchHelp, cli::InputFileIfPathLike());
  flags.String("space", &space_path, "search space, to resolve names such as min/max",
               cli::InputFile());
  flags.String("model", &model_path, "time this TorchScript archive (from `export`) instead",
               cli::InputFile());
  flags.Int("batch", &batch, "batch size", cli::Between(1, cli::kIntMax));
  flags.Int("runs", &runs, "timed runs", cli::Between(1, cli::kIntMax));
  flags.Int("warmup", &warmup, "untimed runs first", cli::Between(0, cli::kIntMax));
  AddThreads(&flags, &threads);
  int code;
  if (!cli::ParseFlags(&flags, "supernet bench", args, &code)) return code;
  torch::set_num_threads(static_cast<int>(threads));
  UseTimingHeap();  // base/timing_heap.h: no page faults in the timed forwards
  std::optional<arch::Space> space;
  if (!space_path.empty()) {
    auto loaded = arch::Space::FromFile(space_path);
    if (!loaded.ok()) return cli::ReportError("supernet bench", loaded.status());
    space = *loaded;
  }
  auto arch = arch::ResolveArch(arch_arg, space ? &*space : nullptr);
  if (!arch.ok()) return cli::ReportError("supernet bench", arch.status());
  std::function<torch::Tensor(const torch::Tensor&)> forward;
  VideoSwin model{nullptr};
  torch::jit::Module script;
  if (model_path.empty()) {
    auto made = supernet::MakeVideoSwin(*arch);
    if (!made.ok()) return cli::ReportError("supernet bench", made.status());
    model = *made;
    model->eval();
    forward = [&](const torch::Tensor& x) { return model->forward(x); };
  } else {
    try {
      script = torch::jit::load(model_path);
    } catch (const std::exception& e) {
      return cli::ReportError("supernet bench", absl::InvalidArgumentError(absl::StrCat(
                                                    model_path, ": not a TorchScript archive")));
    }
    script.eval();
    forward = [&](const torch::Tensor& x) { return script.forward({x}).toTensor(); };
  }
  std::vector<double> ms;
  try {
    torch::InferenceMode inference;
    torch::manual_seed(0);
    torch::Tensor x = torch::randn(
        {batch, arch::kInChans, arch->frames(), arch->resolution(), arch->resolution()});
    for (int64_t i = 0; i < warmup + runs; ++i) {
      const auto start = std::chrono::steady_clock::now();
      forward(x);
      const double elapsed =
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
              .count();
      if (i >= warmup) ms.push_back(elapsed);
    }
  } catch (const std::exception& e) {
    return cli::ReportError("supernet bench", absl::InternalError(e.what()));
  }
  std::sort(ms.begin(), ms.end());
  double mean = 0;
  for (double v : ms) mean += v / ms.size();
  std::printf(
      "{\"key\":\"%s\",\"batch\":%lld,\"threads\":%lld,\"runs\":%lld,\"median_ms\":%.3f,"
      "\"mean_ms\":%.3f,\"min_ms\":%.3f}\n",
      arch::CanonicalKey(*arch).c_str(), static_cast<long long>(batch),
      static_cast<long long>(threads), static_cast<long long>(runs), ms[ms.size() / 2], mean,
      ms.front());
  return cli::kExitOk;
}

const cli::CommandRegistrar kRegister({
    {"init", "create a run directory with a freshly initialised supernet", Init},
    {"export", "write a subnet or an imported state dict as TorchScript", Export},
    {"supernet bench", "time the forward pass of a static Video Swin", Bench},
});

}  // namespace
}  // namespace edgeloop
