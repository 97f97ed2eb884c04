// The bridge between the predictor and the edge measurement client (edge_bench/client.h):
// connecting to edge servers, converting their results into Measurements, and a Measurer
// that measures through them. It lives in its own library (edgeloop_predictor_edge) so the
// predictor itself stays independent of edge_bench; the CLI and the search link it.
//
// The Measurer sends one MeasureRequest per (architecture, batch). It survives a server
// that is briefly away: the client reconnects and resends by itself, and an answer of
// "unavailable" (the server shut down mid-measurement) or "busy" is retried after a pause.
// It polls base/interrupt.h while it waits, so SIGINT cancels the request on the server
// and returns Cancelled within a fraction of a second.
#ifndef EDGELOOP_PREDICTOR_EDGE_ADAPTER_H_
#define EDGELOOP_PREDICTOR_EDGE_ADAPTER_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "edge_bench/client.h"
#include "edge_bench/protocol.pb.h"
#include "predictor/measurement.h"

namespace edgeloop::predictor {

// One batch size of an edge result: statistics as the server sent them, device = the
// server's fingerprint, threads = its intra-op threads, source "edge". drift_factor is the
// batch's, else the result's, else 1 (no sentinel). A paired-reference result
// (normalized_median_ms set) becomes source "edge-normalized": median = the normalised
// median, every other time divided by the speed factor, drift_factor 1.
Measurement FromEdgeResult(const edge_bench::MeasureResult& result,
                           const edge_bench::BatchResult& batch);

struct EdgeConnectOptions {
  std::string servers;     // comma-separated ws:// or wss:// URLs
  std::string token_file;  // file holding the bearer token; empty: none
  std::string client_name = "edgeloop predictor";
  double timeout_s = 60;  // to wait for the first connection
};

// Creates the client and waits for a server. Bad options are InvalidArgument; no server
// reachable within the timeout is Unavailable naming the last connection error.
absl::StatusOr<std::unique_ptr<edge_bench::EdgeClient>> ConnectEdge(
    const EdgeConnectOptions& options);

struct EdgeMeasurerOptions {
  edge_bench::MeasurementSettings settings;  // zero fields: the server's defaults
  double timeout_s = 600;                    // per attempt; <= 0: none
  std::string device;                        // overrides the server's fingerprint when not empty
  uint64_t seed = 0;                         // of the random weights and input
  bool force = true;                         // measure even when the server has it cached: a
                                             // cached result would hide drift
  int retries = 5;                           // further attempts after unavailable / busy
  double retry_wait_s = 2;
};

// A Measurer over `client` (which must outlive it).
Measurer MakeEdgeMeasurer(edge_bench::EdgeClient* client, EdgeMeasurerOptions options);

}  // namespace edgeloop::predictor

#endif  // EDGELOOP_PREDICTOR_EDGE_ADAPTER_H_
