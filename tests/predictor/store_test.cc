#include "predictor/store.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <set>

#include "arch/arch_config.h"
#include "base/atomic_file.h"
#include "gtest/gtest.h"
#include "predictor/synthetic_device.h"
#include "tests/predictor/predictor_test_util.h"
#include "tests/test_util.h"

namespace edgeloop::predictor {
namespace {

using testing::TempDir;

std::unique_ptr<MeasurementStore> OpenOrDie(
    const std::string& path, MeasurementStore::Mode mode = MeasurementStore::Mode::kReadWrite) {
  auto store = MeasurementStore::Open(path, mode);
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? std::move(*store) : nullptr;
}

// A child process that commits measurements forever, writing each committed id to `fd`.
[[noreturn]] void WriterChild(const std::string& path, int fd, int max_rows) {
  auto store = MeasurementStore::Open(path);
  if (!store.ok()) _exit(3);
  const arch::Space space = DefaultSpace();
  SyntheticDevice device("child-device", 5);
  Rng rng(11);
  for (int i = 0; i < max_rows; ++i) {
    auto id = (*store)->AddMeasurement(device.Measure(space.Sample(&rng), 1));
    if (!id.ok()) _exit(4);
    const int64_t v = *id;
    if (write(fd, &v, sizeof v) != sizeof v) _exit(5);
  }
  _exit(0);
}

// Forks a WriterChild of at most `max_rows` rows; its pid (-1 on failure), with the read end
// of the pipe it reports committed ids on in *read_fd.
pid_t ForkWriter(const std::string& path, int max_rows, int* read_fd) {
  int fds[2];
  if (pipe(fds) != 0) return -1;
  const pid_t child = fork();
  if (child == 0) {
    close(fds[0]);
    WriterChild(path, fds[1], max_rows);
  }
  close(fds[1]);
  *read_fd = fds[0];
  return child;
}

TEST(StoreTest, RoundTripsMeasurementsAndModels) {
  TempDir dir;
  auto store = OpenOrDie(dir.File("m.db"));
  ASSERT_NE(store, nullptr);
  SyntheticDevice device("orin-maxn", 1);
  Measurement m = device.Measure(arch::BaselineArch(), 2);
  m.threads = 4;
  m.peak_memory_bytes = 123456789;
  m.measured_at = "2026-01-02T03:04:05Z";
  auto id = store->AddMeasurement(m, 12.5, 3);
  ASSERT_TRUE(id.ok()) << id.status();
  ASSERT_TRUE(store->AddMeasurement(m).ok());  // same architecture: one architecture row
  auto rows = store->Measurements("orin-maxn");
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), 2u);
  const StoredMeasurement& s = (*rows)[0];
  EXPECT_EQ(s.id, *id);
  EXPECT_TRUE(arch::ArchEqual(s.m.arch, m.arch));
  EXPECT_EQ(s.m.batch_size, 2);
  EXPECT_EQ(s.m.threads, 4);
  EXPECT_DOUBLE_EQ(s.m.median_ms, m.median_ms);
  EXPECT_DOUBLE_EQ(s.m.p99_ms, m.p99_ms);
  EXPECT_DOUBLE_EQ(s.m.std_ms, m.std_ms);
  EXPECT_EQ(s.m.runs, 5);
  EXPECT_EQ(s.m.peak_memory_bytes, 123456789);
  EXPECT_EQ(s.m.measured_at, "2026-01-02T03:04:05Z");
  EXPECT_EQ(s.m.source, "synthetic");
  EXPECT_DOUBLE_EQ(s.predicted_ms, 12.5);
  EXPECT_EQ(s.model_version, 3);
  EXPECT_TRUE(std::isnan((*rows)[1].predicted_ms));
  EXPECT_TRUE(store->Measurements("other")->empty());

  ModelRecord r;
  r.device = "orin-maxn";
  r.kind = "fit";
  r.training_size = 2;
  r.feature_version = 1;
  r.model_json = "{\"blob\":1}";
  ASSERT_TRUE(store->SaveModel(&r).ok());
  EXPECT_EQ(r.version, 1);
  ASSERT_TRUE(store->SaveModel(&r).ok());
  EXPECT_EQ(r.version, 2);
  auto latest = store->LoadModel("orin-maxn");
  ASSERT_TRUE(latest.ok()) << latest.status();
  EXPECT_EQ(latest->version, 2);
  EXPECT_EQ(latest->model_json, "{\"blob\":1}");
  EXPECT_TRUE(absl::IsNotFound(store->LoadModel("orin-maxn", 7).status()));
  EXPECT_TRUE(absl::IsNotFound(store->LoadModel("nobody").status()));

  auto info = store->Info();
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->measurements, 2);
  EXPECT_EQ(info->architectures, 1);
  EXPECT_EQ(info->models, 2);
  ASSERT_EQ(info->per_device.size(), 1u);
  EXPECT_EQ(info->per_device[0].latest_model_version, 2);
  EXPECT_EQ(*store->IntegrityCheck(), "ok");

  // Reopened read-only from another connection: the same rows.
  auto ro = OpenOrDie(dir.File("m.db"), MeasurementStore::Mode::kReadOnly);
  EXPECT_EQ(*ro->CountMeasurements(), 2);
}

// Version 1 stores (before the state fingerprint): read as they are read-only, migrated when
// opened for writing.
TEST(StoreTest, VersionOneStoresAreReadAndMigrated) {
  TempDir dir;
  const std::string path = dir.File("v1.db");
  const arch::Space space = DefaultSpace();
  SyntheticDevice device("dev", 5);
  Rng rng(3);
  Measurement with_state = device.Measure(space.Sample(&rng), 1);
  with_state.state_fingerprint = "0123456789abcdef";
  {
    auto store = OpenOrDie(path);
    ASSERT_TRUE(store->AddMeasurement(with_state).ok());
    auto back = store->Measurements("dev");
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(back->at(0).m.state_fingerprint, "0123456789abcdef");
  }
  ASSERT_EQ(testing::RunCommand("sqlite3 " + path +
                                " \"ALTER TABLE edge_measurements DROP COLUMN state_fingerprint;"
                                " UPDATE meta SET value='1' WHERE key='schema_version'\"")
                .exit_code,
            0);
  {
    auto ro = OpenOrDie(path, MeasurementStore::Mode::kReadOnly);
    ASSERT_NE(ro, nullptr);
    auto rows = ro->Measurements("dev");
    ASSERT_TRUE(rows.ok()) << rows.status();
    ASSERT_EQ(rows->size(), 1u);
    EXPECT_EQ(rows->at(0).m.state_fingerprint, "");
    EXPECT_EQ(ro->Info()->schema_version, 1);
  }
  auto rw = OpenOrDie(path);
  ASSERT_NE(rw, nullptr);
  EXPECT_EQ(rw->Info()->schema_version, kStoreSchemaVersion);
  ASSERT_TRUE(rw->AddMeasurement(with_state).ok());
  auto rows = rw->Measurements("dev");
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ(rows->at(0).m.state_fingerprint, "");
  EXPECT_EQ(rows->at(1).m.state_fingerprint, "0123456789abcdef");
}

TEST(StoreTest, RejectsInvalidMeasurementsWithoutWriting) {
  TempDir dir;
  auto store = OpenOrDie(dir.File("m.db"));
  Measurement m;
  m.device = "d";
  m.arch = arch::BaselineArch();
  m.batch_size = 1;
  m.median_ms = -1;
  EXPECT_TRUE(absl::IsInvalidArgument(store->AddMeasurement(m).status()));
  m.median_ms = 1;
  m.batch_size = 0;
  EXPECT_TRUE(absl::IsInvalidArgument(store->AddMeasurement(m).status()));
  // A batch import is all or nothing.
  Measurement good = m;
  good.batch_size = 1;
  EXPECT_FALSE(store->AddMeasurements({good, good, m}).ok());
  EXPECT_EQ(*store->CountMeasurements(), 0);
}

TEST(StoreTest, CorruptForeignAndMissingFilesAreClearErrors) {
  TempDir dir;
  { std::ofstream(dir.File("junk.db")) << "this is not an SQLite database, just text\n"; }
  auto junk = MeasurementStore::Open(dir.File("junk.db"));
  ASSERT_FALSE(junk.ok());
  EXPECT_TRUE(absl::IsInvalidArgument(junk.status())) << junk.status();
  EXPECT_NE(junk.status().message().find("not a valid edgeloop store"), std::string::npos)
      << junk.status();
  // The junk file is left as it was.
  EXPECT_EQ(*ReadFile(dir.File("junk.db")), "this is not an SQLite database, just text\n");

  ASSERT_EQ(
      testing::RunCommand("sqlite3 " + dir.File("foreign.db") + " 'CREATE TABLE t(x);'").exit_code,
      0);
  auto foreign = MeasurementStore::Open(dir.File("foreign.db"));
  ASSERT_FALSE(foreign.ok());
  EXPECT_NE(foreign.status().message().find("not an edgeloop store"), std::string::npos)
      << foreign.status();

  EXPECT_TRUE(absl::IsNotFound(
      MeasurementStore::Open(dir.File("missing.db"), MeasurementStore::Mode::kReadOnly).status()));

  { auto store = OpenOrDie(dir.File("new.db")); }
  ASSERT_EQ(testing::RunCommand("sqlite3 " + dir.File("new.db") +
                                " \"UPDATE meta SET value='99' WHERE key='schema_version'\"")
                .exit_code,
            0);
  auto newer = MeasurementStore::Open(dir.File("new.db"));
  ASSERT_FALSE(newer.ok());
  EXPECT_NE(newer.status().message().find("schema version 99"), std::string::npos)
      << newer.status();
}

TEST(StoreTest, KilledWriterLosesNoCommittedRow) {
  TempDir dir;
  const std::string path = dir.File("crash.db");
  { OpenOrDie(path); }  // schema first, so the kill lands among measurement writes
  int fd = -1;
  const pid_t child = ForkWriter(path, 1000000, &fd);
  ASSERT_GE(child, 0);
  std::vector<int64_t> committed;
  int64_t id;
  while (committed.size() < 40 && read(fd, &id, sizeof id) == sizeof id) committed.push_back(id);
  ASSERT_EQ(kill(child, SIGKILL), 0);  // mid-way: the child is inside its write loop
  // Ids reported between the last read and the kill are committed too.
  while (read(fd, &id, sizeof id) == sizeof id) committed.push_back(id);
  close(fd);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(WTERMSIG(status), SIGKILL);
  ASSERT_GE(committed.size(), 40u);

  auto store = OpenOrDie(path);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(*store->IntegrityCheck(), "ok");
  auto rows = store->Measurements();
  ASSERT_TRUE(rows.ok()) << rows.status();
  std::set<int64_t> present;
  for (const auto& r : *rows) present.insert(r.id);
  for (int64_t c : committed) EXPECT_TRUE(present.count(c)) << "committed row " << c << " lost";
  // At most the one in-flight transaction beyond what was reported.
  EXPECT_LE(rows->size(), committed.size() + 1);
  // And the store keeps working.
  SyntheticDevice device("after", 1);
  EXPECT_TRUE(store->AddMeasurement(device.Measure(arch::BaselineArch(), 1)).ok());
}

TEST(StoreTest, ReadersSeeConsistentDataWhileAnotherProcessWrites) {
  TempDir dir;
  const std::string path = dir.File("concurrent.db");
  { OpenOrDie(path); }
  constexpr int kRows = 150;
  int fd = -1;
  const pid_t child = ForkWriter(path, kRows, &fd);
  ASSERT_GE(child, 0);
  auto reader = OpenOrDie(path, MeasurementStore::Mode::kReadOnly);
  ASSERT_NE(reader, nullptr);
  int64_t last = 0, reads = 0, seen_mid_write = 0;
  for (;;) {
    auto n = reader->CountMeasurements();
    ASSERT_TRUE(n.ok()) << n.status();  // never SQLITE_BUSY for a WAL reader
    EXPECT_GE(*n, last);                // committed rows never disappear
    last = *n;
    ++reads;
    if (*n > 0 && *n < kRows) ++seen_mid_write;
    auto rows = reader->Measurements();
    ASSERT_TRUE(rows.ok()) << rows.status();
    EXPECT_GE(static_cast<int64_t>(rows->size()), last);
    if (last == kRows) break;
    int status;
    if (waitpid(child, &status, WNOHANG) == child) {
      ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
      EXPECT_EQ(*reader->CountMeasurements(), kRows);
      break;
    }
  }
  close(fd);
  waitpid(child, nullptr, 0);
  EXPECT_GT(seen_mid_write, 0) << "the reader never overlapped the writer (" << reads << " reads)";
}

}  // namespace
}  // namespace edgeloop::predictor
