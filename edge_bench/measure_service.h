// The measurement side of the edge server, free of networking: it validates requests
// against the server's limits and answers them, one at a time, with measured or cached
// results. The server (server.h) owns the sockets, the queue and the worker thread and
// hands each request to Process; tests drive it directly with a fake Workload.
//
// Contract of Process (called from one thread at a time):
// - Per batch size of the request: the cached BatchResult (cached = true) when the results
//   cache has one for (canonical arch key, batch, device fingerprint, threads), unless the
//   request sets `force` or asks for paired timing and the cached result is not paired;
//   otherwise a measurement (measurer.h), stored in the cache.
// - The model is built (WorkloadFactory::Create with the request's seed) at most once per
//   request, and only when some batch size is not answered from the cache.
// - Before a measurement, the sentinel subnet is measured when `sentinel_interval_s` has
//   passed since its last measurement (always before the first); drift_factor = its median
//   now / its first median, 0 when the sentinel is disabled (interval < 0).
// - A paired request builds and calibrates the reference subnet once, at the first such
//   request, and times every run next to it (measurer.h PairedReference).
// - The answer is an Envelope holding either a MeasureResult (request id, arch key, device,
//   one BatchResult per batch size in request order, drift factor) or an Error: cancelled
//   when `cancelled` returned true, shutting_down after BeginShutdown, limit_exceeded when
//   measuring ran past max_request_seconds, invalid_arch when the workload refused the
//   architecture, internal otherwise; the message is always one line.
// - Progress (sentinel, building, warm-up, timed runs) goes to `progress`, stamped with the
//   request id, on the calling thread.
// - Device state (device_state.h): read under `sysfs_root` when the service is created
//   (DeviceInfo.state, .state_fingerprint) and again at every request, whose result carries
//   it (MeasureResult.state, .state_fingerprint) with state_changed set, and the previous
//   fingerprint, when its fingerprint differs from the previous request's (the start's for
//   the first). With `lock_state`, a request whose state fingerprint differs from the
//   start's is answered Error state_changed naming what changed, and nothing is measured.
#ifndef EDGELOOP_EDGE_BENCH_MEASURE_SERVICE_H_
#define EDGELOOP_EDGE_BENCH_MEASURE_SERVICE_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "arch/cost_model.h"
#include "edge_bench/protocol.pb.h"
#include "edge_bench/result_cache.h"
#include "edge_bench/workload.h"
#include "proto/arch.pb.h"

namespace edgeloop::edge_bench {

// The minimum of the default space at its smallest resolution: patch (4,4,4), embed 24,
// depths 1, heads 3, window (8,7,7), mlp 1, resolution 64, frames 16 (a few ms on a CPU).
ArchConfig DefaultSentinelArch();
// The paired-reference subnet: the sentinel at 32 px and 8 frames (a few ms on a CPU), so
// pairing costs little next to the architectures it is paired with.
ArchConfig DefaultReferenceArch();

// The options of the measurement side that the server (server.h ServerOptions) passes on
// unchanged.
struct MeasurementOptions {
  MeasurementSettings defaults;  // empty fields: measurer.h DefaultSettings()
  ArchConfig sentinel = DefaultSentinelArch();
  MeasurementSettings sentinel_settings;  // empty fields: quick settings (<= ~1 s)
  double sentinel_interval_s = 600;       // < 0 disables the sentinel (drift_factor 0)
  ArchConfig reference = DefaultReferenceArch();
  double reference_calibration_ms = 3000;  // CalibrateReference's duration
  std::string sysfs_root = "/";  // where /sys, /etc and /var are read (tests: a fake tree)
  bool lock_state = false;       // refuse requests once the device state moved since start

  std::function<void(const std::string&)> log;  // one line per event; null: silent
};

struct MeasureServiceOptions : MeasurementOptions {
  // Copied into DeviceInfo.limits, after the memory bounds left at 0 are derived from the
  // host's memory (half of it per request); every field but the queue sizes bounds requests.
  ServerLimits limits;
  int max_batch_sizes = 16;  // entries of MeasureRequest.batch_sizes
  std::string cache_file;    // empty: in-memory cache only
};

class MeasureService {
 public:
  // Resolves and checks the settings (OutOfRange), checks the sentinel's structure
  // (InvalidArgument) and opens the results cache (DataLoss for an unreadable file).
  static absl::StatusOr<std::unique_ptr<MeasureService>> Create(
      MeasureServiceOptions options, std::unique_ptr<WorkloadFactory> factory);

  // The factory's device description with the limits; stamped into every result.
  const DeviceInfo& device() const { return device_; }

  // ERROR_UNSPECIFIED when the request may be queued; otherwise the code to refuse it with
  // (limit_exceeded: batch sizes, FLOPs, tokens, parameters, input size, estimated memory,
  // settings; invalid_arch: structure) and a one-line reason. Thread-safe.
  std::pair<ErrorCode, std::string> Validate(const MeasureRequest& request) const;

  // Answers one (validated) request; see the contract above. `cancelled` is polled between
  // runs; either callback may be null.
  Envelope Process(const MeasureRequest& request, const std::function<bool()>& cancelled,
                   const std::function<void(MeasureProgress)>& progress);

  // Thread-safe: the running Process stops at its next poll (between runs) and answers
  // Error shutting_down, as does any later one that has to measure.
  void BeginShutdown() { shutting_down_ = true; }
  bool shutting_down() const { return shutting_down_; }

  struct Counters {
    int64_t measured = 0;  // batch sizes actually measured (not cached)
    int64_t cache_hits = 0;
    int64_t sentinel_runs = 0;
  };
  Counters counters() const;  // thread-safe

 private:
  using Clock = std::chrono::steady_clock;
  struct Call;  // the request being processed and its hooks

  MeasureService(MeasureServiceOptions options, std::unique_ptr<WorkloadFactory> factory);
  void Log(const std::string& line) const;
  void Post(const Call& call, MeasureProgress progress) const;
  Envelope ErrorFor(const Call& call, const absl::Status& status) const;
  std::pair<ErrorCode, std::string> CheckMemory(const ArchConfig& arch, const arch::Cost& cost,
                                                int largest) const;
  absl::Status MaybeMeasureSentinel(const Call& call);
  absl::Status PrepareReference(const Call& call);
  absl::Status MeasureInto(Call& call, const std::string& cache_key, MeasureResult* result);
  // Reads the state into `result`; an Error envelope when lock_state refuses it.
  std::optional<Envelope> StampState(const MeasureRequest& request, MeasureResult* result);

  MeasureServiceOptions opts_;
  std::unique_ptr<WorkloadFactory> factory_;
  DeviceInfo device_;
  std::unique_ptr<ResultCache> cache_;
  std::atomic<bool> shutting_down_{false};
  DeviceState start_state_;

  // State of the thread that calls Process.
  double sentinel_first_ms_ = 0;
  double drift_ = 0;
  Clock::time_point last_sentinel_;
  std::unique_ptr<Workload> reference_;  // built at the first paired request
  double reference_nominal_ms_ = 0;
  std::string last_state_fingerprint_;  // of the previous request (the start's at first)

  std::atomic<int64_t> measured_{0}, cache_hits_{0}, sentinel_runs_{0};
};

}  // namespace edgeloop::edge_bench

#endif  // EDGELOOP_EDGE_BENCH_MEASURE_SERVICE_H_
