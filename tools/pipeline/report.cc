#include "tools/pipeline/report.h"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "base/atomic_file.h"
#include "base/json.h"
#include "predictor/metrics.h"

namespace edgeloop::pipeline {
namespace {

using google::protobuf::Struct;
using google::protobuf::Value;

// A nested field by path ("chosen.batches.1.median_ms"); null when absent.
const Value* Field(const Struct& s, const std::vector<std::string>& path) {
  const Struct* at = &s;
  const Value* v = nullptr;
  for (size_t i = 0; i < path.size(); ++i) {
    v = JsonField(*at, path[i]);
    if (v == nullptr) return nullptr;
    if (i + 1 < path.size()) {
      if (!v->has_struct_value()) return nullptr;
      at = &v->struct_value();
    }
  }
  return v;
}

double Num(const Struct& s, const std::vector<std::string>& path) {
  const Value* v = Field(s, path);
  return v != nullptr && v->kind_case() == Value::kNumberValue ? v->number_value() : NAN;
}

std::string Str(const Struct& s, const std::vector<std::string>& path) {
  const Value* v = Field(s, path);
  return v != nullptr && v->kind_case() == Value::kStringValue ? v->string_value() : "";
}

std::string Fmt(double v, const char* format = "%.4g") {
  return std::isfinite(v) ? absl::StrFormat(format, v) : "n/a";
}

std::string Ratio(double baseline, double chosen) {
  return std::isfinite(baseline) && std::isfinite(chosen) && chosen > 0
             ? absl::StrFormat("%.2fx", baseline / chosen)
             : "n/a";
}

std::string Minutes(double seconds) {
  return std::isfinite(seconds) ? absl::StrFormat("%.1f min", seconds / 60) : "n/a";
}

// The predictor's accuracy on the search's live measurements: each prediction made just
// before the measurement it is compared with.
std::string PredictorSection(const std::string& out_dir) {
  const std::string path = out_dir + "/search/state.json";
  absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) return "(search state not found)\n";
  absl::StatusOr<Struct> state = ParseJsonObject(*text, path);
  if (!state.ok()) return "(search state unreadable)\n";
  std::vector<double> measured, predicted;
  const Value* archive = JsonField(*state, "archive");
  if (archive != nullptr) {
    for (const Value& c : archive->list_value().values()) {
      const double m = Num(c.struct_value(), {"measured_ms"});
      const double p = Num(c.struct_value(), {"predicted_before_measurement_ms"});
      if (std::isfinite(m) && std::isfinite(p)) {
        measured.push_back(m);
        predicted.push_back(p);
      }
    }
  }
  if (measured.size() < 2) return "Too few live measurements in the search to score the predictor.\n";
  const predictor::AccuracyMetrics m = predictor::ComputeMetrics(measured, predicted);
  return absl::StrFormat(
      "| live measurements | within +-10%% | within +-5%% | MAPE | Spearman | Kendall |\n"
      "|---|---|---|---|---|---|\n| %d | %.0f%% | %.0f%% | %.1f%% | %.3f | %.3f |\n\n"
      "Each prediction was made just before its measurement arrived, by the model as "
      "recalibrated on every earlier measurement.\n",
      static_cast<int>(m.n), 100 * m.within_10, 100 * m.within_5, m.mape, m.spearman, m.kendall);
}

}  // namespace

absl::Status WriteReport(const ReportInputs& in) {
  const Struct& t = in.test;
  const Struct& ms = in.measure;
  const double chosen_lat1 = Num(ms, {"chosen", "batches", "1", "median_ms"});
  const double base_lat1 = Num(ms, {"baseline", "batches", "1", "median_ms"});
  const double chosen_mse = Num(t, {"chosen", "mse"});
  const double base_mse = Num(t, {"baseline", "mse"});
  const double latency_ratio = base_lat1 / chosen_lat1;
  const double loss_ratio = base_mse / chosen_mse;

  std::string md;
  char when[64];
  const std::time_t now = std::time(nullptr);
  std::strftime(when, sizeof(when), "%Y-%m-%d %H:%M UTC", std::gmtime(&now));
  absl::StrAppend(&md, "# edgeloop pipeline report\n\nProfile `", in.profile, "`, written ", when,
                  ". Data: ", JsonText(*JsonField(in.data, "files")),
                  Field(in.data, {"synthetic"}) && Field(in.data, {"synthetic"})->bool_value()
                      ? " (synthetic, RAISE-LPBF format)" : "",
                  "; train `", Str(in.data, {"train_split"}), "`, validation `",
                  Str(in.data, {"val_split"}), "`, test `", Str(in.data, {"test_split"}), "`.\n\n");

  absl::StrAppend(&md, "## Chosen subnet vs the human-designed baseline\n\n",
                  "| | chosen (searched, fine-tuned) | baseline (human-designed, stand-alone) | baseline / chosen |\n",
                  "|---|---|---|---|\n");
  absl::StrAppend(&md, "| architecture | `", Str(t, {"chosen", "key"}), "` | `", Str(t, {"baseline", "key"}), "` | |\n");
  const double cp = Num(t, {"chosen", "params"}), bp = Num(t, {"baseline", "params"});
  const double cf = Num(t, {"chosen", "flops"}), bf = Num(t, {"baseline", "flops"});
  absl::StrAppend(&md, "| parameters | ", Fmt(cp, "%.0f"), " | ", Fmt(bp, "%.0f"), " | ", Ratio(bp, cp), " |\n");
  absl::StrAppend(&md, "| FLOPs (MMAC / sample) | ", Fmt(cf / 1e6, "%.1f"), " | ", Fmt(bf / 1e6, "%.1f"), " | ",
                  Ratio(bf, cf), " |\n");
  const Value* batches = Field(ms, {"chosen", "batches"});
  if (batches != nullptr) {
    std::vector<std::string> sizes;
    for (const auto& [b, unused] : batches->struct_value().fields()) sizes.push_back(b);
    std::sort(sizes.begin(), sizes.end(), [](const std::string& a, const std::string& b) {
      return std::stoi(a) < std::stoi(b);
    });
    for (const std::string& b : sizes) {
      const double cm = Num(ms, {"chosen", "batches", b, "median_ms"});
      const double bm = Num(ms, {"baseline", "batches", b, "median_ms"});
      absl::StrAppend(&md, "| latency batch ", b, ", median / p90 (ms) | ", Fmt(cm), " / ",
                      Fmt(Num(ms, {"chosen", "batches", b, "p90_ms"})), " | ", Fmt(bm), " / ",
                      Fmt(Num(ms, {"baseline", "batches", b, "p90_ms"})), " | ", Ratio(bm, cm), " |\n");
    }
  }
  absl::StrAppend(&md, "| test MSE (normalised targets) | ", Fmt(chosen_mse, "%.5f"), " | ", Fmt(base_mse, "%.5f"),
                  " | ", Ratio(base_mse, chosen_mse), " |\n");
  absl::StrAppend(&md, "| test RMSE speed (mm/s) | ", Fmt(Num(t, {"chosen", "rmse_speed_mm_s"}), "%.1f"), " | ",
                  Fmt(Num(t, {"baseline", "rmse_speed_mm_s"}), "%.1f"), " | |\n");
  absl::StrAppend(&md, "| test RMSE power (W) | ", Fmt(Num(t, {"chosen", "rmse_power_w"}), "%.2f"), " | ",
                  Fmt(Num(t, {"baseline", "rmse_power_w"}), "%.2f"), " | |\n");
  absl::StrAppend(&md, "| test samples | ", Fmt(Num(t, {"chosen", "samples"}), "%.0f"), " | ",
                  Fmt(Num(t, {"baseline", "samples"}), "%.0f"), " | |\n\n");
  auto verdict = [](double ours, double reference) {
    if (!std::isfinite(ours)) return std::string("n/a");
    return absl::StrFormat("%.2fx (reference ~%.2fx: %s)", ours, reference,
                           ours >= reference ? "ahead" : "behind");
  };
  absl::StrAppend(&md, "- **Latency ratio** (baseline / chosen, batch 1, measured on the edge): ",
                  verdict(latency_ratio, kReferenceLatencyRatio), "\n");
  absl::StrAppend(&md, "- **Test-loss ratio** (baseline MSE / chosen MSE): ", verdict(loss_ratio, kReferenceLossRatio),
                  "\n");
  absl::StrAppend(&md, "- The chosen subnet with inherited weights only (before fine-tuning): test MSE ",
                  Fmt(Num(t, {"chosen_inherited", "mse"}), "%.5f"), ".\n\n");

  absl::StrAppend(&md, "## Pareto front\n\n![Pareto front](search/pareto.png)\n\n",
                  "Chosen: the most accurate subnet (inherited-weight val MSE) whose measured latency is "
                  "under the baseline's / 8.8 = ", Fmt(Num(in.search, {"latency_budget_ms"})), " ms",
                  Field(in.search, {"budget_met"}) && !Field(in.search, {"budget_met"})->bool_value()
                      ? " (no subnet met it: the fastest one was taken)" : "",
                  ". ",
                  "Search: ", Fmt(Num(in.search, {"evaluated"}), "%.0f"), " subnets scored with inherited weights, ",
                  Fmt(Num(in.search, {"measured"}), "%.0f"), " measured live; front of ",
                  Fmt(Num(in.search, {"front_size"}), "%.0f"), ", ",
                  Field(in.search, {"verified"}) && Field(in.search, {"verified"})->bool_value()
                      ? "every front latency measured" : "some front latencies predicted only",
                  ". Full front: `search/front.csv`; per-generation log: `search/log.jsonl`.\n\n");

  absl::StrAppend(&md, "## Latency predictor on the search's live measurements\n\n", PredictorSection(in.out_dir),
                  "\nBootstrap: ", Fmt(Num(in.predictor, {"measured"}), "%.0f"),
                  " new live measurements; cross-validation within +-10%: ",
                  Fmt(100 * Num(in.predictor, {"cv", "within_10"}), "%.0f"), "%, Spearman ",
                  Fmt(Num(in.predictor, {"cv", "spearman"}), "%.3f"), ".\n\n");

  // The reference trains every candidate stand-alone for the supernet's epochs. Its cost is
  // estimated from the stand-alone fine-tuning of the chosen subnet measured here, per epoch,
  // scaled to each scored candidate by its FLOPs (conservative for the smallest subnets,
  // whose fixed overheads this scaling ignores).
  const double candidates = Num(in.search, {"evaluated"});
  const double epochs = Num(in.supernet, {"epochs"});
  const double chosen_epoch_s = Num(in.finetune, {"train_seconds"}) / Num(in.finetune, {"epochs"});
  const double chosen_flops = Num(in.search, {"chosen", "flops"});
  double flops_sum = 0;
  if (absl::StatusOr<std::string> text = ReadFile(in.out_dir + "/search/state.json"); text.ok()) {
    if (absl::StatusOr<Struct> state = ParseJsonObject(*text, "state.json"); state.ok()) {
      if (const Value* archive = JsonField(*state, "archive"); archive != nullptr) {
        for (const Value& c : archive->list_value().values()) flops_sum += Num(c.struct_value(), {"flops"});
      }
    }
  }
  const double theirs = epochs * chosen_epoch_s * flops_sum / chosen_flops;
  const double ours = Num(in.supernet, {"seconds"}) + Num(in.predictor, {"seconds"}) + Num(in.search, {"seconds"});
  absl::StrAppend(&md, "## Cost of the search\n\n",
                  "| approach | wall time |\n|---|---|\n",
                  "| edgeloop: one supernet training + predictor bootstrap + search (", Fmt(candidates, "%.0f"),
                  " candidates scored) | ", Minutes(ours), " |\n",
                  "| reference: each of the ", Fmt(candidates, "%.0f"), " candidates trained stand-alone for ",
                  Fmt(epochs, "%.3g"), " epochs (estimated: the chosen subnet's measured ",
                  Fmt(chosen_epoch_s, "%.1f"), " s per epoch, scaled by FLOPs) | ", Minutes(theirs), " |\n\n",
                  "edgeloop is **", Ratio(theirs, ours), "** cheaper for this search, and its supernet serves "
                  "every further search (another device, another budget) without retraining.\n\n");

  absl::StrAppend(&md, "## Stages\n\n| stage | wall time |\n|---|---|\n");
  double total = 0;
  for (const auto& [name, record] : {std::pair<const char*, const Struct*>{"data", &in.data},
                                     {"supernet", &in.supernet}, {"predictor", &in.predictor},
                                     {"search", &in.search}, {"finetune", &in.finetune},
                                     {"baseline", &in.baseline}, {"measure", &in.measure}, {"test", &in.test}}) {
    const double s = Num(*record, {"seconds"});
    total += std::isfinite(s) ? s : 0;
    absl::StrAppend(&md, "| ", name, " | ", Fmt(s, "%.1f"), " s |\n");
  }
  absl::StrAppend(&md, "| **total** | ", Fmt(total, "%.1f"), " s (", Minutes(total), ") |\n\n");

  absl::StrAppend(&md, "## Edge device\n\n| | |\n|---|---|\n");
  for (const char* key : {"cpu_model", "cores", "threads", "torch_version", "device", "cuda_device",
                          "hostname", "fingerprint"}) {
    const Value* v = Field(ms, {"edge", key});
    if (v == nullptr) continue;
    const std::string text = v->kind_case() == Value::kNumberValue ? Fmt(v->number_value(), "%.0f") : v->string_value();
    if (!text.empty()) absl::StrAppend(&md, "| ", key, " | ", text, " |\n");
  }
  return WriteFileAtomically(in.out_dir + "/report.md", md);
}

}  // namespace edgeloop::pipeline
