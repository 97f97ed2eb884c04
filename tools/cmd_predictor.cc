// `edgeloop predictor fit|eval|predict|export`: the XGBoost latency predictor.
#include <cmath>
#include <cstdio>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "arch/arch_config.h"
#include "arch/space.h"
#include "base/atomic_file.h"
#include "base/json.h"
#include "predictor/csv.h"
#include "predictor/dataset.h"
#include "predictor/features.h"
#include "predictor/latency_model.h"
#include "predictor/model_io.h"
#include "predictor/recalibrator.h"
#include "predictor/store.h"
#include "predictor/store_io.h"
#include "predictor/transfer.h"
#include "tools/cli/command.h"
#include "tools/predictor_transfer.h"

namespace edgeloop {
namespace {

using cli::FlagSet;
using predictor::Dataset;
using predictor::LatencyModel;
using predictor::MeasurementStore;
using predictor::ModelMeta;
using predictor::ModelParams;

// predictor fit --csv: the table's --target and --features columns (which must exist).
absl::StatusOr<Dataset> TabularData(const std::string& csv, const std::string& target,
                                    const std::string& features, ModelMeta* meta) {
  if (target.empty()) return absl::InvalidArgumentError("--target is required with --csv");
  auto table = predictor::ReadCsv(csv);
  if (!table.ok()) return table.status();
  std::vector<std::string> names;
  if (!features.empty()) names = absl::StrSplit(features, ',', absl::SkipWhitespace());
  auto missing = [&](const char* flag, const std::string& name) {
    return absl::InvalidArgumentError(
        absl::StrCat("flag --", flag, ": no column \"", name, "\" in ", csv,
                     " (columns: ", absl::StrJoin(table->header, ", "), ")"));
  };
  if (table->Column(target) < 0) return missing("target", target);
  for (const auto& name : names)
    if (table->Column(name) < 0) return missing("features", name);
  auto d = predictor::TabularDataset(*table, target, names);
  if (!d.ok()) return d.status();
  meta->mode = predictor::kTabularMode;
  meta->target = target;
  return d;
}

// predictor fit --db: the device's measurements. The target (median_ms) and the features
// (predictor/features.h) are fixed: --target may only name it, --features is refused.
absl::StatusOr<Dataset> ArchData(const std::string& db, const std::string& device,
                                 const std::string& target, const std::string& features,
                                 ModelMeta* meta) {
  if (device.empty()) return absl::InvalidArgumentError("--device is required with --db");
  if (!target.empty() && target != meta->target) {
    return absl::InvalidArgumentError(
        absl::StrCat("flag --target: got \"", target,
                     "\"; with --db the target is the measured median latency (\"", meta->target,
                     "\"); other columns are targets of --csv (tabular mode)"));
  }
  if (!features.empty()) {
    for (absl::string_view name : absl::StrSplit(features, ',', absl::SkipWhitespace())) {
      if (predictor::FeatureIndex(std::string(name)) >= 0) continue;
      return absl::InvalidArgumentError(
          absl::StrCat("flag --features: no feature \"", name,
                       "\" with --db; architecture mode uses all ", predictor::NumFeatures(),
                       " latency features: ", absl::StrJoin(predictor::FeatureNames(), ", ")));
    }
    return absl::InvalidArgumentError(absl::StrCat(
        "flag --features: architecture mode (--db) always uses all ", predictor::NumFeatures(),
        " latency features; --features selects the columns of --csv (tabular mode)"));
  }
  auto store = MeasurementStore::Open(db, MeasurementStore::Mode::kReadOnly);
  if (!store.ok()) return store.status();
  auto rows = (*store)->Measurements(device);
  if (!rows.ok()) return rows.status();
  if (rows->empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(db, ": no measurements of device \"", device, "\" (empty training set)"));
  }
  meta->mode = predictor::kArchMode;
  return predictor::ArchDataset(*rows);
}

int PredictorFit(const std::vector<std::string>& args) {
  const char* kCmd = "predictor fit";
  std::string csv, target, features, db, device, out;
  int64_t folds = 5, seed = 0, ensemble = ModelParams().ensemble, rounds = ModelParams().rounds;
  int64_t max_depth = 0;
  double eta = 0;
  rounds = 0;
  std::string form = "auto", device_column;
  bool json = false;
  FlagSet flags(kCmd,
                "Fits a latency model, prints its k-fold cross-validation metrics and saves it "
                "(XGBoost JSON + MODEL.json.meta.json sidecar). Tabular mode: --csv/--target "
                "[--features]. Architecture mode: --db/--device (the model version is also "
                "kept in the store).");
  flags.String("csv", &csv, "tabular mode: CSV file with numeric columns", cli::InputFile());
  flags.String("target", &target, "tabular mode: the latency column (positive numbers)");
  flags.String("features", &features,
               "tabular mode: comma-separated feature columns (default: "
               "every other numeric column)");
  flags.String("device-column", &device_column,
               "tabular mode: the column naming each row's device; fits one model per device "
               "into a transfer model for `predictor adapt`");
  flags.String("db", &db, "architecture mode: measurement store");
  flags.String("device", &device, "device fingerprint (required with --db)");
  flags.String("out", &out, "output model file, e.g. model.json", cli::OutputFile(), true);
  flags.Int("folds", &folds, "cross-validation folds (0: skip)",
            cli::Between(2, cli::kIntMax).Or(0));
  flags.Int("seed", &seed, "random seed", cli::AtLeast(0));
  flags.Int("ensemble", &ensemble, "boosters (1 point model + uncertainty members)",
            cli::Between(1, 1000));
  flags.String("form", &form,
               "model form: auto (chosen by cross-validation; prior_xgb with --folds 0), xgb "
               "(plain XGBoost of log "
               "latency), prior_xgb (log-linear prior + trees) or additive_xgb (per-feature "
               "latency table + trees)");
  flags.Int("rounds", &rounds, "boosting rounds per booster (0: the form's default)",
            cli::Between(1, 1000000).Or(0));
  flags.Int("max-depth", &max_depth, "tree depth (0: the form's default)",
            cli::Between(1, 64).Or(0));
  flags.Double("eta", &eta, "learning rate (0: the form's default)",
               cli::Positive().AtMost(1).Or(0));
  flags.Bool("json", &json, "print the result as JSON");
  int code;
  if (!cli::ParseFlags(&flags, kCmd, args, &code)) return code;
  auto bad = [&](const std::string& msg) {
    return cli::ReportError(kCmd, absl::InvalidArgumentError(msg));
  };
  if (csv.empty() == db.empty())
    return bad("give exactly one of --csv (tabular) and --db (architectures)");
  if (out.size() < 5 || out.substr(out.size() - 5) != ".json")
    return bad("--out must end in .json (XGBoost JSON)");
  if (form != "auto" && !predictor::IsModelForm(form)) {
    return bad(absl::StrCat("flag --form: unknown form \"", form, "\" (auto, ",
                            absl::StrJoin(predictor::ModelForms(), ", "), ")"));
  }
  if (!device_column.empty()) {
    if (csv.empty()) return bad("--device-column needs --csv (tabular mode)");
    if (form != "auto") return bad("--device-column chooses each device's form itself");
    if (rounds > 0 || max_depth > 0 || eta > 0)
      return bad("--rounds, --max-depth and --eta are each form's own with --device-column");
    ModelParams p;
    p.seed = static_cast<uint64_t>(seed);
    return FitTransferModel(kCmd, csv, target, features, device_column, p, static_cast<int>(folds),
                            out, json);
  }
  // Without cross-validation there is nothing to select by: the default form.
  if (form == "auto" && folds < 2) form = predictor::kFormPriorXgb;
  ModelParams params;
  params.seed = static_cast<uint64_t>(seed);
  params.ensemble = static_cast<int>(ensemble);
  ModelMeta meta;
  meta.device = device;
  auto data = csv.empty() ? ArchData(db, device, target, features, &meta)
                          : TabularData(csv, target, features, &meta);
  if (!data.ok()) return cli::ReportError(kCmd, data.status());
  // Explicit --rounds/--max-depth/--eta hold for every form; otherwise each its defaults.
  auto form_params = [&](const std::string& f) {
    ModelParams p = predictor::FormDefaultParams(f, params);
    if (rounds > 0) p.rounds = static_cast<int>(rounds);
    if (max_depth > 0) p.max_depth = static_cast<int>(max_depth);
    if (eta > 0) p.eta = eta;
    return p;
  };
  if (form == "auto") {
    for (const auto& f : predictor::ModelForms()) {
      std::vector<predictor::FormScore> one;
      auto chosen = predictor::SelectForm(*data, meta, form_params(f), static_cast<int>(folds), {f},
                                          /*keep_params=*/true, &one);
      if (!chosen.ok()) return cli::ReportError(kCmd, chosen.status());
      meta.selection.push_back(one[0]);
    }
    form = predictor::BestForm(meta.selection);
  }
  meta.form = form;
  params = form_params(form);
  for (const auto& s : meta.selection)
    if (s.form == form) meta.has_cv = true, meta.cv = s.cv;
  if (!meta.has_cv && folds >= 2) {
    auto cv = predictor::CrossValidate(*data, meta, params, static_cast<int>(folds));
    if (!cv.ok()) return cli::ReportError(kCmd, cv.status());
    meta.has_cv = true;
    meta.cv = *cv;
  }
  auto model = LatencyModel::Fit(*data, meta, params);
  if (!model.ok()) return cli::ReportError(kCmd, model.status());
  if (!db.empty()) {
    auto store = MeasurementStore::Open(db);
    if (!store.ok()) return cli::ReportError(kCmd, store.status());
    auto v = predictor::SaveModelVersion(store->get(), &*model, "fit");
    if (!v.ok()) return cli::ReportError(kCmd, v.status());
  }
  if (auto s = predictor::SaveModel(*model, out); !s.ok()) return cli::ReportError(kCmd, s);
  if (json) {
    std::string selection;
    for (const auto& s : meta.selection)
      absl::StrAppend(&selection, selection.empty() ? "" : ",", "{\"form\":", JsonQuote(s.form),
                      ",\"cv\":", predictor::MetricsToJson(s.cv), "}");
    std::printf(
        "{\"model\":%s,\"form\":%s,\"training_size\":%d,\"cv\":%s,\"selection\":[%s],"
        "\"version\":%lld}\n",
        JsonQuote(out).c_str(), JsonQuote(form).c_str(), data->rows(),
        meta.has_cv ? predictor::MetricsToJson(meta.cv).c_str() : "null", selection.c_str(),
        static_cast<long long>(model->meta().version));
  } else {
    for (const auto& s : meta.selection)
      std::printf("form %-12s cv (%lld-fold): %s%s\n", s.form.c_str(),
                  static_cast<long long>(folds), predictor::MetricsToText(s.cv).c_str(),
                  s.form == form ? "  <- chosen" : "");
    if (meta.has_cv && meta.selection.empty())
      std::printf("cv (%lld-fold): %s\n", static_cast<long long>(folds),
                  predictor::MetricsToText(meta.cv).c_str());
    std::printf(
        "fitted %s %s model on %d samples, %d features -> %s (+ %s.meta.json)%s\n",
        meta.mode.c_str(), form.c_str(), data->rows(), data->cols(), out.c_str(), out.c_str(),
        model->meta().version ? absl::StrCat(", store version ", model->meta().version).c_str()
                              : "");
  }
  return cli::kExitOk;
}

int PredictorEval(const std::vector<std::string>& args) {
  const char* kCmd = "predictor eval";
  std::string model_path, csv;
  bool json = false;
  FlagSet flags(kCmd,
                "Scores a model on a CSV: RMSPE, MAPE, share within +-5% / +-10%, "
                "Spearman, Kendall. Tabular models read their feature and target columns; "
                "architecture models read the store's CSV export format.");
  flags.String("model", &model_path, "model file (with its .meta.json sidecar)", cli::InputFile(),
               true);
  flags.String("csv", &csv, "CSV file with measured latencies", cli::InputFile(), true);
  flags.Bool("json", &json, "print the metrics as JSON");
  int code;
  if (!cli::ParseFlags(&flags, kCmd, args, &code)) return code;
  if (predictor::TransferModel::IsTransferModelFile(model_path))
    return EvalTransferModel(kCmd, model_path, csv, json);
  auto model = predictor::LoadModel(model_path);
  if (!model.ok()) return cli::ReportError(kCmd, model.status());
  if (auto s = model->CheckCompatible(""); !s.ok()) return cli::ReportError(kCmd, s);
  auto text = ReadFile(csv);
  if (!text.ok()) return cli::ReportError(kCmd, text.status());
  const ModelMeta& meta = model->meta();
  std::vector<float> x;
  std::vector<double> y;
  if (meta.mode == predictor::kTabularMode) {
    auto table = predictor::ParseCsv(*text, csv);
    if (!table.ok()) return cli::ReportError(kCmd, table.status());
    auto features = predictor::TabularFeatures(*table, meta.feature_names);
    if (!features.ok()) return cli::ReportError(kCmd, features.status());
    auto target = table->NumericColumn(meta.target);
    if (!target.ok()) return cli::ReportError(kCmd, target.status());
    x = std::move(*features);
    y = std::move(*target);
  } else {
    auto rows = predictor::ParseMeasurementCsv(*text, csv, meta.device);
    if (!rows.ok()) return cli::ReportError(kCmd, rows.status());
    for (const auto& m : *rows) {
      if (auto s = model->CheckCompatible(m.device); !s.ok()) return cli::ReportError(kCmd, s);
    }
    Dataset d = predictor::ArchDataset(*rows);
    x = std::move(d.x);
    y = std::move(d.y);
  }
  if (y.empty())
    return cli::ReportError(kCmd, absl::InvalidArgumentError(absl::StrCat(csv, ": no data rows")));
  for (double v : y) {
    if (!(v > 0))
      return cli::ReportError(
          kCmd, absl::InvalidArgumentError(absl::StrCat(csv, ": measured latencies must be > 0")));
  }
  auto predicted = model->PredictMs(x.data(), static_cast<int64_t>(y.size()));
  if (!predicted.ok()) return cli::ReportError(kCmd, predicted.status());
  const auto metrics = predictor::ComputeMetrics(y, *predicted);
  std::printf("%s\n", json ? predictor::MetricsToJson(metrics).c_str()
                           : predictor::MetricsToText(metrics).c_str());
  return cli::kExitOk;
}

int PredictorPredict(const std::vector<std::string>& args) {
  const char* kCmd = "predictor predict";
  std::string model_path, arch_arg, space_path, device;
  int64_t batch = 1;
  bool json = false;
  FlagSet flags(kCmd,
                "Predicts the latency of one architecture at a batch size, with the "
                "ensemble's uncertainty.");
  flags.String("model", &model_path, "architecture-mode model file", cli::InputFile(), true);
  flags.String("arch", &arch_arg,
               "architecture: JSON object, .json file, or a name known to --space",
               cli::InputFileIfPathLike(), true);
  flags.Int("batch", &batch, "batch size", cli::Between(1, cli::kIntMax));
  flags.String("space", &space_path, "search space, to resolve names such as min/max",
               cli::InputFile());
  flags.String("device", &device, "refuse the model unless it was trained for this device");
  flags.Bool("json", &json, "print JSON");
  int code;
  if (!cli::ParseFlags(&flags, kCmd, args, &code)) return code;
  std::optional<arch::Space> space;
  if (!space_path.empty()) {
    auto s = arch::Space::FromFile(space_path);
    if (!s.ok()) return cli::ReportError(kCmd, s.status());
    space = std::move(*s);
  }
  auto arch = arch::ResolveArch(arch_arg, space ? &*space : nullptr);
  if (!arch.ok()) return cli::ReportError(kCmd, arch.status());
  if (auto s = arch::ValidateStructure(*arch); !s.ok()) return cli::ReportError(kCmd, s);
  auto model = predictor::LoadModel(model_path);
  if (!model.ok()) return cli::ReportError(kCmd, model.status());
  if (auto s = model->CheckCompatible(device); !s.ok()) return cli::ReportError(kCmd, s);
  auto p = model->PredictArchitectures({{*arch, static_cast<int>(batch)}}, /*uncertainty=*/true);
  if (!p.ok()) return cli::ReportError(kCmd, p.status());
  const auto& r = (*p)[0];
  if (json) {
    std::printf("{\"latency_ms\":%s,\"log_std\":%s,\"batch\":%lld,\"key\":%s,\"device\":%s}\n",
                JsonNumberText(r.ms).c_str(), JsonNumberText(r.log_std).c_str(),
                static_cast<long long>(batch), JsonQuote(arch::CanonicalKey(*arch)).c_str(),
                JsonQuote(model->meta().device).c_str());
  } else {
    std::printf("%.4f ms (ensemble +-%.1f%%) for %s at batch %lld on %s\n", r.ms,
                (std::exp(r.log_std) - 1) * 100, arch::CanonicalKey(*arch).c_str(),
                static_cast<long long>(batch), model->meta().device.c_str());
  }
  return cli::kExitOk;
}

int PredictorExport(const std::vector<std::string>& args) {
  const char* kCmd = "predictor export";
  std::string db, device, out;
  int64_t version = 0;
  FlagSet flags(kCmd,
                "Writes a model version kept in the store (e.g. the latest recalibrated "
                "one) as MODEL.json + sidecar.");
  flags.String("db", &db, "measurement store", true);
  flags.String("device", &device, "device fingerprint", true);
  flags.Int("version", &version, "model version (0: the latest)", cli::AtLeast(0));
  flags.String("out", &out, "output model file (.json)", cli::OutputFile(), true);
  int code;
  if (!cli::ParseFlags(&flags, kCmd, args, &code)) return code;
  auto store = MeasurementStore::Open(db, MeasurementStore::Mode::kReadOnly);
  if (!store.ok()) return cli::ReportError(kCmd, store.status());
  auto model = predictor::LoadModelVersion(**store, device, version);
  if (!model.ok()) return cli::ReportError(kCmd, model.status());
  if (auto s = predictor::SaveModel(*model, out); !s.ok()) return cli::ReportError(kCmd, s);
  std::printf("wrote version %lld of %s to %s\n", static_cast<long long>(model->meta().version),
              device.c_str(), out.c_str());
  return cli::kExitOk;
}

int PredictorRecalibrate(const std::vector<std::string>& args) {
  const char* kCmd = "predictor recalibrate";
  std::string db, device, csv;
  bool quiet = false;
  FlagSet flags(kCmd,
                "Streams measurements (a CSV in the store's export format) through the "
                "recalibrator of a device, as the live stream would: each is committed to the "
                "store with the prediction made before it, then the model is updated (offset, "
                "residual trees, refit); every model version is kept in the store. Starts from "
                "the device's latest model version in the store.");
  flags.String("db", &db, "measurement store holding the device's model", true);
  flags.String("device", &device, "device fingerprint", true);
  flags.String("csv", &csv, "measurements to stream, in order", cli::InputFile(), true);
  flags.Bool("quiet", &quiet, "print only the summary");
  int code;
  if (!cli::ParseFlags(&flags, kCmd, args, &code)) return code;
  auto text = ReadFile(csv);
  if (!text.ok()) return cli::ReportError(kCmd, text.status());
  auto rows = predictor::ParseMeasurementCsv(*text, csv, device);
  if (!rows.ok()) return cli::ReportError(kCmd, rows.status());
  auto store = MeasurementStore::Open(db);
  if (!store.ok()) return cli::ReportError(kCmd, store.status());
  auto recal = predictor::Recalibrator::Resume(store->get(), device);
  if (!recal.ok()) return cli::ReportError(kCmd, recal.status());
  int64_t hits = 0;
  for (const auto& m : *rows) {
    if (auto s = (*recal)->Observe(m); !s.ok()) return cli::ReportError(kCmd, s);
    const auto& st = (*recal)->status();
    hits += std::fabs(st.relative_error) <= 0.10;
    if (!quiet) {
      std::printf("#%lld %s\n", static_cast<long long>(st.measurement_id),
                  predictor::RecalibrationRowText(m.median_ms, st).c_str());
    }
  }
  std::printf(
      "streamed %zu measurements: %lld predicted within +-10%% before the update; model "
      "version %lld\n",
      rows->size(), static_cast<long long>(hits),
      static_cast<long long>((*recal)->status().model_version));
  return cli::kExitOk;
}

const cli::CommandRegistrar kRegister({
    {"predictor fit", "fit a latency model (CSV columns or store measurements) with k-fold CV",
     PredictorFit},
    {"predictor eval", "accuracy metrics of a model on a CSV", PredictorEval},
    {"predictor predict", "predicted latency of one architecture", PredictorPredict},
    {"predictor export", "write a model version kept in the store to files", PredictorExport},
    {"predictor recalibrate", "stream measurements through a device's recalibrator",
     PredictorRecalibrate},
});

}  // namespace
}  // namespace edgeloop
