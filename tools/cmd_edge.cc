// `edgeloop serve` and `edgeloop measure`: the edge measurement server and its client.
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include <google/protobuf/util/json_util.h>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "arch/arch_config.h"
#include "arch/space.h"
#include "base/atomic_file.h"
#include "base/interrupt.h"
#include "base/timing_heap.h"
#include "edge_bench/client.h"
#include "edge_bench/protocol.h"
#include "edge_bench/server.h"
#include "edge_bench/torch_workload.h"
#include "tools/cli/command.h"
#include "tools/measurement_flags.h"

namespace edgeloop {
namespace {

using cli::FlagSet;

// Reads a token file: its content without surrounding whitespace, which must not be empty.
absl::StatusOr<std::string> ReadToken(const std::string& path) {
  if (path.empty()) return std::string();
  absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) return text.status();
  std::string token(absl::StripAsciiWhitespace(*text));
  if (token.empty())
    return absl::InvalidArgumentError(absl::StrCat("token file ", path, " is empty"));
  return token;
}

int Serve(const std::vector<std::string>& args) {
  const char* kCmd = "serve";
  std::string listen = "127.0.0.1:8765", device = "cpu", token_file, cert, key, cache;
  std::string sysfs_root = "/";
  bool lock_state = false;
  int64_t threads = 1, max_batch = 64, queue_client = 32, queue_total = 256;
  int64_t max_frame = 1 << 20;
  double max_gflops = 2000, idle = 120, sentinel_interval = 600;
  double max_params_m = 0, max_memory_mb = 0, max_input_mb = 0, max_request_s = 900;
  double max_outbox_mb = 16;
  FlagSet flags(kCmd,
                "Runs the edge measurement server: clients send architectures over WebSocket "
                "(Protobuf frames) and get latency statistics measured on this device.");
  flags.String("listen", &listen, "HOST:PORT to listen on (port 0: any free port, printed)");
  flags.String("device", &device, "cpu or cuda");
  flags.Int("threads", &threads, "intra-op threads for the measurements", cli::Between(1, 1024));
  flags.String("token-file", &token_file, "file holding a bearer token clients must send",
               cli::InputFile());
  flags.String("tls-cert", &cert, "PEM certificate chain: serve wss://", cli::InputFile());
  flags.String("tls-key", &key, "PEM private key of --tls-cert", cli::InputFile());
  flags.String("cache", &cache, "results cache file (kept across restarts)", cli::OutputFile());
  flags.Int("max-batch", &max_batch, "largest batch size accepted", cli::Between(1, 1 << 20));
  flags.Double("max-gflops", &max_gflops, "largest forward accepted, in GMACs (arch x batch)",
               cli::Positive().AtMost(1e9));
  flags.Int("max-queue-per-client", &queue_client, "requests a client may have waiting",
            cli::Between(1, cli::kIntMax));
  flags.Int("max-queue", &queue_total, "requests waiting in total", cli::Between(1, cli::kIntMax));
  flags.Int("max-frame-bytes", &max_frame, "largest WebSocket message accepted",
            cli::Between(1024, int64_t{1} << 32));
  flags.Double("idle-timeout", &idle, "seconds of silence after which a client is dropped",
               cli::Positive().AtMost(cli::kMaxSeconds));
  flags.Double("max-params-m", &max_params_m,
               "largest model accepted, in millions of parameters (0: 1/32 of the host's "
               "memory in float32 parameters)",
               cli::Between(0, 1e6));
  flags.Double("max-memory-mb", &max_memory_mb,
               "largest estimated memory of one measurement: weights, input and activations "
               "(0: half the host's memory)",
               cli::Between(0, 1e9));
  flags.Double("max-input-mb", &max_input_mb,
               "largest input tensor (batch x frames x pixels; 0: 1/16 of the host's memory)",
               cli::Between(0, 1e9));
  flags.Double("max-request-seconds", &max_request_s,
               "wall time one request may measure for before it is stopped",
               cli::Positive().AtMost(cli::kMaxSeconds));
  flags.Double("max-outbox-mb", &max_outbox_mb,
               "bytes queued for one client before it is dropped (reading pauses at half)",
               cli::Between(0.0625, 4096));
  flags.Double("sentinel-interval", &sentinel_interval,
               "seconds between re-measurements of the drift sentinel (< 0: never)",
               cli::Range().AtMost(cli::kMaxSeconds));
  flags.Bool("lock-state", &lock_state,
             "refuse to measure once the device state (governors, frequency caps, online "
             "cores, power mode, clock caps) differs from its state at start");
  flags.String("sysfs-root", &sysfs_root,
               "directory the device state is read under instead of / (for tests)",
               cli::InputDir());
  int code;
  if (!cli::ParseFlags(&flags, kCmd, args, &code)) return code;

  edge_bench::ServerOptions opts;
  auto hp = edge_bench::ParseHostPort(listen);
  if (!hp.ok()) return cli::ReportError(kCmd, hp.status());
  opts.host = hp->first;
  opts.port = hp->second;
  auto token = ReadToken(token_file);
  if (!token.ok()) return cli::ReportError(kCmd, token.status());
  opts.token = *token;
  opts.tls_cert_file = cert;
  opts.tls_key_file = key;
  opts.cache_file = cache;
  opts.max_batch = static_cast<int>(max_batch);
  opts.max_flops = static_cast<int64_t>(max_gflops * 1e9);
  opts.max_queued_per_client = static_cast<int>(queue_client);
  opts.max_queued_total = static_cast<int>(queue_total);
  opts.max_frame_bytes = max_frame;
  opts.idle_timeout_s = idle;
  opts.max_params = static_cast<int64_t>(max_params_m * 1e6);
  opts.max_memory_bytes = static_cast<int64_t>(max_memory_mb * (1 << 20));
  opts.max_input_bytes = static_cast<int64_t>(max_input_mb * (1 << 20));
  opts.max_request_seconds = max_request_s;
  opts.max_outbox_bytes = static_cast<int64_t>(max_outbox_mb * (1 << 20));
  opts.sentinel_interval_s = sentinel_interval;
  opts.sysfs_root = sysfs_root;
  opts.lock_state = lock_state;
  opts.log = [](const std::string& line) { std::fprintf(stderr, "serve: %s\n", line.c_str()); };

  UseTimingHeap();  // repeatable timings: no page faults in warmed-up runs
  auto factory = edge_bench::MakeTorchWorkloadFactory(device, static_cast<int>(threads));
  if (!factory.ok()) return cli::ReportError(kCmd, factory.status());
  InstallInterruptHandlers();
  auto server = edge_bench::EdgeServer::Start(opts, *std::move(factory));
  if (!server.ok()) return cli::ReportError(kCmd, server.status());
  const edge_bench::DeviceInfo info = (*server)->device();
  std::fprintf(stderr, "serve: %s, device state fingerprint %s%s\n", info.machine().c_str(),
               info.state_fingerprint().c_str(), lock_state ? " (locked)" : "");
  std::printf("listening on %s://%s:%d\n", cert.empty() ? "ws" : "wss", opts.host.c_str(),
              (*server)->port());
  std::fflush(stdout);
  while (!Interrupted()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  std::fprintf(stderr, "serve: signal %d, shutting down\n", InterruptSignal());
  (*server)->Shutdown();
  return cli::kExitOk;
}

absl::StatusOr<std::vector<int>> ParseBatches(const std::string& text) {
  std::vector<int> out;
  for (absl::string_view part : absl::StrSplit(text, ',', absl::SkipWhitespace())) {
    int b = 0;
    if (!absl::SimpleAtoi(part, &b) || b < 1)
      return absl::InvalidArgumentError(
          absl::StrCat("flag --batch: '", part, "' is not a positive integer"));
    out.push_back(b);
  }
  if (out.empty()) return absl::InvalidArgumentError("flag --batch: no batch sizes");
  return out;
}

void PrintTable(const edge_bench::MeasureResult& r) {
  const edge_bench::DeviceInfo& d = r.device();
  std::printf(
      "arch %s\ndevice %s on %s (%d cores), %d threads, torch %s, fingerprint %s\n"
      "drift factor %.3f\n",
      r.arch_key().c_str(), d.device().c_str(), d.cpu_model().c_str(), d.cores(), d.threads(),
      d.torch_version().c_str(), d.fingerprint().c_str(), r.drift_factor());
  if (!r.state_fingerprint().empty()) {
    std::printf("machine %s, device state %s%s%s\n", d.machine().c_str(),
                r.state_fingerprint().c_str(), r.state_changed() ? ", changed from " : "",
                r.state_changed() ? r.previous_state_fingerprint().c_str() : "");
  }
  std::printf("\n");
  std::printf("%6s %10s %10s %9s %9s %9s %9s %9s %9s %6s %8s %9s %7s\n", "batch", "median_ms",
              "mean_ms", "std_ms", "min_ms", "p10_ms", "p90_ms", "p99_ms", "max_ms", "runs",
              "ci95_%", "peak_MB", "cached");
  for (const edge_bench::BatchResult& b : r.batches()) {
    const double ci =
        b.median_ms() > 0
            ? 100 * std::max(b.median_ms() - b.ci_low_ms(), b.ci_high_ms() - b.median_ms()) /
                  b.median_ms()
            : 0;
    std::printf("%6d %10.3f %10.3f %9.3f %9.3f %9.3f %9.3f %9.3f %9.3f %6d %8.2f %9.1f %7s\n",
                b.batch_size(), b.median_ms(), b.mean_ms(), b.std_ms(), b.min_ms(), b.p10_ms(),
                b.p90_ms(), b.p99_ms(), b.max_ms(), b.runs(), ci, b.peak_memory_bytes() / 1048576.0,
                b.cached() ? "yes" : "no");
  }
}

int Measure(const std::vector<std::string>& args) {
  const char* kCmd = "measure";
  std::string edge_urls, arch_arg, space_path, batches = "1,2,4,8,16", token_file, ca_file;
  bool json = false, force = false, quiet = false;
  double timeout = 600;
  int64_t seed = 0;
  cli::MeasurementFlags measurement;
  FlagSet flags(kCmd, "Measures an architecture on edge servers and prints the latency table.");
  flags.String("edge", &edge_urls, "server URL(s), comma-separated: ws://HOST:PORT or wss://",
               true);
  flags.String("arch", &arch_arg, "JSON object, .json file, or a name (baseline, min, max, ...)",
               cli::InputFileIfPathLike(), true);
  flags.String("space", &space_path, "search space file for names such as min and max",
               cli::InputFile());
  flags.String("batch", &batches, "comma-separated batch sizes");
  flags.String("token-file", &token_file, "file holding the server's bearer token",
               cli::InputFile());
  flags.String("ca-file", &ca_file, "PEM certificate(s) to trust for wss://", cli::InputFile());
  flags.Bool("json", &json, "print the MeasureResult as one JSON object");
  flags.Bool("force", &force, "measure even when the server has the result cached");
  flags.Bool("quiet", &quiet, "no progress lines on stderr");
  flags.Double("timeout", &timeout, "seconds before giving up (connection and measurement)",
               cli::Positive().AtMost(cli::kMaxSeconds));
  measurement.Register(&flags);
  flags.Int("seed", &seed, "seed of the random weights and input", cli::AtLeast(0));
  int code;
  if (!cli::ParseFlags(&flags, kCmd, args, &code)) return code;

  std::unique_ptr<arch::Space> space;
  if (!space_path.empty()) {
    auto s = arch::Space::FromFile(space_path);
    if (!s.ok()) return cli::ReportError(kCmd, s.status());
    space = std::make_unique<arch::Space>(*std::move(s));
  }
  auto arch = arch::ResolveArch(arch_arg, space.get());
  if (!arch.ok()) return cli::ReportError(kCmd, arch.status());
  auto batch_list = ParseBatches(batches);
  if (!batch_list.ok()) return cli::ReportError(kCmd, batch_list.status());
  auto token = ReadToken(token_file);
  if (!token.ok()) return cli::ReportError(kCmd, token.status());

  edge_bench::ClientOptions copts;
  copts.servers = absl::StrSplit(edge_urls, ',', absl::SkipWhitespace());
  copts.token = *token;
  copts.ca_file = ca_file;
  copts.client_name = "edgeloop measure";
  auto client = edge_bench::EdgeClient::Create(copts);
  if (!client.ok()) return cli::ReportError(kCmd, client.status());
  if (absl::Status st = (*client)->WaitConnected(timeout); !st.ok())
    return cli::ReportError(kCmd, absl::UnavailableError(st.message()));

  edge_bench::MeasureRequest req;
  *req.mutable_arch() = *arch;
  for (int b : *batch_list) req.add_batch_sizes(b);
  req.set_force(force);
  req.set_seed(static_cast<uint64_t>(seed));
  auto settings = measurement.Settings();
  if (!settings.ok()) return cli::ReportError(kCmd, settings.status());
  *req.mutable_settings() = *settings;
  edge_bench::ProgressCallback progress;
  if (!quiet) {
    progress = [](const edge_bench::MeasureProgress& p) {
      std::string phase = edge_bench::Phase_Name(p.phase()).substr(6);
      std::fprintf(stderr, "measure: %-8s batch %d  runs %d  median %.3f ms  ci %.2f%%\n",
                   absl::AsciiStrToLower(phase).c_str(), p.batch_size(), p.runs(), p.median_ms(),
                   100 * p.rel_ci());
    };
  }
  auto result = (*client)->Measure(req, timeout, progress);
  if (!result.ok()) return cli::ReportError(kCmd, result.status());
  if (result->state_changed())
    std::fprintf(stderr, "measure: warning: the device state changed (fingerprint %s -> %s)\n",
                 result->previous_state_fingerprint().c_str(), result->state_fingerprint().c_str());
  if (json) {
    std::string out;
    google::protobuf::util::JsonPrintOptions o;
    o.preserve_proto_field_names = true;
    (void)google::protobuf::util::MessageToJsonString(*result, &out, o);
    std::printf("%s\n", out.c_str());
  } else {
    PrintTable(*result);
  }
  return cli::kExitOk;
}

const cli::CommandRegistrar kRegister({
    {"serve", "edge measurement server (WebSocket + Protobuf)", Serve},
    {"measure", "measure an architecture's latency on edge servers", Measure},
});

}  // namespace
}  // namespace edgeloop
