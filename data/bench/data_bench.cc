// Benchmarks of the data module (numbers for the note):
//   BM_Synth              generator speed (frames/s, 64x64 frames)
//   BM_Pipeline/R         pipeline throughput at resolution R with 2 workers (samples/s)
//   BM_StreamPeakRss      peak resident memory while streaming a file several times larger than
//                         the prefetch queue through the pipeline (bounded = independent of the
//                         file size)
// Data is generated into $TMPDIR once per run. EDGELOOP_BENCH_STREAM_LAYERS scales the
// streamed file (default 96 layers x 64 lines, ~0.2 GB of 64x64 frames).
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "benchmark/benchmark.h"
#include "data/pipeline.h"
#include "data/synth.h"

namespace edgeloop::data {
namespace {

std::string TempPath(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          ("edgeloop_data_bench_" + std::to_string(getpid()) + "_" + name))
      .string();
}

// Generates a file once per process; removed at exit.
const std::string& Dataset(const std::string& name, int layers, int lines) {
  static std::map<std::string, std::string>* files = new std::map<std::string, std::string>();
  auto it = files->find(name);
  if (it != files->end()) return it->second;
  SynthOptions o;
  o.out = TempPath(name + ".hdf5");
  o.layers = layers;
  o.lines_per_layer = lines;
  o.seed = 7;
  auto truth = WriteSynthetic(o);
  if (!truth.ok()) {
    std::fprintf(stderr, "generation failed: %s\n", std::string(truth.status().message()).c_str());
    std::exit(1);
  }
  static bool registered = false;
  if (!registered) {
    registered = true;
    std::atexit([] {
      for (const auto& [n, path] : *files) std::remove(path.c_str());
    });
  }
  return (*files)[name] = o.out;
}

void BM_Synth(benchmark::State& state) {
  SynthOptions o;
  int64_t frames = 0, line = 0;
  std::vector<uint8_t> pixels;
  for (auto _ : state) {
    SynthLine meta;
    RenderLine(o, "C027", 1, line++, &meta, &pixels);
    frames += meta.num_frames;
  }
  state.counters["frames/s"] =
      benchmark::Counter(static_cast<double>(frames), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Synth)->Unit(benchmark::kMillisecond);

void BM_Pipeline(benchmark::State& state) {
  PipelineOptions o;
  o.files = {Dataset("throughput", 8, 64)};
  o.resolution = static_cast<int>(state.range(0));
  o.workers = 2;
  o.batch_size = 8;
  auto pipeline = Pipeline::Open(o);
  if (!pipeline.ok()) {
    state.SkipWithError(std::string(pipeline.status().message()).c_str());
    return;
  }
  Pipeline& p = **pipeline;
  int64_t epoch = 0, samples = 0;
  (void)p.StartEpoch(epoch);
  Batch batch;
  for (auto _ : state) {
    auto more = p.Next(&batch);
    if (more.ok() && !*more) {
      (void)p.StartEpoch(++epoch);
      more = p.Next(&batch);
    }
    if (!more.ok()) {
      state.SkipWithError(std::string(more.status().message()).c_str());
      return;
    }
    samples += batch.batch_size;
  }
  state.counters["samples/s"] =
      benchmark::Counter(static_cast<double>(samples), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Pipeline)
    ->Arg(64)
    ->Arg(224)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond)
    ->MinTime(3.0);

int64_t ProcStatusKb(const std::string& key) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(key + ":", 0) == 0) return std::atoll(line.c_str() + key.size() + 1);
  return -1;
}

void BM_StreamPeakRss(benchmark::State& state) {
  const char* env = std::getenv("EDGELOOP_BENCH_STREAM_LAYERS");
  const int layers = env ? std::atoi(env) : 96;
  const std::string file = Dataset("stream", layers, 64);
  const double file_mb = static_cast<double>(std::filesystem::file_size(file)) / (1 << 20);
  for (auto _ : state) {
    PipelineOptions o;
    o.files = {file};
    o.resolution = 64;
    o.workers = 2;
    o.prefetch_batches = 4;
    auto pipeline = Pipeline::Open(o);
    if (!pipeline.ok()) {
      state.SkipWithError(std::string(pipeline.status().message()).c_str());
      return;
    }
    const int64_t rss_open = ProcStatusKb("VmRSS");
    {  // reset the peak (VmHWM) to the current RSS, so generation does not count
      std::ofstream clear("/proc/self/clear_refs");
      clear << "5";
    }
    (void)(*pipeline)->StartEpoch(0);
    Batch batch;
    int64_t samples = 0;
    for (;;) {
      auto more = (*pipeline)->Next(&batch);
      if (!more.ok() || !*more) break;
      samples += batch.batch_size;
    }
    state.counters["file_MB"] = file_mb;
    state.counters["samples"] = static_cast<double>(samples);
    state.counters["rss_after_open_MB"] = rss_open / 1024.0;
    state.counters["peak_rss_MB"] = ProcStatusKb("VmHWM") / 1024.0;
  }
}
BENCHMARK(BM_StreamPeakRss)->Iterations(1)->UseRealTime()->Unit(benchmark::kSecond);

}  // namespace
}  // namespace edgeloop::data

BENCHMARK_MAIN();
