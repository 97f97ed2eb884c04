// The two sources of a candidate's objectives, as the search sees them.
//
// AccuracyEvaluator scores architectures (inherited-weight validation loss in edgeloop; any
// function in tests). LatencySource predicts latencies and, when an edge is attached,
// measures them live: RequestMeasurement queues a request and Collect returns the results
// that arrived, each already stored and fed to the predictor's recalibration, so the next
// Predict reflects it. Both are deterministic for a given input.
#ifndef EDGELOOP_SEARCH_OBJECTIVES_H_
#define EDGELOOP_SEARCH_OBJECTIVES_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "proto/arch.pb.h"

namespace edgeloop::search {

struct AccuracyScore {
  double mse = 0;  // the search's accuracy objective (minimised)
  double rmse_speed_mm_s = 0;
  double rmse_power_w = 0;
};

class AccuracyEvaluator {
 public:
  virtual ~AccuracyEvaluator() = default;
  // Scores every architecture, in order. Cancelled when interrupted.
  virtual absl::StatusOr<std::vector<AccuracyScore>> Evaluate(
      const std::vector<ArchConfig>& archs) = 0;
};

struct LatencyEstimate {
  double ms = 0;
  double log_std = 0;  // relative uncertainty (0 when unknown)
};

struct LiveMeasurement {
  std::string key;  // canonical key of the architecture
  double median_ms = 0;
  double p90_ms = 0;
  double predicted_before_ms = 0;  // the model's prediction just before it saw this
};

class LatencySource {
 public:
  virtual ~LatencySource() = default;
  virtual absl::StatusOr<std::vector<LatencyEstimate>> Predict(
      const std::vector<ArchConfig>& archs) = 0;
  // Whether measurements can be requested at all (an edge is configured).
  virtual bool HasEdge() const = 0;
  // Whether an edge server is connected right now.
  virtual bool EdgeConnected() const = 0;
  // Queues one live measurement; a key already queued is not queued twice.
  virtual void RequestMeasurement(const ArchConfig& arch) = 0;
  // Waits until every queued request has an answer or `timeout_s` passed; returns the
  // measurements that arrived since the last call, in request order. Requests that failed
  // on the device are dropped (reported in `errors`); requests still unanswered stay queued.
  virtual std::vector<LiveMeasurement> Collect(double timeout_s,
                                               std::vector<std::string>* errors) = 0;
  virtual int Pending() const = 0;
  // What describes the latency's origin in outputs: the device fingerprint.
  virtual std::string Device() const = 0;
  // Opaque state (the recalibrated model) for the search's checkpoint, and back.
  virtual absl::StatusOr<std::string> SaveState() const = 0;
  virtual absl::Status RestoreState(const std::string& state) = 0;
};

}  // namespace edgeloop::search

#endif  // EDGELOOP_SEARCH_OBJECTIVES_H_
