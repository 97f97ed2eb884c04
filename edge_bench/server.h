// The edge measurement server: WebSocket (optionally TLS) + Protobuf, see protocol.proto.
//
// Many clients may be connected at once; measurements run one at a time on a single
// worker thread so they never disturb each other, while one network thread serves pings,
// progress and results. The worker takes the longest-waiting request of the client served
// least recently (round robin across clients), hands it to the measurement service
// (measure_service.h: cache, sentinel and drift factor, paired reference, measurement)
// and streams its MeasureProgress to the client that asked.
//
// Safety: a bearer token is checked during the HTTP upgrade (401 without it); frames
// above `max_frame_bytes` close the connection with 1009, text frames with 1003; queues
// are bounded in total, per client and per connection (Error busy); batch sizes, FLOPs,
// parameters, input size and estimated memory of a forward, measurement settings and the
// wall time of a request are bounded (Error limit_exceeded); silent peers are dropped
// after `idle_timeout_s` (WebSocket keep-alive pings are sent at half of it), and a peer
// that does not read its replies is first no longer read, then dropped
// (`max_outbox_bytes`). Out of file descriptors, accepting pauses for 0.5 s. A request is
// identified by (client, request_id), the client being Hello's client_id with its secret,
// and measured at most once: a resubmission after a reconnect is answered from the running
// job or the remembered result; the same id with another request is Error bad_message.
// Shutdown cancels the running measurement, answers every queued request with Error
// shutting_down and closes all connections with 1001 (going away).
#ifndef EDGELOOP_EDGE_BENCH_SERVER_H_
#define EDGELOOP_EDGE_BENCH_SERVER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "edge_bench/measure_service.h"
#include "edge_bench/protocol.pb.h"
#include "edge_bench/workload.h"
#include "proto/arch.pb.h"

namespace edgeloop::edge_bench {

// Also the measurement side's options (MeasurementOptions: defaults, sentinel, reference, log).
struct ServerOptions : MeasurementOptions {
  std::string host = "127.0.0.1";
  int port = 8765;            // 0: any free port, see EdgeServer::port()
  std::string token;          // empty: no authentication
  std::string tls_cert_file;  // PEM chain; with tls_key_file enables wss://
  std::string tls_key_file;
  std::string cache_file;  // empty: in-memory cache only

  int64_t max_frame_bytes = 1 << 20;
  int max_queued_per_client = 32;  // waiting or running
  int max_queued_total = 256;
  int max_batch = 64;
  int max_batch_sizes = 16;               // entries of MeasureRequest.batch_sizes
  int64_t max_flops = 2'000'000'000'000;  // MACs of one forward at the largest batch
  // Request bounds (protocol.proto ServerLimits); 0 derives them from the host's memory.
  int64_t max_params = 0;
  int64_t max_memory_bytes = 0;
  int64_t max_input_bytes = 0;
  double max_request_seconds = 900;
  // Bytes queued for one peer: above half of it the server stops reading that connection,
  // past it (or when a write makes no progress for idle_timeout_s) drops it.
  int64_t max_outbox_bytes = 16 << 20;
  double idle_timeout_s = 120;
  double handshake_timeout_s = 10;
  size_t remembered_requests = 4096;  // finished request ids kept for resubmissions
};

class EdgeServer {
 public:
  // Binds, loads the cache and starts the network and worker threads.
  static absl::StatusOr<std::unique_ptr<EdgeServer>> Start(
      ServerOptions options, std::unique_ptr<WorkloadFactory> factory);
  ~EdgeServer();  // Shutdown()

  int port() const;
  DeviceInfo device() const;

  // Idempotent; returns when every thread has stopped.
  void Shutdown();

  struct Counters {
    int64_t connections = 0;        // accepted WebSocket sessions
    int64_t rejected_upgrades = 0;  // 401 / 400 at the HTTP upgrade
    int64_t measured = 0;           // batch sizes actually measured (not cached)
    int64_t cache_hits = 0;
    int64_t sentinel_runs = 0;
  };
  Counters counters() const;

  class Impl;

 private:
  explicit EdgeServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace edgeloop::edge_bench

#endif  // EDGELOOP_EDGE_BENCH_SERVER_H_
