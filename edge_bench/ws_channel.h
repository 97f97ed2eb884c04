// Internal to edge_bench (included only by server.cc and client.cc, which keep Boost.Beast
// out of every public header).
//
// WsChannel owns one WebSocket stream (plain or TLS) used from a single io thread: a read
// loop that hands every complete message to `on_message`, a queue of outgoing binary
// messages written one at a time (Beast allows one outstanding write), and a close that
// waits for the queue to drain, so an Error sent just before a close reaches the peer.
// `on_closed` is called exactly once, when the read loop ends (peer close, error, timeout,
// Abort).
//
// A peer that sends but never reads cannot grow the outbox without bound once
// LimitOutbox() is set: above half the limit the channel stops reading (the peer's
// requests wait in TCP's buffers) and reads again once the outbox drained below a quarter;
// a message that would take it past the limit, or a write that makes no progress for the
// stall timeout, drops the connection.
#ifndef EDGELOOP_EDGE_BENCH_WS_CHANNEL_H_
#define EDGELOOP_EDGE_BENCH_WS_CHANNEL_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

namespace edgeloop::edge_bench::internal {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

using PlainWs = websocket::stream<beast::tcp_stream>;
using TlsWs = websocket::stream<beast::ssl_stream<beast::tcp_stream>>;

template <class Ws>
inline constexpr bool kIsTls = std::is_same_v<Ws, TlsWs>;

inline std::chrono::steady_clock::duration Seconds(double s) {
  return std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(s));
}

// The settings both ends give an opened stream before its WebSocket handshake: no TCP
// deadline (Beast's own timeouts take over), the handshake and idle timeouts with keep-alive
// pings, and the largest message read.
template <class Ws>
void ConfigureStream(Ws& ws, double handshake_timeout_s, double idle_timeout_s,
                     int64_t max_frame_bytes) {
  beast::get_lowest_layer(ws).expires_never();
  websocket::stream_base::timeout timeouts;
  timeouts.handshake_timeout = Seconds(handshake_timeout_s);
  timeouts.idle_timeout = Seconds(idle_timeout_s);
  timeouts.keep_alive_pings = true;
  ws.set_option(timeouts);
  ws.read_message_max(static_cast<size_t>(max_frame_bytes));
}

class Channel {
 public:
  struct Handlers {
    std::function<void(std::string data, bool binary)> on_message;
    std::function<void(beast::error_code ec)> on_closed;
  };
  virtual ~Channel() = default;
  virtual void Start(Handlers handlers) = 0;
  virtual void Send(std::string bytes) = 0;
  // Bounds the bytes queued for the peer (see above); 0 (the default) leaves it unbounded.
  virtual void LimitOutbox(size_t max_bytes, double stall_timeout_s) = 0;
  virtual void Close(websocket::close_code code, std::string reason) = 0;
  // Drops the TCP connection without a closing handshake (a vanished peer).
  virtual void Abort() = 0;
  // The close frame the peer sent, once closed.
  virtual websocket::close_reason PeerCloseReason() const = 0;
};

template <class Ws>
class WsChannel : public Channel, public std::enable_shared_from_this<WsChannel<Ws>> {
 public:
  template <class... Args>
  explicit WsChannel(Args&&... args)
      : ws_(std::forward<Args>(args)...), stall_timer_(ws_.get_executor()) {}

  Ws& ws() { return ws_; }

  void Start(Handlers handlers) override {
    handlers_ = std::move(handlers);
    ws_.binary(true);
    Read();
  }

  void Send(std::string bytes) override {
    if (closing_ || closed_) return;
    if (max_outbox_ > 0 && outbox_bytes_ + bytes.size() > max_outbox_) {
      Abort();  // the peer does not read what it asks for
      return;
    }
    outbox_bytes_ += bytes.size();
    outbox_.push_back(std::move(bytes));
    if (!writing_) Write();
  }

  void LimitOutbox(size_t max_bytes, double stall_timeout_s) override {
    max_outbox_ = max_bytes;
    stall_timeout_s_ = stall_timeout_s;
  }

  void Close(websocket::close_code code, std::string reason) override {
    if (closing_ || closed_) return;
    closing_ = true;
    close_reason_ = websocket::close_reason(code, reason);
    if (!writing_) DoClose();
  }

  void Abort() override {
    beast::error_code ignored;
    beast::get_lowest_layer(ws_).socket().shutdown(tcp::socket::shutdown_both, ignored);
    beast::get_lowest_layer(ws_).close();
    if (read_paused_ && !closed_) {
      // No read is pending to report the end: report it as one would.
      read_paused_ = false;
      asio::post(ws_.get_executor(), [self = this->shared_from_this()] {
        if (!self->closed_) self->OnRead(asio::error::connection_aborted);
      });
    }
  }

  websocket::close_reason PeerCloseReason() const override { return ws_.reason(); }

 private:
  void Read() {
    ws_.async_read(buffer_, [self = this->shared_from_this()](beast::error_code ec, size_t) {
      self->OnRead(ec);
    });
  }

  void OnRead(beast::error_code ec) {
    if (ec) {
      closed_ = true;
      outbox_.clear();
      outbox_bytes_ = 0;
      stall_timer_.cancel();
      if (handlers_.on_closed) handlers_.on_closed(ec);
      handlers_ = Handlers{};  // break reference cycles through captured owners
      return;
    }
    std::string data = beast::buffers_to_string(buffer_.data());
    buffer_.consume(buffer_.size());
    const bool binary = ws_.got_binary();
    if (handlers_.on_message) handlers_.on_message(std::move(data), binary);
    if (closed_) return;
    if (max_outbox_ > 0 && outbox_bytes_ > max_outbox_ / 2) {
      read_paused_ = true;  // OnWrite reads again once the peer caught up
      return;
    }
    Read();
  }

  void Write() {
    writing_ = true;
    if (max_outbox_ > 0 && stall_timeout_s_ > 0) {
      stall_timer_.expires_after(Seconds(stall_timeout_s_));
      stall_timer_.async_wait([self = this->shared_from_this()](beast::error_code ec) {
        if (!ec && self->writing_) self->Abort();  // the peer stopped reading
      });
    }
    ws_.async_write(
        asio::buffer(outbox_.front()),
        [self = this->shared_from_this()](beast::error_code ec, size_t) { self->OnWrite(ec); });
  }

  void OnWrite(beast::error_code ec) {
    writing_ = false;
    stall_timer_.cancel();
    if (!outbox_.empty()) {
      outbox_bytes_ -= outbox_.front().size();
      outbox_.pop_front();
    }
    if (ec) {
      // The read loop reports the failure; make sure it ends.
      Abort();
      return;
    }
    if (read_paused_ && !closed_ && outbox_bytes_ <= max_outbox_ / 4) {
      read_paused_ = false;
      Read();
    }
    if (!outbox_.empty()) {
      Write();
    } else if (closing_) {
      DoClose();
    }
  }

  void DoClose() {
    ws_.async_close(close_reason_, [self = this->shared_from_this()](beast::error_code ec) {
      if (ec) self->Abort();
    });
  }

  Ws ws_;
  beast::flat_buffer buffer_;
  Handlers handlers_;
  std::deque<std::string> outbox_;
  size_t outbox_bytes_ = 0;
  size_t max_outbox_ = 0;  // 0: unbounded
  double stall_timeout_s_ = 0;
  bool read_paused_ = false;
  asio::steady_timer stall_timer_;
  bool writing_ = false;
  bool closing_ = false;
  bool closed_ = false;
  websocket::close_reason close_reason_;
};

}  // namespace edgeloop::edge_bench::internal

namespace edgeloop::edge_bench {

// The names the two Beast translation units (server.cc, client.cc) use unqualified. Only
// those files include this header, so the aliases reach no other code.
namespace asio = internal::asio;
namespace beast = internal::beast;
namespace http = internal::http;
namespace ssl = internal::ssl;
namespace websocket = internal::websocket;
using internal::Channel;
using internal::ConfigureStream;
using internal::kIsTls;
using internal::PlainWs;
using internal::Seconds;
using internal::tcp;
using internal::TlsWs;
using internal::WsChannel;

}  // namespace edgeloop::edge_bench

#endif  // EDGELOOP_EDGE_BENCH_WS_CHANNEL_H_
