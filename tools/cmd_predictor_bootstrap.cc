// The live predictor commands:
//   `edgeloop predictor bootstrap`: design -> measure -> store -> fit -> CV report;
//   `edgeloop predictor stream`:    unseen architectures measured live, each fed to the
//                                   recalibrator; before-update accuracy and drift recovery.
//
// Both measure through edge measurement servers (--edge, predictor/edge_adapter.h) or the
// simulated device of predictor/synthetic_device.h (--simulate, a dry run).
#include <cstdio>
#include <memory>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "arch/arch_config.h"
#include "arch/space.h"
#include "base/interrupt.h"
#include "base/json.h"
#include "predictor/bootstrap.h"
#include "predictor/model_io.h"
#include "predictor/recalibrator.h"
#include "predictor/stream.h"
#include "predictor/synthetic_device.h"
#include "tools/cli/command.h"
#include "tools/measurement_flags.h"

#if __has_include("predictor/edge_adapter.h") && __has_include("edge_bench/client.h")
#include "predictor/edge_adapter.h"
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
      return absl::InvalidArgumentError(
          absl::StrCat("flag --batch: \"", part, "\" is not a positive integer"));
    }
    out.push_back(b);
  }
  if (out.empty()) return absl::InvalidArgumentError("flag --batch: no batch size");
  return out;
}

// Where measurements come from, and how they are taken: the flags both commands share.
struct LiveFlags {
  std::string edge_urls, token_file, device;
  bool simulate = false;
  int64_t seed = 0;
  double timeout = 600, connect_timeout = 60;
  cli::MeasurementFlags measurement;

  void Register(FlagSet* flags) {
    flags->String("edge", &edge_urls, "comma-separated ws://HOST:PORT or wss:// edge servers");
    flags->String("token-file", &token_file, "file holding the servers' bearer token",
                  cli::InputFile());
    flags->Bool("simulate", &simulate, "dry run on the simulated device instead of --edge");
    flags->String("device", &device,
                  "device fingerprint (default: the server's; 'simulated' with --simulate)");
    flags->Int("seed", &seed, "seed of the architectures (and the model)", cli::AtLeast(0));
    flags->Double("timeout", &timeout, "seconds per measurement",
                  cli::Positive().AtMost(cli::kMaxSeconds));
    flags->Double("connect-timeout", &connect_timeout, "seconds to wait for a server at the start",
                  cli::Between(0, cli::kMaxSeconds));
    measurement.Register(flags);
  }
};

// The measurer the flags describe, with what it needs kept alive.
class LiveDevice {
 public:
  absl::Status Open(const LiveFlags& f, const std::string& client_name) {
    if (f.edge_urls.empty() == !f.simulate) {
      return absl::InvalidArgumentError("give exactly one of --edge and --simulate");
    }
    if (f.simulate) {
      device_ = f.device.empty() ? "simulated" : f.device;
      simulated_ =
          std::make_unique<predictor::SyntheticDevice>(device_, static_cast<uint64_t>(f.seed));
      measurer_ = [this](const ArchConfig& arch,
                         int batch) -> absl::StatusOr<predictor::Measurement> {
        return simulated_->Measure(arch, batch);
      };
      return absl::OkStatus();
    }
#ifdef EDGELOOP_HAVE_EDGE_CLIENT
    auto settings = f.measurement.Settings();
    if (!settings.ok()) return settings.status();
    predictor::EdgeConnectOptions connect;
    connect.servers = f.edge_urls;
    connect.token_file = f.token_file;
    connect.client_name = client_name;
    connect.timeout_s = f.connect_timeout;
    auto client = predictor::ConnectEdge(connect);
    // No server to measure on is a usage problem of this command (exit 2), not a crash.
    if (absl::IsUnavailable(client.status()))
      return absl::FailedPreconditionError(client.status().message());
    if (!client.ok()) return client.status();
    client_ = std::move(*client);
    const auto devices = client_->Devices();
    device_ = !f.device.empty() ? f.device : (devices.empty() ? "" : devices[0].fingerprint());
    predictor::EdgeMeasurerOptions options;
    options.timeout_s = f.timeout;
    options.device = device_;
    options.seed = static_cast<uint64_t>(f.seed);
    options.settings = *settings;
    measurer_ = predictor::MakeEdgeMeasurer(client_.get(), options);
    return absl::OkStatus();
#else
    (void)client_name;
    return absl::UnimplementedError("this build has no edge client; use --simulate");
#endif
  }

  const std::string& device() const { return device_; }
  const predictor::Measurer& measurer() const { return measurer_; }

 private:
  std::string device_;
  predictor::Measurer measurer_;
  std::unique_ptr<predictor::SyntheticDevice> simulated_;
#ifdef EDGELOOP_HAVE_EDGE_CLIENT
  std::unique_ptr<edge_bench::EdgeClient> client_;
#endif
};

int PredictorBootstrap(const std::vector<std::string>& args) {
  const char* kCmd = "predictor bootstrap";
  std::string space_path, db, out, batches = "1",
                                   design = predictor::DesignKindName(predictor::kDefaultDesign);
  int64_t samples = 100, folds = 5;
  bool transfer = false;
  LiveFlags live;
  FlagSet flags(kCmd,
                "Picks a space-covering design of architectures, measures each live on edge "
                "servers (--edge) or on the simulated device (--simulate), stores the "
                "measurements, fits the device's model and prints its cross-validation "
                "metrics. Resumable: pairs already in the store are not measured again.");
  live.Register(&flags);
  flags.String("space", &space_path, "search space text-format file", cli::InputFile(), true);
  flags.Int("samples", &samples, "architectures in the design", cli::Between(2, cli::kIntMax));
  flags.String("design", &design,
               "flops (stratified over log FLOPs), lhs (Latin hypercube over the "
               "dimensions) or mixed (both)");
  flags.String("batch", &batches, "comma-separated batch sizes to measure each at");
  flags.String("db", &db, "measurement store (created when missing)", true);
  flags.String("out", &out, "output model file (.json)", cli::OutputFile(), true);
  flags.Int("folds", &folds, "cross-validation folds (0: skip)",
            cli::Between(2, cli::kIntMax).Or(0));
  flags.Bool("transfer", &transfer,
             "few-shot: adapt the --db models of other devices from these --samples "
             "measurements (e.g. 10) instead of fitting from them alone");
  int code;
  if (!cli::ParseFlags(&flags, kCmd, args, &code)) return code;
  auto design_kind = predictor::ParseDesignKind(design);
  if (!design_kind.ok()) return cli::ReportError(kCmd, design_kind.status());
  auto batch_list = ParseBatchList(batches);
  if (!batch_list.ok()) return cli::ReportError(kCmd, batch_list.status());
  auto space = arch::Space::FromFile(space_path);
  if (!space.ok()) return cli::ReportError(kCmd, space.status());
  auto store = predictor::MeasurementStore::Open(db);
  if (!store.ok()) return cli::ReportError(kCmd, store.status());
  LiveDevice source;
  if (auto s = source.Open(live, "edgeloop predictor bootstrap"); !s.ok())
    return cli::ReportError(kCmd, s);

  predictor::BootstrapOptions options;
  options.device = source.device();
  options.samples = static_cast<int>(samples);
  options.batches = *batch_list;
  options.seed = static_cast<uint64_t>(live.seed);
  options.design = *design_kind;
  options.folds = static_cast<int>(folds);
  options.params.seed = static_cast<uint64_t>(live.seed);
  options.transfer = transfer;
  InstallInterruptHandlers();
  auto result = predictor::RunBootstrap(*space, options, source.measurer(), store->get());
  if (!result.ok()) return cli::ReportError(kCmd, result.status());
  if (auto s = predictor::SaveModel(result->model, out); !s.ok()) return cli::ReportError(kCmd, s);
  std::printf("bootstrap of %s (%s design): %lld new measurements, %lld already stored\n",
              options.device.c_str(), predictor::DesignKindName(options.design),
              static_cast<long long>(result->measured), static_cast<long long>(result->reused));
  if (!result->transferred_from.empty()) {
    std::printf("transferred from %zu device(s) (%s): leave-one-out RMS error %.2f%%\n",
                result->transferred_from.size(),
                absl::StrJoin(result->transferred_from, ", ").c_str(),
                100 * result->transfer_loo_rms);
  } else {
    if (transfer) std::printf("no other device's model in %s: fitted from scratch\n", db.c_str());
    std::printf("cv (%lld-fold): %s\n", static_cast<long long>(folds),
                predictor::MetricsToText(result->cv).c_str());
  }
  std::printf("model -> %s (+ %s.meta.json), store version %lld\n", out.c_str(), out.c_str(),
              static_cast<long long>(result->model.meta().version));
  return cli::kExitOk;
}

int PredictorStream(const std::vector<std::string>& args) {
  const char* kCmd = "predictor stream";
  std::string space_path, db;
  int64_t samples = 200, batch = 1, recovery_window = 10;
  bool exclude_stored = true, quiet = false, json = false;
  LiveFlags live;
  FlagSet flags(kCmd,
                "Measures architectures the device has not been measured on yet (uniform, "
                "seeded) one at a time, live on edge servers (--edge) or on the simulated "
                "device, and feeds each result to the device's recalibrator (starting from its "
                "latest model version in the store). Prints, per measurement, the prediction "
                "made before the update, its error, the rolling hit rate and the action; at the "
                "end the accuracy of those before-update predictions and after how many "
                "measurements they were accurate (drift recovery). SIGINT stops cleanly; every "
                "measurement is committed as it arrives.");
  live.Register(&flags);
  flags.String("space", &space_path, "search space text-format file", cli::InputFile(), true);
  flags.String("db", &db, "measurement store holding the device's model", true);
  flags.Int("samples", &samples, "architectures to measure", cli::Between(1, cli::kIntMax));
  flags.Int("batch", &batch, "batch size", cli::Between(1, cli::kIntMax));
  flags.Bool("exclude-stored", &exclude_stored,
             "skip architectures already measured for the device");
  flags.Int("recovery-window", &recovery_window,
            "consecutive predictions that must be >= 90% within +-10% to count as recovered",
            cli::Between(1, cli::kIntMax));
  flags.Bool("quiet", &quiet, "print only the summary");
  flags.Bool("json", &json, "print the summary as JSON");
  int code;
  if (!cli::ParseFlags(&flags, kCmd, args, &code)) return code;
  auto space = arch::Space::FromFile(space_path);
  if (!space.ok()) return cli::ReportError(kCmd, space.status());
  auto store = predictor::MeasurementStore::Open(db);
  if (!store.ok()) return cli::ReportError(kCmd, store.status());
  LiveDevice source;
  if (auto s = source.Open(live, "edgeloop predictor stream"); !s.ok())
    return cli::ReportError(kCmd, s);
  auto recal = predictor::Recalibrator::Resume(store->get(), source.device());
  if (!recal.ok()) return cli::ReportError(kCmd, recal.status());

  predictor::StreamOptions options;
  options.samples = static_cast<int>(samples);
  options.batch = static_cast<int>(batch);
  options.seed = static_cast<uint64_t>(live.seed);
  options.exclude_stored = exclude_stored;
  options.recovery_window = static_cast<int>(recovery_window);
  const int64_t total = samples;
  auto print_row = [&](const predictor::StreamRow& row) {
    if (quiet) return;
    if (!row.skipped.ok()) {
      std::printf("[%lld/%lld] %s skipped: %s\n", static_cast<long long>(row.index),
                  static_cast<long long>(total), arch::CanonicalKey(row.arch).c_str(),
                  std::string(row.skipped.message()).c_str());
    } else {
      std::printf("[%lld/%lld] %s %s\n", static_cast<long long>(row.index),
                  static_cast<long long>(total), arch::CanonicalKey(row.arch).c_str(),
                  predictor::RecalibrationRowText(row.measurement.median_ms, row.status).c_str());
    }
    std::fflush(stdout);
  };
  InstallInterruptHandlers();
  auto result = predictor::RunStream(*space, options, source.measurer(), store->get(), recal->get(),
                                     print_row);
  if (!result.ok()) return cli::ReportError(kCmd, result.status());
  if (json) {
    std::printf(
        "{\"device\":%s,\"batch\":%lld,\"streamed\":%lld,\"skipped\":%lld,\"interrupted\":%s,"
        "\"before_update\":%s,\"recovery_window\":%lld,\"recovered_after\":%lld,\"model_version\":%"
        "lld}\n",
        JsonQuote(source.device()).c_str(), static_cast<long long>(batch),
        static_cast<long long>(result->streamed), static_cast<long long>(result->skipped),
        result->interrupted ? "true" : "false",
        predictor::MetricsToJson(result->before_update).c_str(),
        static_cast<long long>(recovery_window), static_cast<long long>(result->recovered_after),
        static_cast<long long>(result->model_version));
  } else {
    std::printf("stream of %s at batch %lld: %lld measured, %lld skipped%s\n",
                source.device().c_str(), static_cast<long long>(batch),
                static_cast<long long>(result->streamed), static_cast<long long>(result->skipped),
                result->interrupted ? " (interrupted)" : "");
    std::printf("before-update predictions: %s\n",
                predictor::MetricsToText(result->before_update).c_str());
    if (result->recovered_after >= 0) {
      std::printf(
          "accurate (>= 90%% within +-10%% over %lld consecutive) after %lld measurements\n",
          static_cast<long long>(recovery_window), static_cast<long long>(result->recovered_after));
    } else {
      std::printf("not yet accurate (>= 90%% within +-10%% over %lld consecutive)\n",
                  static_cast<long long>(recovery_window));
    }
    std::printf("model version %lld\n", static_cast<long long>(result->model_version));
  }
  return result->interrupted ? cli::kExitInterrupted : cli::kExitOk;
}

const cli::CommandRegistrar kRegister({
    {"predictor bootstrap", "measure a space-covering design live, fit and cross-validate",
     PredictorBootstrap},
    {"predictor stream",
     "measure unseen architectures live through the recalibrator (accuracy, drift)",
     PredictorStream},
});

}  // namespace
}  // namespace edgeloop
