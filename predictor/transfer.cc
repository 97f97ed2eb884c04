#include "predictor/transfer.h"

#include <algorithm>
#include <cmath>
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
constexpr double kSourcePenalties[] = {1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0, 100.0};
// Feature-correction penalty relative to the source penalty (0: no correction).
constexpr double kFeatureRatios[] = {0, 1, 10, 100, 1e3, 1e4, 1e5};

// A candidate adaptation and its leave-one-out criterion.
struct Candidate {
  Adaptation a;
  double loo = 0;
};

// Fits one (space, penalties, sources used) candidate on the shots; `s` is [source][row] in
// ms. Sources not in `used` get weight 0; the base is the mean over the used ones.
absl::StatusOr<Candidate> FitCandidate(const Dataset& shots, const std::vector<std::vector<double>>& s,
                                       const std::vector<double>& feature_var,
                                       const std::string& space, double source_penalty,
                                       double feature_ratio, const std::vector<int>& used) {
  const int k = shots.rows(), all_sources = static_cast<int>(s.size());
  const int sources = static_cast<int>(used.size());
  const int p = feature_ratio > 0 ? shots.cols() : 0, cols = sources + p;
  Candidate c;
  c.a.space = space;
  c.a.source_penalty = source_penalty;
  c.a.feature_penalty = source_penalty * feature_ratio;
  double mean_y = 0, mean_s = 0;
  for (int i = 0; i < k; ++i) {
    mean_y += shots.y[i] / k;
    for (int d : used) mean_s += s[d][i] / (k * sources);
  }
  if (space == "ms") c.a.scale = mean_s > 0 ? mean_y / mean_s : 1;
  std::vector<double> z(static_cast<size_t>(k) * cols), t(k), w(k), pen(cols);
  for (int i = 0; i < k; ++i) {
    double base = 0;
    for (int u = 0; u < sources; ++u) {
      const double v = space == "log" ? std::log(s[used[u]][i]) : s[used[u]][i];
      z[static_cast<size_t>(i) * cols + u] = v;
      base += v / sources;
    }
    for (int j = 0; j < p; ++j) z[static_cast<size_t>(i) * cols + sources + j] = shots.row(i)[j];
    t[i] = space == "log" ? std::log(shots.y[i]) - base : shots.y[i] - c.a.scale * base;
    w[i] = space == "log" ? 1.0 : 1 / (shots.y[i] * shots.y[i]);
  }
  for (int d = 0; d < sources; ++d) pen[d] = source_penalty;
  for (int j = 0; j < p; ++j)
    pen[sources + j] = c.a.feature_penalty * (feature_var[j] > 0 ? feature_var[j] : 1.0);
  auto fit = FitRidge(z, t, w, pen);
  if (!fit.ok()) return fit.status();
  c.loo = fit->LooMeanSquare(w);
  c.a.intercept = fit->intercept;
  c.a.source_coef.assign(all_sources, 0.0);
  c.a.base_weight.assign(all_sources, 0.0);
  for (int u = 0; u < sources; ++u) {
    c.a.source_coef[used[u]] = fit->coef[u];
    c.a.base_weight[used[u]] = 1.0 / sources;
  }
  c.a.feature_coef.assign(fit->coef.begin() + sources, fit->coef.end());
  return c;
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
  model.feature_var_.assign(data.cols(), 0.0);
  for (int j = 0; j < data.cols(); ++j) {
    double mean = 0, sq = 0;
    for (int r = 0; r < data.rows(); ++r) mean += data.row(r)[j] / data.rows();
    for (int r = 0; r < data.rows(); ++r) sq += std::pow(data.row(r)[j] - mean, 2) / data.rows();
    model.feature_var_[j] = sq;
  }
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
  // Every source together, and each source alone (few shots may not support more).
  std::vector<std::vector<int>> subsets(1);
  for (int d = 0; d < static_cast<int>(sources_.size()); ++d) subsets[0].push_back(d);
  if (sources_.size() > 1)
    for (int d = 0; d < static_cast<int>(sources_.size()); ++d) subsets.push_back({d});
  std::optional<Candidate> best;
  for (const auto& used : subsets)
    for (const char* space : {"log", "ms"})
      for (double source_penalty : kSourcePenalties)
        for (double ratio : kFeatureRatios) {
          // A source alone is the few-shots candidate: no per-feature correction.
          if (used.size() == 1 && sources_.size() > 1 && ratio > 0) continue;
          auto c = FitCandidate(shots, *s, feature_var_, space, source_penalty, ratio, used);
          if (!c.ok()) continue;  // a numerically singular candidate is just not chosen
          if (!best || c->loo < best->loo) best = *std::move(c);
        }
  if (!best) return absl::InternalError("no adaptation could be fitted");
  best->a.device = device;
  best->a.shots = shots.rows();
  best->a.loo_rms = std::sqrt(best->loo);
  best->a.floor = 0.05 * *std::min_element(shots.y.begin(), shots.y.end());
  adaptation_ = best->a;
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
  const int sources = static_cast<int>(sources_.size()), cols = static_cast<int>(feature_names_.size());
  std::vector<double> out(rows);
  for (int64_t i = 0; i < rows; ++i) {
    double v = a.intercept, base = 0;
    for (int d = 0; d < sources; ++d) {
      const double sd = a.space == "log" ? std::log((*s)[d][i]) : (*s)[d][i];
      v += a.source_coef[d] * sd;
      base += a.base_weight[d] * sd;
    }
    for (size_t j = 0; j < a.feature_coef.size(); ++j) v += a.feature_coef[j] * x[i * cols + j];
    out[i] = a.space == "log" ? std::exp(v + base) : std::max(v + a.scale * base, a.floor);
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
    aj->set_scale(a.scale);
    aj->mutable_source_coef()->Assign(a.source_coef.begin(), a.source_coef.end());
    aj->mutable_feature_coef()->Assign(a.feature_coef.begin(), a.feature_coef.end());
    aj->set_source_penalty(a.source_penalty);
    aj->set_feature_penalty(a.feature_penalty);
    aj->set_shots(static_cast<double>(a.shots));
    aj->set_loo_rms(a.loo_rms);
    aj->set_floor(a.floor);
    aj->mutable_base_weight()->Assign(a.base_weight.begin(), a.base_weight.end());
  }
  auto json = ProtoToJson(j);
  if (!json.ok()) return json.status();
  return WriteFileAtomically(path, *json + "\n");
}

absl::StatusOr<TransferModel> TransferModel::Load(const std::string& path) {
  auto text = ReadFile(path);
  if (!text.ok()) return text.status();
  TransferModelJson j;
  if (auto st = ProtoFromJson(*text, path, &j); !st.ok()) return st;
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
    a.scale = aj.scale();
    a.source_coef.assign(aj.source_coef().begin(), aj.source_coef().end());
    a.feature_coef.assign(aj.feature_coef().begin(), aj.feature_coef().end());
    a.source_penalty = aj.source_penalty();
    a.feature_penalty = aj.feature_penalty();
    a.shots = static_cast<int64_t>(aj.shots());
    a.loo_rms = aj.loo_rms();
    a.floor = aj.floor();
    a.base_weight.assign(aj.base_weight().begin(), aj.base_weight().end());
    if ((a.space != "log" && a.space != "ms") || a.source_coef.size() != m.sources_.size() ||
        a.base_weight.size() != m.sources_.size() ||
        (!a.feature_coef.empty() && a.feature_coef.size() != m.feature_names_.size())) {
      return bad("inconsistent adaptation");
    }
    m.adaptation_ = std::move(a);
  }
  return m;
}

bool TransferModel::IsTransferModelFile(const std::string& path) {
  auto text = ReadFile(path);
  if (!text.ok()) return false;
  // The format key comes first in every file Save writes; a cheap check before parsing.
  return text->find(absl::StrCat("\"format\":\"", kTransferFormat, "\"")) != std::string::npos &&
         text->find(absl::StrCat("\"format\":\"", kTransferFormat, "\"")) < 64;
}

}  // namespace edgeloop::predictor
