// `edgeloop predictor adapt`, and the transfer-model halves of `predictor fit` and `eval`.
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "base/json.h"
#include "predictor/csv.h"
#include "predictor/dataset.h"
#include "predictor/metrics.h"
#include "predictor/transfer.h"
#include "predictor/transfer_stream.h"
#include "tools/cli/command.h"
#include "tools/predictor_transfer.h"

namespace edgeloop {
namespace {

using predictor::Dataset;
using predictor::TransferModel;

// The table's rows as a dataset of `target` and `features` (every other numeric column but
// `skip` when empty).
absl::StatusOr<Dataset> ReadTable(const predictor::CsvTable& table, const std::string& target,
                                  std::vector<std::string> features, const std::string& skip) {
  if (table.Column(target) < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("no target column \"", target, "\" in ", table.origin,
                     " (columns: ", absl::StrJoin(table.header, ", "), ")"));
  }
  if (features.empty()) {
    for (size_t c = 0; c < table.header.size(); ++c) {
      const std::string& name = table.header[c];
      if (name != target && name != skip && table.IsNumeric(static_cast<int>(c)))
        features.push_back(name);
    }
  }
  for (const auto& f : features) {
    if (f == skip)
      return absl::InvalidArgumentError(
          absl::StrCat("the device column \"", skip, "\" cannot be a feature"));
    if (table.Column(f) < 0)
      return absl::InvalidArgumentError(
          absl::StrCat("no feature column \"", f, "\" in ", table.origin));
  }
  return predictor::TabularDataset(table, target, features);
}

// Each row's cell of the --device-column.
absl::StatusOr<std::vector<std::string>> DeviceLabels(const predictor::CsvTable& table,
                                                      const std::string& column) {
  const int col = table.Column(column);
  if (col < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("flag --device-column: no column \"", column, "\" in ", table.origin,
                     " (columns: ", absl::StrJoin(table.header, ", "), ")"));
  }
  std::vector<std::string> labels;
  for (const auto& row : table.rows) labels.push_back(row[col]);
  return labels;
}

std::string FormsText(const std::vector<std::string>& devices,
                      const std::vector<std::string>& forms) {
  std::vector<std::string> parts;
  for (size_t i = 0; i < devices.size(); ++i) parts.push_back(devices[i] + "=" + forms[i]);
  return absl::StrJoin(parts, " ");
}

int PredictorAdapt(const std::vector<std::string>& args) {
  const char* kCmd = "predictor adapt";
  std::string from, csv, out, device = "target";
  bool json = false;
  cli::FlagSet flags(kCmd,
                     "Adapts a transfer model (predictor fit --device-column) to a new device "
                     "from a few of its measurements: the sources' predictions at those rows are "
                     "combined, and corrected per feature, by ridge regression with penalties "
                     "chosen by leave-one-out.");
  flags.String("from", &from, "transfer model file", cli::InputFile(), true);
  flags.String("csv", &csv,
               "the new device's measurements: the model's target and feature columns, >= 2 rows",
               cli::InputFile(), true);
  flags.String("out", &out, "adapted model file (.json)", cli::OutputFile(), true);
  flags.String("device", &device, "a name for the new device");
  flags.Bool("json", &json, "print the result as JSON");
  int code;
  if (!cli::ParseFlags(&flags, kCmd, args, &code)) return code;
  if (!TransferModel::IsTransferModelFile(from)) {
    return cli::ReportError(
        kCmd, absl::InvalidArgumentError(absl::StrCat(
                  from, ": not a transfer model (fit one with predictor fit --device-column)")));
  }
  auto model = TransferModel::Load(from);
  if (!model.ok()) return cli::ReportError(kCmd, model.status());
  auto table = predictor::ReadCsv(csv);
  if (!table.ok()) return cli::ReportError(kCmd, table.status());
  auto shots = ReadTable(*table, model->target(), model->feature_names(), "");
  if (!shots.ok()) return cli::ReportError(kCmd, shots.status());
  if (auto s = model->Adapt(*shots, device); !s.ok()) return cli::ReportError(kCmd, s);
  if (auto s = model->Save(out); !s.ok()) return cli::ReportError(kCmd, s);
  const predictor::Adaptation& a = *model->adaptation();
  if (json) {
    std::printf(
        "{\"model\":%s,\"device\":%s,\"shots\":%lld,\"space\":%s,\"feature_correction\":%s,"
        "\"loo_rms\":%.6g}\n",
        JsonQuote(out).c_str(), JsonQuote(device).c_str(), static_cast<long long>(a.shots),
        JsonQuote(a.space).c_str(), a.feature_coef.empty() ? "false" : "true", a.loo_rms);
  } else {
    std::printf(
        "adapted to %s from %lld measurements: %s space, %s, leave-one-out RMS error "
        "%.2f%% -> %s\n",
        device.c_str(), static_cast<long long>(a.shots), a.space.c_str(),
        a.feature_coef.empty() ? "sources only" : "sources + per-feature correction",
        100 * a.loo_rms, out.c_str());
  }
  return cli::kExitOk;
}

int PredictorReplay(const std::vector<std::string>& args) {
  const char* kCmd = "predictor replay";
  std::string model_path, csv, device_column = "device";
  bool json = false;
  cli::FlagSet flags(kCmd,
                     "Replays a measurement table through a transfer model in row order, each "
                     "row predicted before the model learns from it: rows of source devices by "
                     "their own models, rows of one unseen device by the adaptation refitted "
                     "after each of them. Prints the error before the switch, after it, and the "
                     "new device's measurements until 90% of 10 consecutive ones are within "
                     "+-10%.");
  flags.String("model", &model_path, "transfer model file", cli::InputFile(), true);
  flags.String("csv", &csv, "the stream: device, target and feature columns", cli::InputFile(),
               true);
  flags.String("device-column", &device_column, "the column naming each row's device");
  flags.Bool("json", &json, "print the result as JSON");
  int code;
  if (!cli::ParseFlags(&flags, kCmd, args, &code)) return code;
  if (!TransferModel::IsTransferModelFile(model_path)) {
    return cli::ReportError(
        kCmd, absl::InvalidArgumentError(absl::StrCat(model_path, ": not a transfer model")));
  }
  auto model = TransferModel::Load(model_path);
  if (!model.ok()) return cli::ReportError(kCmd, model.status());
  auto table = predictor::ReadCsv(csv);
  if (!table.ok()) return cli::ReportError(kCmd, table.status());
  auto device_of_row = DeviceLabels(*table, device_column);
  if (!device_of_row.ok()) return cli::ReportError(kCmd, device_of_row.status());
  auto data = ReadTable(*table, model->target(), model->feature_names(), device_column);
  if (!data.ok()) return cli::ReportError(kCmd, data.status());
  auto r = predictor::ReplayStream(&*model, *data, *device_of_row);
  if (!r.ok()) return cli::ReportError(kCmd, r.status());
  if (json) {
    std::printf(
        "{\"rows\":%zu,\"switch_at\":%lld,\"new_device\":%s,\"before_switch\":%s,"
        "\"after_switch\":%s,\"recovered_after\":%lld}\n",
        r->measured.size(), static_cast<long long>(r->switch_at), JsonQuote(r->new_device).c_str(),
        predictor::MetricsToJson(r->before_switch).c_str(),
        predictor::MetricsToJson(r->after_switch).c_str(),
        static_cast<long long>(r->recovered_after));
    return cli::kExitOk;
  }
  std::printf("before the switch (%lld rows): %s\n", static_cast<long long>(r->before_switch.n),
              predictor::MetricsToText(r->before_switch).c_str());
  if (r->switch_at < 0) {
    std::printf("no unseen device in the stream\n");
  } else {
    std::printf("after the switch to %s at row %lld: %s\n", r->new_device.c_str(),
                static_cast<long long>(r->switch_at + 1),
                predictor::MetricsToText(r->after_switch).c_str());
    std::printf("measurements of %s until 90%% of 10 consecutive are within +-10%%: %s\n",
                r->new_device.c_str(),
                r->recovered_after < 0 ? "never" : absl::StrCat(r->recovered_after).c_str());
  }
  return cli::kExitOk;
}

const cli::CommandRegistrar kRegister({
    {"predictor replay", "replay a stream with a device switch through a transfer model",
     PredictorReplay},
    {"predictor adapt", "adapt a multi-device transfer model to a new device from a few rows",
     PredictorAdapt},
});

}  // namespace

int FitTransferModel(const char* cmd, const std::string& csv, const std::string& target,
                     const std::string& features, const std::string& device_column,
                     const predictor::ModelParams& params, int folds, const std::string& out,
                     bool json) {
  if (target.empty())
    return cli::ReportError(cmd, absl::InvalidArgumentError("--target is required with --csv"));
  if (folds < 2) {
    return cli::ReportError(
        cmd, absl::InvalidArgumentError("--device-column needs cross-validation (--folds >= 2)"));
  }
  auto table = predictor::ReadCsv(csv);
  if (!table.ok()) return cli::ReportError(cmd, table.status());
  auto device_of_row = DeviceLabels(*table, device_column);
  if (!device_of_row.ok()) return cli::ReportError(cmd, device_of_row.status());
  std::vector<std::string> names;
  if (!features.empty()) names = absl::StrSplit(features, ',', absl::SkipWhitespace());
  auto data = ReadTable(*table, target, names, device_column);
  if (!data.ok()) return cli::ReportError(cmd, data.status());
  std::vector<std::string> devices, forms;
  auto model = TransferModel::Fit(
      *data, *device_of_row, target, params, folds,
      [&](const std::string& device, const predictor::ModelMeta& meta) {
        devices.push_back(device);
        forms.push_back(meta.form);
        if (!json)
          std::printf("device %-16s %5lld rows, form %-12s cv: %s\n", device.c_str(),
                      static_cast<long long>(meta.training_size), meta.form.c_str(),
                      predictor::MetricsToText(meta.cv).c_str());
      });
  if (!model.ok()) return cli::ReportError(cmd, model.status());
  if (auto s = model->Save(out); !s.ok()) return cli::ReportError(cmd, s);
  if (json) {
    std::vector<std::string> quoted;
    for (const auto& d : devices) quoted.push_back(JsonQuote(d));
    std::printf("{\"model\":%s,\"devices\":[%s],\"rows\":%d}\n", JsonQuote(out).c_str(),
                absl::StrJoin(quoted, ",").c_str(), data->rows());
  } else {
    std::printf("fitted transfer model of %zu devices (%s) on %d rows, %d features -> %s\n",
                devices.size(), FormsText(devices, forms).c_str(), data->rows(), data->cols(),
                out.c_str());
  }
  return cli::kExitOk;
}

int EvalTransferModel(const char* cmd, const std::string& model_path, const std::string& csv,
                      bool json) {
  auto model = TransferModel::Load(model_path);
  if (!model.ok()) return cli::ReportError(cmd, model.status());
  auto table = predictor::ReadCsv(csv);
  if (!table.ok()) return cli::ReportError(cmd, table.status());
  auto data = ReadTable(*table, model->target(), model->feature_names(), "");
  if (!data.ok()) return cli::ReportError(cmd, data.status());
  auto predicted = model->PredictMs(data->x.data(), data->rows());
  if (!predicted.ok()) return cli::ReportError(cmd, predicted.status());
  const auto metrics = predictor::ComputeMetrics(data->y, *predicted);
  std::printf("%s\n", json ? predictor::MetricsToJson(metrics).c_str()
                           : predictor::MetricsToText(metrics).c_str());
  return cli::kExitOk;
}

}  // namespace edgeloop
