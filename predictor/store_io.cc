#include "predictor/store_io.h"

#include <cmath>
#include <map>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "arch/arch_config.h"
#include "base/atomic_file.h"
#include "base/json.h"
#include "predictor/csv.h"
#include "predictor/features.h"

namespace edgeloop::predictor {
namespace {

using google::protobuf::Struct;
using google::protobuf::Value;

const std::vector<std::string>& CsvColumns() {
  static const std::vector<std::string> columns = {
      "device",           "arch_key",    "arch_json",
      "batch_size",       "threads",     "median_ms",
      "mean_ms",          "std_ms",      "min_ms",
      "p10_ms",           "p90_ms",      "p99_ms",
      "max_ms",           "runs",        "peak_memory_bytes",
      "drift_factor",     "measured_at", "source",
      "state_fingerprint"};
  return columns;
}

std::string Num(double v) { return std::isnan(v) ? "" : JsonNumberText(v); }

// The optional statistics, by column / counter name.
std::vector<std::pair<const char*, double Measurement::*>> OptionalStats() {
  return {{"mean_ms", &Measurement::mean_ms}, {"std_ms", &Measurement::std_ms},
          {"min_ms", &Measurement::min_ms},   {"p10_ms", &Measurement::p10_ms},
          {"p90_ms", &Measurement::p90_ms},   {"p99_ms", &Measurement::p99_ms},
          {"max_ms", &Measurement::max_ms}};
}

double TimeUnitToMs(const std::string& unit, bool* ok) {
  *ok = true;
  if (unit == "ns") return 1e-6;
  if (unit == "us") return 1e-3;
  if (unit == "ms" || unit.empty()) return 1.0;
  if (unit == "s") return 1e3;
  *ok = false;
  return 0;
}

double NumberOr(const Struct& s, const char* key, double fallback) {
  const Value* v = JsonField(s, key);
  return v != nullptr && v->kind_case() == Value::kNumberValue ? v->number_value() : fallback;
}

}  // namespace

absl::StatusOr<int64_t> ExportCsv(const MeasurementStore& store, const std::string& csv_path,
                                  const std::string& device, bool with_features) {
  auto rows = store.Measurements(device);
  if (!rows.ok()) return rows.status();
  std::vector<std::string> header = CsvColumns();
  if (with_features) header.insert(header.end(), FeatureNames().begin(), FeatureNames().end());
  std::string out = CsvLine(header);
  for (const StoredMeasurement& s : *rows) {
    const Measurement& m = s.m;
    std::vector<std::string> f = {m.device,
                                  arch::CanonicalKey(m.arch),
                                  arch::ArchToJson(m.arch),
                                  absl::StrCat(m.batch_size),
                                  absl::StrCat(m.threads),
                                  Num(m.median_ms)};
    for (const auto& [name, field] : OptionalStats()) f.push_back(Num(m.*field));
    f.push_back(absl::StrCat(m.runs));
    f.push_back(absl::StrCat(m.peak_memory_bytes));
    f.push_back(Num(m.drift_factor));
    f.push_back(m.measured_at);
    f.push_back(m.source);
    f.push_back(m.state_fingerprint);
    if (with_features) {
      for (float v : ComputeFeatures(m.arch, m.batch_size)) f.push_back(Num(v));
    }
    out += CsvLine(f);
  }
  if (auto st = WriteFileAtomically(csv_path, out); !st.ok()) return st;
  return static_cast<int64_t>(rows->size());
}

absl::StatusOr<std::vector<Measurement>> ParseMeasurementCsv(absl::string_view text,
                                                             absl::string_view origin,
                                                             const std::string& default_device) {
  auto table = ParseCsv(text, origin);
  if (!table.ok()) return table.status();
  const int arch_col =
      table->Column("arch_json") >= 0 ? table->Column("arch_json") : table->Column("arch");
  const int device_col = table->Column("device");
  if (arch_col < 0)
    return absl::InvalidArgumentError(absl::StrCat(origin, ": no column \"arch_json\""));
  if (device_col < 0 && default_device.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(origin, ": no column \"device\"; name the device with --device"));
  }
  auto batch = table->NumericColumn("batch_size");
  if (!batch.ok()) return batch.status();
  auto median = table->NumericColumn("median_ms");
  if (!median.ok()) return median.status();
  std::vector<Measurement> out;
  for (size_t r = 0; r < table->rows.size(); ++r) {
    const auto& row = table->rows[r];
    const std::string where = absl::StrCat(origin, ": line ", r + 2);
    Measurement m;
    m.device = device_col >= 0 && !row[device_col].empty() ? row[device_col] : default_device;
    if (m.device.empty()) return absl::InvalidArgumentError(absl::StrCat(where, ": empty device"));
    auto arch = arch::ArchFromJson(row[arch_col]);
    if (!arch.ok())
      return absl::InvalidArgumentError(absl::StrCat(where, ": ", arch.status().message()));
    if (auto s = arch::ValidateStructure(*arch); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": ", s.message()));
    }
    m.arch = *arch;
    m.batch_size = static_cast<int>((*batch)[r]);
    if (m.batch_size < 1 || m.batch_size != (*batch)[r]) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": batch_size must be a positive integer"));
    }
    m.median_ms = (*median)[r];
    if (m.median_ms <= 0)
      return absl::InvalidArgumentError(absl::StrCat(where, ": median_ms must be > 0"));
    auto optional = [&](const char* name, double fallback, double* out_value) -> absl::Status {
      const int c = table->Column(name);
      *out_value = fallback;
      if (c < 0 || row[c].empty()) return absl::OkStatus();
      if (!ParseNumber(row[c], out_value)) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, ", column \"", name, "\": \"", row[c], "\" is not a number"));
      }
      return absl::OkStatus();
    };
    for (const auto& [name, field] : OptionalStats()) {
      if (auto s = optional(name, std::nan(""), &(m.*field)); !s.ok()) return s;
    }
    double threads, runs, memory, drift;
    if (auto s = optional("threads", 0, &threads); !s.ok()) return s;
    if (auto s = optional("runs", 0, &runs); !s.ok()) return s;
    if (auto s = optional("peak_memory_bytes", 0, &memory); !s.ok()) return s;
    if (auto s = optional("drift_factor", 1, &drift); !s.ok()) return s;
    m.threads = static_cast<int>(threads);
    m.runs = static_cast<int>(runs);
    m.peak_memory_bytes = static_cast<int64_t>(memory);
    m.drift_factor = drift;
    if (int c = table->Column("measured_at"); c >= 0) m.measured_at = row[c];
    if (int c = table->Column("source"); c >= 0) m.source = row[c];
    if (m.source.empty()) m.source = "csv";
    if (int c = table->Column("state_fingerprint"); c >= 0) m.state_fingerprint = row[c];
    out.push_back(std::move(m));
  }
  return out;
}

absl::StatusOr<std::vector<Measurement>> ParseMicrobenchJson(absl::string_view text,
                                                             absl::string_view origin,
                                                             const std::string& default_device) {
  auto root = ParseJson(text, origin);
  if (!root.ok()) return root.status();
  if (root->kind_case() != Value::kStructValue) {
    return absl::InvalidArgumentError(absl::StrCat(origin, ": expected a JSON object"));
  }
  const Struct& top = root->struct_value();
  std::string device = default_device;
  if (device.empty()) {
    if (const Value* ctx = JsonField(top, "context"); ctx && ctx->has_struct_value()) {
      if (const Value* d = JsonField(ctx->struct_value(), "edgeloop_device");
          d && d->has_string_value())
        device = d->string_value();
    }
  }
  if (device.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(origin, ": no context.edgeloop_device; name the device with --device"));
  }
  const Value* list = JsonField(top, "benchmarks");
  if (list == nullptr || !list->has_list_value()) {
    return absl::InvalidArgumentError(absl::StrCat(origin, ": no \"benchmarks\" array"));
  }
  struct Group {
    Measurement m;
    std::vector<double> iteration_ms;
    std::map<std::string, double> aggregate_ms;
    const Struct* last = nullptr;
  };
  std::map<std::tuple<std::string, std::string, int>, Group> groups;
  std::vector<std::tuple<std::string, std::string, int>> order;
  const auto& entries = list->list_value().values();
  for (int i = 0; i < entries.size(); ++i) {
    const std::string where = absl::StrCat(origin, ": benchmarks[", i, "]");
    if (!entries[i].has_struct_value())
      return absl::InvalidArgumentError(absl::StrCat(where, ": not an object"));
    const Struct& b = entries[i].struct_value();
    if (const Value* e = JsonField(b, "error_occurred"); e && e->bool_value()) continue;
    auto name = JsonString(b, "name", where);
    if (!name.ok()) return name.status();
    std::string run_name = *name;
    if (const Value* rn = JsonField(b, "run_name"); rn && rn->has_string_value())
      run_name = rn->string_value();
    auto label = JsonString(b, "label", absl::StrCat(where, " (", *name, ")"));
    if (!label.ok()) return label.status();
    auto arch = arch::ArchFromJson(*label);
    if (!arch.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, " (", *name, "): label: ", arch.status().message()));
    }
    if (auto s = arch::ValidateStructure(*arch); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(where, " (", *name, "): ", s.message()));
    }
    const double batch = NumberOr(b, "batch", NumberOr(b, "batch_size", 0));
    if (batch < 1 || batch != std::floor(batch)) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, " (", *name, "): counter \"batch\" missing or not a positive integer"));
    }
    bool unit_ok;
    const std::string unit =
        JsonField(b, "time_unit") ? JsonField(b, "time_unit")->string_value() : "ns";
    const double scale = TimeUnitToMs(unit, &unit_ok);
    if (!unit_ok)
      return absl::InvalidArgumentError(absl::StrCat(where, ": unknown time_unit \"", unit, "\""));
    auto real_time = JsonNumber(b, "real_time", where);
    if (!real_time.ok()) return real_time.status();
    const std::string canonical = arch::ArchToJson(*arch);
    auto key = std::make_tuple(run_name, canonical, static_cast<int>(batch));
    auto [it, inserted] = groups.try_emplace(key);
    if (inserted) order.push_back(key);
    Group& g = it->second;
    g.m.device = device;
    g.m.arch = *arch;
    g.m.batch_size = static_cast<int>(batch);
    // Counters may sit on some entries of a group only (aggregates carry fewer).
    // Google Benchmark writes its own "threads" (benchmark threads) into every entry, so the
    // intra-op thread count travels as the counter "torch_threads".
    g.m.threads = static_cast<int>(NumberOr(b, "torch_threads", g.m.threads));
    g.m.peak_memory_bytes =
        static_cast<int64_t>(NumberOr(b, "peak_memory_bytes", g.m.peak_memory_bytes));
    g.m.drift_factor = NumberOr(b, "drift_factor", g.m.drift_factor);
    g.m.source = "microbench";
    g.last = &b;
    const Value* run_type = JsonField(b, "run_type");
    if (run_type && run_type->string_value() == "aggregate") {
      const Value* agg = JsonField(b, "aggregate_name");
      if (agg) g.aggregate_ms[agg->string_value()] = *real_time * scale;
    } else {
      g.iteration_ms.push_back(*real_time * scale);
    }
  }
  std::vector<Measurement> out;
  for (const auto& key : order) {
    Group& g = groups[key];
    Measurement& m = g.m;
    if (!g.iteration_ms.empty()) {
      FillStatistics(g.iteration_ms, &m);
    } else {
      auto agg = [&](const char* name) {
        auto it = g.aggregate_ms.find(name);
        return it == g.aggregate_ms.end() ? std::nan("") : it->second;
      };
      m.median_ms = std::isnan(agg("median")) ? agg("mean") : agg("median");
      m.mean_ms = agg("mean");
      m.std_ms = agg("stddev");
      m.min_ms = agg("min");
      m.max_ms = agg("max");
      m.p10_ms = m.p90_ms = m.p99_ms = std::nan("");
      if (const Value* reps = JsonField(*g.last, "repetitions"); reps && reps->has_number_value())
        m.runs = static_cast<int>(reps->number_value());
    }
    // Statistics the benchmark computed itself win over those derived from its timings.
    m.median_ms = NumberOr(*g.last, "median_ms", m.median_ms);
    for (const auto& [name, field] : OptionalStats()) m.*field = NumberOr(*g.last, name, m.*field);
    m.runs = static_cast<int>(NumberOr(*g.last, "runs", m.runs));
    if (!(m.median_ms > 0)) {
      return absl::InvalidArgumentError(
          absl::StrCat(origin, ": benchmark \"", std::get<0>(key), "\" has no positive time"));
    }
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace edgeloop::predictor
