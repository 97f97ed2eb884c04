// Continuous recalibration of a device's latency model from a stream of measurements.
//
// Observe() takes one measurement at a time (the live result stream, or a replay):
//   1. predicts it with the current model, then commits it to the store together with that
//      prediction and the model version (nothing else happens unless the commit succeeded);
//   2. records the error and updates the model, escalating with the evidence of drift:
//      - offset  (always, immediate): EWMA of the log residual into the model's log-space
//                offset; a fast rate while residuals are large, a slow one otherwise; a
//                jump of the sentinel drift factor moves the offset at once;
//      - residual: while the rolling +-tolerance hit rate is below `hit_threshold`, every
//                `residual_every` observations a few shallow trees are boosted on the
//                measurements of the current regime (since drift began) and appended;
//      - refit:  when the model stays degraded for `refit_after_degraded` observations,
//                when residual trees exceed `max_residual_rounds`, or every `refit_every`
//                observations, a full refit with recency weights on the stored
//                measurements of the current regime (older rows too, down-weighted, while
//                the regime has fewer than `refit_min_regime`).
// Every structural change (and an offset move of more than `offset_snapshot`) is saved as
// a new version in the store's predictor_models, so any state can be reproduced and a
// restarted process resumes from the latest version (Resume()).
#ifndef EDGELOOP_PREDICTOR_RECALIBRATOR_H_
#define EDGELOOP_PREDICTOR_RECALIBRATOR_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "predictor/latency_model.h"
#include "predictor/measurement.h"
#include "predictor/store.h"

namespace edgeloop::predictor {

struct RecalibratorOptions {
  double tolerance = 0.10;          // a prediction "hits" within +-tolerance
  int error_window = 20;            // rolling window of hits for the drift detector
  double hit_threshold = 0.90;      // below this hit rate the model is "degraded"
  double offset_alpha_slow = 0.05;  // EWMA rate while residuals are small
  double offset_alpha_fast = 0.5;   // ... while |mean recent log residual| > tolerance / 2
  double sentinel_jump = 0.05;      // relative change of drift_factor that moves the offset
  int residual_every = 5;
  int residual_min_samples = 8;
  int recent_window = 80;  // at most this many regime measurements per residual fit
  int residual_rounds = 8;
  double residual_eta = 0.3;
  int residual_depth = 3;
  int max_residual_rounds = 120;
  int refit_after_degraded = 60;
  int refit_every = 500;
  int refit_min_regime = 30;        // refit on the current regime alone from this many rows
  double old_regime_weight = 0.01;  // else the weight of rows before the current regime
  double recency_half_life = 200;   // observations, for rows of the current regime
  double offset_snapshot = 0.05;    // save a version when the offset moved this much
};

enum class RecalibrationAction { kOffset, kResidual, kRefit };

struct RecalibrationStatus {
  int64_t observations = 0;
  int64_t measurement_id = 0;  // id of the last committed measurement
  double predicted_ms = 0;     // the last prediction, before the update
  double relative_error = 0;   // (predicted - measured) / measured
  double hit_rate = 1;         // over the rolling window
  bool degraded = false;
  RecalibrationAction action = RecalibrationAction::kOffset;
  double offset = 0;
  int64_t model_version = 0;
  bool state_changed = false;  // the device state differs from the previous measurement's
};

// "offset", "residual" or "refit".
const char* RecalibrationActionName(RecalibrationAction action);
// One line for a stream's log: "measured 12.3400 ms predicted 12.1000 ms error -1.9%
// hit-rate 0.95 offset offset 0.0123 v4" (DEGRADED after the hit rate while degraded).
std::string RecalibrationRowText(double measured_ms, const RecalibrationStatus& status);

class Recalibrator {
 public:
  // Starts from `model` (saved as a new version unless it came from this store).
  static absl::StatusOr<std::unique_ptr<Recalibrator>> Create(MeasurementStore* store,
                                                              LatencyModel model,
                                                              RecalibratorOptions options = {});
  // Starts from the latest model version of `device` in the store.
  static absl::StatusOr<std::unique_ptr<Recalibrator>> Resume(MeasurementStore* store,
                                                              const std::string& device,
                                                              RecalibratorOptions options = {});

  // Consumes one measurement (see the file comment). A measurement of another device is
  // InvalidArgument; a store failure is returned and leaves the model unchanged.
  absl::Status Observe(const Measurement& m);

  const LatencyModel& model() const { return model_; }
  const RecalibrationStatus& status() const { return status_; }

  // The whole state — the model, the drift detector's windows (as measurement ids) and its
  // counters — as one JSON document, and a recalibrator that continues from it exactly as
  // this one would (the windows' measurements are read back from the store). For processes
  // that checkpoint while consuming a stream, such as the search.
  absl::StatusOr<std::string> SaveState() const;
  static absl::StatusOr<std::unique_ptr<Recalibrator>> Restore(MeasurementStore* store,
                                                               const std::string& state,
                                                               RecalibratorOptions options = {});

 private:
  Recalibrator(MeasurementStore* store, LatencyModel model, RecalibratorOptions options)
      : store_(store), model_(std::move(model)), options_(options) {}
  absl::Status SaveVersion(const std::string& kind);
  absl::Status ResidualUpdate();
  absl::Status Refit();
  double HitRate() const;

  MeasurementStore* store_;
  LatencyModel model_;
  RecalibratorOptions options_;
  RecalibrationStatus status_;
  struct Observed {
    int64_t id;
    Measurement m;
    bool hit;
  };
  std::deque<Observed> window_;          // the last error_window observations, newest last
  std::deque<double> recent_residuals_;  // last few log residuals
  std::deque<Observed> regime_;          // observations since the current regime began
  int64_t regime_start_id_ = 0;          // first measurement id of the current regime
  int64_t since_residual_ = 0, degraded_for_ = 0, since_refit_ = 0;
  double last_drift_factor_ = 0;  // 0: none seen
  std::string last_state_;        // the last measurement's state fingerprint, "" none
  double saved_offset_ = 0;
};

}  // namespace edgeloop::predictor

#endif  // EDGELOOP_PREDICTOR_RECALIBRATOR_H_
