#include "predictor/model_io.h"

#include <cmath>
#include <cstdint>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/atomic_file.h"
#include "base/proto_json.h"
#include "predictor/model_meta.pb.h"

namespace edgeloop::predictor {
namespace {

constexpr int kFormatVersion = 1;
constexpr const char* kPredictionFormula =
    "latency_ms = exp(prior.coef[0] + sum_j prior.coef[j+1]*log1p(x[prior.features[j]]) + "
    "booster(members[0]).predict(x) + log_offset); the other members give the uncertainty";

constexpr const char* kAdditivePredictionFormula =
    "latency_ms = exp(log(max(prior.coef[0] + sum_j prior.coef[j+1]*x[j], prior.floor)) + "
    "booster(members[0]).predict(x) + log_offset); the other members give the uncertainty";

std::string Basename(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}
std::string Dirname(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? "" : path.substr(0, slash + 1);
}

std::string SidecarPath(const std::string& path) { return path + ".meta.json"; }

ModelParamsJson ParamsToMessage(const ModelParams& p) {
  ModelParamsJson j;
  j.set_ensemble(p.ensemble);
  j.set_rounds(p.rounds);
  j.set_eta(p.eta);
  j.set_max_depth(p.max_depth);
  j.set_subsample(p.subsample);
  j.set_colsample_bytree(p.colsample_bytree);
  j.set_min_child_weight(p.min_child_weight);
  j.set_lambda(p.lambda);
  j.set_max_bin(p.max_bin);
  j.set_nthread(p.nthread);
  j.set_seed(static_cast<double>(p.seed));
  return j;
}

// A count, version or seed stored as a JSON number (model_meta.proto): a whole number in
// [0, limit); anything else (1e300, -1, 2.5) is a damaged sidecar, not a value to cast.
absl::StatusOr<uint64_t> WholeNumber(double v, absl::string_view field, absl::string_view origin,
                                     double limit = 9007199254740992.0 /* 2^53 */) {
  if (!(v >= 0 && v < limit) || v != std::floor(v)) {
    return absl::InvalidArgumentError(
        absl::StrCat(origin, ": \"", field, "\" must be a whole number >= 0, got ", v));
  }
  return static_cast<uint64_t>(v);
}

ModelParams ParamsFromMessage(const ModelParamsJson& j) {
  ModelParams p;
  p.ensemble = j.ensemble();
  p.rounds = j.rounds();
  p.eta = j.eta();
  p.max_depth = j.max_depth();
  p.subsample = j.subsample();
  p.colsample_bytree = j.colsample_bytree();
  p.min_child_weight = j.min_child_weight();
  p.lambda = j.lambda();
  p.max_bin = j.max_bin();
  p.nthread = j.nthread();
  return p;
}

ModelMetaJson MetaToMessage(const ModelMeta& m, const std::vector<std::string>& member_files) {
  ModelMetaJson j;
  j.set_format(kModelFormat);
  j.set_format_version(kFormatVersion);
  j.set_mode(m.mode);
  j.set_device(m.device);
  j.set_feature_version(m.feature_version);
  j.mutable_feature_names()->Assign(m.feature_names.begin(), m.feature_names.end());
  j.set_target(m.target);
  j.set_training_size(static_cast<double>(m.training_size));
  if (m.has_cv) *j.mutable_cv() = MetricsToMessage(m.cv);
  j.mutable_prior()->mutable_features()->Assign(m.prior_features.begin(), m.prior_features.end());
  j.mutable_prior()->mutable_coef()->Assign(m.prior_coef.begin(), m.prior_coef.end());
  j.set_log_offset(m.offset);
  j.set_residual_rounds(static_cast<double>(m.residual_rounds));
  j.set_version(static_cast<double>(m.version));
  *j.mutable_params() = ParamsToMessage(m.params);
  j.mutable_members()->Assign(member_files.begin(), member_files.end());
  j.set_prediction(m.form == kFormAdditiveXgb ? kAdditivePredictionFormula : kPredictionFormula);
  j.set_form(m.form);
  j.mutable_prior()->set_floor(m.prior_floor);
  for (const FormScore& f : m.selection) {
    FormScoreJson* score = j.add_selection();
    score->set_form(f.form);
    *score->mutable_cv() = MetricsToMessage(f.cv);
  }
  return j;
}

absl::StatusOr<ModelMeta> MetaFromMessage(const ModelMetaJson& j, absl::string_view origin) {
  if (j.format() != kModelFormat) {
    return absl::InvalidArgumentError(
        absl::StrCat(origin, ": not an edgeloop latency model sidecar"));
  }
  if (j.mode() != kArchMode && j.mode() != kTabularMode) {
    return absl::InvalidArgumentError(absl::StrCat(origin, ": unknown mode \"", j.mode(), "\""));
  }
  if (!j.has_params()) {
    return absl::InvalidArgumentError(absl::StrCat(origin, ": missing \"params\""));
  }
  if (j.feature_names().empty()) {
    return absl::InvalidArgumentError(absl::StrCat(origin, ": no feature_names"));
  }
  ModelMeta m;
  m.form = j.form().empty() ? kFormPriorXgb : j.form();
  if (!IsModelForm(m.form))
    return absl::InvalidArgumentError(absl::StrCat(origin, ": unknown form \"", m.form, "\""));
  const size_t additive_coefs = j.feature_names_size() + 1;
  if (m.form == kFormAdditiveXgb &&
      (j.prior().coef_size() != static_cast<int>(additive_coefs) || !(j.prior().floor() > 0))) {
    return absl::InvalidArgumentError(absl::StrCat(
        origin, ": the additive prior needs ", additive_coefs, " coefficients and a floor > 0"));
  }
  m.prior_floor = j.prior().floor();
  for (const FormScoreJson& f : j.selection())
    m.selection.push_back({f.form(), MetricsFromMessage(f.cv())});
  m.mode = j.mode();
  m.device = j.device();
  m.feature_version = j.feature_version();
  m.feature_names.assign(j.feature_names().begin(), j.feature_names().end());
  m.target = j.target();
  const absl::StatusOr<uint64_t> training_size =
      WholeNumber(j.training_size(), "training_size", origin);
  const absl::StatusOr<uint64_t> residual_rounds =
      WholeNumber(j.residual_rounds(), "residual_rounds", origin);
  const absl::StatusOr<uint64_t> version = WholeNumber(j.version(), "version", origin);
  const absl::StatusOr<uint64_t> seed =
      WholeNumber(j.params().seed(), "params.seed", origin, 18446744073709551616.0 /* 2^64 */);
  for (const auto* n : {&training_size, &residual_rounds, &version, &seed})
    if (!n->ok()) return n->status();
  m.training_size = static_cast<int64_t>(*training_size);
  m.has_cv = j.has_cv();
  if (m.has_cv) m.cv = MetricsFromMessage(j.cv());
  m.prior_features.assign(j.prior().features().begin(), j.prior().features().end());
  m.prior_coef.assign(j.prior().coef().begin(), j.prior().coef().end());
  m.offset = j.log_offset();
  m.residual_rounds = static_cast<int64_t>(*residual_rounds);
  m.version = static_cast<int64_t>(*version);
  m.params = ParamsFromMessage(j.params());
  m.params.seed = *seed;
  return m;
}

}  // namespace

std::string ModelMetaToJson(const ModelMeta& meta, const std::vector<std::string>& member_files) {
  return ProtoToJson(MetaToMessage(meta, member_files)).value_or(std::string());
}

absl::StatusOr<ModelMeta> ModelMetaFromJson(absl::string_view json, absl::string_view origin,
                                            std::vector<std::string>* member_files) {
  ModelMetaJson j;
  if (absl::Status st = ProtoFromJson(json, origin, &j); !st.ok()) return st;
  auto meta = MetaFromMessage(j, origin);
  if (meta.ok() && member_files != nullptr)
    member_files->assign(j.members().begin(), j.members().end());
  return meta;
}

absl::Status SaveModel(const LatencyModel& model, const std::string& path) {
  auto members = model.SerializeMembers();
  if (!members.ok()) return members.status();
  std::vector<std::string> files;
  for (size_t k = 0; k < members->size(); ++k) {
    const std::string file = k == 0 ? path : absl::StrCat(path, ".member", k, ".json");
    if (auto s = WriteFileAtomically(file, (*members)[k]); !s.ok()) return s;
    files.push_back(Basename(file));
  }
  return WriteFileAtomically(SidecarPath(path), ModelMetaToJson(model.meta(), files) + "\n");
}

absl::StatusOr<LatencyModel> LoadModel(const std::string& path) {
  auto sidecar = ReadFile(SidecarPath(path));
  if (!sidecar.ok()) {
    if (absl::IsNotFound(sidecar.status())) {
      if (!ReadFile(path).ok()) return absl::NotFoundError(absl::StrCat("no such model: ", path));
      return absl::InvalidArgumentError(absl::StrCat(path, ": no sidecar ", SidecarPath(path),
                                                     " (not an edgeloop latency model)"));
    }
    return sidecar.status();
  }
  std::vector<std::string> files;
  auto meta = ModelMetaFromJson(*sidecar, SidecarPath(path), &files);
  if (!meta.ok()) return meta.status();
  if (files.empty() || static_cast<int>(files.size()) != meta->params.ensemble) {
    return absl::InvalidArgumentError(
        absl::StrCat(SidecarPath(path), ": member list does not match params.ensemble"));
  }
  std::vector<std::string> members;
  for (size_t k = 0; k < files.size(); ++k) {
    auto text = ReadFile(k == 0 ? path : Dirname(path) + files[k]);
    if (!text.ok()) return text.status();
    members.push_back(std::move(*text));
  }
  return LatencyModel::FromMembers(std::move(*meta), members, path);
}

absl::StatusOr<std::string> SerializeModelBundle(const LatencyModel& model) {
  auto members = model.SerializeMembers();
  if (!members.ok()) return members.status();
  ModelBundleJson bundle;
  *bundle.mutable_meta() = MetaToMessage(model.meta(), {});
  for (std::string& m : *members) bundle.add_members(std::move(m));
  return ProtoToJson(bundle).value_or(std::string());
}

absl::StatusOr<LatencyModel> ModelFromBundle(absl::string_view bundle) {
  constexpr const char* kOrigin = "model bundle";
  ModelBundleJson parsed;
  if (absl::Status st = ProtoFromJson(bundle, kOrigin, &parsed); !st.ok()) return st;
  if (!parsed.has_meta()) {
    return absl::InvalidArgumentError(
        absl::StrCat(kOrigin, ": expected {\"meta\":...,\"members\":[...]}"));
  }
  auto meta = MetaFromMessage(parsed.meta(), "model bundle meta");
  if (!meta.ok()) return meta.status();
  const std::vector<std::string> members(parsed.members().begin(), parsed.members().end());
  return LatencyModel::FromMembers(std::move(*meta), members, kOrigin);
}

absl::StatusOr<int64_t> SaveModelVersion(MeasurementStore* store, LatencyModel* model,
                                         const std::string& kind) {
  auto bundle = SerializeModelBundle(*model);
  if (!bundle.ok()) return bundle.status();
  const ModelMeta& meta = model->meta();
  ModelRecord record;
  record.device = meta.device;
  record.kind = kind;
  record.training_size = meta.training_size;
  record.feature_version = meta.feature_version;
  record.metrics_json = meta.has_cv ? MetricsToJson(meta.cv) : "{}";
  record.meta_json = ModelMetaToJson(meta);
  record.model_json = std::move(*bundle);
  auto version = store->SaveModel(&record);
  if (!version.ok()) return version.status();
  model->mutable_meta()->version = *version;
  return *version;
}

absl::StatusOr<LatencyModel> LoadModelVersion(const MeasurementStore& store,
                                              const std::string& device, int64_t version) {
  auto record = store.LoadModel(device, version);
  if (!record.ok()) return record.status();
  auto model = ModelFromBundle(record->model_json);
  if (!model.ok()) return model.status();
  if (auto s = model->CheckCompatible(device); !s.ok()) return s;
  model->mutable_meta()->version = record->version;
  return model;
}

}  // namespace edgeloop::predictor
