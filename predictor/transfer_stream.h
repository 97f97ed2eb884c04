// A measurement stream replayed through a transfer model (transfer.h), the way the stream
// of a device that changes mid-way reaches the predictor: every row is predicted BEFORE the
// model sees it, then the model learns from it.
//
// Rows of a source device are predicted by that device's own model. From the first row of a
// device the model has not seen, its rows are predicted by the adaptation to it, refitted on
// all of its rows so far after each one (with none yet: the sources' geometric mean; with
// one: that mean scaled to it). The result has the error before the switch, after it, and
// how many of the new device's measurements passed until `recovery_hit_rate` of
// `recovery_window` consecutive ones were within +-tolerance (metrics.h
// MeasurementsToRecover).
#ifndef EDGELOOP_PREDICTOR_TRANSFER_STREAM_H_
#define EDGELOOP_PREDICTOR_TRANSFER_STREAM_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "predictor/dataset.h"
#include "predictor/metrics.h"
#include "predictor/transfer.h"

namespace edgeloop::predictor {

struct ReplayOptions {
  double tolerance = 0.10;
  int recovery_window = 10;
  double recovery_hit_rate = 0.90;
  int readapt_every_after = 30;  // beyond this many rows of the new device, refit every 10th
};

struct ReplayResult {
  std::vector<double> measured, predicted;  // in stream order, predictions before update
  int64_t switch_at = -1;                   // index of the first row of an unseen device
  std::string new_device;
  AccuracyMetrics before_switch, after_switch;
  int64_t recovered_after = -1;  // new-device rows until accurate again; -1 never
};

// `model` is adapted as the stream goes (it ends adapted to the new device). Rows of a second
// unseen device are InvalidArgument (one switch per replay).
absl::StatusOr<ReplayResult> ReplayStream(TransferModel* model, const Dataset& rows,
                                          const std::vector<std::string>& device_of_row,
                                          const ReplayOptions& options = {});

}  // namespace edgeloop::predictor

#endif  // EDGELOOP_PREDICTOR_TRANSFER_STREAM_H_
