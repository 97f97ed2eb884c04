// Few-shot transfer of latency models to a device never seen in training.
//
// A TransferModel holds one tabular latency model per source device (each form chosen by
// cross-validation, latency_model.h SelectForm). What distinguishes a new device is learned
// from k of its measurements, the way HELP's hardware embedding is learned from a device's
// latencies on reference architectures, except that any k architectures serve: the sources'
// predictions at those rows are the device's signature. Adapt() fits in two stages:
//   1. a non-negative combination of the sources' predictions s_d(x), either
//        log y = c + sum_d w_d log s_d(x)        ("log")   or
//        y     = c + sum_d w_d s_d(x)            ("ms", weighted by 1/y^2),  w_d >= 0,
//      space and ridge penalty chosen by leave-one-out (explicit refits): a positive mix of
//      the sources is what a device's operator costs plausibly are, and few shots cannot
//      support signed weights, which extrapolate;
//   2. a per-feature correction (a lookup-table delta, ridge.h) of what stage 1 misses on
//      the rows it did not see (its leave-one-out residuals), kept only when its own exact
//      leave-one-out error is lower: with few shots the combination carries the prediction,
//      with more the correction takes over.
// Deterministic.
#ifndef EDGELOOP_PREDICTOR_TRANSFER_H_
#define EDGELOOP_PREDICTOR_TRANSFER_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "predictor/dataset.h"
#include "predictor/latency_model.h"

namespace edgeloop::predictor {

inline constexpr const char* kTransferFormat = "edgeloop-transfer-model";

struct Adaptation {
  std::string device;
  std::string space;                 // "log" or "ms"
  double intercept = 0, floor = 0;   // stage 1; floor: "ms" only
  std::vector<double> source_coef;   // stage 1, >= 0
  double correction_intercept = 0;   // stage 2
  std::vector<double> feature_coef;  // stage 2; empty: no correction
  double source_penalty = 0, feature_penalty = 0;
  int64_t shots = 0;
  double loo_rms = 0;  // leave-one-out RMS relative error on the shots
};

class TransferModel {
 public:
  // One model per device named in `device_of_row` (a label per row of `data`), at least
  // `min_rows` rows each (devices with fewer are an error). `on_device` (may be empty)
  // reports each device's chosen form as it is fitted.
  static absl::StatusOr<TransferModel> Fit(
      const Dataset& data, const std::vector<std::string>& device_of_row, const std::string& target,
      const ModelParams& params, int folds,
      const std::function<void(const std::string& device, const ModelMeta&)>& on_device = {});

  // A transfer model of existing models (e.g. the latest model of each device in a store),
  // all with the same features; `reference` rows (same features) give the feature variances
  // that scale the correction penalty. InvalidArgument for no models or other features.
  static absl::StatusOr<TransferModel> FromModels(std::vector<std::string> devices,
                                                  std::vector<LatencyModel> models,
                                                  const Dataset& reference);

  // Fits the adaptation to `device` from its measurements `shots` (>= 2 rows with this
  // model's features), replacing any earlier one.
  absl::Status Adapt(const Dataset& shots, const std::string& device);

  // Predictions of the adapted model (FailedPrecondition before Adapt).
  absl::StatusOr<std::vector<double>> PredictMs(const float* x, int64_t rows) const;
  // Source `device`'s own model's predictions (NotFound for a device not among them).
  absl::StatusOr<std::vector<double>> PredictSourceMs(const std::string& device, const float* x,
                                                      int64_t rows) const;

  const std::vector<std::string>& feature_names() const { return feature_names_; }
  const std::string& target() const { return target_; }
  std::vector<std::string> source_devices() const;
  const std::optional<Adaptation>& adaptation() const { return adaptation_; }

  // One JSON document (TransferModelJson), written atomically; Load refuses anything else
  // with InvalidArgument naming the file.
  absl::Status Save(const std::string& path) const;
  static absl::StatusOr<TransferModel> Load(const std::string& path);
  // The document itself; errors name `origin`.
  static absl::StatusOr<TransferModel> Parse(absl::string_view json, const std::string& origin);
  // True when the file at `path` is a transfer model (its "format" says so).
  static bool IsTransferModelFile(const std::string& path);

 private:
  absl::StatusOr<std::vector<std::vector<double>>> SourcePredictions(const float* x,
                                                                     int64_t rows) const;
  std::vector<std::string> feature_names_;
  std::vector<double> feature_var_;
  std::string target_;
  std::vector<std::string> devices_;
  std::vector<LatencyModel> sources_;
  std::optional<Adaptation> adaptation_;
};

}  // namespace edgeloop::predictor

#endif  // EDGELOOP_PREDICTOR_TRANSFER_H_
