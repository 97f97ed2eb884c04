// The asynchronous client of edge measurement servers (protocol.proto), without LibTorch,
// for the predictor, the search and `edgeloop measure`.
//
// - One or more servers (a fleet of identical devices): each request goes to the
//   connected server with the fewest unanswered requests of this client; requests not yet
//   sent move to whichever server connects first.
// - Connections are retried with exponential backoff (backoff_initial_s doubling up to
//   backoff_max_s, with jitter); a refused upgrade (HTTP 401: missing or wrong token) is
//   final for that server. WebSocket keep-alive pings detect dead servers.
// - Every request gets a client-unique id; after a reconnect the unanswered ones are sent
//   again. The server dedupes by (client id, request id), so a request is never measured
//   twice; a request that was sent stays with its server.
// - Results, errors and progress are delivered by callbacks as they arrive, on the
//   client's network thread: callbacks must not block (they may call Submit/Cancel).
// - Per-request timeouts (DeadlineExceeded; the server is told to cancel).
// - wss:// verifies the server certificate against ca_file (or the system store) and its
//   host name or IP address; a bearer token is sent in the upgrade request.
#ifndef EDGELOOP_EDGE_BENCH_CLIENT_H_
#define EDGELOOP_EDGE_BENCH_CLIENT_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "edge_bench/protocol.pb.h"

namespace edgeloop::edge_bench {

struct ClientOptions {
  std::vector<std::string> servers;  // ws://HOST:PORT or wss://HOST:PORT
  std::string token;                 // bearer token; empty: none
  std::string ca_file;               // PEM certificates trusted for wss://; empty: system
  std::string client_id;             // dedupe key across reconnects; empty: random
  std::string client_name = "edgeloop";
  double connect_timeout_s = 5;
  double backoff_initial_s = 0.05;
  double backoff_max_s = 5;
  double keepalive_idle_s = 60;  // drop a server silent this long (pings at half)
  int64_t max_frame_bytes = 64 << 20;
};

struct RequestOutcome {
  uint64_t request_id = 0;
  absl::Status status;   // OK, or the server's Error / DeadlineExceeded / Cancelled / ...
  MeasureResult result;  // when status is OK
  std::string server;    // URL of the server that answered
};

using ResultCallback = std::function<void(const RequestOutcome&)>;
using ProgressCallback = std::function<void(const MeasureProgress&)>;

class EdgeClient {
 public:
  // Starts connecting to every server in the background; fails only on bad options.
  static absl::StatusOr<std::unique_ptr<EdgeClient>> Create(ClientOptions options);
  ~EdgeClient();  // Close()

  // Waits until `min_servers` servers are connected (DeviceInfo received).
  // PermissionDenied when too many refused the token, DeadlineExceeded naming the last
  // connection error otherwise.
  absl::Status WaitConnected(double timeout_s, int min_servers = 1);
  // DeviceInfo of the connected servers.
  std::vector<DeviceInfo> Devices() const;

  // Queues a request (its request_id is assigned here and returned); `done` is called
  // exactly once. timeout_s <= 0: no timeout.
  uint64_t Submit(MeasureRequest request, ResultCallback done, ProgressCallback progress = nullptr,
                  double timeout_s = 0);
  // Stops a request: `done` gets Cancelled now, the server is told to stop.
  void Cancel(uint64_t request_id);
  // Blocking convenience over Submit; must not be called from a callback.
  absl::StatusOr<MeasureResult> Measure(MeasureRequest request, double timeout_s = 0,
                                        ProgressCallback progress = nullptr);
  // One application-level Ping/Pong round trip to a connected server; returns the time.
  absl::StatusOr<double> PingMs(double timeout_s = 5);

  size_t pending() const;
  const std::string& client_id() const;

  // Drops every connection abruptly, as a network failure would; the client reconnects
  // and resubmits. For tests and diagnostics.
  void DropConnections();

  // Fails the pending requests with Cancelled, closes the connections, stops the thread.
  void Close();

  class Impl;

 private:
  explicit EdgeClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace edgeloop::edge_bench

#endif  // EDGELOOP_EDGE_BENCH_CLIENT_H_
