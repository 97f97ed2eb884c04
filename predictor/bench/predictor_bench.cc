// Benchmarks of the latency predictor (issue 7):
//   BM_Fit/1000            fit the default model (5-booster ensemble) on 1,000 samples
//                          (target < 1 s)
//   BM_PredictArchs/10000  predict 10,000 architectures, features included (target < 50 ms)
// Data: architectures sampled from supernet/spaces/swin3d_lpbf.textproto (run from the
// repository root, or pass EDGELOOP_SOURCE_DIR), labelled by the synthetic device.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "arch/space.h"
#include "predictor/latency_model.h"
#include "predictor/synthetic_device.h"

namespace edgeloop::predictor {
namespace {

arch::Space LoadSpace() {
  const char* dir = std::getenv("EDGELOOP_SOURCE_DIR");
  const std::string path = std::string(dir ? dir : ".") + "/supernet/spaces/swin3d_lpbf.textproto";
  auto space = arch::Space::FromFile(path);
  if (!space.ok()) {
    std::fprintf(stderr, "%s\n", std::string(space.status().message()).c_str());
    std::exit(2);
  }
  return *space;
}

std::vector<Measurement> Sample(const arch::Space& space, int n, uint64_t seed) {
  SyntheticDevice device("bench-device", seed);
  Rng rng(seed);
  std::vector<Measurement> out;
  for (int i = 0; i < n; ++i)
    out.push_back(device.Measure(space.Sample(&rng), 1 + static_cast<int>(rng.Uniform(4))));
  return out;
}

void BM_Fit(benchmark::State& state) {
  const arch::Space space = LoadSpace();
  const Dataset data = ArchDataset(Sample(space, static_cast<int>(state.range(0)), 1));
  ModelMeta meta;
  meta.device = "bench-device";
  for (auto _ : state) {
    auto model = LatencyModel::Fit(data, meta, ModelParams());
    if (!model.ok()) state.SkipWithError(std::string(model.status().message()).c_str());
    benchmark::DoNotOptimize(model);
  }
}
BENCHMARK(BM_Fit)->Arg(1000)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_PredictArchs(benchmark::State& state) {
  const arch::Space space = LoadSpace();
  ModelMeta meta;
  meta.device = "bench-device";
  auto model = LatencyModel::Fit(ArchDataset(Sample(space, 1000, 1)), meta, ModelParams());
  if (!model.ok()) {
    state.SkipWithError(std::string(model.status().message()).c_str());
    return;
  }
  Rng rng(7);
  std::vector<std::pair<ArchConfig, int>> candidates;
  for (int i = 0; i < state.range(0); ++i) candidates.emplace_back(space.Sample(&rng), 2);
  for (auto _ : state) {
    auto p = model->PredictArchitectures(candidates);
    if (!p.ok()) state.SkipWithError(std::string(p.status().message()).c_str());
    benchmark::DoNotOptimize(p);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_PredictArchs)->Arg(10000)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace edgeloop::predictor

BENCHMARK_MAIN();
