#include "tools/measurement_flags.h"

namespace edgeloop::cli {

void MeasurementFlags::Register(FlagSet* flags) {
  flags->Double("target-ci", &target_ci_,
                "stop a measurement when the 95% CI of its median is "
                "within this fraction of it (0: server default 0.01)",
                Fraction());
  flags->Int("min-runs", &min_runs_, "timed runs before the stop rule (0: server default)",
             Between(0, kIntMax));
  flags->Int("max-runs", &max_runs_, "cap on timed runs per batch size (0: server default)",
             Between(0, kIntMax));
  flags->Double("max-time-ms", &max_time_ms_,
                "cap on timed-run time per batch size (0: server default)",
                Between(0, kMaxSeconds * 1000));
  flags->Int("warmup-runs", &warmup_runs_, "warm-up runs (0: server default)", Between(0, kIntMax));
  flags->Double("warmup-ms", &warmup_ms_, "minimum warm-up time (0: server default)",
                Between(0, kMaxSeconds * 1000));
  flags->Bool("paired-reference", &paired_reference_,
              "time every run next to the server's reference subnet and use speed-normalised "
              "latencies (for devices whose speed wanders: shared or virtual CPUs, throttling)");
}

absl::StatusOr<edge_bench::MeasurementSettings> MeasurementFlags::Settings() const {
  if (target_ci_ < 0 || max_time_ms_ < 0 || warmup_ms_ < 0 || min_runs_ < 0 || max_runs_ < 0 ||
      warmup_runs_ < 0) {
    return absl::InvalidArgumentError(
        "measurement settings (--target-ci, --min-runs, --max-runs, "
        "--max-time-ms, --warmup-runs, --warmup-ms) must not be negative");
  }
  edge_bench::MeasurementSettings s;
  s.set_target_rel_ci(target_ci_);
  s.set_min_runs(static_cast<int32_t>(min_runs_));
  s.set_max_runs(static_cast<int32_t>(max_runs_));
  s.set_max_time_ms(max_time_ms_);
  s.set_warmup_runs(static_cast<int32_t>(warmup_runs_));
  s.set_warmup_ms(warmup_ms_);
  s.set_paired_reference(paired_reference_);
  return s;
}

}  // namespace edgeloop::cli
