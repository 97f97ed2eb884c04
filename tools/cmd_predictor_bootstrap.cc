// `edgeloop predictor bootstrap`: design -> measure -> store -> fit -> CV report.
//
// Measures through edge measurement servers (edge_bench/client.h) with --edge, or through
// the simulated device of predictor/synthetic_device.h with --simulate (a dry run).
#include <cstdio>
#include <memory>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "arch/space.h"
#include "base/atomic_file.h"
#include "base/interrupt.h"
#include "predictor/bootstrap.h"
#include "predictor/synthetic_device.h"
#include "tools/cli/command.h"

#if __has_include("edge_bench/client.h")
#include "edge_bench/client.h"
#define EDGELOOP_HAVE_EDGE_CLIENT 1
#endif

namespace edgeloop {
namespace {

using cli::FlagSet;

absl::StatusOr<std::vector<int>> ParseBatchList(const std::string& text) {
  std::vector<int> out;
  for (absl::string_view part : absl::StrSplit(text, ',', absl::SkipWhitespace())) {
    int b;
    if (!absl::SimpleAtoi(part, &b) || b < 1) {
      return absl::InvalidArgumentError(absl::StrCat("flag --batch: \"", part, "\" is not a positive integer"));
    }
    out.push_back(b);
  }
  if (out.empty()) return absl::InvalidArgumentError("flag --batch: no batch size");
  return out;
}

#ifdef EDGELOOP_HAVE_EDGE_CLIENT
predictor::Measurement FromBatchResult(const edge::MeasureResult& r, const edge::BatchResult& b) {
  predictor::Measurement m;
  m.device = r.device().fingerprint();
  m.batch_size = b.batch_size();
  m.threads = r.device().threads();
  m.median_ms = b.median_ms();
  m.mean_ms = b.mean_ms();
  m.std_ms = b.std_ms();
  m.min_ms = b.min_ms();
  m.p10_ms = b.p10_ms();
  m.p90_ms = b.p90_ms();
  m.p99_ms = b.p99_ms();
  m.max_ms = b.max_ms();
  m.runs = b.runs();
  m.peak_memory_bytes = b.peak_memory_bytes();
  m.drift_factor = b.drift_factor() > 0 ? b.drift_factor() : (r.drift_factor() > 0 ? r.drift_factor() : 1.0);
  m.source = "edge";
  return m;
}
#endif

int PredictorBootstrap(const std::vector<std::string>& args) {
  const char* kCmd = "predictor bootstrap";
  std::string edge_urls, token_file, space_path, db, out, device, batches = "1";
  int64_t samples = 100, seed = 0, folds = 5;
  double timeout = 600;
  bool simulate = false;
  FlagSet flags(kCmd,
                "Picks a space-covering design of architectures, measures each live on edge "
                "servers (--edge) or on the simulated device (--simulate), stores the "
                "measurements, fits the device's model and prints its cross-validation "
                "metrics. Resumable: pairs already in the store are not measured again.");
  flags.String("edge", &edge_urls, "comma-separated ws://HOST:PORT or wss:// edge servers");
  flags.String("token-file", &token_file, "file holding the servers' bearer token");
  flags.Bool("simulate", &simulate, "dry run on the simulated device instead of --edge");
  flags.String("space", &space_path, "search space text-format file", true);
  flags.Int("samples", &samples, "architectures in the design");
  flags.String("batch", &batches, "comma-separated batch sizes to measure each at");
  flags.String("db", &db, "measurement store (created when missing)", true);
  flags.String("out", &out, "output model file (.json)", true);
  flags.String("device", &device, "device fingerprint (default: the server's; 'simulated' with --simulate)");
  flags.Int("seed", &seed, "seed of the design and the model");
  flags.Int("folds", &folds, "cross-validation folds");
  flags.Double("timeout", &timeout, "seconds per measurement (and to connect)");
  int code;
  if (!cli::ParseFlags(&flags, kCmd, args, &code)) return code;
  if (edge_urls.empty() == !simulate) {
    return cli::ReportError(kCmd, absl::InvalidArgumentError("give exactly one of --edge and --simulate"));
  }
  if (samples < 2) return cli::ReportError(kCmd, absl::InvalidArgumentError("--samples must be >= 2"));
  auto batch_list = ParseBatchList(batches);
  if (!batch_list.ok()) return cli::ReportError(kCmd, batch_list.status());
  auto space = Space::FromFile(space_path);
  if (!space.ok()) return cli::ReportError(kCmd, space.status());
  auto store = predictor::MeasurementStore::Open(db);
  if (!store.ok()) return cli::ReportError(kCmd, store.status());

  predictor::BootstrapOptions options;
  options.samples = static_cast<int>(samples);
  options.batches = *batch_list;
  options.seed = static_cast<uint64_t>(seed);
  options.folds = static_cast<int>(folds);
  options.params.seed = static_cast<uint64_t>(seed);
  predictor::Measurer measurer;
  std::unique_ptr<predictor::SyntheticDevice> simulated;
#ifdef EDGELOOP_HAVE_EDGE_CLIENT
  std::unique_ptr<edge::EdgeClient> client;
#endif
  if (simulate) {
    options.device = device.empty() ? "simulated" : device;
    simulated = std::make_unique<predictor::SyntheticDevice>(options.device, options.seed);
    measurer = [&](const ArchConfig& arch, int batch) -> absl::StatusOr<predictor::Measurement> {
      return simulated->Measure(arch, batch);
    };
  } else {
#ifdef EDGELOOP_HAVE_EDGE_CLIENT
    edge::ClientOptions copts;
    copts.servers = absl::StrSplit(edge_urls, ',', absl::SkipWhitespace());
    copts.client_name = "edgeloop predictor bootstrap";
    if (!token_file.empty()) {
      auto token = ReadFile(token_file);
      if (!token.ok()) return cli::ReportError(kCmd, token.status());
      copts.token = std::string(absl::StripAsciiWhitespace(*token));
    }
    auto c = edge::EdgeClient::Create(copts);
    if (!c.ok()) return cli::ReportError(kCmd, c.status());
    client = std::move(*c);
    if (auto st = client->WaitConnected(timeout); !st.ok()) {
      return cli::ReportError(kCmd, absl::UnavailableError(st.message()));
    }
    const auto devices = client->Devices();
    options.device = !device.empty() ? device : (devices.empty() ? "" : devices[0].fingerprint());
    measurer = [&](const ArchConfig& arch, int batch) -> absl::StatusOr<predictor::Measurement> {
      edge::MeasureRequest req;
      *req.mutable_arch() = arch;
      req.add_batch_sizes(batch);
      auto r = client->Measure(req, timeout);
      if (!r.ok()) return r.status();
      for (const auto& b : r->batches()) {
        if (b.batch_size() != batch) continue;
        predictor::Measurement m = FromBatchResult(*r, b);
        if (!device.empty()) m.device = device;
        return m;
      }
      return absl::InternalError(absl::StrCat("the server returned no result for batch ", batch));
    };
#else
    return cli::ReportError(kCmd, absl::UnimplementedError("this build has no edge client; use --simulate"));
#endif
  }
  InstallInterruptHandlers();
  auto result = predictor::RunBootstrap(*space, options, measurer, store->get());
  if (!result.ok()) return cli::ReportError(kCmd, result.status());
  if (auto s = result->model.Save(out); !s.ok()) return cli::ReportError(kCmd, s);
  std::printf("bootstrap of %s: %lld new measurements, %lld already stored\n", options.device.c_str(),
              static_cast<long long>(result->measured), static_cast<long long>(result->reused));
  std::printf("cv (%lld-fold): %s\n", static_cast<long long>(folds), predictor::MetricsToText(result->cv).c_str());
  std::printf("model -> %s (+ %s.meta.json), store version %lld\n", out.c_str(), out.c_str(),
              static_cast<long long>(result->model.meta().version));
  return cli::kExitOk;
}

const cli::CommandRegistrar kRegister({
    {"predictor bootstrap", "measure a space-covering design live, fit and cross-validate", PredictorBootstrap},
});

}  // namespace
}  // namespace edgeloop
