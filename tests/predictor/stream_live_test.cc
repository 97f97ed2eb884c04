// `edgeloop predictor bootstrap` and `predictor stream` against a real `edgeloop serve` on
// loopback (tiny space, quick measurement settings): the live path end to end, a server
// that dies mid-stream and comes back, and no server at all.
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "arch/arch_config.h"
#include "gtest/gtest.h"
#include "predictor/store.h"
#include "tests/test_util.h"

namespace edgeloop::predictor {
namespace {

using testing::TempDir;

// `edgeloop serve` in a child process; killed (SIGKILL, as a crash) at destruction.
class ServerProcess {
 public:
  ServerProcess(int port, const std::string& log) {
    pid_ = fork();
    if (pid_ == 0) {
      const std::string cmd =
          absl::StrCat("exec ", testing::EdgeloopBinary(), " serve --listen 127.0.0.1:", port,
                       " --threads 1 > ", log, " 2>&1");
      execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    // Ready once it printed its address.
    for (int i = 0; i < 300; ++i) {
      std::ifstream in(log);
      std::stringstream text;
      text << in.rdbuf();
      if (text.str().find("listening on") != std::string::npos) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ADD_FAILURE() << "edgeloop serve did not start";
  }
  ~ServerProcess() { Kill(); }
  void Kill() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
};

// Quick, coarse measurements: the tiny space's forwards take milliseconds.
constexpr char kQuick[] =
    " --warmup-runs 1 --warmup-ms 20 --min-runs 3 --max-runs 5 --max-time-ms 200 --target-ci 0.5";

TEST(StreamLiveTest, BootstrapThenStreamSurvivesAServerRestart) {
  TempDir dir;
  const int port = testing::FreeLoopbackPort();
  const std::string url = absl::StrCat("ws://127.0.0.1:", port);
  const std::string space = testing::SourcePath("supernet/spaces/tiny.textproto");
  const std::string db = dir.File("live.db");
  auto server = std::make_unique<ServerProcess>(port, dir.File("serve1.log"));

  auto boot = testing::RunEdgeloop(absl::StrCat(
      "predictor bootstrap --edge ", url, " --space ", space,
      " --samples 8 --folds 2 --device cpu-test --db ", db, " --out ", dir.File("m.json"), kQuick));
  ASSERT_EQ(boot.exit_code, 0) << boot.out;
  EXPECT_NE(boot.out.find("8 new measurements"), std::string::npos) << boot.out;

  // The stream runs while the server is killed after its first row and restarted a
  // moment later on the same port: the client reconnects and resends. It asks for
  // paired-reference (speed-normalised) measurements.
  const std::string cmd = absl::StrCat(
      testing::EdgeloopBinary(), " predictor stream --edge ", url, " --space ", space,
      " --samples 4 --seed 2 --device cpu-test --db ", db, kQuick, " --paired-reference 2>&1");
  FILE* pipe = popen(cmd.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string out;
  char line[4096];
  int rows = 0;
  while (fgets(line, sizeof(line), pipe) != nullptr) {
    out += line;
    if (std::string(line).rfind("[", 0) == 0 && ++rows == 1) {
      server->Kill();
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      server = std::make_unique<ServerProcess>(port, dir.File("serve2.log"));
    }
  }
  const int status = pclose(pipe);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0) << out;
  EXPECT_NE(out.find("4 measured, 0 skipped"), std::string::npos) << out;
  EXPECT_NE(out.find("before-update predictions: n=4"), std::string::npos) << out;
  for (int i = 1; i <= 4; ++i)
    EXPECT_NE(out.find(absl::StrCat("[", i, "/4] ")), std::string::npos) << out;

  // 12 distinct architectures committed: the 8 of the bootstrap as measured, the 4
  // streamed ones speed-normalised.
  auto store = MeasurementStore::Open(db, MeasurementStore::Mode::kReadOnly);
  ASSERT_TRUE(store.ok()) << store.status();
  auto stored = (*store)->Measurements("cpu-test");
  ASSERT_TRUE(stored.ok());
  ASSERT_EQ(stored->size(), 12u);
  std::set<std::string> keys;
  for (size_t i = 0; i < stored->size(); ++i) {
    const Measurement& m = (*stored)[i].m;
    keys.insert(arch::CanonicalKey(m.arch));
    EXPECT_EQ(m.source, i < 8 ? "edge" : "edge-normalized");
    EXPECT_GT(m.median_ms, 0);
    if (i >= 8) {
      EXPECT_EQ(m.drift_factor, 1.0);
    }
  }
  EXPECT_EQ(keys.size(), 12u);
}

TEST(StreamLiveTest, NoServerIsAClearErrorWithExitCode2) {
  TempDir dir;
  const std::string url = absl::StrCat("ws://127.0.0.1:", testing::FreeLoopbackPort());
  const std::string space = testing::SourcePath("supernet/spaces/tiny.textproto");
  auto r = testing::RunEdgeloop(absl::StrCat("predictor stream --edge ", url, " --space ", space,
                                             " --samples 2 --connect-timeout 1 --db ",
                                             dir.File("x.db")));
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find("no edge server reachable"), std::string::npos) << r.out;
  auto b = testing::RunEdgeloop(absl::StrCat("predictor bootstrap --edge ", url, " --space ", space,
                                             " --samples 2 --connect-timeout 1 --db ",
                                             dir.File("x.db"), " --out ", dir.File("m.json")));
  EXPECT_EQ(b.exit_code, 2) << b.out;
  // Bad flags of the stream.
  auto neither = testing::RunEdgeloop(
      absl::StrCat("predictor stream --space ", space, " --db ", dir.File("x.db")));
  EXPECT_EQ(neither.exit_code, 2) << neither.out;
  EXPECT_NE(neither.out.find("exactly one of --edge and --simulate"), std::string::npos)
      << neither.out;
  auto no_model = testing::RunEdgeloop(
      absl::StrCat("predictor stream --simulate --space ", space, " --db ", dir.File("x.db")));
  EXPECT_EQ(no_model.exit_code, 2) << no_model.out;
  auto bad_design = testing::RunEdgeloop(
      absl::StrCat("predictor bootstrap --simulate --design sobol --space ", space, " --db ",
                   dir.File("x.db"), " --out ", dir.File("m.json")));
  EXPECT_EQ(bad_design.exit_code, 2) << bad_design.out;
  EXPECT_NE(bad_design.out.find("expected flops, lhs or mixed"), std::string::npos)
      << bad_design.out;
}

}  // namespace
}  // namespace edgeloop::predictor
