#include "predictor/transfer.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/atomic_file.h"
#include "base/proto_json.h"
#include "predictor/model_io.h"
#include "predictor/model_meta.pb.h"
#include "predictor/ridge.h"

namespace edgeloop::predictor {
namespace {

constexpr int kTransferFormatVersion = 1;
// Penalties of the sources' non-negative weights, and of the per-feature correction
// (relative to each feature's variance); both chosen by leave-one-out.
constexpr double kSourcePenalties[] = {1e-6, 1e-4, 1e-2, 1.0, 100.0};
constexpr double kFeaturePenalties[] = {1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0};

// min sum_i w_i (t_i - c - z_i . b)^2 + lambda |b|^2 subject to b >= 0, by coordinate descent
// on the weighted-centred problem (`z` is rows x dims, row-major). A positive combination of
// the sources is what a device's operator costs plausibly are; signed weights extrapolate.
struct NonNegativeFit {
  double intercept = 0;
  std::vector<double> coef;
};
NonNegativeFit FitNonNegative(const std::vector<double>& z, const std::vector<double>& t,
                              const std::vector<double>& w, int dims, double lambda) {
  const size_t n = t.size();
  double wsum = 0, tmean = 0;
  std::vector<double> zmean(dims, 0.0);
  for (size_t i = 0; i < n; ++i) {
    wsum += w[i];
    tmean += w[i] * t[i];
    for (int d = 0; d < dims; ++d) zmean[d] += w[i] * z[i * dims + d];
  }
  tmean /= wsum;
  for (double& m : zmean) m /= wsum;
  std::vector<double> zc(n * dims), r(n), den(dims, lambda);
  for (size_t i = 0; i < n; ++i) {
    r[i] = t[i] - tmean;
    for (int d = 0; d < dims; ++d) {
      zc[i * dims + d] = z[i * dims + d] - zmean[d];
      den[d] += w[i] * zc[i * dims + d] * zc[i * dims + d];
    }
  }
  NonNegativeFit fit;
  fit.coef.assign(dims, 0.0);
  for (int sweep = 0; sweep < 1000; ++sweep) {
    double change = 0;
    for (int d = 0; d < dims; ++d) {
      double num = 0;
      for (size_t i = 0; i < n; ++i)
        num += w[i] * zc[i * dims + d] * (r[i] + zc[i * dims + d] * fit.coef[d]);
      const double next = den[d] > 0 ? std::max(0.0, num / den[d]) : 0.0;
      const double delta = next - fit.coef[d];
      if (delta == 0) continue;
      for (size_t i = 0; i < n; ++i) r[i] -= zc[i * dims + d] * delta;
      fit.coef[d] = next;
      change = std::max(change, std::fabs(delta) / (1 + std::fabs(next)));
    }
    if (change < 1e-10) break;
  }
  fit.intercept = tmean;
  for (int d = 0; d < dims; ++d) fit.intercept -= zmean[d] * fit.coef[d];
  return fit;
}

// The sources' combination in `space` for rows `rows` of `s` ([source][row], ms), fitted to
// `y`; returns the log prediction of row `at` of `s`.
struct Combination {
  std::string space;
  double lambda = 0, floor = 0;
  NonNegativeFit fit;
  double LogPredict(const std::vector<std::vector<double>>& s, size_t at) const {
    double v = fit.intercept;
    for (size_t d = 0; d < s.size(); ++d)
      v += fit.coef[d] * (space == "log" ? std::log(s[d][at]) : s[d][at]);
    return space == "log" ? v : std::log(std::max(v, floor));
  }
};

Combination FitCombination(const std::vector<std::vector<double>>& s, const std::vector<double>& y,
                           const std::vector<size_t>& rows, const std::string& space,
                           double lambda) {
  const int dims = static_cast<int>(s.size());
  std::vector<double> z, t, w;
  double least = y[rows[0]];
  for (size_t i : rows) {
    for (int d = 0; d < dims; ++d) z.push_back(space == "log" ? std::log(s[d][i]) : s[d][i]);
    t.push_back(space == "log" ? std::log(y[i]) : y[i]);
    w.push_back(space == "log" ? 1.0 : 1 / (y[i] * y[i]));
    least = std::min(least, y[i]);
  }
  Combination c{space, lambda, 0.05 * least, FitNonNegative(z, t, w, dims, lambda)};
  return c;
}

// Leave-one-out log predictions of a combination (explicit refits: the constraint has no
// closed form, and the problem is small).
std::vector<double> LooLogPredictions(const std::vector<std::vector<double>>& s,
                                      const std::vector<double>& y, const std::string& space,
                                      double lambda) {
  std::vector<double> out(y.size());
  for (size_t left = 0; left < y.size(); ++left) {
    std::vector<size_t> rows;
    for (size_t i = 0; i < y.size(); ++i)
      if (i != left) rows.push_back(i);
    out[left] = FitCombination(s, y, rows, space, lambda).LogPredict(s, left);
  }
  return out;
}

double MeanSquareLogError(const std::vector<double>& log_pred, const std::vector<double>& y) {
  double sum = 0;
  for (size_t i = 0; i < y.size(); ++i) sum += std::pow(log_pred[i] - std::log(y[i]), 2);
  return sum / y.size();
}

// Population variance of each column: scales the correction penalty per feature.
std::vector<double> FeatureVariances(const Dataset& data) {
  std::vector<double> var(data.cols(), 0.0);
  for (int j = 0; j < data.cols(); ++j) {
    double mean = 0;
    for (int r = 0; r < data.rows(); ++r) mean += data.row(r)[j] / data.rows();
    for (int r = 0; r < data.rows(); ++r)
      var[j] += std::pow(data.row(r)[j] - mean, 2) / data.rows();
  }
  return var;
}

}  // namespace

absl::StatusOr<TransferModel> TransferModel::Fit(
    const Dataset& data, const std::vector<std::string>& device_of_row, const std::string& target,
    const ModelParams& params, int folds,
    const std::function<void(const std::string&, const ModelMeta&)>& on_device) {
  if (device_of_row.size() != static_cast<size_t>(data.rows()))
    return absl::InvalidArgumentError("one device label per row is needed");
  std::map<std::string, std::vector<int>> rows_of;
  for (int r = 0; r < data.rows(); ++r) rows_of[device_of_row[r]].push_back(r);
  if (rows_of.empty()) return absl::InvalidArgumentError("no rows to fit a transfer model on");
  TransferModel model;
  model.feature_names_ = data.feature_names;
  model.target_ = target;
  model.feature_var_ = FeatureVariances(data);
  for (const auto& [device, rows] : rows_of) {
    if (device.empty()) return absl::InvalidArgumentError("a row has an empty device name");
    const Dataset d = data.Subset(rows);
    ModelMeta meta;
    meta.mode = kTabularMode;
    meta.device = device;
    meta.target = target;
    std::vector<FormScore> scores;
    auto form = SelectForm(d, meta, params, folds, {}, /*keep_params=*/false, &scores);
    if (!form.ok()) {
      return absl::Status(form.status().code(),
                          absl::StrCat("device \"", device, "\": ", form.status().message()));
    }
    meta.form = *form;
    meta.selection = scores;
    for (const auto& s : scores)
      if (s.form == *form) meta.has_cv = true, meta.cv = s.cv;
    ModelParams p = FormDefaultParams(*form, params);
    p.ensemble = 1;  // transfer uses point predictions only
    auto fitted = LatencyModel::Fit(d, meta, p);
    if (!fitted.ok()) return fitted.status();
    if (on_device) on_device(device, fitted->meta());
    model.devices_.push_back(device);
    model.sources_.push_back(*std::move(fitted));
  }
  return model;
}

absl::StatusOr<TransferModel> TransferModel::FromModels(std::vector<std::string> devices,
                                                        std::vector<LatencyModel> models,
                                                        const Dataset& reference) {
  if (models.empty() || models.size() != devices.size())
    return absl::InvalidArgumentError("a transfer model needs one name per source model");
  TransferModel m;
  m.feature_names_ = models[0].meta().feature_names;
  m.target_ = models[0].meta().target;
  if (reference.feature_names != m.feature_names_ || reference.rows() == 0)
    return absl::InvalidArgumentError("the reference rows have other features than the models");
  for (const LatencyModel& model : models)
    if (model.meta().feature_names != m.feature_names_)
      return absl::InvalidArgumentError("the source models have different features");
  m.feature_var_ = FeatureVariances(reference);
  m.devices_ = std::move(devices);
  m.sources_ = std::move(models);
  return m;
}

absl::StatusOr<std::vector<std::vector<double>>> TransferModel::SourcePredictions(
    const float* x, int64_t rows) const {
  std::vector<std::vector<double>> out;
  for (const LatencyModel& m : sources_) {
    auto p = m.PredictMs(x, rows);
    if (!p.ok()) return p.status();
    for (double& v : *p) v = std::max(v, 1e-9);
    out.push_back(*std::move(p));
  }
  return out;
}

absl::Status TransferModel::Adapt(const Dataset& shots, const std::string& device) {
  if (shots.feature_names != feature_names_) {
    return absl::InvalidArgumentError(
        "the target device's rows have other features than the transfer model");
  }
  if (shots.rows() < 2) {
    return absl::InvalidArgumentError(absl::StrCat(
        "adaptation needs at least 2 measurements of the target device, got ", shots.rows()));
  }
  auto s = SourcePredictions(shots.x.data(), shots.rows());
  if (!s.ok()) return s.status();
  const std::vector<double>& y = shots.y;
  // Stage 1: the sources' non-negative combination, space and penalty by leave-one-out.
  std::string space;
  double lambda = 0, best = 0;
  std::vector<double> loo_log;
  for (const char* sp : {"log", "ms"})
    for (double l : kSourcePenalties) {
      std::vector<double> loo = LooLogPredictions(*s, y, sp, l);
      const double mse = MeanSquareLogError(loo, y);
      if (space.empty() || mse < best) {
        space = sp;
        lambda = l;
        best = mse;
        loo_log = std::move(loo);
      }
    }
  std::vector<size_t> all(y.size());
  for (size_t i = 0; i < all.size(); ++i) all[i] = i;
  const Combination combination = FitCombination(*s, y, all, space, lambda);
  Adaptation a;
  a.device = device;
  a.space = space;
  a.source_penalty = lambda;
  a.intercept = combination.fit.intercept;
  a.source_coef = combination.fit.coef;
  a.floor = combination.floor;
  a.shots = shots.rows();
  // Stage 2: a per-feature correction of what the combination misses out of sample (its
  // leave-one-out residuals), kept only when its own leave-one-out error is lower.
  std::vector<double> residual(y.size()), z(shots.x.begin(), shots.x.end());
  for (size_t i = 0; i < y.size(); ++i) residual[i] = std::log(y[i]) - loo_log[i];
  for (double l : kFeaturePenalties) {
    std::vector<double> pen(shots.cols());
    for (int j = 0; j < shots.cols(); ++j)
      pen[j] = l * (feature_var_[j] > 0 ? feature_var_[j] : 1.0);
    auto fit = FitRidge(z, residual, {}, pen);
    if (!fit.ok()) continue;  // numerically singular: not chosen
    const double mse = fit->LooMeanSquare({});
    if (mse < best) {
      best = mse;
      a.feature_penalty = l;
      a.correction_intercept = fit->intercept;
      a.feature_coef = fit->coef;
    }
  }
  a.loo_rms = std::sqrt(best);
  adaptation_ = std::move(a);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<double>> TransferModel::PredictMs(const float* x, int64_t rows) const {
  if (!adaptation_) {
    return absl::FailedPreconditionError(
        "the transfer model is not adapted to a device yet (edgeloop predictor adapt)");
  }
  const Adaptation& a = *adaptation_;
  auto s = SourcePredictions(x, rows);
  if (!s.ok()) return s.status();
  const int cols = static_cast<int>(feature_names_.size());
  Combination combination{a.space, a.source_penalty, a.floor, {a.intercept, a.source_coef}};
  std::vector<double> out(rows);
  for (int64_t i = 0; i < rows; ++i) {
    double v = combination.LogPredict(*s, static_cast<size_t>(i));
    if (!a.feature_coef.empty()) {
      v += a.correction_intercept;
      for (int j = 0; j < cols; ++j) v += a.feature_coef[j] * x[i * cols + j];
    }
    out[i] = std::exp(v);
  }
  return out;
}

absl::StatusOr<std::vector<double>> TransferModel::PredictSourceMs(const std::string& device,
                                                                   const float* x,
                                                                   int64_t rows) const {
  for (size_t d = 0; d < devices_.size(); ++d)
    if (devices_[d] == device) return sources_[d].PredictMs(x, rows);
  return absl::NotFoundError(absl::StrCat("no source device \"", device, "\" in the model"));
}

std::vector<std::string> TransferModel::source_devices() const { return devices_; }

absl::Status TransferModel::Save(const std::string& path) const {
  TransferModelJson j;
  j.set_format(kTransferFormat);
  j.set_format_version(kTransferFormatVersion);
  j.set_target(target_);
  j.mutable_feature_names()->Assign(feature_names_.begin(), feature_names_.end());
  j.mutable_feature_var()->Assign(feature_var_.begin(), feature_var_.end());
  for (size_t d = 0; d < sources_.size(); ++d) {
    auto bundle = SerializeModelBundle(sources_[d]);
    if (!bundle.ok()) return bundle.status();
    SourceModelJson* s = j.add_sources();
    s->set_device(devices_[d]);
    s->set_bundle(*std::move(bundle));
    s->set_training_size(static_cast<double>(sources_[d].meta().training_size));
  }
  if (adaptation_) {
    const Adaptation& a = *adaptation_;
    AdaptationJson* aj = j.mutable_adaptation();
    aj->set_device(a.device);
    aj->set_space(a.space);
    aj->set_intercept(a.intercept);
    aj->set_correction_intercept(a.correction_intercept);
    aj->mutable_source_coef()->Assign(a.source_coef.begin(), a.source_coef.end());
    aj->mutable_feature_coef()->Assign(a.feature_coef.begin(), a.feature_coef.end());
    aj->set_source_penalty(a.source_penalty);
    aj->set_feature_penalty(a.feature_penalty);
    aj->set_shots(static_cast<double>(a.shots));
    aj->set_loo_rms(a.loo_rms);
    aj->set_floor(a.floor);
  }
  auto json = ProtoToJson(j);
  if (!json.ok()) return json.status();
  return WriteFileAtomically(path, *json + "\n");
}

absl::StatusOr<TransferModel> TransferModel::Load(const std::string& path) {
  auto text = ReadFile(path);
  if (!text.ok()) return text.status();
  return Parse(*text, path);
}

absl::StatusOr<TransferModel> TransferModel::Parse(absl::string_view text,
                                                   const std::string& path) {
  TransferModelJson j;
  if (auto st = ProtoFromJson(text, path, &j); !st.ok()) return st;
  auto bad = [&](const std::string& why) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", why));
  };
  if (j.format() != kTransferFormat) return bad("not an edgeloop transfer model");
  if (j.feature_names().empty() || j.sources().empty()) return bad("no features or no sources");
  if (j.feature_var_size() != j.feature_names_size()) return bad("feature_var size mismatch");
  TransferModel m;
  m.target_ = j.target();
  m.feature_names_.assign(j.feature_names().begin(), j.feature_names().end());
  m.feature_var_.assign(j.feature_var().begin(), j.feature_var().end());
  for (const SourceModelJson& s : j.sources()) {
    auto model = ModelFromBundle(s.bundle());
    if (!model.ok()) return bad(std::string(model.status().message()));
    if (model->meta().feature_names != m.feature_names_)
      return bad(absl::StrCat("source \"", s.device(), "\" has other features"));
    m.devices_.push_back(s.device());
    m.sources_.push_back(*std::move(model));
  }
  if (j.has_adaptation()) {
    const AdaptationJson& aj = j.adaptation();
    Adaptation a;
    a.device = aj.device();
    a.space = aj.space();
    a.intercept = aj.intercept();
    a.correction_intercept = aj.correction_intercept();
    a.source_coef.assign(aj.source_coef().begin(), aj.source_coef().end());
    a.feature_coef.assign(aj.feature_coef().begin(), aj.feature_coef().end());
    a.source_penalty = aj.source_penalty();
    a.feature_penalty = aj.feature_penalty();
    a.shots = static_cast<int64_t>(aj.shots());
    a.loo_rms = aj.loo_rms();
    a.floor = aj.floor();
    if ((a.space != "log" && a.space != "ms") || a.source_coef.size() != m.sources_.size() ||
        (a.space == "ms" && !(a.floor > 0)) ||
        (!a.feature_coef.empty() && a.feature_coef.size() != m.feature_names_.size())) {
      return bad("inconsistent adaptation");
    }
    m.adaptation_ = std::move(a);
  }
  return m;
}

bool TransferModel::IsTransferModelFile(const std::string& path) {
  // The format key comes first in every file Save writes: its first bytes tell, without
  // reading (or parsing) a model of megabytes twice.
  std::ifstream in(path, std::ios::binary);
  std::string head(64, '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<size_t>(in.gcount()));
  return head.find(absl::StrCat("\"format\":\"", kTransferFormat, "\"")) != std::string::npos;
}

}  // namespace edgeloop::predictor
