// Latency models (latency_model.h) as files, as one-document bundles, and as versions in the
// measurement store (store.h). The model knows nothing of its formats, the store treats a
// model as an opaque blob; this is where the two meet.
//
// Files: MODEL.json is booster 0 in XGBoost's JSON format (Python xgboost 1.7 loads it:
// Booster(model_file=...).predict(DMatrix(X)) equals MemberMargins()[0]); the other boosters
// are MODEL.json.member<k>.json; MODEL.json.meta.json is the sidecar (ModelMetaJson in
// model_meta.proto): format, mode, device, feature version and names, target, training
// size, CV metrics, prior, log_offset, residual rounds, store version, params, the member
// files and the prediction formula. Saving is atomic per file, the sidecar last.
//
// Bundle: {"meta": <sidecar without member files>, "members": [<booster JSON>, ...]}
// (ModelBundleJson), the form the store keeps.
//
// Reading: keys are the proto field names and unknown keys are ignored, so every sidecar
// and bundle written since the first version loads ("cv": null, as older files have it, is
// no CV). "format" must be "edgeloop-latency-model", "mode" arch or tabular, and
// "feature_names" and "params" present; other missing keys read as zero or empty. All
// errors about a document are InvalidArgument naming it.
#ifndef EDGELOOP_PREDICTOR_MODEL_IO_H_
#define EDGELOOP_PREDICTOR_MODEL_IO_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "predictor/latency_model.h"
#include "predictor/store.h"

namespace edgeloop::predictor {

inline constexpr const char* kModelFormat = "edgeloop-latency-model";

// The sidecar document of `meta`, naming `member_files` (empty in a bundle).
std::string ModelMetaToJson(const ModelMeta& meta,
                            const std::vector<std::string>& member_files = {});
// Parses a sidecar; `member_files` (may be null) receives its member file names.
absl::StatusOr<ModelMeta> ModelMetaFromJson(absl::string_view json, absl::string_view origin,
                                            std::vector<std::string>* member_files = nullptr);

// Writes MODEL.json (`path`), its member files and its sidecar.
absl::Status SaveModel(const LatencyModel& model, const std::string& path);
// NotFound when neither `path` nor its sidecar exists; InvalidArgument for a file without a
// sidecar, a sidecar whose member list does not match params.ensemble, or bad contents.
absl::StatusOr<LatencyModel> LoadModel(const std::string& path);

// The store's form of a model. Deterministic: equal models give equal bundles.
absl::StatusOr<std::string> SerializeModelBundle(const LatencyModel& model);
absl::StatusOr<LatencyModel> ModelFromBundle(absl::string_view bundle);

// Saves `model` as the next version of its device in the store's predictor_models and
// records that version in its meta; returns the version.
absl::StatusOr<int64_t> SaveModelVersion(MeasurementStore* store, LatencyModel* model,
                                         const std::string& kind);
// Loads a version (0 = latest) of a device's model from the store and checks that it fits
// this edgeloop's features and the device.
absl::StatusOr<LatencyModel> LoadModelVersion(const MeasurementStore& store,
                                              const std::string& device, int64_t version = 0);

}  // namespace edgeloop::predictor

#endif  // EDGELOOP_PREDICTOR_MODEL_IO_H_
