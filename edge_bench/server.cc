#include "edge_bench/server.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "edge_bench/measure_service.h"
#include "edge_bench/protocol.h"
#include "edge_bench/ws_channel.h"

namespace edgeloop::edge_bench {

namespace {

// Compares in time independent of where the strings differ.
bool SameSecret(absl::string_view got, absl::string_view want) {
  unsigned diff = got.size() == want.size() ? 0u : 1u;
  for (size_t i = 0; i < want.size(); ++i)
    diff |= static_cast<unsigned>(static_cast<unsigned char>(i < got.size() ? got[i] : 0) ^
                                  static_cast<unsigned char>(want[i]));
  return diff == 0;
}

// A client's requests belong to its key: the Hello's client_id with its secret, or with
// the connection when there is no secret (see protocol.proto Hello).
struct Job {
  std::string client_key;
  uint64_t session_id = 0;  // the connection that submitted it (per-connection cap)
  MeasureRequest request;
  std::atomic<bool> cancel{false};
};

struct Session {
  uint64_t id = 0;
  std::string client_key;
  std::string client_name;  // client_id for logs
  std::shared_ptr<Channel> channel;
};

std::string ClientKey(const Hello& hello, uint64_t session_id) {
  if (hello.client_secret().empty())
    return absl::StrCat(hello.client_id(), "\n#connection-", session_id);
  return absl::StrCat(hello.client_id(), "\n", hello.client_secret());
}

using RequestKey = std::pair<std::string, uint64_t>;

}  // namespace

class EdgeServer::Impl {
 public:
  Impl(ServerOptions options, std::unique_ptr<WorkloadFactory> factory)
      : opts_(std::move(options)), factory_(std::move(factory)) {}
  ~Impl() { Shutdown(); }

  absl::Status Start();
  void Shutdown();
  int port() const { return port_; }
  DeviceInfo device() const { return service_->device(); }
  Counters counters() const {
    const MeasureService::Counters m = service_->counters();
    Counters c;
    c.connections = connections_;
    c.rejected_upgrades = rejected_upgrades_;
    c.measured = m.measured;
    c.cache_hits = m.cache_hits;
    c.sentinel_runs = m.sentinel_runs;
    return c;
  }

 private:
  void Log(const std::string& line) const {
    if (opts_.log) opts_.log(line);
  }

  // Network side: everything below runs on the io thread.
  void Accept();
  template <class Ws>
  void Handshake(std::shared_ptr<WsChannel<Ws>> ch);
  template <class Ws>
  void ReadUpgrade(std::shared_ptr<WsChannel<Ws>> ch);
  template <class Ws>
  void Reject(std::shared_ptr<WsChannel<Ws>> ch, unsigned version, http::status status,
              const std::string& why);
  void Open(std::shared_ptr<Channel> ch);
  void OnClosed(uint64_t session_id, beast::error_code ec);
  void OnMessage(const std::shared_ptr<Session>& s, std::string data, bool binary);
  void OnHello(const std::shared_ptr<Session>& s, const Hello& hello);
  void OnMeasure(const std::shared_ptr<Session>& s, const MeasureRequest& req);
  void OnCancel(const std::shared_ptr<Session>& s, const Cancel& cancel);
  void Send(Session& s, Envelope e) { s.channel->Send(EncodeEnvelope(std::move(e))); }
  void Route(const std::string& client_key, const std::string& bytes);
  // Refuses a job over the queue caps (total, per client, per connection): the reason.
  std::string OverQueueCaps(const Session& s);
  // The next job: the longest-waiting one of the client served least recently.
  std::shared_ptr<Job> TakeNextJob();
  void Complete(const std::shared_ptr<Job>& job, const std::string& final_bytes);
  DeviceInfo DeviceWithQueue();

  // The worker thread: hands each job to the measurement service (measure_service.h).
  void WorkerLoop();
  void PostProgress(const std::string& client_key, MeasureProgress progress);

  ServerOptions opts_;
  std::unique_ptr<WorkloadFactory> factory_;  // until Start hands it to the service
  std::unique_ptr<MeasureService> service_;
  int port_ = 0;

  asio::io_context ioc_{1};
  tcp::acceptor acceptor_{ioc_};
  asio::steady_timer accept_backoff_{ioc_};  // out of file descriptors: retry later
  std::unique_ptr<ssl::context> tls_;
  std::thread io_thread_;
  std::thread worker_thread_;
  std::once_flag shutdown_once_;

  // io thread state.
  std::map<uint64_t, std::shared_ptr<Session>> sessions_;
  std::unordered_map<std::string, std::weak_ptr<Session>> by_client_;
  uint64_t next_session_ = 1;
  struct Record {
    std::shared_ptr<Job> job;  // set while waiting or running
    std::string final_bytes;   // the MeasureResult / Error envelope once finished
    std::string request;       // the request as serialized: a reused id must match it
  };
  std::map<RequestKey, Record> requests_;
  std::deque<RequestKey> finished_order_;
  bool stopping_io_ = false;

  // The FIFO queue, shared by both threads.
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<Job>> queue_;
  std::shared_ptr<Job> running_;
  bool stopping_ = false;
  std::map<std::string, uint64_t> last_served_;  // client key -> serve tick
  uint64_t serve_tick_ = 0;

  std::atomic<int64_t> connections_{0}, rejected_upgrades_{0};
};

namespace {

// The measurement side's share of the server's options.
MeasureServiceOptions ServiceOptions(const ServerOptions& o) {
  MeasureServiceOptions s;
  static_cast<MeasurementOptions&>(s) = o;
  s.limits.set_max_batch(o.max_batch);
  s.limits.set_max_flops(o.max_flops);
  s.limits.set_max_queued_per_client(o.max_queued_per_client);
  s.limits.set_max_queued_total(o.max_queued_total);
  s.limits.set_max_frame_bytes(o.max_frame_bytes);
  s.limits.set_max_params(o.max_params);
  s.limits.set_max_memory_bytes(o.max_memory_bytes);
  s.limits.set_max_input_bytes(o.max_input_bytes);
  s.limits.set_max_request_seconds(o.max_request_seconds);
  s.max_batch_sizes = o.max_batch_sizes;
  s.cache_file = o.cache_file;
  return s;
}

}  // namespace

absl::Status EdgeServer::Impl::Start() {
  auto service = MeasureService::Create(ServiceOptions(opts_), std::move(factory_));
  if (!service.ok()) return service.status();
  service_ = std::move(*service);

  if (opts_.tls_cert_file.empty() != opts_.tls_key_file.empty())
    return absl::InvalidArgumentError("TLS needs both a certificate and a key file");
  try {
    if (!opts_.tls_cert_file.empty()) {
      tls_ = std::make_unique<ssl::context>(ssl::context::tls_server);
      tls_->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                        ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
      tls_->use_certificate_chain_file(opts_.tls_cert_file);
      tls_->use_private_key_file(opts_.tls_key_file, ssl::context::pem);
    }
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("TLS certificate ", opts_.tls_cert_file,
                                                   " / key ", opts_.tls_key_file, ": ", e.what()));
  }
  try {
    tcp::resolver resolver(ioc_);
    auto results = resolver.resolve(opts_.host, std::to_string(opts_.port),
                                    tcp::resolver::passive | tcp::resolver::numeric_service);
    tcp::endpoint endpoint = results.begin()->endpoint();
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(asio::socket_base::reuse_address(true));
    acceptor_.bind(endpoint);
    acceptor_.listen(asio::socket_base::max_listen_connections);
    port_ = acceptor_.local_endpoint().port();
  } catch (const std::exception& e) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", opts_.host, ":", opts_.port, ": ", e.what()));
  }
  Accept();
  io_thread_ = std::thread([this] { ioc_.run(); });
  worker_thread_ = std::thread([this] { WorkerLoop(); });
  const DeviceInfo& device = service_->device();
  Log(absl::StrCat("listening on ", tls_ ? "wss://" : "ws://", opts_.host, ":", port_, " device ",
                   device.device(), " threads ", device.threads(), " fingerprint ",
                   device.fingerprint()));
  return absl::OkStatus();
}

void EdgeServer::Impl::Shutdown() {
  std::call_once(shutdown_once_, [this] {
    if (!io_thread_.joinable()) return;  // never started
    service_->BeginShutdown();
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
      if (running_) running_->cancel = true;
    }
    cv_.notify_all();
    worker_thread_.join();  // its last posts (errors for every open request) precede ours
    asio::post(ioc_, [this] {
      stopping_io_ = true;
      beast::error_code ignored;
      acceptor_.close(ignored);
      accept_backoff_.cancel();
      if (sessions_.empty()) {
        ioc_.stop();
        return;
      }
      for (auto& [id, s] : sessions_)
        s->channel->Close(websocket::close_code::going_away, "server shutting down");
    });
    // Peers that do not answer the close handshake do not hold the exit for long.
    asio::steady_timer deadline(ioc_, Seconds(3));
    deadline.async_wait([this](beast::error_code ec) {
      if (!ec) ioc_.stop();
    });
    io_thread_.join();
    sessions_.clear();
    by_client_.clear();
    Log("stopped");
  });
}

void EdgeServer::Impl::Accept() {
  acceptor_.async_accept([this](beast::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || stopping_io_) return;
    if (ec == asio::error::no_descriptors ||
        ec == beast::errc::make_error_code(beast::errc::too_many_files_open_in_system)) {
      // Accepting again at once would spin: wait for connections to close.
      Log(absl::StrCat("accept: ", ec.message(), "; retrying in 0.5 s"));
      accept_backoff_.expires_after(std::chrono::milliseconds(500));
      accept_backoff_.async_wait([this](beast::error_code e) {
        if (!e && !stopping_io_) Accept();
      });
      return;
    }
    if (!ec) {
      beast::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      if (tls_) {
        Handshake(std::make_shared<WsChannel<TlsWs>>(std::move(socket), *tls_));
      } else {
        Handshake(std::make_shared<WsChannel<PlainWs>>(std::move(socket)));
      }
    }
    Accept();
  });
}

template <class Ws>
void EdgeServer::Impl::Handshake(std::shared_ptr<WsChannel<Ws>> ch) {
  beast::get_lowest_layer(ch->ws()).expires_after(Seconds(opts_.handshake_timeout_s));
  if constexpr (kIsTls<Ws>) {
    ch->ws().next_layer().async_handshake(
        ssl::stream_base::server, [this, ch](beast::error_code ec) {
          if (ec) {
            Log(absl::StrCat("TLS handshake failed: ", ec.message()));
            return;
          }
          ReadUpgrade(ch);
        });
  } else {
    ReadUpgrade(ch);
  }
}

template <class Ws>
void EdgeServer::Impl::ReadUpgrade(std::shared_ptr<WsChannel<Ws>> ch) {
  struct Upgrade {
    beast::flat_buffer buffer;
    http::request_parser<http::empty_body> parser;
  };
  auto up = std::make_shared<Upgrade>();
  up->parser.header_limit(16 * 1024);
  http::async_read(
      ch->ws().next_layer(), up->buffer, up->parser, [this, ch, up](beast::error_code ec, size_t) {
        if (ec) return;  // not HTTP, or gone: drop the connection
        http::request<http::empty_body> req = up->parser.release();
        if (!websocket::is_upgrade(req)) {
          Reject(ch, req.version(), http::status::bad_request,
                 "this is an edgeloop WebSocket endpoint; send an upgrade request");
          return;
        }
        if (!opts_.token.empty() &&
            !SameSecret(std::string(req[http::field::authorization]), "Bearer " + opts_.token)) {
          Reject(ch, req.version(), http::status::unauthorized, "missing or wrong bearer token");
          return;
        }
        ConfigureStream(ch->ws(), opts_.handshake_timeout_s, opts_.idle_timeout_s,
                        opts_.max_frame_bytes);
        ch->ws().set_option(websocket::stream_base::decorator(
            [](websocket::response_type& res) { res.set(http::field::server, "edgeloop-edge"); }));
        ch->ws().async_accept(req, [this, ch](beast::error_code ec2) {
          if (ec2) return;
          Open(ch);
        });
      });
}

template <class Ws>
void EdgeServer::Impl::Reject(std::shared_ptr<WsChannel<Ws>> ch, unsigned version,
                              http::status status, const std::string& why) {
  ++rejected_upgrades_;
  Log(absl::StrCat("refused upgrade: ", why));
  auto res = std::make_shared<http::response<http::string_body>>(status, version);
  res->set(http::field::server, "edgeloop-edge");
  res->set(http::field::content_type, "text/plain");
  if (status == http::status::unauthorized) res->set(http::field::www_authenticate, "Bearer");
  res->body() = why + "\n";
  res->keep_alive(false);
  res->prepare_payload();
  http::async_write(ch->ws().next_layer(), *res,
                    [ch, res](beast::error_code, size_t) { ch->Abort(); });
}

void EdgeServer::Impl::Open(std::shared_ptr<Channel> ch) {
  auto s = std::make_shared<Session>();
  s->id = next_session_++;
  s->client_key = absl::StrCat("anonymous\n#connection-", s->id);
  s->client_name = absl::StrCat("anonymous-", s->id);
  s->channel = ch;
  s->channel->LimitOutbox(static_cast<size_t>(opts_.max_outbox_bytes), opts_.idle_timeout_s);
  sessions_[s->id] = s;
  by_client_[s->client_key] = s;
  ++connections_;
  std::weak_ptr<Session> weak = s;
  const uint64_t id = s->id;
  ch->Start(Channel::Handlers{[this, weak](std::string data, bool binary) {
                                if (auto locked = weak.lock())
                                  OnMessage(locked, std::move(data), binary);
                              },
                              [this, id](beast::error_code ec) { OnClosed(id, ec); }});
  if (stopping_io_) ch->Close(websocket::close_code::going_away, "server shutting down");
}

void EdgeServer::Impl::OnClosed(uint64_t session_id, beast::error_code ec) {
  auto it = sessions_.find(session_id);
  if (it == sessions_.end()) return;
  std::shared_ptr<Session> s = it->second;
  sessions_.erase(it);
  auto bound = by_client_.find(s->client_key);
  if (bound != by_client_.end() && bound->second.lock() == s) by_client_.erase(bound);
  Log(absl::StrCat("client ", s->client_name, " disconnected: ", ec.message()));
  if (stopping_io_ && sessions_.empty()) ioc_.stop();
}

void EdgeServer::Impl::OnMessage(const std::shared_ptr<Session>& s, std::string data, bool binary) {
  if (!binary) {
    s->channel->Close(websocket::close_code::unknown_data,
                      "text frames are not accepted; send binary Envelope frames");
    return;
  }
  Envelope env;
  std::string why;
  if (ErrorCode code = DecodeEnvelope(data, &env, &why); code != ERROR_UNSPECIFIED) {
    Send(*s, MakeErrorEnvelope(0, code, why));
    return;
  }
  switch (env.body_case()) {
    case Envelope::kHello:
      OnHello(s, env.hello());
      break;
    case Envelope::kMeasureRequest:
      OnMeasure(s, env.measure_request());
      break;
    case Envelope::kCancel:
      OnCancel(s, env.cancel());
      break;
    case Envelope::kPing: {
      Envelope pong;
      pong.mutable_pong()->set_nonce(env.ping().nonce());
      Send(*s, std::move(pong));
      break;
    }
    default:
      Send(*s, MakeErrorEnvelope(0, ERROR_UNKNOWN_MESSAGE,
                                 "the server accepts hello, measure_request, cancel and ping"));
  }
}

DeviceInfo EdgeServer::Impl::DeviceWithQueue() {
  DeviceInfo info = service_->device();
  std::lock_guard<std::mutex> lock(mu_);
  info.set_queued(static_cast<int32_t>(queue_.size() + (running_ ? 1 : 0)));
  return info;
}

void EdgeServer::Impl::OnHello(const std::shared_ptr<Session>& s, const Hello& hello) {
  if (hello.client_id().empty() || hello.client_id().size() > 128) {
    Send(*s, MakeErrorEnvelope(0, ERROR_BAD_MESSAGE, "hello.client_id must be 1..128 bytes"));
    return;
  }
  if (hello.client_secret().size() > 256) {
    Send(*s, MakeErrorEnvelope(0, ERROR_BAD_MESSAGE, "hello.client_secret must be <= 256 bytes"));
    return;
  }
  auto bound = by_client_.find(s->client_key);
  if (bound != by_client_.end() && bound->second.lock() == s) by_client_.erase(bound);
  s->client_key = ClientKey(hello, s->id);
  s->client_name = hello.client_id();
  by_client_[s->client_key] = s;  // a reconnect takes over the results of the old session
  Log(absl::StrCat("hello from ", hello.client_name(), " (", s->client_name, ")"));
  Envelope reply;
  *reply.mutable_device_info() = DeviceWithQueue();
  Send(*s, std::move(reply));
}

void EdgeServer::Impl::OnMeasure(const std::shared_ptr<Session>& s, const MeasureRequest& req) {
  const uint64_t rid = req.request_id();
  if (rid == 0) {
    Send(*s, MakeErrorEnvelope(0, ERROR_BAD_MESSAGE, "measure_request.request_id must be > 0"));
    return;
  }
  const RequestKey key{s->client_key, rid};
  const std::string serialized = req.SerializeAsString();
  if (auto it = requests_.find(key); it != requests_.end()) {
    if (it->second.request != serialized) {
      Send(*s, MakeErrorEnvelope(rid, ERROR_BAD_MESSAGE,
                                 absl::StrCat("request_id ", rid,
                                              " was used for another request; use a new id")));
      return;
    }
    // A resubmission: never measure twice. A pending job reports to this (newest)
    // session through by_client_; a finished one is answered again.
    if (!it->second.job) s->channel->Send(it->second.final_bytes);
    return;
  }
  if (service_->shutting_down()) {
    Send(*s, MakeErrorEnvelope(rid, ERROR_SHUTTING_DOWN, "the server is shutting down"));
    return;
  }
  if (auto [code, why] = service_->Validate(req); code != ERROR_UNSPECIFIED) {
    Send(*s, MakeErrorEnvelope(rid, code, why));
    return;
  }
  auto job = std::make_shared<Job>();
  job->client_key = s->client_key;
  job->session_id = s->id;
  job->request = req;
  int position = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (std::string why = OverQueueCaps(*s); !why.empty()) {
      Send(*s, MakeErrorEnvelope(rid, ERROR_BUSY, why));
      return;
    }
    position = static_cast<int>(queue_.size()) + (running_ ? 1 : 0);
    queue_.push_back(job);
  }
  cv_.notify_one();
  requests_[key] = Record{job, "", serialized};
  Envelope progress;
  MeasureProgress* p = progress.mutable_measure_progress();
  p->set_request_id(rid);
  p->set_phase(PHASE_QUEUED);
  p->set_queue_position(position);
  Send(*s, std::move(progress));
}

std::string EdgeServer::Impl::OverQueueCaps(const Session& s) {
  const int total = static_cast<int>(queue_.size()) + (running_ ? 1 : 0);
  int client = 0, connection = 0;
  auto count = [&](const Job& j) {
    client += j.client_key == s.client_key;
    connection += j.session_id == s.id;
  };
  if (running_) count(*running_);
  for (const auto& q : queue_) count(*q);
  const int cap = opts_.max_queued_per_client;
  if (total < opts_.max_queued_total && client < cap && connection < cap) return "";
  return absl::StrCat("queue full (", client, " of ", cap, " for this client, ", connection, " of ",
                      cap, " for this connection, ", total, " of ", opts_.max_queued_total,
                      " in total); retry later");
}

std::shared_ptr<Job> EdgeServer::Impl::TakeNextJob() {
  auto best = queue_.begin();
  uint64_t best_tick = UINT64_MAX;
  for (auto it = queue_.begin(); it != queue_.end(); ++it) {
    auto served = last_served_.find((*it)->client_key);
    const uint64_t tick = served == last_served_.end() ? 0 : served->second;
    if (tick < best_tick) {
      best_tick = tick;
      best = it;
    }
  }
  std::shared_ptr<Job> job = *best;
  queue_.erase(best);
  last_served_[job->client_key] = ++serve_tick_;
  if (last_served_.size() > 4 * static_cast<size_t>(opts_.max_queued_total)) {
    last_served_.clear();  // bounded memory; fairness restarts from equal footing
  }
  return job;
}

void EdgeServer::Impl::OnCancel(const std::shared_ptr<Session>& s, const Cancel& cancel) {
  const uint64_t rid = cancel.request_id();
  auto it = requests_.find({s->client_key, rid});
  if (it == requests_.end()) {
    Send(*s, MakeErrorEnvelope(rid, ERROR_NOT_FOUND, "no such request to cancel"));
    return;
  }
  std::shared_ptr<Job> job = it->second.job;
  if (!job) return;  // already answered
  bool was_queued = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto q = std::find(queue_.begin(), queue_.end(), job);
    if (q != queue_.end()) {
      queue_.erase(q);
      was_queued = true;
    } else {
      job->cancel = true;  // the worker answers when the current run ends
    }
  }
  if (was_queued)
    Complete(job, EncodeEnvelope(MakeErrorEnvelope(rid, ERROR_CANCELLED, "cancelled by client")));
}

void EdgeServer::Impl::Route(const std::string& client_key, const std::string& bytes) {
  auto it = by_client_.find(client_key);
  if (it == by_client_.end()) return;  // gone; a resubmission gets the remembered result
  if (auto s = it->second.lock()) s->channel->Send(bytes);
}

void EdgeServer::Impl::Complete(const std::shared_ptr<Job>& job, const std::string& final_bytes) {
  const RequestKey key{job->client_key, job->request.request_id()};
  Record& rec = requests_[key];
  rec.job.reset();
  rec.final_bytes = final_bytes;
  finished_order_.push_back(key);
  while (finished_order_.size() > opts_.remembered_requests) {
    requests_.erase(finished_order_.front());
    finished_order_.pop_front();
  }
  Route(job->client_key, final_bytes);
}

void EdgeServer::Impl::WorkerLoop() {
  while (true) {
    std::shared_ptr<Job> job;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) break;
      job = TakeNextJob();
      running_ = job;
    }
    std::string bytes = EncodeEnvelope(service_->Process(
        job->request, [&job] { return job->cancel.load(); },
        [this, &job](MeasureProgress p) { PostProgress(job->client_key, std::move(p)); }));
    {
      std::lock_guard<std::mutex> lock(mu_);
      running_.reset();
    }
    asio::post(ioc_, [this, job, bytes = std::move(bytes)] { Complete(job, bytes); });
  }
  // Shutting down: answer everything still waiting.
  std::deque<std::shared_ptr<Job>> left;
  {
    std::lock_guard<std::mutex> lock(mu_);
    left.swap(queue_);
  }
  for (auto& job : left) {
    std::string bytes = EncodeEnvelope(MakeErrorEnvelope(
        job->request.request_id(), ERROR_SHUTTING_DOWN, "the server is shutting down"));
    asio::post(ioc_, [this, job, bytes = std::move(bytes)] { Complete(job, bytes); });
  }
}

void EdgeServer::Impl::PostProgress(const std::string& client_key, MeasureProgress progress) {
  Envelope e;
  *e.mutable_measure_progress() = std::move(progress);
  asio::post(
      ioc_, [this, client_key, bytes = EncodeEnvelope(std::move(e))] { Route(client_key, bytes); });
}

absl::StatusOr<std::unique_ptr<EdgeServer>> EdgeServer::Start(
    ServerOptions options, std::unique_ptr<WorkloadFactory> factory) {
  auto impl = std::make_unique<Impl>(std::move(options), std::move(factory));
  if (absl::Status st = impl->Start(); !st.ok()) return st;
  return std::unique_ptr<EdgeServer>(new EdgeServer(std::move(impl)));
}

EdgeServer::EdgeServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
EdgeServer::~EdgeServer() { Shutdown(); }
int EdgeServer::port() const { return impl_->port(); }
DeviceInfo EdgeServer::device() const { return impl_->device(); }
void EdgeServer::Shutdown() { impl_->Shutdown(); }
EdgeServer::Counters EdgeServer::counters() const { return impl_->counters(); }

}  // namespace edgeloop::edge_bench
