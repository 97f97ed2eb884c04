#include "predictor/transfer_bootstrap.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "predictor/bootstrap.h"
#include "predictor/features.h"
#include "predictor/model_io.h"
#include "predictor/transfer.h"

namespace edgeloop::predictor {
namespace {

// Features of the design architectures at every batch size (label 1: filled in later).
Dataset DesignRows(const arch::Space& space, const TransferBootstrapOptions& options) {
  Dataset d;
  d.feature_names = FeatureNames();
  const int cols = NumFeatures();
  std::vector<float> row(cols);
  for (const ArchConfig& arch :
       DesignArchitectures(space, options.pseudo, options.seed ^ 0x7A5F, DesignKind::kMixed)) {
    for (int batch : options.batches) {
      ComputeFeatures(arch, batch, row.data());
      d.x.insert(d.x.end(), row.begin(), row.end());
      d.y.push_back(1);
    }
  }
  return d;
}

}  // namespace

absl::StatusOr<TransferBootstrapResult> FitByTransfer(const arch::Space& space,
                                                      const MeasurementStore& store,
                                                      const std::string& device,
                                                      const Dataset& shots,
                                                      const TransferBootstrapOptions& options) {
  auto info = store.Info();
  if (!info.ok()) return info.status();
  std::vector<std::string> devices;
  std::vector<LatencyModel> models;
  for (const DeviceSummary& d : info->per_device) {
    if (d.fingerprint == device || d.models == 0) continue;
    auto model = LoadModelVersion(store, d.fingerprint);
    if (!model.ok() || model->meta().mode != kArchMode) continue;  // stale or tabular: unused
    devices.push_back(d.fingerprint);
    models.push_back(*std::move(model));
  }
  if (models.empty()) {
    return absl::NotFoundError(
        absl::StrCat(store.path(), " has no model of another device to transfer from"));
  }
  Dataset pseudo = DesignRows(space, options);
  auto transfer = TransferModel::FromModels(devices, std::move(models), pseudo);
  if (!transfer.ok()) return transfer.status();
  if (auto s = transfer->Adapt(shots, device); !s.ok()) return s;
  auto labels = transfer->PredictMs(pseudo.x.data(), pseudo.rows());
  if (!labels.ok()) return labels.status();
  pseudo.y = *std::move(labels);
  pseudo.weight.assign(pseudo.rows(), 1.0);
  pseudo.x.insert(pseudo.x.end(), shots.x.begin(), shots.x.end());
  pseudo.y.insert(pseudo.y.end(), shots.y.begin(), shots.y.end());
  pseudo.weight.insert(pseudo.weight.end(), shots.rows(), options.shot_weight);
  ModelMeta meta;
  meta.mode = kArchMode;
  meta.device = device;
  meta.form = kFormPriorXgb;
  auto model = LatencyModel::Fit(pseudo, meta, options.params);
  if (!model.ok()) return model.status();
  return TransferBootstrapResult{*std::move(model), devices, transfer->adaptation()->loo_rms};
}

}  // namespace edgeloop::predictor
