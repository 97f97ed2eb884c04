#include "edge_bench/measurer.h"

#include <algorithm>
#include <chrono>
#include <vector>

#include "absl/strings/str_cat.h"

namespace edgeloop::edge_bench {
namespace {

using Clock = std::chrono::steady_clock;

double MsSince(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

absl::Status Stopped() { return absl::CancelledError("measurement cancelled"); }

}  // namespace

MeasurementSettings DefaultSettings() {
  MeasurementSettings s;
  s.set_warmup_runs(10);
  s.set_warmup_ms(500);
  s.set_min_runs(20);
  s.set_max_runs(1000);
  s.set_max_time_ms(20000);
  s.set_target_rel_ci(0.01);
  s.set_confidence(0.95);
  return s;
}

MeasurementSettings ResolveSettings(const MeasurementSettings& requested,
                                    const MeasurementSettings& defaults) {
  MeasurementSettings s = requested;
  if (s.warmup_runs() == 0) s.set_warmup_runs(defaults.warmup_runs());
  if (s.warmup_ms() == 0) s.set_warmup_ms(defaults.warmup_ms());
  if (s.min_runs() == 0) s.set_min_runs(defaults.min_runs());
  if (s.max_runs() == 0) s.set_max_runs(defaults.max_runs());
  if (s.max_time_ms() == 0) s.set_max_time_ms(defaults.max_time_ms());
  if (s.target_rel_ci() == 0) s.set_target_rel_ci(defaults.target_rel_ci());
  if (s.confidence() == 0) s.set_confidence(defaults.confidence());
  return s;
}

absl::Status CheckSettings(const MeasurementSettings& s) {
  auto bad = [](const char* field, double v, const char* allowed) {
    return absl::OutOfRangeError(absl::StrCat("settings.", field, " = ", v, ": allowed ", allowed));
  };
  if (s.warmup_runs() < 0 || s.warmup_runs() > 10000)
    return bad("warmup_runs", s.warmup_runs(), "0..10000");
  if (s.warmup_ms() < 0 || s.warmup_ms() > 60000)
    return bad("warmup_ms", s.warmup_ms(), "0..60000");
  if (s.min_runs() < 1 || s.min_runs() > 100000) return bad("min_runs", s.min_runs(), "1..100000");
  if (s.max_runs() < s.min_runs() || s.max_runs() > 100000)
    return bad("max_runs", s.max_runs(), "min_runs..100000");
  if (s.max_time_ms() <= 0 || s.max_time_ms() > 600000)
    return bad("max_time_ms", s.max_time_ms(), "(0, 600000]");
  if (!(s.target_rel_ci() > 0 && s.target_rel_ci() < 1))
    return bad("target_rel_ci", s.target_rel_ci(), "(0, 1)");
  if (!(s.confidence() >= 0.5 && s.confidence() < 1))
    return bad("confidence", s.confidence(), "[0.5, 1)");
  return absl::OkStatus();
}

absl::StatusOr<BatchResult> MeasureBatch(Workload* workload, int batch,
                                         const MeasurementSettings& settings,
                                         const MeasureHooks& hooks,
                                         const PairedReference* reference) {
  auto stop = [&] { return hooks.should_stop && hooks.should_stop(); };
  auto report = [&](Phase phase, const LatencySummary& s) {
    if (hooks.progress) hooks.progress(phase, s);
  };
  const bool paired = reference != nullptr && reference->workload != nullptr;
  if (paired && !(reference->nominal_ms > 0)) {
    return absl::InvalidArgumentError("paired reference without a nominal time");
  }
  if (absl::Status st = workload->PrepareBatch(batch); !st.ok()) return st;
  workload->ResetPeakMemory();

  BatchResult out;
  out.set_batch_size(batch);
  report(PHASE_WARMUP, LatencySummary{});
  const Clock::time_point warm_start = Clock::now();
  int warm_runs = 0;
  while (warm_runs < settings.warmup_runs() || MsSince(warm_start) < settings.warmup_ms()) {
    if (stop()) return Stopped();
    if (absl::Status st = workload->RunOnce(); !st.ok()) return st;
    ++warm_runs;
  }
  out.set_warmup_runs(warm_runs);
  out.set_warmup_ms(MsSince(warm_start));

  // Paired: after every timed run the reference runs twice; the first re-warms it (right
  // after a large model its caches are cold: that alone made it up to 40% slower), the
  // second is timed. Adjacent runs share the device's speed of the moment, so their ratio
  // cancels it even when it changes from one second to the next. The measured model is
  // re-warmed the same way after the reference, so both timed runs follow a run of their
  // own (a cold tiny model read 2.3x its reference's time on a loaded machine).
  std::vector<double> samples, reference_samples, normalized;
  samples.reserve(static_cast<size_t>(settings.min_runs()) * 2);
  auto run_timed = [&]() -> absl::Status {
    if (paired && !samples.empty()) {
      if (absl::Status st = workload->RunOnce(); !st.ok()) return st;
    }
    const Clock::time_point t0 = Clock::now();
    if (absl::Status st = workload->RunOnce(); !st.ok()) return st;
    samples.push_back(MsSince(t0));
    if (!paired) return absl::OkStatus();
    if (absl::Status st = reference->workload->RunOnce(); !st.ok()) return st;
    const Clock::time_point t1 = Clock::now();
    if (absl::Status st = reference->workload->RunOnce(); !st.ok()) return st;
    reference_samples.push_back(MsSince(t1));
    normalized.push_back(samples.back() / std::max(reference_samples.back(), 1e-9) *
                         reference->nominal_ms);
    return absl::OkStatus();
  };
  // The series the stop rule watches: the reported one.
  const std::vector<double>& watched = paired ? normalized : samples;
  LatencySummary summary;
  report(PHASE_TIMED, summary);
  const Clock::time_point timed_start = Clock::now();
  Clock::time_point last_report = timed_start;
  bool converged = false;
  while (true) {
    if (stop()) return Stopped();
    if (absl::Status st = run_timed(); !st.ok()) return st;
    const int n = static_cast<int>(samples.size());
    if (n >= settings.min_runs()) {
      summary = Summarize(watched, settings.confidence());
      if (summary.ci_valid && summary.rel_ci_half_width <= settings.target_rel_ci()) {
        converged = true;
        break;
      }
    }
    if (n >= settings.max_runs() || MsSince(timed_start) >= settings.max_time_ms()) break;
    if (MsSince(last_report) >= hooks.progress_interval_ms) {
      if (n < settings.min_runs()) summary = Summarize(watched, settings.confidence());
      report(PHASE_TIMED, summary);
      last_report = Clock::now();
    }
  }
  summary = Summarize(samples, settings.confidence());
  out.set_median_ms(summary.median);
  out.set_mean_ms(summary.mean);
  out.set_std_ms(summary.stddev);
  out.set_min_ms(summary.min);
  out.set_p10_ms(summary.p10);
  out.set_p90_ms(summary.p90);
  out.set_p99_ms(summary.p99);
  out.set_max_ms(summary.max);
  out.set_runs(static_cast<int32_t>(summary.n));
  out.set_ci_low_ms(summary.ci_low);
  out.set_ci_high_ms(summary.ci_high);
  out.set_converged(converged);
  if (paired) {
    const double reference_ms = Summarize(reference_samples, settings.confidence()).median;
    const double normalized_ms = Summarize(normalized, settings.confidence()).median;
    out.set_reference_nominal_ms(reference->nominal_ms);
    out.set_reference_ms(reference_ms);
    out.set_speed_factor(summary.median / normalized_ms);
    out.set_normalized_median_ms(normalized_ms);
  }
  out.set_peak_memory_bytes(workload->PeakMemoryBytes());
  out.set_measured_unix_ms(std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count());
  return out;
}

absl::StatusOr<double> CalibrateReference(Workload* reference, double duration_ms,
                                          const MeasureHooks& hooks) {
  constexpr int kWarmupRuns = 5;
  constexpr int kBurstRuns = 9;
  auto stop = [&] { return hooks.should_stop && hooks.should_stop(); };
  for (int i = 0; i < kWarmupRuns; ++i) {
    if (stop()) return Stopped();
    if (absl::Status st = reference->RunOnce(); !st.ok()) return st;
  }
  std::vector<double> burst_medians;
  const Clock::time_point start = Clock::now();
  while (burst_medians.size() < 3 || MsSince(start) < duration_ms) {
    std::vector<double> burst;
    for (int i = 0; i < kBurstRuns; ++i) {
      if (stop()) return Stopped();
      const Clock::time_point t0 = Clock::now();
      if (absl::Status st = reference->RunOnce(); !st.ok()) return st;
      burst.push_back(MsSince(t0));
    }
    std::sort(burst.begin(), burst.end());
    burst_medians.push_back(burst[kBurstRuns / 2]);
  }
  std::sort(burst_medians.begin(), burst_medians.end());
  return SortedQuantile(burst_medians, 0.1);
}

}  // namespace edgeloop::edge_bench
