// edgeloop_microbench: Google Benchmark timings of Video Swin subnets and their blocks.
//
//   edgeloop_microbench [--space FILE] [--samples N] [--seed S] [--batch 1,2] [--threads T]
//                       [--arch JSON]... [--resolution R] [--frames F] [--blocks]
//                       [--benchmark_format=json] [--benchmark_filter=REGEX] ...
//
// Subnets ("subnet/<name>/batch:<B>"): baseline, min, max and N seeded samples of the space
// (plus every --arch), timed with the same Workload the edge server uses (edge_bench/
// torch_workload.h): warm-up of 5 runs and 200 ms, then one forward per iteration. The
// label is the ArchConfig JSON and the counters carry batch, torch_threads, median_ms and the
// other statistics of the per-iteration times, which is the import convention of
// predictor/store_io.h; context.edgeloop_device is the device fingerprint of the server.
// Blocks ("block/<kind>/...", with --blocks): patch embedding, window attention, MLP and
// patch merging of every stage and the head, at the shapes ComputeGeometry gives for the
// baseline, min and max (their labels are block descriptions, not architectures).
#include <torch/torch.h>

#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "arch/arch_config.h"
#include "arch/cost_model.h"
#include "arch/space.h"
#include "base/blas_threads.h"
#include "base/rng.h"
#include "base/timing_heap.h"
#include "edge_bench/stats.h"
#include "edge_bench/torch_workload.h"
#include "supernet/mlp.h"
#include "supernet/patch_embed.h"
#include "supernet/patch_merging.h"
#include "supernet/swin_trunk.h"
#include "supernet/window_attention.h"

namespace edgeloop::edge_bench {
namespace {

using Clock = std::chrono::steady_clock;

struct Flags {
  std::string space = "supernet/spaces/swin3d_lpbf.textproto";
  int samples = 4;
  uint64_t seed = 0;
  std::vector<int> batches = {1, 2};
  int threads = 1;
  std::vector<std::string> archs;
  int resolution = 0, frames = 0;
  bool blocks = false;
};

// Times `run` once per iteration after a warm-up and reports the statistics as counters.
template <class Run>
void TimeIterations(benchmark::State& state, Run run) {
  const Clock::time_point warm = Clock::now();
  for (int i = 0; i < 5 || Clock::now() - warm < std::chrono::milliseconds(200); ++i) run();
  std::vector<double> ms;
  for (auto _ : state) {
    const Clock::time_point t0 = Clock::now();
    run();
    const double s = std::chrono::duration<double>(Clock::now() - t0).count();
    state.SetIterationTime(s);
    ms.push_back(s * 1e3);
  }
  LatencySummary sum = Summarize(ms, 0.95);
  state.counters["median_ms"] = sum.median;
  state.counters["mean_ms"] = sum.mean;
  state.counters["std_ms"] = sum.stddev;
  state.counters["min_ms"] = sum.min;
  state.counters["p10_ms"] = sum.p10;
  state.counters["p90_ms"] = sum.p90;
  state.counters["p99_ms"] = sum.p99;
  state.counters["max_ms"] = sum.max;
  state.counters["runs"] = static_cast<double>(sum.n);
}

void RegisterSubnet(WorkloadFactory* factory, const std::string& name, const ArchConfig& arch,
                    const Flags& flags) {
  for (int batch : flags.batches) {
    benchmark::RegisterBenchmark(
        absl::StrCat("subnet/", name, "/batch:", batch).c_str(),
        [factory, arch, batch, threads = flags.threads](benchmark::State& state) {
          auto workload = factory->Create(arch, 0);
          if (!workload.ok()) {
            state.SkipWithError(std::string(workload.status().message()).c_str());
            return;
          }
          if (absl::Status st = (*workload)->PrepareBatch(batch); !st.ok()) {
            state.SkipWithError(std::string(st.message()).c_str());
            return;
          }
          (*workload)->ResetPeakMemory();
          TimeIterations(state, [&] { (void)(*workload)->RunOnce(); });
          state.SetLabel(arch::ArchToJson(arch));
          state.counters["batch"] = batch;
          // Not "threads": Google Benchmark writes its own `threads` field into the entry.
          state.counters["torch_threads"] = threads;
          state.counters["peak_memory_bytes"] = static_cast<double>((*workload)->PeakMemoryBytes());
          state.counters["macs"] = static_cast<double>(arch::ComputeCost(arch).flops) * batch;
        })
        ->UseManualTime()
        ->Unit(benchmark::kMillisecond);
  }
}

// A block benchmark: `make` builds the module and its input (outside the timing), `run`
// returns the output of one forward.
void RegisterBlock(const std::string& name, const std::string& label, int batch,
                   std::function<std::function<torch::Tensor()>()> make) {
  benchmark::RegisterBenchmark(name.c_str(),
                               [label, batch, make](benchmark::State& state) {
                                 try {
                                   torch::InferenceMode guard;
                                   std::function<torch::Tensor()> run = make();
                                   TimeIterations(state, [&] { run(); });
                                   state.SetLabel(label);
                                   state.counters["batch"] = batch;
                                 } catch (const std::exception& e) {
                                   state.SkipWithError(e.what());
                                 }
                               })
      ->UseManualTime()
      ->Unit(benchmark::kMicrosecond);
}

void RegisterBlocks(const std::string& name, const ArchConfig& arch, int batch) {
  const auto geo = arch::ComputeGeometry(arch);
  const supernet::Dims3 patch{arch.patch_size(0), arch.patch_size(1), arch.patch_size(2)};
  const supernet::Dims3 window{arch.window_size(0), arch.window_size(1), arch.window_size(2)};
  const std::string prefix = absl::StrCat("/", name, "/batch:", batch);
  const std::string arch_json = arch::ArchToJson(arch);
  auto label = [&](const char* kind, int stage) {
    return absl::StrCat("{\"block\":\"", kind, "\",\"stage\":", stage, ",\"batch\":", batch,
                        ",\"arch\":", arch_json, "}");
  };
  RegisterBlock("block/patch_embed" + prefix, label("patch_embed", 0), batch, [=] {
    supernet::PatchEmbed3D m(arch.embed_dim(), patch);
    torch::Tensor x = torch::randn({batch, 1, arch.frames(), arch.resolution(), arch.resolution()});
    const int64_t c = arch.embed_dim();
    return std::function<torch::Tensor()>([m, x, c]() mutable { return m->forward(x, c); });
  });
  for (int s = 0; s < arch::kNumStages; ++s) {
    const arch::StageGeometry g = geo[s];
    const std::string stage = absl::StrCat("/stage:", s);
    RegisterBlock(
        "block/window_attention" + prefix + stage, label("window_attention", s), batch, [=] {
          supernet::WindowAttention3D m(g.width, g.heads, window);
          torch::Tensor x = torch::randn({g.windows * batch, g.window_tokens, g.width});
          return std::function<torch::Tensor()>(
              [m, x, g]() mutable { return m->forward(x, torch::Tensor(), g.width, g.heads); });
        });
    RegisterBlock("block/mlp" + prefix + stage, label("mlp", s), batch, [=] {
      supernet::Mlp m(g.width, g.mlp_hidden);
      torch::Tensor x = torch::randn({batch, g.tokens, g.width});
      return std::function<torch::Tensor()>(
          [m, x, g]() mutable { return m->forward(x, g.width, g.mlp_hidden); });
    });
    if (s + 1 < arch::kNumStages) {
      RegisterBlock("block/patch_merging" + prefix + stage, label("patch_merging", s), batch, [=] {
        supernet::PatchMerging m(g.width);
        torch::Tensor x = torch::randn({batch, g.d, g.h, g.w, g.width});
        return std::function<torch::Tensor()>(
            [m, x, g]() mutable { return m->forward(x, g.width); });
      });
    }
  }
  const arch::StageGeometry last = geo[arch::kNumStages - 1];
  RegisterBlock("block/head" + prefix, label("head", arch::kNumStages - 1), batch, [=] {
    // Final LayerNorm, global average pool, fc_cls (8C -> 400), 400 -> 200, ReLU, 200 -> 2.
    torch::nn::LayerNorm norm(torch::nn::LayerNormOptions({last.width}));
    supernet::ClsHead head(last.width);
    torch::nn::Linear hidden(arch::kHeadClasses, arch::kHeadHidden),
        output(arch::kHeadHidden, arch::kNumTargets);
    torch::Tensor x = torch::randn({batch, last.tokens, last.width});
    return std::function<torch::Tensor()>([=]() mutable {
      torch::Tensor pooled = norm->forward(x).mean(1);
      return output->forward(torch::relu(hidden->forward(head->fc_cls->forward(pooled))));
    });
  });
}

bool ParseOwnFlag(const std::string& arg, Flags* f) {
  auto value = [&](const char* name, std::string* out) {
    const std::string prefix = absl::StrCat("--", name, "=");
    if (arg.rfind(prefix, 0) != 0) return false;
    *out = arg.substr(prefix.size());
    return true;
  };
  std::string v;
  if (value("space", &f->space)) return true;
  if (value("samples", &v)) return absl::SimpleAtoi(v, &f->samples);
  if (value("seed", &v)) return absl::SimpleAtoi(v, &f->seed);
  if (value("threads", &v)) return absl::SimpleAtoi(v, &f->threads);
  if (value("resolution", &v)) return absl::SimpleAtoi(v, &f->resolution);
  if (value("frames", &v)) return absl::SimpleAtoi(v, &f->frames);
  if (value("arch", &v)) {
    f->archs.push_back(v);
    return true;
  }
  if (value("batch", &v)) {
    f->batches.clear();
    for (absl::string_view p : absl::StrSplit(v, ',')) {
      int b = 0;
      if (!absl::SimpleAtoi(p, &b) || b < 1) return false;
      f->batches.push_back(b);
    }
    return !f->batches.empty();
  }
  if (arg == "--blocks") {
    f->blocks = true;
    return true;
  }
  return false;
}

int Main(int argc, char** argv) {
  Flags flags;
  std::vector<char*> rest = {argv[0]};
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--benchmark_", 0) == 0 || arg == "--help") {
      rest.push_back(argv[i]);
    } else if (!ParseOwnFlag(arg, &flags)) {
      std::fprintf(stderr,
                   "edgeloop_microbench: error: bad flag '%s' (expected --space=FILE, "
                   "--samples=N, --seed=S, --batch=1,2, --threads=T, --arch=JSON, "
                   "--resolution=R, --frames=F, --blocks or --benchmark_*)\n",
                   arg.c_str());
      return 2;
    }
  }
  auto space = arch::Space::FromFile(flags.space);
  if (!space.ok()) {
    std::fprintf(stderr, "edgeloop_microbench: error: %s\n",
                 std::string(space.status().message()).c_str());
    return 2;
  }
  auto factory = MakeTorchWorkloadFactory("cpu", flags.threads);
  if (!factory.ok()) {
    std::fprintf(stderr, "edgeloop_microbench: error: %s\n",
                 std::string(factory.status().message()).c_str());
    return 2;
  }
  const DeviceInfo device = (*factory)->Describe();
  benchmark::AddCustomContext("edgeloop_device", device.fingerprint());
  benchmark::AddCustomContext("edgeloop_cpu_model", device.cpu_model());
  benchmark::AddCustomContext("edgeloop_torch_version", device.torch_version());
  benchmark::AddCustomContext("edgeloop_threads", std::to_string(flags.threads));

  auto adjust = [&](ArchConfig a) {
    if (flags.resolution > 0) a.set_resolution(flags.resolution);
    if (flags.frames > 0) a.set_frames(flags.frames);
    return a;
  };
  std::vector<std::pair<std::string, ArchConfig>> subnets;
  for (size_t i = 0; i < flags.archs.size(); ++i) {
    auto a = arch::ResolveArch(flags.archs[i], &*space);
    if (!a.ok()) {
      std::fprintf(stderr, "edgeloop_microbench: error: --arch: %s\n",
                   std::string(a.status().message()).c_str());
      return 2;
    }
    subnets.emplace_back(flags.archs.size() == 1 ? "arch" : absl::StrCat("arch", i), adjust(*a));
  }
  subnets.emplace_back("baseline", adjust(*space->Named("baseline")));
  subnets.emplace_back("min", adjust(space->Min()));
  subnets.emplace_back("max", adjust(space->Max()));
  Rng rng(flags.seed);
  for (int i = 0; i < flags.samples; ++i)
    subnets.emplace_back(absl::StrCat("sample", i), adjust(space->Sample(&rng)));
  for (const auto& [name, arch] : subnets) {
    if (absl::Status st = arch::ValidateStructure(arch); !st.ok()) {
      std::fprintf(stderr, "edgeloop_microbench: error: %s: %s\n", name.c_str(),
                   std::string(st.message()).c_str());
      return 2;
    }
    RegisterSubnet(factory->get(), name, arch, flags);
  }
  if (flags.blocks) {
    for (const auto& [name, arch] : subnets) {
      if (name != "baseline" && name != "min" && name != "max") continue;
      for (int batch : flags.batches) RegisterBlocks(name, arch, batch);
    }
  }
  int rest_argc = static_cast<int>(rest.size());
  benchmark::Initialize(&rest_argc, rest.data());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

}  // namespace
}  // namespace edgeloop::edge_bench

int main(int argc, char** argv) {
  edgeloop::PinBlasToOneThread();
  edgeloop::UseTimingHeap();
  return edgeloop::edge_bench::Main(argc, argv);
}
