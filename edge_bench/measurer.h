// The measurement loop: warm-up, timed runs and the stop rule for one batch size.
//
// MeasureBatch prepares the input, warms up for at least `warmup_runs` runs and at least
// `warmup_ms`, then times single forward passes until the confidence interval of the
// median (edge_bench/stats.h) is within `target_rel_ci` of the median after at least
// `min_runs` runs, or `max_runs` runs or `max_time_ms` of timed runs are reached
// (converged = false then). `should_stop` is polled between runs (Cancel, shutdown) and
// turns the measurement into a Cancelled status; `progress` is called at phase changes
// and at most every `progress_interval_ms` during the timed runs.
#ifndef EDGELOOP_EDGE_BENCH_MEASURER_H_
#define EDGELOOP_EDGE_BENCH_MEASURER_H_

#include <functional>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "edge_bench/protocol.pb.h"
#include "edge_bench/stats.h"
#include "edge_bench/workload.h"

namespace edgeloop::edge_bench {

struct MeasureHooks {
  std::function<void(Phase phase, const LatencySummary& so_far)> progress;
  std::function<bool()> should_stop;
  double progress_interval_ms = 250;
};

// The server's defaults: 10 warm-up runs and 0.5 s, 20..1000 timed runs within 20 s,
// 95% CI of the median within 1%.
MeasurementSettings DefaultSettings();

// Fields left at zero take the value of `defaults`.
MeasurementSettings ResolveSettings(const MeasurementSettings& requested,
                                    const MeasurementSettings& defaults);

// OutOfRange naming the field when a resolved setting is outside what a server allows
// (e.g. more than 100000 runs or more than 10 minutes per batch).
absl::Status CheckSettings(const MeasurementSettings& s);

// A reference workload timed next to every run (paired-reference timing): prepared at
// batch 1 by the caller, with its time at the device's nominal speed.
struct PairedReference {
  Workload* workload = nullptr;
  double nominal_ms = 0;
};

// With `reference`, every timed run is followed by two reference runs (the second timed):
// normalized_median_ms = median over runs of (run / its reference run) x nominal_ms, the
// stop rule watches that series, and speed_factor = median_ms / normalized_median_ms.
absl::StatusOr<BatchResult> MeasureBatch(Workload* workload, int batch,
                                         const MeasurementSettings& settings,
                                         const MeasureHooks& hooks,
                                         const PairedReference* reference = nullptr);

// The nominal time of a reference workload (prepared at batch 1): after a warm-up, short
// bursts of runs for `duration_ms`; the 10th percentile of the burst medians, i.e. the
// speed the device reaches when nothing slows it down, robust to a single fast outlier.
absl::StatusOr<double> CalibrateReference(Workload* reference, double duration_ms,
                                          const MeasureHooks& hooks);

}  // namespace edgeloop::edge_bench

#endif  // EDGELOOP_EDGE_BENCH_MEASURER_H_
