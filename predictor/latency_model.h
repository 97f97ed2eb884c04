// The latency model: XGBoost (C API) regression of log latency, one per device.
//
//   log(latency_ms) = prior(x) + booster_0(x) + offset
//
// The model's form (ModelMeta::form) says what the prior is:
// - "prior_xgb": prior(x) = c0 + sum_j c_j * log(1 + x_j), a least-squares log-linear fit
//   on a few features (arch mode: batch_flops and batch_activation_total; tabular mode:
//   every column, a power law; tabular models fitted before forms existed have an
//   intercept only). Trees cannot extrapolate; the prior carries the power law so that the
//   trees only model what it misses. The default, and the form of every older model file.
// - "additive_xgb": prior(x) = log(max(c0 + sum_j c_j * x_j, floor)) over every feature, a
//   ridge fit in milliseconds weighted by 1/y^2 (relative error) with the penalty chosen by
//   leave-one-out from a grid: a per-feature latency table (a layer-wise lookup table when
//   the features are one-hot operator choices), which the trees then correct.
// - "xgb": plain XGBoost of log latency (intercept prior, 500 rounds, depth 6, eta 0.05 by
//   default): the reference point the other forms must beat.
// SelectForm picks a form by k-fold cross-validation (share within +-10%, ties by
// Spearman).
// - booster_0: trained on log(y) - prior(x) over all rows and columns; it alone makes the
//   point prediction, so scoring thousands of candidates costs one booster.
// - booster_1..: `ensemble - 1` more boosters on the same target with other seeds and
//   row/column subsamples; the spread of all members' outputs is the uncertainty
//   (computed only when asked for).
// - offset: a log-space correction the recalibrator moves for global drift (0 after a fit).
//
// A model is its ModelMeta and its boosters; files, bundles and store versions are
// predictor/model_io.h. XGBoost does not keep training hyper-parameters with the trees, so
// FromMembers re-applies them from the meta. Training is deterministic under params.seed
// with a fixed params.nthread.
#ifndef EDGELOOP_PREDICTOR_LATENCY_MODEL_H_
#define EDGELOOP_PREDICTOR_LATENCY_MODEL_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "base/versions.h"
#include "predictor/dataset.h"
#include "predictor/metrics.h"
#include "proto/arch.pb.h"

namespace edgeloop::predictor {

inline constexpr const char* kFormPriorXgb = "prior_xgb";
inline constexpr const char* kFormAdditiveXgb = "additive_xgb";
inline constexpr const char* kFormXgb = "xgb";
// Every form, in the order SelectForm tries them.
const std::vector<std::string>& ModelForms();
bool IsModelForm(const std::string& form);

struct ModelParams {
  int ensemble = 5;
  int rounds = 100;
  double eta = 0.15;
  int max_depth = 4;
  double subsample = 0.8;
  double colsample_bytree = 0.8;
  double min_child_weight = 1;
  double lambda = 1;
  int max_bin = 64;
  int nthread = 1;
  uint64_t seed = 0;
};

// The training parameters a form uses unless the caller sets them: 500 rounds, depth 6 and
// eta 0.05 for kFormXgb; ModelParams' defaults for the others. `base` supplies the rest
// (ensemble, seed, threads, subsampling).
ModelParams FormDefaultParams(const std::string& form, const ModelParams& base);

inline constexpr const char* kArchMode = "arch";
inline constexpr const char* kTabularMode = "tabular";

// One candidate of a form selection and its cross-validation metrics.
struct FormScore {
  std::string form;
  AccuracyMetrics cv;
};

struct ModelMeta {
  std::string mode = kArchMode;  // kArchMode or kTabularMode
  std::string form = kFormPriorXgb;
  std::string device;       // fingerprint; may be empty for tabular models
  int feature_version = 0;  // arch mode: features.h kFeatureVersion
  std::vector<std::string> feature_names;
  std::string target = "median_ms";
  int64_t training_size = 0;
  bool has_cv = false;
  AccuracyMetrics cv;
  std::vector<std::string> prior_features;
  std::vector<double> prior_coef;    // intercept first, then one per prior feature
  double prior_floor = 0;            // additive form: the least prior latency (ms)
  std::vector<FormScore> selection;  // the candidates SelectForm compared, if it ran
  double offset = 0;
  int64_t residual_rounds = 0;  // trees appended by recalibration since the fit
  int64_t version = 0;          // store version, 0 when not from a store
  ModelParams params;
};

struct Prediction {
  double ms = 0;       // the point prediction
  double log_std = 0;  // ensemble spread in log space (relative uncertainty), when asked
};

class LatencyModel {
 public:
  ~LatencyModel();
  LatencyModel(LatencyModel&&) noexcept;
  LatencyModel& operator=(LatencyModel&&) noexcept;

  // Trains on `data` (at least 2 rows). `meta` supplies mode, device and target; the rest
  // is filled in. Arch mode requires data.feature_names == FeatureNames().
  static absl::StatusOr<LatencyModel> Fit(const Dataset& data, ModelMeta meta,
                                          const ModelParams& params);

  // `x` is rows x meta().feature_names.size(), row-major. With `uncertainty`, every
  // member predicts and log_std is filled in; otherwise only booster 0 runs.
  absl::StatusOr<std::vector<Prediction>> Predict(const float* x, int64_t rows,
                                                  bool uncertainty = false) const;
  absl::StatusOr<std::vector<double>> PredictMs(const float* x, int64_t rows) const;
  // Arch mode: features computed here.
  absl::StatusOr<std::vector<Prediction>> PredictArchitectures(
      const std::vector<std::pair<ArchConfig, int>>& arch_batch, bool uncertainty = false) const;
  // Raw booster outputs, [member][row], as Python's Booster.predict would give; only
  // member 0 unless `all_members`.
  absl::StatusOr<std::vector<std::vector<float>>> MemberMargins(const float* x, int64_t rows,
                                                                bool all_members = true) const;
  // The log-linear prior for each row.
  std::vector<double> Prior(const float* x, int64_t rows) const;

  // Every booster in XGBoost's JSON format, member 0 first.
  absl::StatusOr<std::vector<std::string>> SerializeMembers() const;
  // The model of `meta` with the boosters SerializeMembers gave (at least one, each with
  // meta.feature_names.size() features); InvalidArgument naming `origin` otherwise.
  static absl::StatusOr<LatencyModel> FromMembers(ModelMeta meta,
                                                  const std::vector<std::string>& members,
                                                  absl::string_view origin);

  // Refuses a model of another feature version or device (FailedPrecondition). An empty
  // `device` skips the device check.
  absl::Status CheckCompatible(const std::string& device) const;

  // Appends `rounds` shallow trees to every booster, fitted on `data` to what the model
  // (prior + trees + offset) still misses; the trees are then part of the model.
  absl::Status AppendResidualRounds(const Dataset& data, int rounds, double eta, int max_depth);

  const ModelMeta& meta() const { return meta_; }
  ModelMeta* mutable_meta() { return &meta_; }

 private:
  LatencyModel() = default;
  absl::Status ApplyParams(int member) const;

  ModelMeta meta_;
  std::vector<void*> boosters_;  // BoosterHandle
};

// k-fold cross-validation: every row is predicted by a model that did not see it.
// Returns the metrics of the out-of-fold predictions (filled into *oof when non-null).
absl::StatusOr<AccuracyMetrics> CrossValidate(const Dataset& data, const ModelMeta& meta,
                                              const ModelParams& params, int folds,
                                              std::vector<double>* oof = nullptr);

// The best of `scores`: the highest share within +-10%, ties (within half a point) by
// Spearman; empty when `scores` is.
std::string BestForm(const std::vector<FormScore>& scores);

// Cross-validates each of `forms` (every form when empty) on `data` with `folds` folds, each
// with FormDefaultParams(form, params) unless `keep_params`, one booster per fit, and returns
// BestForm of them. `scores` receives every candidate's metrics in the order tried.
absl::StatusOr<std::string> SelectForm(const Dataset& data, const ModelMeta& meta,
                                       const ModelParams& params, int folds,
                                       const std::vector<std::string>& forms, bool keep_params,
                                       std::vector<FormScore>* scores);

// The versions of XGBoost and SQLite the predictor is built and runs with (base/versions.h).
std::vector<LibraryVersion> LibraryVersions();

}  // namespace edgeloop::predictor

#endif  // EDGELOOP_PREDICTOR_LATENCY_MODEL_H_
