// Wire helpers of the edge protocol (edge_bench/protocol.proto), shared by server and client.
//
// - EncodeEnvelope stamps the current protocol version and serializes one frame.
// - DecodeEnvelope classifies a received frame: not an Envelope (BAD_MESSAGE), a newer
//   protocol version (UNSUPPORTED_VERSION) or no known body (UNKNOWN_MESSAGE); the caller
//   answers with that code.
// - ParseEdgeUrl accepts ws://HOST:PORT[/path] and wss://HOST:PORT[/path].
// - StatusFromError maps a protocol Error to an absl::Status for library users.
#ifndef EDGELOOP_EDGE_BENCH_PROTOCOL_H_
#define EDGELOOP_EDGE_BENCH_PROTOCOL_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "edge_bench/protocol.pb.h"

namespace edgeloop::edge_bench {

inline constexpr uint32_t kProtocolVersion = PROTOCOL_VERSION_CURRENT;

std::string EncodeEnvelope(Envelope envelope);

// On success *out holds the envelope and the result is ERROR_UNSPECIFIED; otherwise the
// error code to answer with and *why a one-line reason.
ErrorCode DecodeEnvelope(absl::string_view bytes, Envelope* out, std::string* why);

Envelope MakeErrorEnvelope(uint64_t request_id, ErrorCode code, absl::string_view message);

absl::Status StatusFromError(const Error& error);

struct Endpoint {
  bool tls = false;
  std::string host;
  std::string port;
  std::string target = "/";  // HTTP path of the upgrade request
  std::string ToString() const;
};

absl::StatusOr<Endpoint> ParseEdgeUrl(absl::string_view url);

// "HOST:PORT" (port 0 = any free port), as taken by `edgeloop serve --listen`.
absl::StatusOr<std::pair<std::string, int>> ParseHostPort(absl::string_view text);

// "0" -> ERROR_UNSPECIFIED's name etc.; the short name of a code ("busy", "cancelled").
std::string ErrorCodeName(ErrorCode code);

}  // namespace edgeloop::edge_bench

#endif  // EDGELOOP_EDGE_BENCH_PROTOCOL_H_
