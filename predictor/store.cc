#include "predictor/store.h"

#include <sqlite3.h>
#include <sys/stat.h>

#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "arch/arch_config.h"
#include "arch/cost_model.h"

namespace edgeloop::predictor {
namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE edge_devices (
  id INTEGER PRIMARY KEY,
  fingerprint TEXT NOT NULL UNIQUE,
  name TEXT,
  created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')));
CREATE TABLE network_architectures (
  id INTEGER PRIMARY KEY,
  canonical_key TEXT NOT NULL UNIQUE,
  arch_json TEXT NOT NULL,
  params INTEGER NOT NULL,
  flops INTEGER NOT NULL,
  created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')));
CREATE TABLE edge_measurements (
  id INTEGER PRIMARY KEY,
  created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  measured_at TEXT NOT NULL,
  network_architecture_id INTEGER NOT NULL REFERENCES network_architectures(id),
  device_id INTEGER NOT NULL REFERENCES edge_devices(id),
  batch_size INTEGER NOT NULL CHECK (batch_size >= 1),
  threads INTEGER NOT NULL,
  median_ms REAL NOT NULL CHECK (median_ms > 0),
  mean_ms REAL, std_ms REAL, min_ms REAL, p10_ms REAL, p90_ms REAL, p99_ms REAL, max_ms REAL,
  runs INTEGER,
  peak_memory_bytes INTEGER,
  drift_factor REAL NOT NULL DEFAULT 1.0,
  source TEXT,
  predicted_ms REAL,
  model_version INTEGER,
  state_fingerprint TEXT);
CREATE INDEX edge_measurements_device ON edge_measurements(device_id, id);
CREATE TABLE predictor_models (
  id INTEGER PRIMARY KEY,
  created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  device_id INTEGER NOT NULL REFERENCES edge_devices(id),
  version INTEGER NOT NULL,
  kind TEXT NOT NULL,
  training_size INTEGER NOT NULL,
  feature_version INTEGER NOT NULL,
  metrics_json TEXT NOT NULL,
  meta_json TEXT NOT NULL,
  model_json BLOB NOT NULL,
  UNIQUE (device_id, version));
)sql";

// A prepared statement, finalized on scope exit.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql) {
    rc_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr);
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  bool ok() const { return rc_ == SQLITE_OK; }
  void Bind(int i, int64_t v) { sqlite3_bind_int64(stmt_, i, v); }
  void Bind(int i, double v) {
    if (std::isnan(v)) {
      sqlite3_bind_null(stmt_, i);
    } else {
      sqlite3_bind_double(stmt_, i, v);
    }
  }
  void Bind(int i, const std::string& v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  }
  void BindBlob(int i, const std::string& v) {
    sqlite3_bind_blob(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  }
  // SQLITE_ROW, SQLITE_DONE or an error code.
  int Step() { return rc_ = sqlite3_step(stmt_); }
  int64_t Int(int c) const { return sqlite3_column_int64(stmt_, c); }
  double Double(int c) const {
    return sqlite3_column_type(stmt_, c) == SQLITE_NULL ? std::nan("")
                                                        : sqlite3_column_double(stmt_, c);
  }
  std::string Text(int c) const {
    const void* p = sqlite3_column_blob(stmt_, c);
    return p ? std::string(static_cast<const char*>(p), sqlite3_column_bytes(stmt_, c)) : "";
  }

 private:
  sqlite3_stmt* stmt_ = nullptr;
  int rc_;
};

std::string NowIso() {
  char buf[32];
  time_t t = time(nullptr);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// Version 1 stores, read without migrating them, have no state_fingerprint column.
std::string SelectMeasurements(bool has_state_column) {
  return absl::StrCat(
      "SELECT m.id, m.created, m.measured_at, d.fingerprint, a.arch_json, m.batch_size, "
      "m.threads, m.median_ms, m.mean_ms, m.std_ms, m.min_ms, m.p10_ms, m.p90_ms, m.p99_ms, "
      "m.max_ms, m.runs, m.peak_memory_bytes, m.drift_factor, m.source, m.predicted_ms, "
      "m.model_version, ",
      has_state_column ? "m.state_fingerprint" : "NULL",
      " FROM edge_measurements m JOIN edge_devices d ON d.id = m.device_id"
      " JOIN network_architectures a ON a.id = m.network_architecture_id");
}

// The columns version, kind, training_size, feature_version, metrics_json, created (in this
// order, first in the row) of a predictor_models row, without the model itself.
ModelRecord ModelSummaryFromRow(Statement& q, const std::string& device) {
  ModelRecord r;
  r.device = device;
  r.version = q.Int(0);
  r.kind = q.Text(1);
  r.training_size = q.Int(2);
  r.feature_version = static_cast<int>(q.Int(3));
  r.metrics_json = q.Text(4);
  r.created = q.Text(5);
  return r;
}

}  // namespace

absl::Status MeasurementStore::Error(const char* what) const {
  const int code = sqlite3_errcode(db_);
  std::string msg = absl::StrCat(path_, ": ", what, ": ", sqlite3_errmsg(db_));
  if (code == SQLITE_NOTADB || code == SQLITE_CORRUPT) {
    return absl::InvalidArgumentError(
        absl::StrCat(path_, ": not a valid edgeloop store (", sqlite3_errmsg(db_), ")"));
  }
  if (code == SQLITE_BUSY || code == SQLITE_LOCKED) return absl::UnavailableError(msg);
  if (code == SQLITE_CONSTRAINT) return absl::InvalidArgumentError(msg);
  if (code == SQLITE_READONLY || code == SQLITE_CANTOPEN || code == SQLITE_PERM) {
    // WAL readers too need to write the -shm/-wal files next to the store.
    return absl::InvalidArgumentError(
        absl::StrCat(msg, " (the store and its directory must be writable by this user)"));
  }
  return absl::InternalError(msg);
}

absl::Status MeasurementStore::Exec(const char* sql) const {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    sqlite3_free(err);
    return Error(sql);
  }
  return absl::OkStatus();
}

template <typename Fn>
absl::Status MeasurementStore::InTransaction(Fn&& fn) {
  // IMMEDIATE takes the write lock up front, so two writers queue on the busy timeout
  // instead of deadlocking on a lock upgrade.
  if (auto s = Exec("BEGIN IMMEDIATE"); !s.ok()) return s;
  absl::Status s = fn();
  if (s.ok()) s = Exec("COMMIT");
  if (!s.ok()) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  return s;
}

absl::StatusOr<std::unique_ptr<MeasurementStore>> MeasurementStore::Open(const std::string& path,
                                                                         Mode mode,
                                                                         int busy_timeout_ms) {
  struct stat st;
  const bool exists = stat(path.c_str(), &st) == 0;
  if (!exists && mode == Mode::kReadOnly) {
    return absl::NotFoundError(absl::StrCat("no such store: ", path));
  }
  if (exists && !S_ISREG(st.st_mode)) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": not a regular file"));
  }
  sqlite3* db = nullptr;
  const int flags =
      mode == Mode::kReadOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
  if (sqlite3_open_v2(path.c_str(), &db, flags | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return absl::InvalidArgumentError(absl::StrCat("cannot open store ", path, ": ", msg));
  }
  std::unique_ptr<MeasurementStore> store(new MeasurementStore(path, db));
  sqlite3_busy_timeout(db, busy_timeout_ms);
  sqlite3_extended_result_codes(db, 0);
  if (auto s = store->Initialize(mode); !s.ok()) return s;
  return store;
}

MeasurementStore::~MeasurementStore() { sqlite3_close_v2(db_); }

absl::Status MeasurementStore::Initialize(Mode mode) {
  // Touching sqlite_master reads the header: a file that is not SQLite fails here.
  int64_t tables = 0;
  {
    Statement q(db_, "SELECT count(*) FROM sqlite_master");
    if (!q.ok() || q.Step() != SQLITE_ROW) return Error("reading the schema");
    tables = q.Int(0);
  }
  if (mode == Mode::kReadWrite) {
    if (auto s = Exec("PRAGMA journal_mode=WAL"); !s.ok()) return s;
    if (auto s = Exec("PRAGMA synchronous=FULL"); !s.ok()) return s;
  }
  if (auto s = Exec("PRAGMA foreign_keys=ON"); !s.ok()) return s;
  if (tables == 0) {
    if (mode == Mode::kReadOnly) {
      return absl::InvalidArgumentError(
          absl::StrCat(path_, ": empty database, not an edgeloop store"));
    }
    auto s = InTransaction([&]() -> absl::Status {
      Statement again(db_, "SELECT count(*) FROM sqlite_master");
      if (!again.ok() || again.Step() != SQLITE_ROW) return Error("reading the schema");
      if (again.Int(0) > 0) return absl::OkStatus();  // another process created it meanwhile
      if (auto st = Exec(kSchema); !st.ok()) return st;
      Statement meta(db_,
                     "INSERT INTO meta(key, value) VALUES ('schema_version', ?1), "
                     "('created_by', 'edgeloop predictor')");
      meta.Bind(1, absl::StrCat(kStoreSchemaVersion));
      if (meta.Step() != SQLITE_DONE) return Error("writing meta");
      return absl::OkStatus();
    });
    if (!s.ok()) return s;
  }
  std::string v;
  {
    Statement version(db_, "SELECT value FROM meta WHERE key = 'schema_version'");
    if (!version.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path_, ": an SQLite database but not an edgeloop store (no meta table)"));
    }
    if (version.Step() != SQLITE_ROW) {
      return absl::InvalidArgumentError(
          absl::StrCat(path_, ": edgeloop store without a schema_version"));
    }
    v = version.Text(0);
  }
  if (v == "1") {
    if (mode == Mode::kReadOnly) {
      has_state_column_ = false;
      return absl::OkStatus();
    }
    return Migrate(v);
  }
  if (v != absl::StrCat(kStoreSchemaVersion)) {
    return absl::FailedPreconditionError(absl::StrCat(path_, ": store schema version ", v,
                                                      ", this edgeloop reads version ",
                                                      kStoreSchemaVersion));
  }
  return absl::OkStatus();
}

// Version 1 -> 2: the state fingerprint of each measurement (NULL for the older ones). Inside
// a transaction, re-checked there: a concurrent opener may have migrated already.
absl::Status MeasurementStore::Migrate(const std::string& from) {
  return InTransaction([&]() -> absl::Status {
    std::string now;
    {
      Statement q(db_, "SELECT value FROM meta WHERE key = 'schema_version'");
      if (!q.ok() || q.Step() != SQLITE_ROW) return Error("reading the schema version");
      now = q.Text(0);
    }
    if (now != from) return absl::OkStatus();
    if (auto s = Exec("ALTER TABLE edge_measurements ADD COLUMN state_fingerprint TEXT"); !s.ok())
      return s;
    Statement up(db_, "UPDATE meta SET value = ?1 WHERE key = 'schema_version'");
    up.Bind(1, absl::StrCat(kStoreSchemaVersion));
    if (up.Step() != SQLITE_DONE) return Error("updating the schema version");
    return absl::OkStatus();
  });
}

absl::StatusOr<int64_t> MeasurementStore::DeviceId(const std::string& fingerprint, bool create) {
  {
    Statement q(db_, "SELECT id FROM edge_devices WHERE fingerprint = ?1");
    q.Bind(1, fingerprint);
    const int rc = q.Step();
    if (rc == SQLITE_ROW) return q.Int(0);
    if (rc != SQLITE_DONE) return Error("looking up a device");
  }
  if (!create) return absl::NotFoundError(absl::StrCat(path_, ": no device \"", fingerprint, "\""));
  Statement ins(db_, "INSERT INTO edge_devices(fingerprint, name) VALUES (?1, ?1)");
  ins.Bind(1, fingerprint);
  if (ins.Step() != SQLITE_DONE) return Error("adding a device");
  return sqlite3_last_insert_rowid(db_);
}

absl::StatusOr<int64_t> MeasurementStore::ArchitectureId(const ArchConfig& arch) {
  const std::string key = arch::CanonicalKey(arch);
  {
    Statement q(db_, "SELECT id FROM network_architectures WHERE canonical_key = ?1");
    q.Bind(1, key);
    const int rc = q.Step();
    if (rc == SQLITE_ROW) return q.Int(0);
    if (rc != SQLITE_DONE) return Error("looking up an architecture");
  }
  const arch::Cost cost = arch::ComputeCost(arch);
  Statement ins(db_,
                "INSERT INTO network_architectures(canonical_key, arch_json, params, flops) "
                "VALUES (?1, ?2, ?3, ?4)");
  ins.Bind(1, key);
  ins.Bind(2, arch::ArchToJson(arch));
  ins.Bind(3, cost.params);
  ins.Bind(4, cost.flops);
  if (ins.Step() != SQLITE_DONE) return Error("adding an architecture");
  return sqlite3_last_insert_rowid(db_);
}

absl::StatusOr<int64_t> MeasurementStore::InsertMeasurementLocked(const Measurement& m,
                                                                  double predicted_ms,
                                                                  int64_t model_version) {
  if (m.device.empty())
    return absl::InvalidArgumentError("measurement without a device fingerprint");
  if (auto s = arch::ValidateStructure(m.arch); !s.ok()) return s;
  if (m.batch_size < 1) {
    return absl::InvalidArgumentError(absl::StrCat("batch size ", m.batch_size, ", expected >= 1"));
  }
  if (!(m.median_ms > 0) || !std::isfinite(m.median_ms)) {
    return absl::InvalidArgumentError(
        absl::StrCat("median latency ", m.median_ms, " ms, expected a positive number"));
  }
  auto device = DeviceId(m.device, /*create=*/true);
  if (!device.ok()) return device.status();
  auto arch = ArchitectureId(m.arch);
  if (!arch.ok()) return arch.status();
  Statement ins(db_,
                "INSERT INTO edge_measurements(measured_at, network_architecture_id, device_id,"
                " batch_size, threads, median_ms, mean_ms, std_ms, min_ms, p10_ms, p90_ms, p99_ms,"
                " max_ms, runs, peak_memory_bytes, drift_factor, source, predicted_ms,"
                " model_version, state_fingerprint) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,"
                "?12,?13,?14,?15,?16,?17,?18,?19,?20)");
  ins.Bind(1, m.measured_at.empty() ? NowIso() : m.measured_at);
  ins.Bind(2, *arch);
  ins.Bind(3, *device);
  ins.Bind(4, static_cast<int64_t>(m.batch_size));
  ins.Bind(5, static_cast<int64_t>(m.threads));
  ins.Bind(6, m.median_ms);
  const double stats[] = {m.mean_ms, m.std_ms, m.min_ms, m.p10_ms, m.p90_ms, m.p99_ms, m.max_ms};
  for (int i = 0; i < 7; ++i) ins.Bind(7 + i, stats[i]);
  ins.Bind(14, static_cast<int64_t>(m.runs));
  ins.Bind(15, m.peak_memory_bytes);
  ins.Bind(16, m.drift_factor > 0 ? m.drift_factor : 1.0);
  ins.Bind(17, m.source);
  ins.Bind(18, predicted_ms);
  ins.Bind(19, model_version);
  ins.Bind(20, m.state_fingerprint);
  if (ins.Step() != SQLITE_DONE) return Error("adding a measurement");
  return sqlite3_last_insert_rowid(db_);
}

absl::StatusOr<int64_t> MeasurementStore::AddMeasurement(const Measurement& m, double predicted_ms,
                                                         int64_t model_version) {
  int64_t id = 0;
  auto s = InTransaction([&]() -> absl::Status {
    auto r = InsertMeasurementLocked(m, predicted_ms, model_version);
    if (!r.ok()) return r.status();
    id = *r;
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return id;
}

absl::StatusOr<std::vector<int64_t>> MeasurementStore::AddMeasurements(
    const std::vector<Measurement>& ms) {
  std::vector<int64_t> ids;
  auto s = InTransaction([&]() -> absl::Status {
    for (size_t i = 0; i < ms.size(); ++i) {
      auto r = InsertMeasurementLocked(ms[i], std::nan(""), 0);
      if (!r.ok()) {
        return absl::Status(r.status().code(),
                            absl::StrCat("measurement ", i + 1, ": ", r.status().message()));
      }
      ids.push_back(*r);
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return ids;
}

absl::StatusOr<std::vector<StoredMeasurement>> MeasurementStore::Measurements(
    const std::string& device) const {
  std::string sql = SelectMeasurements(has_state_column_);
  if (!device.empty()) sql += " WHERE d.fingerprint = ?1";
  sql += " ORDER BY m.id";
  Statement q(db_, sql.c_str());
  if (!q.ok()) return Error("reading measurements");
  if (!device.empty()) q.Bind(1, device);
  std::vector<StoredMeasurement> out;
  int rc;
  while ((rc = q.Step()) == SQLITE_ROW) {
    StoredMeasurement s;
    s.id = q.Int(0);
    s.created = q.Text(1);
    Measurement& m = s.m;
    m.measured_at = q.Text(2);
    m.device = q.Text(3);
    auto arch = arch::ArchFromJson(q.Text(4));
    if (!arch.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          path_, ": measurement ", s.id, ": bad architecture JSON: ", arch.status().message()));
    }
    m.arch = *arch;
    m.batch_size = static_cast<int>(q.Int(5));
    m.threads = static_cast<int>(q.Int(6));
    m.median_ms = q.Double(7);
    double* stats[] = {&m.mean_ms, &m.std_ms, &m.min_ms, &m.p10_ms,
                       &m.p90_ms,  &m.p99_ms, &m.max_ms};
    for (int i = 0; i < 7; ++i) *stats[i] = q.Double(8 + i);
    m.runs = static_cast<int>(q.Int(15));
    m.peak_memory_bytes = q.Int(16);
    m.drift_factor = q.Double(17);
    m.source = q.Text(18);
    s.predicted_ms = q.Double(19);
    s.model_version = q.Int(20);
    m.state_fingerprint = q.Text(21);
    out.push_back(std::move(s));
  }
  if (rc != SQLITE_DONE) return Error("reading measurements");
  return out;
}

absl::StatusOr<int64_t> MeasurementStore::CountMeasurements(const std::string& device) const {
  Statement q(db_, device.empty()
                       ? "SELECT count(*) FROM edge_measurements"
                       : "SELECT count(*) FROM edge_measurements m JOIN edge_devices d ON "
                         "d.id = m.device_id WHERE d.fingerprint = ?1");
  if (!device.empty()) q.Bind(1, device);
  if (!q.ok() || q.Step() != SQLITE_ROW) return Error("counting measurements");
  return q.Int(0);
}

absl::StatusOr<int64_t> MeasurementStore::SaveModel(ModelRecord* record) {
  auto s = InTransaction([&]() -> absl::Status {
    auto device = DeviceId(record->device, /*create=*/true);
    if (!device.ok()) return device.status();
    Statement next(
        db_, "SELECT coalesce(max(version), 0) + 1 FROM predictor_models WHERE device_id = ?1");
    next.Bind(1, *device);
    if (next.Step() != SQLITE_ROW) return Error("numbering a model version");
    record->version = next.Int(0);
    Statement ins(db_,
                  "INSERT INTO predictor_models(device_id, version, kind, training_size,"
                  " feature_version, metrics_json, meta_json, model_json)"
                  " VALUES (?1,?2,?3,?4,?5,?6,?7,?8)");
    ins.Bind(1, *device);
    ins.Bind(2, record->version);
    ins.Bind(3, record->kind);
    ins.Bind(4, record->training_size);
    ins.Bind(5, static_cast<int64_t>(record->feature_version));
    ins.Bind(6, record->metrics_json);
    ins.Bind(7, record->meta_json);
    ins.BindBlob(8, record->model_json);
    if (ins.Step() != SQLITE_DONE) return Error("saving a model");
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return record->version;
}

absl::StatusOr<ModelRecord> MeasurementStore::LoadModel(const std::string& device,
                                                        int64_t version) const {
  Statement q(db_, version > 0 ? "SELECT p.version, p.kind, p.training_size, p.feature_version,"
                                 " p.metrics_json, p.created, p.meta_json, p.model_json FROM"
                                 " predictor_models p JOIN edge_devices d ON d.id = p.device_id"
                                 " WHERE d.fingerprint = ?1 AND p.version = ?2"
                               : "SELECT p.version, p.kind, p.training_size, p.feature_version,"
                                 " p.metrics_json, p.created, p.meta_json, p.model_json FROM"
                                 " predictor_models p JOIN edge_devices d ON d.id = p.device_id"
                                 " WHERE d.fingerprint = ?1 ORDER BY p.version DESC LIMIT 1");
  q.Bind(1, device);
  if (version > 0) q.Bind(2, version);
  const int rc = q.Step();
  if (rc == SQLITE_DONE) {
    return absl::NotFoundError(absl::StrCat(path_, ": no model",
                                            version > 0 ? absl::StrCat(" version ", version) : "",
                                            " for device \"", device, "\""));
  }
  if (rc != SQLITE_ROW) return Error("loading a model");
  ModelRecord r = ModelSummaryFromRow(q, device);
  r.meta_json = q.Text(6);
  r.model_json = q.Text(7);
  return r;
}

absl::StatusOr<std::vector<ModelRecord>> MeasurementStore::ModelVersions(
    const std::string& device) const {
  Statement q(db_,
              "SELECT p.version, p.kind, p.training_size, p.feature_version, p.metrics_json,"
              " p.created FROM predictor_models p JOIN edge_devices d ON d.id = p.device_id"
              " WHERE d.fingerprint = ?1 ORDER BY p.version");
  q.Bind(1, device);
  std::vector<ModelRecord> out;
  int rc;
  while ((rc = q.Step()) == SQLITE_ROW) out.push_back(ModelSummaryFromRow(q, device));
  if (rc != SQLITE_DONE) return Error("listing models");
  return out;
}

absl::StatusOr<StoreInfo> MeasurementStore::Info() const {
  StoreInfo info;
  info.schema_version = has_state_column_ ? kStoreSchemaVersion : 1;
  Statement totals(db_,
                   "SELECT (SELECT count(*) FROM edge_devices), (SELECT count(*) FROM "
                   "network_architectures), (SELECT count(*) FROM edge_measurements), "
                   "(SELECT count(*) FROM predictor_models)");
  if (!totals.ok() || totals.Step() != SQLITE_ROW) return Error("reading totals");
  info.devices = totals.Int(0);
  info.architectures = totals.Int(1);
  info.measurements = totals.Int(2);
  info.models = totals.Int(3);
  Statement per(db_,
                "SELECT d.fingerprint, (SELECT count(*) FROM edge_measurements m WHERE "
                "m.device_id = d.id), (SELECT count(*) FROM predictor_models p WHERE "
                "p.device_id = d.id), (SELECT coalesce(max(version), 0) FROM "
                "predictor_models p WHERE p.device_id = d.id) FROM edge_devices d ORDER BY d.id");
  int rc;
  while ((rc = per.Step()) == SQLITE_ROW) {
    info.per_device.push_back({per.Text(0), per.Int(1), per.Int(2), per.Int(3)});
  }
  if (rc != SQLITE_DONE) return Error("reading devices");
  return info;
}

absl::StatusOr<std::string> MeasurementStore::IntegrityCheck() const {
  Statement q(db_, "PRAGMA integrity_check");
  std::string out;
  int rc;
  while ((rc = q.Step()) == SQLITE_ROW) absl::StrAppend(&out, out.empty() ? "" : "; ", q.Text(0));
  if (rc != SQLITE_DONE) return Error("integrity_check");
  return out;
}

}  // namespace edgeloop::predictor
