// The flags of an edge measurement's stop rule (edge_bench/protocol.proto
// MeasurementSettings), shared by `measure`, `predictor bootstrap|stream` and `search`.
// Zero leaves a setting to the server's default.
#ifndef EDGELOOP_TOOLS_MEASUREMENT_FLAGS_H_
#define EDGELOOP_TOOLS_MEASUREMENT_FLAGS_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "edge_bench/protocol.pb.h"
#include "tools/cli/flags.h"

namespace edgeloop::cli {

class MeasurementFlags {
 public:
  // Adds --target-ci, --min-runs, --max-runs, --max-time-ms, --warmup-runs, --warmup-ms,
  // --paired-reference, with their ranges (so the parser refuses negative or non-finite values).
  void Register(FlagSet* flags);
  // InvalidArgument when a value is negative (already refused by the parser).
  absl::StatusOr<edge_bench::MeasurementSettings> Settings() const;

 private:
  double target_ci_ = 0, max_time_ms_ = 0, warmup_ms_ = 0;
  int64_t min_runs_ = 0, max_runs_ = 0, warmup_runs_ = 0;
  bool paired_reference_ = false;
};

}  // namespace edgeloop::cli

#endif  // EDGELOOP_TOOLS_MEASUREMENT_FLAGS_H_
