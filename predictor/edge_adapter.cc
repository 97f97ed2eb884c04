#include "predictor/edge_adapter.h"

#include <chrono>
#include <cstdio>
#include <future>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "arch/arch_config.h"
#include "base/atomic_file.h"
#include "base/interrupt.h"

namespace edgeloop::predictor {
namespace {

// One request; polls for SIGINT while waiting so an interrupt does not wait out a long
// measurement.
absl::StatusOr<edge_bench::MeasureResult> MeasureOnce(edge_bench::EdgeClient* client,
                                                      const edge_bench::MeasureRequest& request,
                                                      double timeout_s) {
  auto done = std::make_shared<std::promise<edge_bench::RequestOutcome>>();
  std::future<edge_bench::RequestOutcome> outcome = done->get_future();
  const uint64_t id = client->Submit(
      request, [done](const edge_bench::RequestOutcome& o) { done->set_value(o); }, nullptr,
      timeout_s);
  while (outcome.wait_for(std::chrono::milliseconds(100)) != std::future_status::ready) {
    if (Interrupted()) {
      client->Cancel(id);
      return absl::CancelledError("interrupted");
    }
  }
  edge_bench::RequestOutcome o = outcome.get();
  if (!o.status.ok()) return o.status;
  return std::move(o.result);
}

bool Retryable(const absl::Status& s) {
  return absl::IsUnavailable(s) || absl::IsResourceExhausted(s);
}

}  // namespace

Measurement FromEdgeResult(const edge_bench::MeasureResult& result,
                           const edge_bench::BatchResult& batch) {
  // A paired-reference result is stored at the device's nominal speed: every time scaled by
  // the speed factor of its measurement, which then needs no drift correction.
  const bool normalized = batch.normalized_median_ms() > 0 && batch.speed_factor() > 0;
  const double scale = normalized ? 1.0 / batch.speed_factor() : 1.0;
  Measurement m;
  m.device = result.device().fingerprint();
  m.batch_size = batch.batch_size();
  m.threads = result.device().threads();
  m.median_ms = normalized ? batch.normalized_median_ms() : batch.median_ms();
  m.mean_ms = batch.mean_ms() * scale;
  m.std_ms = batch.std_ms() * scale;
  m.min_ms = batch.min_ms() * scale;
  m.p10_ms = batch.p10_ms() * scale;
  m.p90_ms = batch.p90_ms() * scale;
  m.p99_ms = batch.p99_ms() * scale;
  m.max_ms = batch.max_ms() * scale;
  m.runs = batch.runs();
  m.peak_memory_bytes = batch.peak_memory_bytes();
  if (normalized) {
    m.drift_factor = 1.0;
  } else {
    m.drift_factor = batch.drift_factor() > 0
                         ? batch.drift_factor()
                         : (result.drift_factor() > 0 ? result.drift_factor() : 1.0);
  }
  m.source = normalized ? "edge-normalized" : "edge";
  m.state_fingerprint = result.state_fingerprint();
  return m;
}

absl::StatusOr<std::unique_ptr<edge_bench::EdgeClient>> ConnectEdge(
    const EdgeConnectOptions& options) {
  edge_bench::ClientOptions copts;
  copts.servers = absl::StrSplit(options.servers, ',', absl::SkipWhitespace());
  if (copts.servers.empty()) return absl::InvalidArgumentError("no edge server URL given");
  copts.client_name = options.client_name;
  if (!options.token_file.empty()) {
    auto token = ReadFile(options.token_file);
    if (!token.ok()) return absl::InvalidArgumentError(token.status().message());
    copts.token = std::string(absl::StripAsciiWhitespace(*token));
    if (copts.token.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("token file ", options.token_file, " is empty"));
    }
  }
  auto client = edge_bench::EdgeClient::Create(copts);
  if (!client.ok()) return absl::InvalidArgumentError(client.status().message());
  if (auto s = (*client)->WaitConnected(options.timeout_s); !s.ok()) {
    return absl::UnavailableError(absl::StrCat("no edge server reachable: ", s.message()));
  }
  return std::move(*client);
}

Measurer MakeEdgeMeasurer(edge_bench::EdgeClient* client, EdgeMeasurerOptions options) {
  return [client, options](const ArchConfig& arch, int batch) -> absl::StatusOr<Measurement> {
    edge_bench::MeasureRequest request;
    *request.mutable_arch() = arch;
    request.add_batch_sizes(batch);
    *request.mutable_settings() = options.settings;
    request.set_seed(options.seed);
    request.set_force(options.force);
    absl::StatusOr<edge_bench::MeasureResult> result;
    for (int attempt = 0;; ++attempt) {
      result = MeasureOnce(client, request, options.timeout_s);
      if (result.ok() || !Retryable(result.status()) || attempt >= options.retries) break;
      std::fprintf(stderr, "edge: %s; retrying in %.0f s (%d/%d)\n",
                   std::string(result.status().message()).c_str(), options.retry_wait_s,
                   attempt + 1, options.retries);
      const auto until =
          std::chrono::steady_clock::now() + std::chrono::duration<double>(options.retry_wait_s);
      while (std::chrono::steady_clock::now() < until && !Interrupted()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      if (Interrupted()) return absl::CancelledError("interrupted");
    }
    if (!result.ok()) return result.status();
    for (const auto& b : result->batches()) {
      if (b.batch_size() != batch) continue;
      Measurement m = FromEdgeResult(*result, b);
      if (!options.device.empty()) m.device = options.device;
      m.arch = arch;
      return m;
    }
    return absl::InternalError(absl::StrCat("the server returned no result for batch ", batch,
                                            " of ", arch::CanonicalKey(arch)));
  };
}

}  // namespace edgeloop::predictor
