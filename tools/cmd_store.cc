// `edgeloop store info|export|import`: the predictor's SQLite measurement store.
#include <cstdio>
#include <string>

#include "absl/strings/str_cat.h"
#include "base/atomic_file.h"
#include "base/json.h"
#include "predictor/store.h"
#include "predictor/store_io.h"
#include "tools/cli/command.h"

namespace edgeloop {
namespace {

using cli::FlagSet;
using predictor::MeasurementStore;

int StoreInfo(const std::vector<std::string>& args) {
  std::string db;
  bool json = false, check = false;
  FlagSet flags("store info",
                "Prints the schema version, row counts, devices and model versions "
                "of a measurement store.");
  flags.String("db", &db, "SQLite store file", true);
  flags.Bool("json", &json, "print one JSON object");
  flags.Bool("check", &check, "also run SQLite's integrity check (exit 1 when it fails)");
  int code;
  if (!cli::ParseFlags(&flags, "store info", args, &code)) return code;
  auto store = MeasurementStore::Open(db, MeasurementStore::Mode::kReadOnly);
  if (!store.ok()) return cli::ReportError("store info", store.status());
  auto info = (*store)->Info();
  if (!info.ok()) return cli::ReportError("store info", info.status());
  std::string integrity;
  if (check) {
    auto r = (*store)->IntegrityCheck();
    if (!r.ok()) return cli::ReportError("store info", r.status());
    integrity = *r;
  }
  if (json) {
    std::string devices;
    for (const auto& d : info->per_device) {
      absl::StrAppend(&devices, devices.empty() ? "" : ",",
                      "{\"fingerprint\":", JsonQuote(d.fingerprint),
                      ",\"measurements\":", d.measurements, ",\"models\":", d.models,
                      ",\"latest_model_version\":", d.latest_model_version, "}");
    }
    std::printf(
        "{\"schema_version\":%d,\"devices\":%lld,\"architectures\":%lld,"
        "\"measurements\":%lld,\"models\":%lld,\"per_device\":[%s]%s}\n",
        info->schema_version, static_cast<long long>(info->devices),
        static_cast<long long>(info->architectures), static_cast<long long>(info->measurements),
        static_cast<long long>(info->models), devices.c_str(),
        check ? absl::StrCat(",\"integrity\":", JsonQuote(integrity)).c_str() : "");
  } else {
    std::printf(
        "store %s (schema version %d)\n  devices %lld, architectures %lld, measurements "
        "%lld, model versions %lld\n",
        db.c_str(), info->schema_version, static_cast<long long>(info->devices),
        static_cast<long long>(info->architectures), static_cast<long long>(info->measurements),
        static_cast<long long>(info->models));
    for (const auto& d : info->per_device) {
      std::printf("  device %-32s %8lld measurements, %4lld models (latest v%lld)\n",
                  d.fingerprint.c_str(), static_cast<long long>(d.measurements),
                  static_cast<long long>(d.models), static_cast<long long>(d.latest_model_version));
    }
    if (check) std::printf("  integrity: %s\n", integrity.c_str());
  }
  return check && integrity != "ok" ? cli::kExitFailure : cli::kExitOk;
}

int StoreExport(const std::vector<std::string>& args) {
  std::string db, csv, device;
  bool features = false;
  FlagSet flags("store export", "Writes the measurements of a store to a CSV file (atomically).");
  flags.String("db", &db, "SQLite store file", true);
  flags.String("csv", &csv, "output CSV file", cli::OutputFile(), true);
  flags.String("device", &device, "only this device fingerprint (default: all)");
  flags.Bool("features", &features,
             "append the latency features of every row (for predictor fit --csv)");
  int code;
  if (!cli::ParseFlags(&flags, "store export", args, &code)) return code;
  auto store = MeasurementStore::Open(db, MeasurementStore::Mode::kReadOnly);
  if (!store.ok()) return cli::ReportError("store export", store.status());
  auto n = predictor::ExportCsv(**store, csv, device, features);
  if (!n.ok()) return cli::ReportError("store export", n.status());
  std::printf("exported %lld measurements to %s\n", static_cast<long long>(*n), csv.c_str());
  return cli::kExitOk;
}

int StoreImport(const std::vector<std::string>& args) {
  std::string db, csv, microbench, device;
  FlagSet flags("store import",
                "Adds measurements from a CSV file (the export format) or from the Google "
                "Benchmark JSON of edgeloop_microbench to a store, in one transaction.");
  flags.String("db", &db, "SQLite store file (created when missing)", true);
  flags.String("csv", &csv, "CSV file to import", cli::InputFile());
  flags.String("microbench-json", &microbench, "edgeloop_microbench --benchmark_format=json output",
               cli::InputFile());
  flags.String("device", &device,
               "device fingerprint for rows that name none (overrides the "
               "microbench context)");
  int code;
  if (!cli::ParseFlags(&flags, "store import", args, &code)) return code;
  if (csv.empty() == microbench.empty()) {
    return cli::ReportError("store import", absl::InvalidArgumentError(
                                                "give exactly one of --csv and --microbench-json"));
  }
  const std::string& path = csv.empty() ? microbench : csv;
  auto text = ReadFile(path);
  if (!text.ok()) return cli::ReportError("store import", text.status());
  auto rows = csv.empty() ? predictor::ParseMicrobenchJson(*text, path, device)
                          : predictor::ParseMeasurementCsv(*text, path, device);
  if (!rows.ok()) return cli::ReportError("store import", rows.status());
  auto store = MeasurementStore::Open(db);
  if (!store.ok()) return cli::ReportError("store import", store.status());
  auto ids = (*store)->AddMeasurements(*rows);
  if (!ids.ok()) return cli::ReportError("store import", ids.status());
  std::printf("imported %zu measurements into %s\n", ids->size(), db.c_str());
  return cli::kExitOk;
}

const cli::CommandRegistrar kRegister({
    {"store info", "row counts, devices and model versions of a measurement store", StoreInfo},
    {"store export", "measurements of a store as CSV", StoreExport},
    {"store import", "add measurements from CSV or edgeloop_microbench JSON", StoreImport},
});

}  // namespace
}  // namespace edgeloop
