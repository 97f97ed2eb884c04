// The durable measurement store: one SQLite database file.
//
// Tables (after the reference system's PostgreSQL schema, plus what the predictor needs):
//   meta(key, value)                 schema_version, created_by
//   edge_devices(id, fingerprint UNIQUE, name, created)
//   network_architectures(id, canonical_key UNIQUE, arch_json, params, flops, created)
//   edge_measurements(id, created, measured_at, network_architecture_id, device_id,
//                     batch_size, threads, median_ms, mean_ms, std_ms, min_ms, p10_ms,
//                     p90_ms, p99_ms, max_ms, runs, peak_memory_bytes, drift_factor, source,
//                     predicted_ms, model_version)
//   predictor_models(id, created, device_id, version, kind, training_size, feature_version,
//                    metrics_json, meta_json, model_json)
//
// Durability contract: the database runs in WAL mode with synchronous=FULL; every write is
// one transaction, and a measurement counts (is returned by queries, used by fits) only
// once its transaction committed, so a writer killed at any moment (kill -9) loses no
// committed row and leaves a consistent file. Several processes may read while one writes;
// writers wait up to `busy_timeout_ms` for each other. A file that is not SQLite, or an
// SQLite file that is not an edgeloop store, or one of a newer schema, is refused with a
// one-line InvalidArgument / FailedPrecondition error.
#ifndef EDGELOOP_PREDICTOR_STORE_H_
#define EDGELOOP_PREDICTOR_STORE_H_

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "predictor/measurement.h"

struct sqlite3;

namespace edgeloop::predictor {

inline constexpr int kStoreSchemaVersion = 2;

struct StoredMeasurement {
  int64_t id = 0;
  std::string created;  // commit time, ISO-8601 UTC
  Measurement m;
  double predicted_ms = std::numeric_limits<double>::quiet_NaN();  // NaN: none recorded
  int64_t model_version = 0;                                       // 0: none
};

struct ModelRecord {
  std::string device;
  int64_t version = 0;  // assigned by SaveModel: 1, 2, ... per device
  std::string kind;     // "fit", "bootstrap", "offset", "residual", "refit", ...
  int64_t training_size = 0;
  int feature_version = 0;
  std::string metrics_json = "{}";
  std::string meta_json = "{}";
  std::string model_json;  // an opaque blob to the store (model_io.h writes and reads it)
  std::string created;
};

struct DeviceSummary {
  std::string fingerprint;
  int64_t measurements = 0;
  int64_t models = 0;
  int64_t latest_model_version = 0;
};

struct StoreInfo {
  int schema_version = 0;
  int64_t devices = 0, architectures = 0, measurements = 0, models = 0;
  std::vector<DeviceSummary> per_device;
};

class MeasurementStore {
 public:
  enum class Mode {
    kReadWrite,  // creates the file and schema when missing
    kReadOnly,   // the file must exist and be a store
  };
  static absl::StatusOr<std::unique_ptr<MeasurementStore>> Open(const std::string& path,
                                                                Mode mode = Mode::kReadWrite,
                                                                int busy_timeout_ms = 10000);
  ~MeasurementStore();
  MeasurementStore(const MeasurementStore&) = delete;
  MeasurementStore& operator=(const MeasurementStore&) = delete;

  const std::string& path() const { return path_; }

  // Commits one measurement (and its device and architecture rows when new) in one
  // transaction; returns its id. `predicted_ms` / `model_version` record the prediction the
  // current model made before seeing it (NaN / 0 when none).
  absl::StatusOr<int64_t> AddMeasurement(
      const Measurement& m, double predicted_ms = std::numeric_limits<double>::quiet_NaN(),
      int64_t model_version = 0);
  // All or nothing: one transaction for the whole batch (imports).
  absl::StatusOr<std::vector<int64_t>> AddMeasurements(const std::vector<Measurement>& ms);

  // Measurements in commit order; `device` empty = every device.
  absl::StatusOr<std::vector<StoredMeasurement>> Measurements(const std::string& device = "") const;
  absl::StatusOr<int64_t> CountMeasurements(const std::string& device = "") const;

  // Stores a model version; fills in and returns record->version (previous max + 1).
  absl::StatusOr<int64_t> SaveModel(ModelRecord* record);
  // The latest version for `device` (NotFound when none), or a given version.
  absl::StatusOr<ModelRecord> LoadModel(const std::string& device, int64_t version = 0) const;
  absl::StatusOr<std::vector<ModelRecord>> ModelVersions(
      const std::string& device) const;  // without model_json

  absl::StatusOr<StoreInfo> Info() const;
  // "ok" or SQLite's list of problems.
  absl::StatusOr<std::string> IntegrityCheck() const;

 private:
  MeasurementStore(std::string path, sqlite3* db) : path_(std::move(path)), db_(db) {}
  absl::Status Initialize(Mode mode);
  absl::Status Migrate(const std::string& from);
  absl::Status Exec(const char* sql) const;
  absl::Status Error(const char* what) const;
  absl::StatusOr<int64_t> InsertMeasurementLocked(const Measurement& m, double predicted_ms,
                                                  int64_t model_version);
  absl::StatusOr<int64_t> DeviceId(const std::string& fingerprint, bool create);
  absl::StatusOr<int64_t> ArchitectureId(const ArchConfig& arch);
  template <typename Fn>
  absl::Status InTransaction(Fn&& fn);

  std::string path_;
  sqlite3* db_;
  bool has_state_column_ = true;  // false: a version 1 store opened read-only
};

}  // namespace edgeloop::predictor

#endif  // EDGELOOP_PREDICTOR_STORE_H_
