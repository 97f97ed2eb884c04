#include "edge_bench/protocol.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace edgeloop::edge_bench {

std::string EncodeEnvelope(Envelope envelope) {
  envelope.set_protocol_version(kProtocolVersion);
  return envelope.SerializeAsString();
}

ErrorCode DecodeEnvelope(absl::string_view bytes, Envelope* out, std::string* why) {
  if (!out->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    *why = absl::StrCat("frame of ", bytes.size(), " bytes is not a protocol Envelope");
    return ERROR_BAD_MESSAGE;
  }
  if (out->protocol_version() > kProtocolVersion) {
    *why = absl::StrCat("protocol version ", out->protocol_version(),
                        " is newer than this server's ", kProtocolVersion);
    return ERROR_UNSUPPORTED_VERSION;
  }
  if (out->body_case() == Envelope::BODY_NOT_SET) {
    *why = "envelope carries no known message type";
    return ERROR_UNKNOWN_MESSAGE;
  }
  return ERROR_UNSPECIFIED;
}

Envelope MakeErrorEnvelope(uint64_t request_id, ErrorCode code, absl::string_view message) {
  Envelope e;
  Error* err = e.mutable_error();
  err->set_request_id(request_id);
  err->set_code(code);
  err->set_message(std::string(message));
  return e;
}

std::string ErrorCodeName(ErrorCode code) {
  std::string name = ErrorCode_Name(code);
  if (absl::StartsWith(name, "ERROR_")) name = name.substr(6);
  return absl::AsciiStrToLower(name);
}

absl::Status StatusFromError(const Error& error) {
  std::string msg = absl::StrCat(ErrorCodeName(error.code()), ": ", error.message());
  switch (error.code()) {
    case ERROR_BAD_MESSAGE:
    case ERROR_UNSUPPORTED_VERSION:
    case ERROR_UNKNOWN_MESSAGE:
    case ERROR_INVALID_ARCH:
      return absl::InvalidArgumentError(msg);
    case ERROR_LIMIT_EXCEEDED:
      return absl::OutOfRangeError(msg);
    case ERROR_BUSY:
      return absl::ResourceExhaustedError(msg);
    case ERROR_CANCELLED:
      return absl::CancelledError(msg);
    case ERROR_SHUTTING_DOWN:
      return absl::UnavailableError(msg);
    case ERROR_NOT_FOUND:
      return absl::NotFoundError(msg);
    case ERROR_STATE_CHANGED:
      return absl::AbortedError(msg);
    default:
      return absl::InternalError(msg);
  }
}

std::string Endpoint::ToString() const {
  return absl::StrCat(tls ? "wss://" : "ws://", host, ":", port, target);
}

absl::StatusOr<std::pair<std::string, int>> ParseHostPort(absl::string_view text) {
  size_t colon = text.rfind(':');
  if (colon == absl::string_view::npos || colon == 0)
    return absl::InvalidArgumentError(
        absl::StrCat("address '", text, "': expected HOST:PORT, e.g. 127.0.0.1:8765"));
  absl::string_view host = text.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  int port = 0;
  if (!absl::SimpleAtoi(text.substr(colon + 1), &port) || port < 0 || port > 65535)
    return absl::InvalidArgumentError(
        absl::StrCat("address '", text, "': port must be a number in 0..65535"));
  return std::make_pair(std::string(host), port);
}

absl::StatusOr<Endpoint> ParseEdgeUrl(absl::string_view url) {
  Endpoint ep;
  absl::string_view rest = url;
  if (absl::ConsumePrefix(&rest, "wss://")) {
    ep.tls = true;
  } else if (!absl::ConsumePrefix(&rest, "ws://")) {
    return absl::InvalidArgumentError(
        absl::StrCat("edge URL '", url, "': expected ws://HOST:PORT or wss://HOST:PORT"));
  }
  size_t slash = rest.find('/');
  if (slash != absl::string_view::npos) {
    ep.target = std::string(rest.substr(slash));
    rest = rest.substr(0, slash);
  }
  auto hp = ParseHostPort(rest);
  if (!hp.ok() || hp->second == 0)
    return absl::InvalidArgumentError(
        absl::StrCat("edge URL '", url, "': expected ws://HOST:PORT with a port in 1..65535"));
  ep.host = hp->first;
  ep.port = absl::StrCat(hp->second);
  return ep;
}

}  // namespace edgeloop::edge_bench
