// Moving measurements in and out of the store.
//
// CSV (export and import), one measurement per row, header:
//   device,arch_key,arch_json,batch_size,threads,median_ms,mean_ms,std_ms,min_ms,p10_ms,
//   p90_ms,p99_ms,max_ms,runs,peak_memory_bytes,drift_factor,measured_at,source,
//   state_fingerprint
// Import needs `arch_json` (or `arch`), `batch_size` and `median_ms`, plus `device` unless a
// default device is given; every other column is optional (empty cells = unknown). An
// import is one transaction: either every row lands or none.
//
// Google Benchmark JSON (`edgeloop_microbench --benchmark_format=json`), the convention:
//   - context.edgeloop_device (string) names the device; a default device overrides it.
//   - each entry of `benchmarks` is one architecture at one batch size:
//       label                 the ArchConfig JSON (required), e.g. set with state.SetLabel()
//       counters batch        batch size (required; `batch_size` is accepted too)
//       counters threads      intra-op threads (optional)
//       counters peak_memory_bytes, drift_factor (optional)
//       real_time + time_unit the time of one iteration = one forward pass of the batch
//   - entries with the same run_name (name when absent), label and batch are repetitions of
//     one measurement: their per-iteration times give median/mean/std/min/p10/p90/p99/max
//     and runs = number of repetitions. Aggregate entries (run_type "aggregate") are used
//     only when a group has no iteration entries (median, mean, stddev, min, max).
//   - counters median_ms (and optionally mean_ms, std_ms, min_ms, p10_ms, p90_ms, p99_ms,
//     max_ms, runs) override the statistics, for benchmarks that time runs themselves.
//   - entries with error_occurred are skipped.
#ifndef EDGELOOP_PREDICTOR_STORE_IO_H_
#define EDGELOOP_PREDICTOR_STORE_IO_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "predictor/measurement.h"
#include "predictor/store.h"

namespace edgeloop::predictor {

// Writes the measurements of `device` (all when empty) atomically; returns the row count.
// With `with_features`, the latency features of each row (features.h, current version)
// follow the columns above under their FeatureNames(): a table for `predictor fit --csv`
// or any other tool. Import ignores them.
absl::StatusOr<int64_t> ExportCsv(const MeasurementStore& store, const std::string& csv_path,
                                  const std::string& device = "", bool with_features = false);

absl::StatusOr<std::vector<Measurement>> ParseMeasurementCsv(absl::string_view text,
                                                             absl::string_view origin,
                                                             const std::string& default_device);
absl::StatusOr<std::vector<Measurement>> ParseMicrobenchJson(absl::string_view text,
                                                             absl::string_view origin,
                                                             const std::string& default_device);

}  // namespace edgeloop::predictor

#endif  // EDGELOOP_PREDICTOR_STORE_IO_H_
