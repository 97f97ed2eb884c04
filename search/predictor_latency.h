// The search's latency source: a device's XGBoost latency model, recalibrated live from an
// edge fleet, with every measurement stored durably.
//
// Predictions come from the recalibrator's current model at the search's batch size, with
// the ensemble's spread as uncertainty. Requests go to the edge servers through the
// asynchronous client (edge_bench/client.h), which reconnects with backoff: an unreachable
// edge never stops the search, it only leaves latencies predicted. Each result is committed
// to the store with the prediction made before it, then updates the model.
//
// A model fitted for another device is accepted with a warning and recalibrated on the
// live stream (its log-space offset moves within a few measurements); a model of another
// feature version is refused.
#ifndef EDGELOOP_SEARCH_PREDICTOR_LATENCY_H_
#define EDGELOOP_SEARCH_PREDICTOR_LATENCY_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "edge_bench/protocol.pb.h"
#include "search/objectives.h"

namespace edgeloop::search {

struct PredictorLatencyOptions {
  std::string model_path;          // MODEL.json; empty: the device's latest version in the store
  std::string db_path;             // measurement store (created when missing)
  std::string device;              // fingerprint override; default: the edge's, else the model's
  std::vector<std::string> edges;  // ws:// or wss:// servers; empty: predictions only
  std::string token;
  std::string ca_file;
  int batch = 1;
  edge_bench::MeasurementSettings settings;  // zero fields: the server's defaults
  double connect_timeout_s = 10;
  double request_timeout_s = 900;
};

// Creates the source; `warnings` collects what the user should know (device mismatch,
// edge unreachable at start).
absl::StatusOr<std::unique_ptr<LatencySource>> CreatePredictorLatency(
    const PredictorLatencyOptions& options, std::vector<std::string>* warnings);

}  // namespace edgeloop::search

#endif  // EDGELOOP_SEARCH_PREDICTOR_LATENCY_H_
