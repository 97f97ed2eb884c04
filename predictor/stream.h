// The live recalibration stream: architectures the device has not been measured on yet,
// measured one at a time (through a Measurer, e.g. the edge client) and fed to the
// device's Recalibrator as each result arrives.
//
// Every prediction is made BEFORE the model sees the measurement, so the stream doubles as
// the honest accuracy test of the predictor on unseen subnets ("before-update" metrics)
// and as the drift tool: after a change of the device, MeasurementsToRecover counts the
// measurements the recalibrator needed until its predictions were accurate again.
//
// Each measurement is committed to the store (by the Recalibrator) before it counts
// anywhere. SIGINT/SIGTERM (base/interrupt.h) stop the stream between measurements (or
// cancel the running one): everything committed stays, and the result says `interrupted`.
// A measurement the device refuses (InvalidArgument, OutOfRange: e.g. beyond the server's
// FLOPs limit) is skipped and reported; any other failure ends the stream with its status.
#ifndef EDGELOOP_PREDICTOR_STREAM_H_
#define EDGELOOP_PREDICTOR_STREAM_H_

#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "arch/space.h"
#include "predictor/measurement.h"
#include "predictor/metrics.h"
#include "predictor/recalibrator.h"
#include "predictor/store.h"

namespace edgeloop::predictor {

// Up to `n` distinct architectures drawn uniformly from the space (deterministic under
// the seed) whose canonical keys are not in `exclude`. Fewer when the space runs out.
std::vector<ArchConfig> SampleNewArchitectures(const arch::Space& space, int n, uint64_t seed,
                                               const std::set<std::string>& exclude);

struct StreamOptions {
  int samples = 200;
  int batch = 1;
  uint64_t seed = 0;
  bool exclude_stored = true;  // skip architectures the store has for (device, batch)
  double tolerance = 0.10;     // a before-update prediction "hits" within +-tolerance
  int recovery_window = 10;    // see MeasurementsToRecover
  double recovery_hit_rate = 0.90;
};

// One streamed architecture, handed to the caller as it completes.
struct StreamRow {
  int64_t index = 0;  // 1-based position in the stream
  ArchConfig arch;
  absl::Status skipped;        // not OK: the device refused it
  Measurement measurement;     // when not skipped
  RecalibrationStatus status;  // the recalibrator's after this measurement
};

struct StreamResult {
  int64_t streamed = 0;  // measurements committed and observed
  int64_t skipped = 0;
  bool interrupted = false;
  std::vector<double> measured_ms, predicted_ms;  // before-update predictions, in order
  AccuracyMetrics before_update;
  int64_t recovered_after = -1;  // MeasurementsToRecover of the hits
  int64_t model_version = 0;     // the latest version when the stream ended
};

using StreamRowCallback = std::function<void(const StreamRow&)>;

absl::StatusOr<StreamResult> RunStream(const arch::Space& space, const StreamOptions& options,
                                       const Measurer& measurer, MeasurementStore* store,
                                       Recalibrator* recalibrator, const StreamRowCallback& on_row);

}  // namespace edgeloop::predictor

#endif  // EDGELOOP_PREDICTOR_STREAM_H_
