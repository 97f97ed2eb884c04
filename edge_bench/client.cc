#include "edge_bench/client.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/rng.h"
#include "edge_bench/protocol.h"
#include "edge_bench/ws_channel.h"

namespace edgeloop::edge_bench {

namespace {

using Clock = std::chrono::steady_clock;

uint64_t Entropy() {
  std::random_device rd;
  uint64_t v = (static_cast<uint64_t>(rd()) << 32) ^ rd();
  return v ^ static_cast<uint64_t>(Clock::now().time_since_epoch().count()) ^
         (static_cast<uint64_t>(getpid()) << 20);
}

struct Pending {
  MeasureRequest request;
  ResultCallback done;
  ProgressCallback progress;
  Clock::time_point deadline = Clock::time_point::max();
  int server = -1;
  bool sent = false;  // once sent, the request stays with its server (dedupe is per server)
};

enum class ConnState { kDisconnected, kConnecting, kConnected, kRefused };

struct ServerConn {
  Endpoint endpoint;
  std::string url;
  ConnState state = ConnState::kDisconnected;
  std::shared_ptr<Channel> channel;
  uint64_t generation = 0;
  double backoff_s = 0;
  std::unique_ptr<asio::steady_timer> retry;
  std::set<uint64_t> assigned;
  std::string last_error;
};

}  // namespace

class EdgeClient::Impl {
 public:
  explicit Impl(ClientOptions options) : opts_(std::move(options)), rng_(Entropy()) {}
  ~Impl() { Close(); }

  absl::Status Init();
  absl::Status WaitConnected(double timeout_s, int min_servers);
  std::vector<DeviceInfo> Devices() const {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<DeviceInfo> out;
    for (const auto& [idx, d] : devices_) out.push_back(d);
    return out;
  }
  uint64_t Submit(MeasureRequest request, ResultCallback done, ProgressCallback progress,
                  double timeout_s);
  void Cancel(uint64_t id);
  absl::StatusOr<double> PingMs(double timeout_s);
  size_t pending() const { return pending_count_; }
  const std::string& client_id() const { return opts_.client_id; }
  void DropConnections();
  void Close();

 private:
  // Everything below runs on the io thread.
  void StartConnect(int idx);
  template <class Ws>
  void Connect(int idx);
  template <class Ws>
  void Upgrade(int idx, uint64_t gen, std::shared_ptr<WsChannel<Ws>> ch);
  void Connected(int idx, uint64_t gen, std::shared_ptr<Channel> ch);
  void ConnectFailed(int idx, uint64_t gen, const std::string& why, bool refused);
  void Disconnected(int idx, uint64_t gen, beast::error_code ec);
  void ScheduleReconnect(int idx);
  void OnMessage(int idx, const std::string& data, bool binary);
  int ChooseServer() const;
  void Assign(uint64_t id, Pending& p);
  void SendRequest(int idx, uint64_t id, Pending& p);
  void Finish(uint64_t id, absl::Status status, MeasureResult result, const std::string& server);
  void Sweep();
  void SetConnectedState(int idx, bool connected, const DeviceInfo* info);

  ClientOptions opts_;
  Rng rng_;
  asio::io_context ioc_{1};
  std::unique_ptr<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  std::unique_ptr<ssl::context> tls_;
  std::thread io_thread_;
  std::vector<std::unique_ptr<ServerConn>> servers_;
  std::map<uint64_t, Pending> pending_;
  std::map<uint64_t, std::shared_ptr<std::promise<absl::Status>>> pings_;
  std::unique_ptr<asio::steady_timer> sweep_;
  bool closed_io_ = false;

  std::atomic<uint64_t> next_id_{1};
  std::atomic<uint64_t> next_nonce_{1};
  std::atomic<size_t> pending_count_{0};
  std::atomic<bool> closed_{false};  // Close() began: Submit answers at once
  std::once_flag close_once_;

  // Connection states for waiters on other threads.
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<int, DeviceInfo> devices_;
  int refused_ = 0;
  std::string last_error_;
  std::string secret_;  // Hello.client_secret
};

namespace {

const beast::error_category& HttpErrorCategory() {
  return http::make_error_code(http::error::bad_version).category();
}

// OpenSSL's reason, with the certificate verification detail when that is what failed.
std::string TlsErrorText(const beast::error_code& ec) {
  std::string text = ec.message();
  if (ec.category() == asio::error::get_ssl_category() &&
      ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == SSL_R_CERTIFICATE_VERIFY_FAILED) {
    text += " (the server's certificate is not trusted: pass its CA with --ca-file)";
  }
  return text;
}

}  // namespace

absl::Status EdgeClient::Impl::Init() {
  if (opts_.servers.empty()) return absl::InvalidArgumentError("no edge server given");
  if (opts_.client_id.empty()) opts_.client_id = absl::StrFormat("%016x", rng_.Next());
  std::random_device entropy;  // never the seeded rng_: the secret must not be guessable
  for (int i = 0; i < 4; ++i) absl::StrAppendFormat(&secret_, "%08x", entropy());
  bool any_tls = false;
  for (const std::string& url : opts_.servers) {
    auto ep = ParseEdgeUrl(url);
    if (!ep.ok()) return ep.status();
    auto conn = std::make_unique<ServerConn>();
    conn->endpoint = *ep;
    conn->url = ep->ToString();
    conn->backoff_s = opts_.backoff_initial_s;
    conn->retry = std::make_unique<asio::steady_timer>(ioc_);
    any_tls |= ep->tls;
    servers_.push_back(std::move(conn));
  }
  if (any_tls) {
    try {
      tls_ = std::make_unique<ssl::context>(ssl::context::tls_client);
      tls_->set_verify_mode(ssl::verify_peer);
      if (opts_.ca_file.empty()) {
        tls_->set_default_verify_paths();
      } else {
        tls_->load_verify_file(opts_.ca_file);
      }
    } catch (const std::exception& e) {
      return absl::InvalidArgumentError(
          absl::StrCat("TLS trust file '", opts_.ca_file, "': ", e.what()));
    }
  }
  work_ = std::make_unique<asio::executor_work_guard<asio::io_context::executor_type>>(
      ioc_.get_executor());
  sweep_ = std::make_unique<asio::steady_timer>(ioc_);
  asio::post(ioc_, [this] {
    for (int i = 0; i < static_cast<int>(servers_.size()); ++i) StartConnect(i);
    Sweep();
  });
  io_thread_ = std::thread([this] { ioc_.run(); });
  return absl::OkStatus();
}

void EdgeClient::Impl::StartConnect(int idx) {
  if (closed_io_) return;
  if (servers_[idx]->endpoint.tls) {
    Connect<TlsWs>(idx);
  } else {
    Connect<PlainWs>(idx);
  }
}

template <class Ws>
void EdgeClient::Impl::Connect(int idx) {
  ServerConn& c = *servers_[idx];
  c.state = ConnState::kConnecting;
  const uint64_t gen = ++c.generation;
  std::shared_ptr<WsChannel<Ws>> ch;
  if constexpr (kIsTls<Ws>) {
    ch = std::make_shared<WsChannel<Ws>>(ioc_, *tls_);
  } else {
    ch = std::make_shared<WsChannel<Ws>>(ioc_);
  }
  auto resolver = std::make_shared<tcp::resolver>(ioc_);
  resolver->async_resolve(
      c.endpoint.host, c.endpoint.port,
      [this, idx, gen, ch, resolver](beast::error_code ec, tcp::resolver::results_type results) {
        if (ec) return ConnectFailed(idx, gen, "resolve: " + ec.message(), false);
        auto& lowest = beast::get_lowest_layer(ch->ws());
        lowest.expires_after(Seconds(opts_.connect_timeout_s));
        lowest.async_connect(
            results, [this, idx, gen, ch](beast::error_code ec2, const tcp::endpoint&) {
              if (ec2) return ConnectFailed(idx, gen, "connect: " + ec2.message(), false);
              beast::error_code ignored;
              beast::get_lowest_layer(ch->ws()).socket().set_option(tcp::no_delay(true), ignored);
              if constexpr (kIsTls<Ws>) {
                const std::string& host = servers_[idx]->endpoint.host;
                SSL_set_tlsext_host_name(ch->ws().next_layer().native_handle(), host.c_str());
                ch->ws().next_layer().set_verify_callback(ssl::host_name_verification(host));
                ch->ws().next_layer().async_handshake(
                    ssl::stream_base::client, [this, idx, gen, ch](beast::error_code ec3) {
                      // A certificate that does not verify, or a peer that does not speak
                      // TLS, will not change by retrying: final, like a 401.
                      if (ec3) {
                        const bool final = ec3.category() == asio::error::get_ssl_category();
                        return ConnectFailed(idx, gen, "TLS: " + TlsErrorText(ec3), final);
                      }
                      Upgrade(idx, gen, ch);
                    });
              } else {
                Upgrade(idx, gen, ch);
              }
            });
      });
}

template <class Ws>
void EdgeClient::Impl::Upgrade(int idx, uint64_t gen, std::shared_ptr<WsChannel<Ws>> ch) {
  const Endpoint& ep = servers_[idx]->endpoint;
  ConfigureStream(ch->ws(), opts_.connect_timeout_s, opts_.keepalive_idle_s, opts_.max_frame_bytes);
  const std::string auth = opts_.token.empty() ? "" : "Bearer " + opts_.token;
  ch->ws().set_option(websocket::stream_base::decorator([auth](websocket::request_type& req) {
    req.set(http::field::user_agent, "edgeloop-edge-client");
    if (!auth.empty()) req.set(http::field::authorization, auth);
  }));
  auto res = std::make_shared<websocket::response_type>();
  ch->ws().async_handshake(
      *res, ep.host + ":" + ep.port, ep.target, [this, idx, gen, ch, res](beast::error_code ec) {
        if (ec) {
          const bool refused = res->result() == http::status::unauthorized ||
                               res->result() == http::status::forbidden;
          // An answer that is not HTTP (e.g. TLS spoken back to ws://) is final too.
          const bool not_http =
              ec.category() == HttpErrorCategory() && ec != http::error::end_of_stream;
          return ConnectFailed(
              idx, gen,
              refused ? absl::StrCat("server refused the connection: HTTP ", res->result_int(), " ",
                                     res->body())
              : not_http ? "not an edgeloop server (the reply is not HTTP: " + ec.message() + ")"
                         : "WebSocket upgrade: " + ec.message(),
              refused || not_http);
        }
        Connected(idx, gen, ch);
      });
}

void EdgeClient::Impl::Connected(int idx, uint64_t gen, std::shared_ptr<Channel> ch) {
  ServerConn& c = *servers_[idx];
  if (gen != c.generation || closed_io_) {
    ch->Abort();
    return;
  }
  c.channel = ch;
  c.state = ConnState::kConnected;
  c.backoff_s = opts_.backoff_initial_s;
  ch->Start(Channel::Handlers{
      [this, idx](std::string data, bool binary) { OnMessage(idx, data, binary); },
      [this, idx, gen](beast::error_code ec) { Disconnected(idx, gen, ec); }});
  Envelope hello;
  hello.mutable_hello()->set_client_id(opts_.client_id);
  hello.mutable_hello()->set_client_name(opts_.client_name);
  hello.mutable_hello()->set_client_secret(secret_);
  ch->Send(EncodeEnvelope(std::move(hello)));
  // Resubmit what this server has not answered, and take over requests not yet sent
  // that wait for a server that is down.
  for (auto& [id, p] : pending_) {
    if (p.server == idx) {
      SendRequest(idx, id, p);
    } else if (!p.sent && (p.server < 0 || servers_[p.server]->state != ConnState::kConnected)) {
      if (p.server >= 0) servers_[p.server]->assigned.erase(id);
      p.server = idx;
      c.assigned.insert(id);
      SendRequest(idx, id, p);
    }
  }
}

void EdgeClient::Impl::SetConnectedState(int idx, bool connected, const DeviceInfo* info) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (connected) {
      devices_[idx] = *info;
    } else {
      devices_.erase(idx);
    }
  }
  cv_.notify_all();
}

void EdgeClient::Impl::ConnectFailed(int idx, uint64_t gen, const std::string& why, bool refused) {
  ServerConn& c = *servers_[idx];
  if (gen != c.generation) return;
  c.last_error = absl::StrCat(c.url, ": ", why);
  {
    std::lock_guard<std::mutex> lock(mu_);
    last_error_ = c.last_error;
    if (refused) ++refused_;
  }
  cv_.notify_all();
  if (!refused) {
    c.state = ConnState::kDisconnected;
    ScheduleReconnect(idx);
    return;
  }
  c.state = ConnState::kRefused;
  // Final for this server: move its requests elsewhere, or fail them.
  std::set<uint64_t> moved;
  moved.swap(c.assigned);
  for (uint64_t id : moved) {
    auto it = pending_.find(id);
    if (it == pending_.end()) continue;
    it->second.sent = false;
    it->second.server = -1;
    Assign(id, it->second);
  }
}

void EdgeClient::Impl::Disconnected(int idx, uint64_t gen, beast::error_code ec) {
  ServerConn& c = *servers_[idx];
  if (gen != c.generation) return;
  c.channel.reset();
  if (closed_io_) {
    bool open = false;
    for (auto& other : servers_) open |= other->channel != nullptr;
    if (!open) ioc_.stop();
    return;
  }
  c.state = ConnState::kDisconnected;
  c.last_error = absl::StrCat(c.url, ": connection lost: ", ec.message());
  SetConnectedState(idx, false, nullptr);
  // Pings in flight will not be answered.
  for (auto& [nonce, promise] : pings_) promise->set_value(absl::UnavailableError(c.last_error));
  pings_.clear();
  ScheduleReconnect(idx);
}

void EdgeClient::Impl::ScheduleReconnect(int idx) {
  if (closed_io_) return;
  ServerConn& c = *servers_[idx];
  // Jitter in [0.5, 1) x backoff keeps a fleet of clients from reconnecting in lockstep.
  const double delay = c.backoff_s * (0.5 + 0.5 * rng_.UniformDouble());
  c.backoff_s = std::min(c.backoff_s * 2, opts_.backoff_max_s);
  c.retry->expires_after(Seconds(delay));
  c.retry->async_wait([this, idx](beast::error_code ec) {
    if (!ec) StartConnect(idx);
  });
}

void EdgeClient::Impl::OnMessage(int idx, const std::string& data, bool binary) {
  ServerConn& c = *servers_[idx];
  Envelope env;
  std::string why;
  if (!binary || DecodeEnvelope(data, &env, &why) != ERROR_UNSPECIFIED) return;
  switch (env.body_case()) {
    case Envelope::kDeviceInfo:
      SetConnectedState(idx, true, &env.device_info());
      break;
    case Envelope::kMeasureProgress: {
      auto it = pending_.find(env.measure_progress().request_id());
      if (it != pending_.end() && it->second.server == idx && it->second.progress)
        it->second.progress(env.measure_progress());
      break;
    }
    case Envelope::kMeasureResult: {
      const uint64_t id = env.measure_result().request_id();
      auto it = pending_.find(id);
      if (it != pending_.end() && it->second.server == idx)
        Finish(id, absl::OkStatus(), env.measure_result(), c.url);
      break;
    }
    case Envelope::kError: {
      const uint64_t id = env.error().request_id();
      auto it = pending_.find(id);
      if (id != 0 && it != pending_.end() && it->second.server == idx)
        Finish(id, StatusFromError(env.error()), MeasureResult(), c.url);
      break;
    }
    case Envelope::kPong: {
      auto it = pings_.find(env.pong().nonce());
      if (it != pings_.end()) {
        it->second->set_value(absl::OkStatus());
        pings_.erase(it);
      }
      break;
    }
    default:
      break;
  }
}

int EdgeClient::Impl::ChooseServer() const {
  int best = -1;
  auto better = [&](int i) {
    if (best < 0) return true;
    const bool ci = servers_[i]->state == ConnState::kConnected;
    const bool cb = servers_[best]->state == ConnState::kConnected;
    if (ci != cb) return ci;
    return servers_[i]->assigned.size() < servers_[best]->assigned.size();
  };
  for (int i = 0; i < static_cast<int>(servers_.size()); ++i) {
    if (servers_[i]->state == ConnState::kRefused) continue;
    if (better(i)) best = i;
  }
  return best;
}

void EdgeClient::Impl::Assign(uint64_t id, Pending& p) {
  const int idx = ChooseServer();
  if (idx < 0) {
    std::string why;
    {
      std::lock_guard<std::mutex> lock(mu_);
      why = last_error_;
    }
    Finish(id, absl::PermissionDeniedError(absl::StrCat("no server accepts this client: ", why)),
           MeasureResult(), "");
    return;
  }
  p.server = idx;
  servers_[idx]->assigned.insert(id);
  if (servers_[idx]->state == ConnState::kConnected) SendRequest(idx, id, p);
}

void EdgeClient::Impl::SendRequest(int idx, uint64_t id, Pending& p) {
  Envelope e;
  *e.mutable_measure_request() = p.request;
  e.mutable_measure_request()->set_request_id(id);
  servers_[idx]->channel->Send(EncodeEnvelope(std::move(e)));
  p.sent = true;
}

void EdgeClient::Impl::Finish(uint64_t id, absl::Status status, MeasureResult result,
                              const std::string& server) {
  auto it = pending_.find(id);
  if (it == pending_.end()) return;
  Pending p = std::move(it->second);
  pending_.erase(it);
  --pending_count_;
  if (p.server >= 0) servers_[p.server]->assigned.erase(id);
  RequestOutcome outcome;
  outcome.request_id = id;
  outcome.status = std::move(status);
  outcome.result = std::move(result);
  outcome.server = server;
  if (p.done) p.done(outcome);
}

void EdgeClient::Impl::Sweep() {
  if (closed_io_) return;
  const Clock::time_point now = Clock::now();
  std::vector<uint64_t> expired;
  for (const auto& [id, p] : pending_)
    if (p.deadline <= now) expired.push_back(id);
  for (uint64_t id : expired) {
    Pending& p = pending_[id];
    if (p.sent && servers_[p.server]->state == ConnState::kConnected) {
      Envelope cancel;
      cancel.mutable_cancel()->set_request_id(id);
      servers_[p.server]->channel->Send(EncodeEnvelope(std::move(cancel)));
    }
    Finish(id, absl::DeadlineExceededError(absl::StrCat("request ", id, " timed out")),
           MeasureResult(), "");
  }
  sweep_->expires_after(std::chrono::milliseconds(20));
  sweep_->async_wait([this](beast::error_code ec) {
    if (!ec) Sweep();
  });
}

absl::Status EdgeClient::Impl::WaitConnected(double timeout_s, int min_servers) {
  std::unique_lock<std::mutex> lock(mu_);
  const int total = static_cast<int>(servers_.size());
  min_servers = std::min(min_servers, total);
  const bool ok = cv_.wait_for(lock, Seconds(timeout_s), [&] {
    return static_cast<int>(devices_.size()) >= min_servers || total - refused_ < min_servers;
  });
  if (static_cast<int>(devices_.size()) >= min_servers) return absl::OkStatus();
  if (total - refused_ < min_servers) return absl::PermissionDeniedError(last_error_);
  (void)ok;
  return absl::DeadlineExceededError(absl::StrCat("no connection within ", timeout_s, " s",
                                                  last_error_.empty() ? "" : ": ", last_error_));
}

uint64_t EdgeClient::Impl::Submit(MeasureRequest request, ResultCallback done,
                                  ProgressCallback progress, double timeout_s) {
  const uint64_t id = next_id_++;
  if (closed_) {
    RequestOutcome outcome;
    outcome.request_id = id;
    outcome.status = absl::CancelledError("client closed");
    if (done) done(outcome);
    return id;
  }
  ++pending_count_;
  Pending p;
  p.request = std::move(request);
  p.done = std::move(done);
  p.progress = std::move(progress);
  if (timeout_s > 0) p.deadline = Clock::now() + Seconds(timeout_s);
  asio::post(ioc_, [this, id, p = std::move(p)]() mutable {
    if (closed_io_) {
      --pending_count_;
      RequestOutcome outcome;
      outcome.request_id = id;
      outcome.status = absl::CancelledError("client closed");
      if (p.done) p.done(outcome);
      return;
    }
    Pending& stored = pending_[id] = std::move(p);
    Assign(id, stored);
  });
  return id;
}

void EdgeClient::Impl::Cancel(uint64_t id) {
  asio::post(ioc_, [this, id] {
    auto it = pending_.find(id);
    if (it == pending_.end()) return;
    Pending& p = it->second;
    if (p.sent && servers_[p.server]->state == ConnState::kConnected) {
      Envelope cancel;
      cancel.mutable_cancel()->set_request_id(id);
      servers_[p.server]->channel->Send(EncodeEnvelope(std::move(cancel)));
    }
    Finish(id, absl::CancelledError(absl::StrCat("request ", id, " cancelled")), MeasureResult(),
           "");
  });
}

absl::StatusOr<double> EdgeClient::Impl::PingMs(double timeout_s) {
  const uint64_t nonce = next_nonce_++;
  auto promise = std::make_shared<std::promise<absl::Status>>();
  std::future<absl::Status> result = promise->get_future();
  const Clock::time_point t0 = Clock::now();
  asio::post(ioc_, [this, nonce, promise] {
    for (auto& c : servers_) {
      if (c->state != ConnState::kConnected) continue;
      pings_[nonce] = promise;
      Envelope ping;
      ping.mutable_ping()->set_nonce(nonce);
      c->channel->Send(EncodeEnvelope(std::move(ping)));
      return;
    }
    promise->set_value(absl::UnavailableError("no connected server"));
  });
  if (result.wait_for(Seconds(timeout_s)) != std::future_status::ready) {
    asio::post(ioc_, [this, nonce] { pings_.erase(nonce); });
    return absl::DeadlineExceededError("ping timed out");
  }
  if (absl::Status st = result.get(); !st.ok()) return st;
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

void EdgeClient::Impl::DropConnections() {
  asio::post(ioc_, [this] {
    for (auto& c : servers_)
      if (c->channel) c->channel->Abort();
  });
}

void EdgeClient::Impl::Close() {
  std::call_once(close_once_, [this] {
    closed_ = true;
    if (!io_thread_.joinable()) return;
    asio::post(ioc_, [this] {
      closed_io_ = true;
      sweep_->cancel();
      std::vector<uint64_t> ids;
      for (const auto& [id, p] : pending_) ids.push_back(id);
      for (uint64_t id : ids)
        Finish(id, absl::CancelledError("client closed"), MeasureResult(), "");
      for (auto& [nonce, promise] : pings_) promise->set_value(absl::CancelledError("closed"));
      pings_.clear();
      bool open = false;
      for (auto& c : servers_) {
        c->retry->cancel();
        if (c->channel) {
          open = true;
          c->channel->Close(websocket::close_code::normal, "client closing");
        } else {
          ++c->generation;  // ignore completions of connects in flight
        }
      }
      work_.reset();
      if (!open) ioc_.stop();
    });
    // Connections whose peer does not answer the close handshake do not hold us long.
    asio::steady_timer deadline(ioc_, Seconds(2));
    deadline.async_wait([this](beast::error_code ec) {
      if (!ec) ioc_.stop();
    });
    io_thread_.join();
  });
}

absl::StatusOr<std::unique_ptr<EdgeClient>> EdgeClient::Create(ClientOptions options) {
  auto impl = std::make_unique<Impl>(std::move(options));
  if (absl::Status st = impl->Init(); !st.ok()) return st;
  return std::unique_ptr<EdgeClient>(new EdgeClient(std::move(impl)));
}

EdgeClient::EdgeClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
EdgeClient::~EdgeClient() { Close(); }

absl::Status EdgeClient::WaitConnected(double timeout_s, int min_servers) {
  return impl_->WaitConnected(timeout_s, min_servers);
}
std::vector<DeviceInfo> EdgeClient::Devices() const { return impl_->Devices(); }
uint64_t EdgeClient::Submit(MeasureRequest request, ResultCallback done, ProgressCallback progress,
                            double timeout_s) {
  return impl_->Submit(std::move(request), std::move(done), std::move(progress), timeout_s);
}
void EdgeClient::Cancel(uint64_t request_id) { impl_->Cancel(request_id); }

absl::StatusOr<MeasureResult> EdgeClient::Measure(MeasureRequest request, double timeout_s,
                                                  ProgressCallback progress) {
  auto promise = std::make_shared<std::promise<absl::StatusOr<MeasureResult>>>();
  auto future = promise->get_future();
  Submit(
      std::move(request),
      [promise](const RequestOutcome& o) {
        if (o.status.ok()) {
          promise->set_value(o.result);
        } else {
          promise->set_value(o.status);
        }
      },
      std::move(progress), timeout_s);
  return future.get();
}

absl::StatusOr<double> EdgeClient::PingMs(double timeout_s) { return impl_->PingMs(timeout_s); }
size_t EdgeClient::pending() const { return impl_->pending(); }
const std::string& EdgeClient::client_id() const { return impl_->client_id(); }
void EdgeClient::DropConnections() { impl_->DropConnections(); }
void EdgeClient::Close() { impl_->Close(); }

}  // namespace edgeloop::edge_bench
