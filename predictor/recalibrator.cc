#include "predictor/recalibrator.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "arch/arch_config.h"
#include "base/json.h"
#include "predictor/features.h"
#include "predictor/model_io.h"

namespace edgeloop::predictor {
namespace {

constexpr int kResidualMemory = 5;

}  // namespace

const char* RecalibrationActionName(RecalibrationAction action) {
  switch (action) {
    case RecalibrationAction::kOffset:
      return "offset";
    case RecalibrationAction::kResidual:
      return "residual";
    case RecalibrationAction::kRefit:
      return "refit";
  }
  return "?";
}

std::string RecalibrationRowText(double measured_ms, const RecalibrationStatus& st) {
  return absl::StrFormat(
      "measured %.4f ms predicted %.4f ms error %+.1f%% hit-rate %.2f%s %s offset %.4f v%d",
      measured_ms, st.predicted_ms, st.relative_error * 100, st.hit_rate,
      st.degraded ? " DEGRADED" : "", RecalibrationActionName(st.action), st.offset,
      st.model_version);
}

absl::StatusOr<std::unique_ptr<Recalibrator>> Recalibrator::Create(MeasurementStore* store,
                                                                   LatencyModel model,
                                                                   RecalibratorOptions options) {
  if (model.meta().mode != kArchMode) {
    return absl::InvalidArgumentError("the recalibrator needs an architecture-mode model");
  }
  if (model.meta().device.empty()) return absl::InvalidArgumentError("the model names no device");
  if (auto s = model.CheckCompatible(model.meta().device); !s.ok()) return s;
  std::unique_ptr<Recalibrator> r(new Recalibrator(store, std::move(model), options));
  r->saved_offset_ = r->model_.meta().offset;
  r->status_.offset = r->model_.meta().offset;
  r->status_.model_version = r->model_.meta().version;
  if (r->model_.meta().version == 0) {
    if (auto s = r->SaveVersion("initial"); !s.ok()) return s;
  }
  return r;
}

absl::StatusOr<std::unique_ptr<Recalibrator>> Recalibrator::Resume(MeasurementStore* store,
                                                                   const std::string& device,
                                                                   RecalibratorOptions options) {
  auto model = LoadModelVersion(*store, device);
  if (!model.ok()) return model.status();
  return Create(store, std::move(*model), options);
}

absl::StatusOr<std::string> Recalibrator::SaveState() const {
  absl::StatusOr<std::string> bundle = SerializeModelBundle(model_);
  if (!bundle.ok()) return bundle.status();
  auto observed = [](const std::deque<Observed>& list) {
    std::vector<std::string> items;
    for (const Observed& o : list)
      items.push_back(absl::StrCat("[", o.id, ",", o.hit ? 1 : 0, "]"));
    return absl::StrCat("[", absl::StrJoin(items, ","), "]");
  };
  std::vector<double> residuals(recent_residuals_.begin(), recent_residuals_.end());
  const RecalibrationStatus& st = status_;
  return absl::StrCat("{\"format\":\"edgeloop-recalibrator-v1\",\"model\":", JsonQuote(*bundle),
                      ",\"window\":", observed(window_), ",\"regime\":", observed(regime_),
                      ",\"recent_residuals\":", JsonNumberArray(residuals),
                      ",\"regime_start_id\":", regime_start_id_,
                      ",\"since_residual\":", since_residual_, ",\"degraded_for\":", degraded_for_,
                      ",\"since_refit\":", since_refit_,
                      ",\"last_drift_factor\":", JsonNumberText(last_drift_factor_),
                      ",\"last_state\":", JsonQuote(last_state_),
                      ",\"saved_offset\":", JsonNumberText(saved_offset_), ",\"status\":[",
                      st.observations, ",", st.measurement_id, ",", JsonNumberText(st.predicted_ms),
                      ",", JsonNumberText(st.relative_error), ",", JsonNumberText(st.hit_rate), ",",
                      st.degraded ? 1 : 0, ",", static_cast<int>(st.action), ",",
                      JsonNumberText(st.offset), ",", st.model_version, "]}");
}

absl::StatusOr<std::unique_ptr<Recalibrator>> Recalibrator::Restore(MeasurementStore* store,
                                                                    const std::string& state,
                                                                    RecalibratorOptions options) {
  const char* kOrigin = "recalibrator state";
  absl::StatusOr<google::protobuf::Struct> s = ParseJsonObject(state, kOrigin);
  if (!s.ok()) return s.status();
  absl::StatusOr<std::string> format = JsonString(*s, "format", kOrigin);
  if (!format.ok() || *format != "edgeloop-recalibrator-v1") {
    return absl::InvalidArgumentError("not a recalibrator state (format edgeloop-recalibrator-v1)");
  }
  absl::StatusOr<std::string> bundle = JsonString(*s, "model", kOrigin);
  if (!bundle.ok()) return bundle.status();
  absl::StatusOr<LatencyModel> model = ModelFromBundle(*bundle);
  if (!model.ok()) return model.status();
  if (auto st = model->CheckCompatible(model->meta().device); !st.ok()) return st;
  absl::StatusOr<std::vector<StoredMeasurement>> stored = store->Measurements(model->meta().device);
  if (!stored.ok()) return stored.status();
  std::unique_ptr<Recalibrator> r(new Recalibrator(store, std::move(*model), options));
  auto number = [&](const char* key) -> double {
    absl::StatusOr<double> v = JsonNumber(*s, key, kOrigin);
    return v.ok() ? *v : 0.0;
  };
  auto observed = [&](const char* key, std::deque<Observed>* out) -> absl::Status {
    const google::protobuf::Value* list = JsonField(*s, key);
    if (list == nullptr || !list->has_list_value()) {
      return absl::InvalidArgumentError(absl::StrCat(kOrigin, ": no \"", key, "\" list"));
    }
    for (const auto& item : list->list_value().values()) {
      const auto& pair = item.list_value();
      if (pair.values_size() != 2)
        return absl::InvalidArgumentError(absl::StrCat(kOrigin, ": bad \"", key, "\" entry"));
      const int64_t id = static_cast<int64_t>(pair.values(0).number_value());
      auto it = std::lower_bound(stored->begin(), stored->end(), id,
                                 [](const StoredMeasurement& m, int64_t v) { return m.id < v; });
      if (it == stored->end() || it->id != id) {
        return absl::FailedPreconditionError(
            absl::StrCat(kOrigin, ": measurement ", id, " is not in the store ", store->path()));
      }
      out->push_back({id, it->m, pair.values(1).number_value() != 0});
    }
    return absl::OkStatus();
  };
  if (auto st = observed("window", &r->window_); !st.ok()) return st;
  if (auto st = observed("regime", &r->regime_); !st.ok()) return st;
  if (const auto* residuals = JsonField(*s, "recent_residuals"); residuals != nullptr) {
    for (const auto& v : residuals->list_value().values())
      r->recent_residuals_.push_back(v.number_value());
  }
  r->regime_start_id_ = static_cast<int64_t>(number("regime_start_id"));
  r->since_residual_ = static_cast<int64_t>(number("since_residual"));
  r->degraded_for_ = static_cast<int64_t>(number("degraded_for"));
  r->since_refit_ = static_cast<int64_t>(number("since_refit"));
  r->last_drift_factor_ = number("last_drift_factor");
  r->last_state_ = JsonString(*s, "last_state", kOrigin).value_or("");  // older states: none
  r->saved_offset_ = number("saved_offset");
  const google::protobuf::Value* status = JsonField(*s, "status");
  if (status == nullptr || status->list_value().values_size() != 9) {
    return absl::InvalidArgumentError(absl::StrCat(kOrigin, ": no status"));
  }
  const auto& v = status->list_value();
  RecalibrationStatus& st = r->status_;
  st.observations = static_cast<int64_t>(v.values(0).number_value());
  st.measurement_id = static_cast<int64_t>(v.values(1).number_value());
  st.predicted_ms = v.values(2).number_value();
  st.relative_error = v.values(3).number_value();
  st.hit_rate = v.values(4).number_value();
  st.degraded = v.values(5).number_value() != 0;
  st.action = static_cast<RecalibrationAction>(static_cast<int>(v.values(6).number_value()));
  st.offset = v.values(7).number_value();
  st.model_version = static_cast<int64_t>(v.values(8).number_value());
  return r;
}

double Recalibrator::HitRate() const {
  if (window_.empty()) return 1.0;
  int hits = 0;
  for (const auto& o : window_) hits += o.hit;
  return static_cast<double>(hits) / window_.size();
}

absl::Status Recalibrator::SaveVersion(const std::string& kind) {
  auto version = SaveModelVersion(store_, &model_, kind);
  if (!version.ok()) return version.status();
  status_.model_version = *version;
  saved_offset_ = model_.meta().offset;
  return absl::OkStatus();
}

absl::Status Recalibrator::ResidualUpdate() {
  std::vector<Measurement> rows;
  const size_t first = regime_.size() > static_cast<size_t>(options_.recent_window)
                           ? regime_.size() - options_.recent_window
                           : 0;
  for (size_t i = first; i < regime_.size(); ++i) rows.push_back(regime_[i].m);
  if (auto s = model_.AppendResidualRounds(ArchDataset(rows), options_.residual_rounds,
                                           options_.residual_eta, options_.residual_depth);
      !s.ok()) {
    return s;
  }
  window_.clear();
  return SaveVersion("residual");
}

absl::Status Recalibrator::Refit() {
  auto stored = store_->Measurements(model_.meta().device);
  if (!stored.ok()) return stored.status();
  // Rows of earlier regimes describe another device state: with enough rows of the current
  // regime they are left out (down-weighting is not enough: they outnumber the new rows in
  // every leaf), otherwise they stay in with a small weight.
  std::vector<int> regime_rows, all_rows;
  for (size_t i = 0; i < stored->size(); ++i) {
    all_rows.push_back(static_cast<int>(i));
    if ((*stored)[i].id >= regime_start_id_) regime_rows.push_back(static_cast<int>(i));
  }
  const bool regime_only = static_cast<int>(regime_rows.size()) >= options_.refit_min_regime;
  Dataset data = ArchDataset(*stored).Subset(regime_only ? regime_rows : all_rows);
  const std::vector<int>& rows = regime_only ? regime_rows : all_rows;
  const int n = data.rows();
  data.weight.resize(n);
  for (int i = 0; i < n; ++i) {
    data.weight[i] = (*stored)[rows[i]].id < regime_start_id_
                         ? options_.old_regime_weight
                         : std::pow(0.5, (n - 1 - i) / options_.recency_half_life);
  }
  ModelMeta meta;
  meta.mode = kArchMode;
  meta.device = model_.meta().device;
  meta.target = model_.meta().target;
  auto refit = LatencyModel::Fit(data, meta, model_.meta().params);
  if (!refit.ok()) return refit.status();
  model_ = std::move(*refit);
  window_.clear();
  recent_residuals_.clear();
  since_refit_ = 0;
  degraded_for_ = 0;
  return SaveVersion("refit");
}

absl::Status Recalibrator::Observe(const Measurement& m) {
  if (m.device != model_.meta().device) {
    return absl::InvalidArgumentError(absl::StrCat("measurement of device \"", m.device,
                                                   "\" given to the recalibrator of \"",
                                                   model_.meta().device, "\""));
  }
  if (auto s = arch::ValidateStructure(m.arch); !s.ok()) return s;
  if (m.batch_size < 1 || !(m.median_ms > 0)) {
    return absl::InvalidArgumentError("measurement needs batch_size >= 1 and median_ms > 0");
  }
  const std::vector<float> x = ComputeFeatures(m.arch, m.batch_size);
  auto predicted = model_.PredictMs(x.data(), 1);
  if (!predicted.ok()) return predicted.status();
  const double pred = (*predicted)[0];
  // The measurement counts only once committed.
  auto id = store_->AddMeasurement(m, pred, status_.model_version);
  if (!id.ok()) return id.status();

  ++status_.observations;
  status_.measurement_id = *id;
  status_.predicted_ms = pred;
  status_.relative_error = (pred - m.median_ms) / m.median_ms;
  status_.action = RecalibrationAction::kOffset;
  const bool hit = std::fabs(status_.relative_error) <= options_.tolerance;
  double residual = std::log(m.median_ms / pred);

  window_.push_back({*id, m, hit});
  while (window_.size() > static_cast<size_t>(options_.error_window)) window_.pop_front();
  regime_.push_back({*id, m, hit});

  ModelMeta* meta = model_.mutable_meta();
  // Sentinel: a changed drift factor is direct evidence of a global change of speed.
  bool sentinel_moved = false;
  if (m.drift_factor > 0) {
    if (last_drift_factor_ > 0 &&
        std::fabs(m.drift_factor / last_drift_factor_ - 1) > options_.sentinel_jump) {
      const double jump = std::log(m.drift_factor / last_drift_factor_);
      meta->offset += jump;
      residual -= jump;
      sentinel_moved = true;
    }
    last_drift_factor_ = m.drift_factor;
  }
  // A changed device state (governor, frequency caps, power mode) is drift by definition:
  // the measurements before it describe another device.
  bool state_changed = false;
  if (!m.state_fingerprint.empty()) {
    state_changed = !last_state_.empty() && m.state_fingerprint != last_state_;
    last_state_ = m.state_fingerprint;
  }
  status_.state_changed = state_changed;
  recent_residuals_.push_back(residual);
  while (recent_residuals_.size() > static_cast<size_t>(kResidualMemory))
    recent_residuals_.pop_front();
  const double mean_recent =
      std::accumulate(recent_residuals_.begin(), recent_residuals_.end(), 0.0) /
      recent_residuals_.size();
  const double alpha = std::fabs(mean_recent) > options_.tolerance / 2 ? options_.offset_alpha_fast
                                                                       : options_.offset_alpha_slow;
  meta->offset += alpha * residual;
  status_.offset = meta->offset;

  // Drift detector: judged only once the window holds enough evidence.
  const bool judged = window_.size() >= static_cast<size_t>(options_.error_window / 2);
  status_.hit_rate = HitRate();
  const bool was_degraded = status_.degraded;
  if (judged) status_.degraded = status_.hit_rate < options_.hit_threshold;
  if (state_changed && !status_.degraded) {
    // Judge the new state on its own: the window of the old state says nothing about it.
    window_.clear();
    window_.push_back({*id, m, hit});
    status_.hit_rate = HitRate();
  }
  if (sentinel_moved || state_changed || (status_.degraded && !was_degraded)) {
    // A new regime begins at the sentinel jump or state change, or at the first miss of the
    // window.
    int64_t start = *id;
    if (!sentinel_moved && !state_changed) {
      for (const auto& o : window_) {
        if (!o.hit) {
          start = o.id;
          break;
        }
      }
    }
    regime_start_id_ = start;
    while (!regime_.empty() && regime_.front().id < start) regime_.pop_front();
  }
  while (regime_.size() > static_cast<size_t>(4 * options_.recent_window)) regime_.pop_front();

  ++since_refit_;
  // Only judged observations move the escalation clocks: after a residual update the
  // window refills before the model is judged again.
  if (judged && status_.degraded) {
    ++degraded_for_;
    ++since_residual_;
  } else if (judged) {
    degraded_for_ = 0;
  }
  const bool refit = degraded_for_ >= options_.refit_after_degraded ||
                     meta->residual_rounds > options_.max_residual_rounds ||
                     since_refit_ >= options_.refit_every;
  if (refit) {
    if (auto s = Refit(); !s.ok()) return s;
    status_.action = RecalibrationAction::kRefit;
  } else if (judged && status_.degraded && since_residual_ >= options_.residual_every &&
             regime_.size() >= static_cast<size_t>(options_.residual_min_samples)) {
    if (auto s = ResidualUpdate(); !s.ok()) return s;
    since_residual_ = 0;
    status_.action = RecalibrationAction::kResidual;
  } else if (std::fabs(meta->offset - saved_offset_) > options_.offset_snapshot) {
    if (auto s = SaveVersion("offset"); !s.ok()) return s;
  }
  status_.offset = model_.meta().offset;
  return absl::OkStatus();
}

}  // namespace edgeloop::predictor
