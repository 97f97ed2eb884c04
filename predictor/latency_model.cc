#include "predictor/latency_model.h"

#include <xgboost/c_api.h>

#include <cmath>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "base/rng.h"
#include "predictor/features.h"
#include "predictor/ridge.h"

namespace edgeloop::predictor {
namespace {

absl::Status XgbError(const std::string& what) {
  return absl::InternalError(absl::StrCat("xgboost: ", what, ": ", XGBGetLastError()));
}

#define EDGELOOP_XGB(call, what)            \
  do {                                      \
    if ((call) != 0) return XgbError(what); \
  } while (0)

// A DMatrix that frees itself.
class DMatrix {
 public:
  ~DMatrix() {
    if (handle_) XGDMatrixFree(handle_);
  }
  absl::Status Init(const float* x, int64_t rows, int cols, const std::vector<float>& label,
                    const std::vector<double>& weight) {
    EDGELOOP_XGB(XGDMatrixCreateFromMat(x, rows, cols, std::nanf(""), &handle_),
                 "creating a DMatrix");
    EDGELOOP_XGB(XGDMatrixSetFloatInfo(handle_, "label", label.data(), label.size()),
                 "setting labels");
    if (!weight.empty()) {
      std::vector<float> w(weight.begin(), weight.end());
      EDGELOOP_XGB(XGDMatrixSetFloatInfo(handle_, "weight", w.data(), w.size()), "setting weights");
    }
    return absl::OkStatus();
  }
  DMatrixHandle handle() const { return handle_; }

 private:
  DMatrixHandle handle_ = nullptr;
};

// Solves the small dense system a * x = b (n x n, row-major) by Gaussian elimination with
// partial pivoting; a singular system leaves the affected unknowns at 0.
std::vector<double> Solve(std::vector<double> a, std::vector<double> b) {
  const size_t n = b.size();
  for (size_t col = 0; col < n; ++col) {
    size_t pivot = col;
    for (size_t r = col + 1; r < n; ++r)
      if (std::fabs(a[r * n + col]) > std::fabs(a[pivot * n + col])) pivot = r;
    if (std::fabs(a[pivot * n + col]) < 1e-12) continue;
    for (size_t c = 0; c < n; ++c) std::swap(a[col * n + c], a[pivot * n + c]);
    std::swap(b[col], b[pivot]);
    for (size_t r = 0; r < n; ++r) {
      if (r == col) continue;
      const double f = a[r * n + col] / a[col * n + col];
      if (f == 0) continue;
      for (size_t c = col; c < n; ++c) a[r * n + c] -= f * a[col * n + c];
      b[r] -= f * b[col];
    }
  }
  std::vector<double> x(n, 0.0);
  for (size_t i = 0; i < n; ++i)
    if (std::fabs(a[i * n + i]) >= 1e-12) x[i] = b[i] / a[i * n + i];
  return x;
}

std::vector<int> ColumnIndices(const std::vector<std::string>& names,
                               const std::vector<std::string>& wanted) {
  std::vector<int> out;
  for (const auto& w : wanted)
    for (size_t i = 0; i < names.size(); ++i)
      if (names[i] == w) out.push_back(static_cast<int>(i));
  return out;
}

// Weighted least squares of log(y) on [1, log(1 + x_j)], a whisker of ridge on the slopes.
std::vector<double> FitPrior(const Dataset& data, const std::vector<int>& columns) {
  const size_t p = columns.size() + 1;
  std::vector<double> ata(p * p, 0.0), atb(p, 0.0), row(p);
  for (int r = 0; r < data.rows(); ++r) {
    row[0] = 1;
    for (size_t j = 0; j < columns.size(); ++j)
      row[j + 1] = std::log1p(std::max(0.0f, data.row(r)[columns[j]]));
    const double w = data.weight.empty() ? 1.0 : data.weight[r];
    const double t = std::log(data.y[r]);
    for (size_t i = 0; i < p; ++i) {
      atb[i] += w * row[i] * t;
      for (size_t k = 0; k < p; ++k) ata[i * p + k] += w * row[i] * row[k];
    }
  }
  for (size_t i = 1; i < p; ++i) ata[i * p + i] += 1e-6 * (1 + ata[i * p + i]);
  return Solve(ata, atb);
}

// The additive prior: ridge of y (ms) on the standardized features, weighted by 1/y^2 so
// that it minimizes relative error, the penalty chosen by leave-one-out. Returns the
// coefficients on the raw features (intercept first) and sets *floor.
absl::StatusOr<std::vector<double>> FitAdditivePrior(const Dataset& data, double* floor) {
  const int n = data.rows(), p = data.cols();
  std::vector<double> mean(p, 0.0), sd(p, 0.0);
  for (int r = 0; r < n; ++r)
    for (int j = 0; j < p; ++j) mean[j] += data.row(r)[j] / n;
  for (int r = 0; r < n; ++r)
    for (int j = 0; j < p; ++j) sd[j] += std::pow(data.row(r)[j] - mean[j], 2) / n;
  for (double& v : sd) v = v > 0 ? std::sqrt(v) : 1.0;
  std::vector<double> z(static_cast<size_t>(n) * p), weight(n);
  double least = data.y[0];
  for (int r = 0; r < n; ++r) {
    for (int j = 0; j < p; ++j)
      z[static_cast<size_t>(r) * p + j] = (data.row(r)[j] - mean[j]) / sd[j];
    weight[r] = (data.weight.empty() ? 1.0 : data.weight[r]) / (data.y[r] * data.y[r]);
    least = std::min(least, data.y[r]);
  }
  absl::StatusOr<RidgeFit> best = absl::InternalError("no penalty tried");
  double best_loo = 0;
  for (double lambda : {1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0}) {
    auto fit = FitRidge(z, data.y, weight, std::vector<double>(p, lambda * n));
    if (!fit.ok()) continue;
    const double loo = fit->LooMeanSquare(weight);
    if (!best.ok() || loo < best_loo) {
      best = std::move(fit);
      best_loo = loo;
    }
  }
  if (!best.ok()) return best.status();
  std::vector<double> coef(p + 1);
  coef[0] = best->intercept;
  for (int j = 0; j < p; ++j) {
    coef[j + 1] = best->coef[j] / sd[j];
    coef[0] -= best->coef[j] * mean[j] / sd[j];
  }
  *floor = 0.05 * least;
  return coef;
}

}  // namespace

const std::vector<std::string>& ModelForms() {
  static const std::vector<std::string> forms = {kFormXgb, kFormPriorXgb, kFormAdditiveXgb};
  return forms;
}

bool IsModelForm(const std::string& form) {
  for (const auto& f : ModelForms())
    if (f == form) return true;
  return false;
}

ModelParams FormDefaultParams(const std::string& form, const ModelParams& base) {
  ModelParams p = base;
  const ModelParams defaults;
  p.rounds = defaults.rounds;
  p.max_depth = defaults.max_depth;
  p.eta = defaults.eta;
  if (form == kFormXgb) {
    p.rounds = 500;
    p.max_depth = 6;
    p.eta = 0.05;
  }
  return p;
}

LatencyModel::~LatencyModel() {
  for (void* b : boosters_) XGBoosterFree(b);
}
LatencyModel::LatencyModel(LatencyModel&& other) noexcept
    : meta_(std::move(other.meta_)), boosters_(std::move(other.boosters_)) {
  other.boosters_.clear();
}
LatencyModel& LatencyModel::operator=(LatencyModel&& other) noexcept {
  if (this != &other) {
    for (void* b : boosters_) XGBoosterFree(b);
    meta_ = std::move(other.meta_);
    boosters_ = std::move(other.boosters_);
    other.boosters_.clear();
  }
  return *this;
}

absl::Status LatencyModel::ApplyParams(int member) const {
  const ModelParams& p = meta_.params;
  const std::pair<const char*, std::string> params[] = {
      {"objective", "reg:squarederror"},
      {"tree_method", "hist"},
      {"eta", absl::StrCat(p.eta)},
      {"max_depth", absl::StrCat(p.max_depth)},
      // Member 0 makes the point prediction from every row and column.
      {"subsample", member == 0 ? "1" : absl::StrCat(p.subsample)},
      {"colsample_bytree", member == 0 ? "1" : absl::StrCat(p.colsample_bytree)},
      {"min_child_weight", absl::StrCat(p.min_child_weight)},
      {"lambda", absl::StrCat(p.lambda)},
      {"max_bin", absl::StrCat(p.max_bin)},
      {"nthread", absl::StrCat(p.nthread)},
      {"seed", absl::StrCat(p.seed + 1000003ULL * member)},
      {"verbosity", "0"},
  };
  for (const auto& [name, value] : params)
    EDGELOOP_XGB(XGBoosterSetParam(boosters_[member], name, value.c_str()),
                 absl::StrCat("setting ", name));
  return absl::OkStatus();
}

std::vector<double> LatencyModel::Prior(const float* x, int64_t rows) const {
  const int cols = static_cast<int>(meta_.feature_names.size());
  if (meta_.form == kFormAdditiveXgb) {
    std::vector<double> out(rows, 0.0);
    if (meta_.prior_coef.size() != static_cast<size_t>(cols) + 1) return out;
    for (int64_t r = 0; r < rows; ++r) {
      double lin = meta_.prior_coef[0];
      for (int j = 0; j < cols; ++j) lin += meta_.prior_coef[j + 1] * x[r * cols + j];
      out[r] = std::log(std::max(lin, meta_.prior_floor));
    }
    return out;
  }
  const std::vector<int> columns = ColumnIndices(meta_.feature_names, meta_.prior_features);
  std::vector<double> out(rows, meta_.prior_coef.empty() ? 0.0 : meta_.prior_coef[0]);
  for (int64_t r = 0; r < rows; ++r)
    for (size_t j = 0; j < columns.size() && j + 1 < meta_.prior_coef.size(); ++j)
      out[r] += meta_.prior_coef[j + 1] * std::log1p(std::max(0.0f, x[r * cols + columns[j]]));
  return out;
}

absl::StatusOr<LatencyModel> LatencyModel::Fit(const Dataset& data, ModelMeta meta,
                                               const ModelParams& params) {
  if (data.rows() < 2) {
    return absl::InvalidArgumentError(
        absl::StrCat("empty training set: ", data.rows(), " sample(s), need at least 2"));
  }
  if (data.cols() == 0) return absl::InvalidArgumentError("no feature columns");
  if (data.x.size() != static_cast<size_t>(data.rows()) * data.cols()) {
    return absl::InvalidArgumentError("feature matrix and labels disagree in size");
  }
  for (double y : data.y) {
    if (!(y > 0) || !std::isfinite(y))
      return absl::InvalidArgumentError("latency labels must be positive");
  }
  if (meta.form.empty()) meta.form = kFormPriorXgb;
  if (!IsModelForm(meta.form))
    return absl::InvalidArgumentError(absl::StrCat("unknown model form \"", meta.form, "\""));
  if (params.ensemble < 1 || params.rounds < 1 || params.max_depth < 1 || !(params.eta > 0)) {
    return absl::InvalidArgumentError(
        "model params: ensemble, rounds, max_depth and eta must be positive");
  }
  meta.params = params;
  meta.feature_names = data.feature_names;
  meta.training_size = data.rows();
  meta.offset = 0;
  meta.residual_rounds = 0;
  if (meta.mode == kArchMode) {
    if (data.feature_names != FeatureNames()) {
      return absl::InvalidArgumentError(
          "arch-mode training data must use the features of features.h");
    }
    meta.feature_version = kFeatureVersion;
    meta.prior_features = {"batch_flops", "batch_activation_total"};
  } else {
    // Tabular: a power law in every column (log y linear in log(1 + x_j)).
    meta.feature_version = 0;
    meta.prior_features = data.feature_names;
  }
  meta.prior_floor = 0;
  if (meta.form == kFormXgb) meta.prior_features.clear();
  if (meta.form == kFormAdditiveXgb) {
    meta.prior_features.clear();
    auto coef = FitAdditivePrior(data, &meta.prior_floor);
    if (!coef.ok()) return coef.status();
    meta.prior_coef = *std::move(coef);
  } else {
    meta.prior_coef = FitPrior(data, ColumnIndices(data.feature_names, meta.prior_features));
  }

  LatencyModel model;
  model.meta_ = std::move(meta);
  const std::vector<double> prior = model.Prior(data.x.data(), data.rows());
  std::vector<float> label(data.rows());
  for (int r = 0; r < data.rows(); ++r)
    label[r] = static_cast<float>(std::log(data.y[r]) - prior[r]);
  DMatrix train;
  if (auto s = train.Init(data.x.data(), data.rows(), data.cols(), label, data.weight); !s.ok())
    return s;
  for (int k = 0; k < params.ensemble; ++k) {
    BoosterHandle h;
    DMatrixHandle cache[] = {train.handle()};
    EDGELOOP_XGB(XGBoosterCreate(cache, 1, &h), "creating a booster");
    model.boosters_.push_back(h);
    if (auto s = model.ApplyParams(k); !s.ok()) return s;
    EDGELOOP_XGB(XGBoosterSetParam(h, "base_score", "0"), "setting base_score");
    for (int i = 0; i < params.rounds; ++i)
      EDGELOOP_XGB(XGBoosterUpdateOneIter(h, i, train.handle()), "boosting");
  }
  return model;
}

absl::StatusOr<std::vector<std::vector<float>>> LatencyModel::MemberMargins(
    const float* x, int64_t rows, bool all_members) const {
  const int cols = static_cast<int>(meta_.feature_names.size());
  std::vector<std::vector<float>> out(all_members ? boosters_.size() : 1);
  if (rows == 0) return out;
  const std::string array =
      absl::StrCat("{\"data\":[", reinterpret_cast<uintptr_t>(x), ",true],\"shape\":[", rows, ",",
                   cols, "],\"typestr\":\"<f4\",\"version\":3}");
  const char* config =
      "{\"type\":0,\"training\":false,\"iteration_begin\":0,\"iteration_end\":0,"
      "\"strict_shape\":false,\"missing\":NaN,\"cache_id\":0}";
  for (size_t k = 0; k < out.size(); ++k) {
    const bst_ulong* shape;
    bst_ulong dim;
    const float* result;
    EDGELOOP_XGB(XGBoosterPredictFromDense(boosters_[k], array.c_str(), config, nullptr, &shape,
                                           &dim, &result),
                 "predicting");
    out[k].assign(result, result + rows);
  }
  return out;
}

absl::StatusOr<std::vector<Prediction>> LatencyModel::Predict(const float* x, int64_t rows,
                                                              bool uncertainty) const {
  auto margins = MemberMargins(x, rows, uncertainty);
  if (!margins.ok()) return margins.status();
  const std::vector<double> prior = Prior(x, rows);
  std::vector<Prediction> out(rows);
  const double k = static_cast<double>(margins->size());
  for (int64_t r = 0; r < rows; ++r) {
    out[r].ms = std::exp(prior[r] + (*margins)[0][r] + meta_.offset);
    if (k < 2) continue;
    double sum = 0, sq = 0;
    for (const auto& m : *margins) sum += m[r];
    const double mean = sum / k;
    for (const auto& m : *margins) sq += (m[r] - mean) * (m[r] - mean);
    out[r].log_std = std::sqrt(sq / (k - 1));
  }
  return out;
}

absl::StatusOr<std::vector<double>> LatencyModel::PredictMs(const float* x, int64_t rows) const {
  auto p = Predict(x, rows);
  if (!p.ok()) return p.status();
  std::vector<double> out(p->size());
  for (size_t i = 0; i < out.size(); ++i) out[i] = (*p)[i].ms;
  return out;
}

absl::StatusOr<std::vector<Prediction>> LatencyModel::PredictArchitectures(
    const std::vector<std::pair<ArchConfig, int>>& arch_batch, bool uncertainty) const {
  if (meta_.mode != kArchMode) {
    return absl::FailedPreconditionError(
        "a tabular model cannot predict architectures; use eval with a CSV");
  }
  if (auto s = CheckCompatible(""); !s.ok()) return s;
  const int cols = NumFeatures();
  std::vector<float> x(arch_batch.size() * cols);
  for (size_t i = 0; i < arch_batch.size(); ++i)
    ComputeFeatures(arch_batch[i].first, arch_batch[i].second, x.data() + i * cols);
  return Predict(x.data(), static_cast<int64_t>(arch_batch.size()), uncertainty);
}

absl::Status LatencyModel::CheckCompatible(const std::string& device) const {
  if (meta_.mode == kArchMode &&
      (meta_.feature_version != kFeatureVersion || meta_.feature_names != FeatureNames())) {
    return absl::FailedPreconditionError(absl::StrCat(
        "model trained on feature version ", meta_.feature_version,
        ", this edgeloop computes feature version ", kFeatureVersion, "; refit the model"));
  }
  if (!device.empty() && !meta_.device.empty() && device != meta_.device) {
    return absl::FailedPreconditionError(
        absl::StrCat("model trained for device \"", meta_.device, "\", not \"", device, "\""));
  }
  return absl::OkStatus();
}

absl::Status LatencyModel::AppendResidualRounds(const Dataset& data, int rounds, double eta,
                                                int max_depth) {
  if (data.rows() == 0 || rounds <= 0) return absl::OkStatus();
  if (data.feature_names != meta_.feature_names) {
    return absl::InvalidArgumentError("residual data has other features than the model");
  }
  const std::vector<double> prior = Prior(data.x.data(), data.rows());
  std::vector<float> label(data.rows());
  for (int r = 0; r < data.rows(); ++r)
    label[r] = static_cast<float>(std::log(data.y[r]) - prior[r] - meta_.offset);
  DMatrix train;
  if (auto s = train.Init(data.x.data(), data.rows(), data.cols(), label, data.weight); !s.ok())
    return s;
  for (size_t k = 0; k < boosters_.size(); ++k) {
    BoosterHandle h = boosters_[k];
    EDGELOOP_XGB(XGBoosterSetParam(h, "eta", absl::StrCat(eta).c_str()), "setting eta");
    EDGELOOP_XGB(XGBoosterSetParam(h, "max_depth", absl::StrCat(max_depth).c_str()),
                 "setting max_depth");
    EDGELOOP_XGB(XGBoosterSetParam(h, "subsample", "1"), "setting subsample");
    // Few recent rows: leaves of single samples would chase measurement noise.
    EDGELOOP_XGB(XGBoosterSetParam(h, "min_child_weight", "3"), "setting min_child_weight");
    int done = 0;
    EDGELOOP_XGB(XGBoosterBoostedRounds(h, &done), "counting rounds");
    for (int i = 0; i < rounds; ++i)
      EDGELOOP_XGB(XGBoosterUpdateOneIter(h, done + i, train.handle()), "boosting residual rounds");
    if (auto s = ApplyParams(static_cast<int>(k)); !s.ok()) return s;
  }
  meta_.residual_rounds += rounds;
  return absl::OkStatus();
}

absl::StatusOr<LatencyModel> LatencyModel::FromMembers(ModelMeta meta,
                                                       const std::vector<std::string>& members,
                                                       absl::string_view origin) {
  if (members.empty()) return absl::InvalidArgumentError(absl::StrCat(origin, ": no boosters"));
  LatencyModel model;
  model.meta_ = std::move(meta);
  for (size_t k = 0; k < members.size(); ++k) {
    BoosterHandle h;
    EDGELOOP_XGB(XGBoosterCreate(nullptr, 0, &h), "creating a booster");
    model.boosters_.push_back(h);
    if (XGBoosterLoadModelFromBuffer(h, members[k].data(), members[k].size()) != 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          origin, ": member ", k, " is not a valid XGBoost model (", XGBGetLastError(), ")"));
    }
    bst_ulong features = 0;
    EDGELOOP_XGB(XGBoosterGetNumFeature(h, &features), "reading the feature count");
    if (features != model.meta_.feature_names.size()) {
      return absl::InvalidArgumentError(absl::StrCat(origin, ": member ", k, " has ", features,
                                                     " features, the sidecar names ",
                                                     model.meta_.feature_names.size()));
    }
    // XGBoost keeps trees, not training parameters: restore them for further training.
    if (auto s = model.ApplyParams(static_cast<int>(k)); !s.ok()) return s;
  }
  return model;
}

absl::StatusOr<std::vector<std::string>> LatencyModel::SerializeMembers() const {
  std::vector<std::string> out;
  for (void* booster : boosters_) {
    bst_ulong len = 0;
    const char* buf = nullptr;
    EDGELOOP_XGB(XGBoosterSaveModelToBuffer(booster, "{\"format\":\"json\"}", &len, &buf),
                 "serializing a booster");
    out.emplace_back(buf, len);
  }
  return out;
}

absl::StatusOr<AccuracyMetrics> CrossValidate(const Dataset& data, const ModelMeta& meta,
                                              const ModelParams& params, int folds,
                                              std::vector<double>* oof) {
  if (folds < 2) return absl::InvalidArgumentError("cross-validation needs at least 2 folds");
  if (data.rows() < 2 * folds) {
    return absl::InvalidArgumentError(absl::StrCat("cross-validation with ", folds,
                                                   " folds needs at least ", 2 * folds,
                                                   " samples, got ", data.rows()));
  }
  std::vector<int> order(data.rows());
  std::iota(order.begin(), order.end(), 0);
  Rng rng = Rng::Derive(params.seed, 0xCF);
  rng.Shuffle(&order);
  std::vector<double> predicted(data.rows());
  for (int f = 0; f < folds; ++f) {
    std::vector<int> train, test;
    for (int i = 0; i < data.rows(); ++i) (i % folds == f ? test : train).push_back(order[i]);
    auto model = LatencyModel::Fit(data.Subset(train), meta, params);
    if (!model.ok()) return model.status();
    const Dataset held = data.Subset(test);
    auto p = model->PredictMs(held.x.data(), held.rows());
    if (!p.ok()) return p.status();
    for (size_t i = 0; i < test.size(); ++i) predicted[test[i]] = (*p)[i];
  }
  if (oof != nullptr) *oof = predicted;
  return ComputeMetrics(data.y, predicted);
}

std::string BestForm(const std::vector<FormScore>& scores) {
  const FormScore* best = nullptr;
  for (const FormScore& f : scores) {
    if (best == nullptr || f.cv.within_10 > best->cv.within_10 + 0.005 ||
        (f.cv.within_10 >= best->cv.within_10 - 0.005 && f.cv.spearman > best->cv.spearman))
      best = &f;
  }
  return best == nullptr ? std::string() : best->form;
}

absl::StatusOr<std::string> SelectForm(const Dataset& data, const ModelMeta& meta,
                                       const ModelParams& params, int folds,
                                       const std::vector<std::string>& forms, bool keep_params,
                                       std::vector<FormScore>* scores) {
  std::vector<FormScore> tried;
  for (const auto& form : forms.empty() ? ModelForms() : forms) {
    if (!IsModelForm(form))
      return absl::InvalidArgumentError(absl::StrCat("unknown model form \"", form, "\""));
    ModelMeta m = meta;
    m.form = form;
    ModelParams p = keep_params ? params : FormDefaultParams(form, params);
    p.ensemble = 1;
    auto cv = CrossValidate(data, m, p, folds);
    if (!cv.ok()) return cv.status();
    tried.push_back({form, *cv});
  }
  if (scores != nullptr) scores->insert(scores->end(), tried.begin(), tried.end());
  return BestForm(tried);
}

}  // namespace edgeloop::predictor
