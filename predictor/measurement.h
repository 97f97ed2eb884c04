// One latency measurement of an architecture on an edge device: the unit the store keeps,
// the recalibrator consumes and the bootstrap's Measurer returns.
//
// Times are milliseconds for one forward pass of the whole batch. `median_ms` is the label
// the predictor learns (robust to preemption spikes); the other statistics are kept for
// reports and SLO-style use. `drift_factor` is the ratio of the device's current latency on
// a fixed sentinel architecture to its reference value (1 when unknown); the recalibrator's
// drift detector reads it.
#ifndef EDGELOOP_PREDICTOR_MEASUREMENT_H_
#define EDGELOOP_PREDICTOR_MEASUREMENT_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "proto/arch.pb.h"

namespace edgeloop::predictor {

struct Measurement {
  std::string device;  // device fingerprint, e.g. "orin-64gb-maxn-torch2.0"
  ArchConfig arch;
  int batch_size = 1;
  int threads = 0;  // 0 = unknown / device default
  double median_ms = 0;
  double mean_ms = 0, std_ms = 0, min_ms = 0, p10_ms = 0, p90_ms = 0, p99_ms = 0, max_ms = 0;
  int runs = 0;
  int64_t peak_memory_bytes = 0;
  double drift_factor = 1.0;
  std::string measured_at;  // ISO-8601 UTC; the store fills it in when empty
  std::string source;       // e.g. "edge", "csv", "microbench", "synthetic"
  // The device state's fingerprint when measured (governor, frequency caps, online cores,
  // power mode: edge_bench/device_state.h); empty when unknown.
  std::string state_fingerprint;
};

// Fills median/mean/std (sample)/min/p10/p90/p99/max and runs from per-run times (ms).
// Percentiles interpolate linearly between order statistics. `times_ms` must not be empty.
void FillStatistics(std::vector<double> times_ms, Measurement* m);

// Measures one architecture at one batch size on the device (e.g. through the edge
// benchmarking client, predictor/edge_adapter.h). The returned measurement's device may be
// left empty.
using Measurer = std::function<absl::StatusOr<Measurement>(const ArchConfig& arch, int batch)>;

}  // namespace edgeloop::predictor

#endif  // EDGELOOP_PREDICTOR_MEASUREMENT_H_
