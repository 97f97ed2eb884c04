// Few-shot transfer of latency models to a device never seen in training.
//
// A TransferModel holds one tabular latency model per source device (each form chosen by
// cross-validation, latency_model.h SelectForm). What distinguishes a new device is learned
// from k of its measurements, the way HELP's hardware embedding is learned from a device's
// latencies on reference architectures, except that any k architectures serve: the sources'
// predictions at those k rows are the device's signature. Adapt() fits, by ridge regression
// with the penalties chosen by exact leave-one-out on the k rows (ridge.h), either
//   log y = c + sum_d w_d (log s_d(x) - mean) + mean_d log s_d(x) [+ sum_j v_j x_j]   ("log")
// or
//   y = c + sum_d w_d s_d(x) + scale * mean_d s_d(x) [+ sum_j v_j x_j]              ("ms")
// over all sources or over one source alone, where s_d is source d's prediction and the optional v is a per-feature correction (a
// lookup-table delta, penalized more than the source weights). With few shots the sources'
// combination carries the prediction; with more, the correction takes over. Deterministic.
#ifndef EDGELOOP_PREDICTOR_TRANSFER_H_
#define EDGELOOP_PREDICTOR_TRANSFER_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "predictor/dataset.h"
#include "predictor/latency_model.h"

namespace edgeloop::predictor {

inline constexpr const char* kTransferFormat = "edgeloop-transfer-model";

struct Adaptation {
  std::string device;
  std::string space;  // "log" or "ms"
  double intercept = 0, scale = 1, floor = 0;
  std::vector<double> source_coef, feature_coef;  // feature_coef empty: no correction
  std::vector<double> base_weight;  // per source: 1/n for the n sources used, else 0
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
