#include "tools/pipeline/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "base/atomic_file.h"
#include "base/json.h"
#include "base/proto_json.h"
#include "predictor/metrics.h"
#include "search/search_state.h"
#include "tools/version.h"

namespace edgeloop::pipeline {
namespace {

// `format` is a printf conversion of one double (absl::StrFormat needs it at compile time).
std::string Fmt(double v, const char* format = "%.4g") {
  if (!std::isfinite(v)) return "n/a";
  char text[64];
  std::snprintf(text, sizeof(text), format, v);
  return text;
}

std::string Ratio(double baseline, double chosen) {
  return std::isfinite(baseline) && std::isfinite(chosen) && chosen > 0
             ? absl::StrFormat("%.2fx", baseline / chosen)
             : "n/a";
}

std::string Minutes(double seconds) {
  return std::isfinite(seconds) ? absl::StrFormat("%.1f min", seconds / 60) : "n/a";
}

// The median latency of `subnet` at batch size `batch`; NaN when not measured.
double MedianMs(const MeasuredSubnet& subnet, int batch) {
  auto it = subnet.batches().find(batch);
  return it == subnet.batches().end() ? NAN : it->second.median_ms();
}

double P90Ms(const MeasuredSubnet& subnet, int batch) {
  auto it = subnet.batches().find(batch);
  return it == subnet.batches().end() ? NAN : it->second.p90_ms();
}

// A number of the predictor's cross-validation metrics; NaN when absent or null.
double CvMetric(const PredictorStage& predictor, const char* name) {
  auto it = predictor.cv().fields().find(name);
  return it == predictor.cv().fields().end() ? NAN : NumberOrNaN(it->second);
}

std::string Header(const ReportInputs& in) {
  char when[64];
  const std::time_t now = std::time(nullptr);
  std::strftime(when, sizeof(when), "%Y-%m-%d %H:%M UTC", std::gmtime(&now));
  const DataStage& data = in.data;
  return absl::StrCat(
      "# edgeloop pipeline report\n\nProfile `", in.profile, "`, written ", when, ". Data: ",
      JsonStringArray(std::vector<std::string>(data.files().begin(), data.files().end())),
      data.synthetic() ? " (synthetic, RAISE-LPBF format)" : "", "; train `", data.train_split(),
      "`, validation `", data.val_split(), "`, test `", data.test_split(), "`.\n\n");
}

// The rows of measured latency, one per batch size, by batch size.
std::string LatencyRows(const MeasureStage& ms) {
  std::vector<int> sizes;
  for (const auto& [batch, unused] : ms.chosen().batches()) sizes.push_back(batch);
  std::sort(sizes.begin(), sizes.end());
  std::string rows;
  for (int b : sizes) {
    const double cm = MedianMs(ms.chosen(), b);
    const double bm = MedianMs(ms.baseline(), b);
    absl::StrAppend(&rows, "| latency batch ", b, ", median / p90 (ms) | ", Fmt(cm), " / ",
                    Fmt(P90Ms(ms.chosen(), b)), " | ", Fmt(bm), " / ", Fmt(P90Ms(ms.baseline(), b)),
                    " | ", Ratio(bm, cm), " |\n");
  }
  return rows;
}

std::string Comparison(const ReportInputs& in) {
  const TestedSubnet& chosen = in.test.chosen();
  const TestedSubnet& base = in.test.baseline();
  const double latency_ratio =
      MedianMs(in.measure.baseline(), 1) / MedianMs(in.measure.chosen(), 1);
  const double loss_ratio = base.mse() / chosen.mse();
  std::string md = absl::StrCat("## Chosen subnet vs the human-designed baseline\n\n",
                                "| | chosen (searched, fine-tuned) | baseline (human-designed, "
                                "stand-alone) | baseline / chosen |\n",
                                "|---|---|---|---|\n");
  absl::StrAppend(&md, "| architecture | `", chosen.key(), "` | `", base.key(), "` | |\n");
  absl::StrAppend(&md, "| parameters | ", Fmt(chosen.params(), "%.0f"), " | ",
                  Fmt(base.params(), "%.0f"), " | ", Ratio(base.params(), chosen.params()), " |\n");
  absl::StrAppend(&md, "| FLOPs (MMAC / sample) | ", Fmt(chosen.flops() / 1e6, "%.1f"), " | ",
                  Fmt(base.flops() / 1e6, "%.1f"), " | ", Ratio(base.flops(), chosen.flops()),
                  " |\n");
  absl::StrAppend(&md, LatencyRows(in.measure));
  absl::StrAppend(&md, "| test MSE (normalised targets) | ", Fmt(chosen.mse(), "%.5f"), " | ",
                  Fmt(base.mse(), "%.5f"), " | ", Ratio(base.mse(), chosen.mse()), " |\n");
  absl::StrAppend(&md, "| test RMSE speed (mm/s) | ", Fmt(chosen.rmse_speed_mm_s(), "%.1f"), " | ",
                  Fmt(base.rmse_speed_mm_s(), "%.1f"), " | |\n");
  absl::StrAppend(&md, "| test RMSE power (W) | ", Fmt(chosen.rmse_power_w(), "%.2f"), " | ",
                  Fmt(base.rmse_power_w(), "%.2f"), " | |\n");
  absl::StrAppend(&md, "| test samples | ", Fmt(chosen.samples(), "%.0f"), " | ",
                  Fmt(base.samples(), "%.0f"), " | |\n\n");
  auto verdict = [](double ours, double reference) {
    if (!std::isfinite(ours)) return std::string("n/a");
    return absl::StrFormat("%.2fx (reference ~%.2fx: %s)", ours, reference,
                           ours >= reference ? "ahead" : "behind");
  };
  absl::StrAppend(&md, "- **Latency ratio** (baseline / chosen, batch 1, measured on the edge): ",
                  verdict(latency_ratio, kReferenceLatencyRatio), "\n");
  absl::StrAppend(&md, "- **Test-loss ratio** (baseline MSE / chosen MSE): ",
                  verdict(loss_ratio, kReferenceLossRatio), "\n");
  absl::StrAppend(&md,
                  "- The chosen subnet with inherited weights only (before fine-tuning): test MSE ",
                  Fmt(in.test.chosen_inherited().mse(), "%.5f"), ".\n\n");
  return md;
}

std::string ParetoSection(const SearchStage& search) {
  return absl::StrCat(
      "## Pareto front\n\n![Pareto front](search/pareto.png)\n\n",
      "Chosen: the most accurate subnet (inherited-weight val MSE) whose measured latency is "
      "under the baseline's / 8.8 = ",
      Fmt(search.latency_budget_ms()), " ms",
      search.budget_met() ? "" : " (no subnet met it: the fastest one was taken)", ". ",
      "Search: ", Fmt(search.evaluated(), "%.0f"), " subnets scored with inherited weights, ",
      Fmt(search.measured(), "%.0f"), " measured live; front of ", Fmt(search.front_size(), "%.0f"),
      ", ",
      search.verified() ? "every front latency measured" : "some front latencies predicted only",
      ". Full front: `search/front.csv`; per-generation log: `search/log.jsonl`.\n\n");
}

// The predictor's accuracy on the search's live measurements: each prediction made just
// before the measurement it is compared with.
std::string LiveAccuracy(const absl::StatusOr<search::SearchState>& state) {
  if (!state.ok()) {
    return absl::IsNotFound(state.status()) ? "(search state not found)\n"
                                            : "(search state unreadable)\n";
  }
  std::vector<double> measured, predicted;
  for (const search::Candidate& c : state->archive) {
    if (std::isfinite(c.measured_ms) && std::isfinite(c.predicted_before_measurement_ms)) {
      measured.push_back(c.measured_ms);
      predicted.push_back(c.predicted_before_measurement_ms);
    }
  }
  if (measured.size() < 2)
    return "Too few live measurements in the search to score the predictor.\n";
  const predictor::AccuracyMetrics m = predictor::ComputeMetrics(measured, predicted);
  return absl::StrFormat(
      "| live measurements | within +-10%% | within +-5%% | MAPE | Spearman | Kendall |\n"
      "|---|---|---|---|---|---|\n| %d | %.0f%% | %.0f%% | %.1f%% | %.3f | %.3f |\n\n"
      "Each prediction was made just before its measurement arrived, by the model as "
      "recalibrated on every earlier measurement.\n",
      static_cast<int>(m.n), 100 * m.within_10, 100 * m.within_5, m.mape, m.spearman, m.kendall);
}

std::string PredictorSection(const PredictorStage& predictor,
                             const absl::StatusOr<search::SearchState>& state) {
  return absl::StrCat("## Latency predictor on the search's live measurements\n\n",
                      LiveAccuracy(state), "\nBootstrap: ", Fmt(predictor.measured(), "%.0f"),
                      " new live measurements; cross-validation within +-10%: ",
                      Fmt(100 * CvMetric(predictor, "within_10"), "%.0f"), "%, Spearman ",
                      Fmt(CvMetric(predictor, "spearman"), "%.3f"), ".\n\n");
}

// The reference trains every candidate stand-alone for the supernet's epochs. Its cost is
// estimated from the stand-alone fine-tuning of the chosen subnet measured here, per epoch,
// scaled to each scored candidate by its FLOPs (conservative for the smallest subnets,
// whose fixed overheads this scaling ignores).
std::string CostSection(const ReportInputs& in, const absl::StatusOr<search::SearchState>& state) {
  const double candidates = in.search.evaluated();
  const double epochs = in.supernet.epochs();
  const double chosen_epoch_s = in.finetune.train_seconds() / in.finetune.epochs();
  const double chosen_flops = in.search.chosen().flops();
  double flops_sum = 0;
  if (state.ok()) {
    for (const search::Candidate& c : state->archive) flops_sum += static_cast<double>(c.flops);
  }
  const double theirs = epochs * chosen_epoch_s * flops_sum / chosen_flops;
  const double ours = in.supernet.seconds() + in.predictor.seconds() + in.search.seconds();
  return absl::StrCat(
      "## Cost of the search\n\n", "| approach | wall time |\n|---|---|\n",
      "| edgeloop: one supernet training + predictor bootstrap + search (", Fmt(candidates, "%.0f"),
      " candidates scored) | ", Minutes(ours), " |\n", "| reference: each of the ",
      Fmt(candidates, "%.0f"), " candidates trained stand-alone for ", Fmt(epochs, "%.3g"),
      " epochs (estimated: the chosen subnet's measured ", Fmt(chosen_epoch_s, "%.1f"),
      " s per epoch, scaled by FLOPs) | ", Minutes(theirs), " |\n\n", "edgeloop is **",
      Ratio(theirs, ours),
      "** cheaper for this search, and its supernet serves "
      "every further search (another device, another budget) without retraining.\n\n");
}

std::string StagesSection(const ReportInputs& in) {
  std::string md = "## Stages\n\n| stage | wall time |\n|---|---|\n";
  double total = 0;
  const std::pair<const char*, double> stages[] = {
      {"data", in.data.seconds()},           {"supernet", in.supernet.seconds()},
      {"predictor", in.predictor.seconds()}, {"search", in.search.seconds()},
      {"finetune", in.finetune.seconds()},   {"baseline", in.baseline.seconds()},
      {"measure", in.measure.seconds()},     {"test", in.test.seconds()}};
  for (const auto& [name, s] : stages) {
    total += std::isfinite(s) ? s : 0;
    absl::StrAppend(&md, "| ", name, " | ", Fmt(s, "%.1f"), " s |\n");
  }
  absl::StrAppend(&md, "| **total** | ", Fmt(total, "%.1f"), " s (", Minutes(total), ") |\n\n");
  return md;
}

std::string EdgeSection(const edge_bench::DeviceInfo& edge) {
  std::string md = "## Edge device\n\n| | |\n|---|---|\n";
  // Counts of zero and empty strings are unknown to the device: left out.
  const std::pair<const char*, std::string> rows[] = {
      {"cpu_model", edge.cpu_model()},
      {"cores", edge.cores() != 0 ? absl::StrCat(edge.cores()) : ""},
      {"threads", edge.threads() != 0 ? absl::StrCat(edge.threads()) : ""},
      {"torch_version", edge.torch_version()},
      {"device", edge.device()},
      {"cuda_device", edge.cuda_device()},
      {"hostname", edge.hostname()},
      {"fingerprint", edge.fingerprint()}};
  for (const auto& [key, text] : rows) {
    if (!text.empty()) absl::StrAppend(&md, "| ", key, " | ", text, " |\n");
  }
  if (!edge.edgeloop_version().empty()) {
    absl::StrAppend(&md, "| edgeloop | ", edge.edgeloop_version(), " |\n");
  }
  if (edge.library_versions_size() > 0) {
    absl::StrAppend(&md, "| libraries | ", absl::StrJoin(edge.library_versions(), ", "), " |\n");
  }
  return md;
}

// The versions this pipeline (the HPC side) was built and runs with.
std::string BuildSection() {
  return absl::StrCat("\n## Built with\n\n", absl::StrJoin(tools::VersionLines(), ", "), "\n");
}

}  // namespace

absl::Status WriteReport(const ReportInputs& in) {
  const absl::StatusOr<search::SearchState> state = search::LoadSearchState(in.out_dir + "/search");
  const std::string md = absl::StrCat(
      Header(in), Comparison(in), ParetoSection(in.search), PredictorSection(in.predictor, state),
      CostSection(in, state), StagesSection(in), EdgeSection(in.measure.edge()), BuildSection());
  return WriteFileAtomically(in.out_dir + "/report.md", md);
}

}  // namespace edgeloop::pipeline
