// End-to-end tests of `edgeloop search`: a real run directory, real HDF5 data written by
// the generator, a real measurement store, and a real edge server on loopback.
#include <signal.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/atomic_file.h"
#include "base/json.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace edgeloop {
namespace {

using testing::RunCommand;
using testing::RunEdgeloop;
using testing::TempDir;

// An `edgeloop serve` process on a free loopback port, stopped at destruction.
class EdgeServerProcess {
 public:
  explicit EdgeServerProcess(const std::string& dir) {
    const std::string log = dir + "/serve.log";
    const std::string pid_file = dir + "/serve.pid";
    RunCommand(absl::StrCat(testing::EdgeloopBinary(),
                            " serve --listen 127.0.0.1:0 --threads 1 --sentinel-interval -1 > ",
                            log, " 2>&1 & echo $! > ", pid_file));
    for (int i = 0; i < 200 && url_.empty(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      auto text = ReadFile(log);
      if (!text.ok()) continue;
      const size_t at = text->find("ws://");
      if (at == std::string::npos) continue;
      const size_t end = text->find_first_of(" \n", at);
      url_ = text->substr(at, end - at);
    }
    auto pid = ReadFile(pid_file);
    if (pid.ok()) pid_ = std::atoi(pid->c_str());
  }
  ~EdgeServerProcess() {
    if (pid_ > 0) ::kill(pid_, SIGTERM);
  }
  const std::string& url() const { return url_; }

 private:
  std::string url_;
  int pid_ = 0;
};

class SearchCliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir;
    const std::string d = dir_->path();
    auto r = RunEdgeloop(absl::StrCat("data synth --out ", d,
                                      "/lpbf.h5 --objects C027,C028 --layers 4 "
                                      "--lines-per-layer 6 --frame-size 48 --seed 1"));
    ASSERT_EQ(r.exit_code, 0) << r.out;
    r = RunEdgeloop(absl::StrCat("init --space ",
                                 testing::SourcePath("supernet/spaces/tiny.textproto"), " --out ",
                                 d, "/run --seed 1"));
    ASSERT_EQ(r.exit_code, 0) << r.out;
    r = RunEdgeloop(absl::StrCat("predictor bootstrap --simulate --space ",
                                 testing::SourcePath("supernet/spaces/tiny.textproto"),
                                 " --samples 16 --db ", d, "/boot.db --out ", d,
                                 "/model.json --folds 3"));
    ASSERT_EQ(r.exit_code, 0) << r.out;
  }
  static void TearDownTestSuite() { delete dir_; }

  static std::string Base(const std::string& out, const std::string& db) {
    const std::string d = dir_->path();
    return absl::StrCat("search --run ", d, "/run --data ", d,
                        "/lpbf.h5 --val-split C028 --predictor ", d, "/model.json --db ", db,
                        " --out ", out,
                        " --population 6 --generations 2 --samples 12 --eval-batch 6 --threads 1 "
                        "--workers 1 --seed 3 --quiet");
  }
  static TempDir* dir_;
};
TempDir* SearchCliTest::dir_ = nullptr;

google::protobuf::Struct ReadJson(const std::string& path) {
  auto text = ReadFile(path);
  EXPECT_TRUE(text.ok()) << path;
  auto parsed = ParseJsonObject(text.ok() ? *text : "{}", path);
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  return parsed.ok() ? *parsed : google::protobuf::Struct();
}

TEST_F(SearchCliTest, LiveEdgeVerifiesTheFrontAndWritesEveryOutput) {
  TempDir work;
  EdgeServerProcess server(work.path());
  ASSERT_FALSE(server.url().empty());
  const std::string out = work.File("search");
  auto r = RunEdgeloop(Base(out, work.File("m.db")) + " --edge " + server.url() +
                       " --measure-per-gen 2 --edge-wait 120 --warmup-runs 2 --min-runs 5 "
                       "--max-time-ms 300 --target-ci 0.05");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  // The predictor was bootstrapped on the simulated device: the search says so and
  // recalibrates it on the live stream.
  EXPECT_NE(r.out.find("fitted for device \"simulated\""), std::string::npos) << r.out;
  for (const char* file : {"front.csv", "front.json", "log.jsonl", "pareto.png", "state.json",
                           "chosen/model.pt", "chosen/model.json", "chosen/candidate.json"}) {
    EXPECT_TRUE(ReadFile(out + "/" + file).ok()) << file;
  }
  auto front = ReadJson(out + "/front.json");
  EXPECT_TRUE(JsonField(front, "verified")->bool_value()) << r.out;
  const auto& members = JsonField(front, "front")->list_value();
  ASSERT_GT(members.values_size(), 0);
  for (const auto& m : members.values()) {
    EXPECT_TRUE(JsonField(m.struct_value(), "verified")->bool_value());
    EXPECT_GT(JsonNumber(m.struct_value(), "measured_ms", "").value(), 0);
  }
  auto csv = ReadFile(out + "/front.csv");
  std::vector<std::string> rows = absl::StrSplit(*csv, '\n', absl::SkipEmpty());
  EXPECT_EQ(static_cast<int>(rows.size()) - 1, members.values_size());
  // The chosen model is the exported one.
  auto chosen_key = JsonString(JsonField(front, "chosen")->struct_value(), "key", "").value();
  auto exported = ReadFile(out + "/chosen/candidate.json");
  EXPECT_NE(exported->find(chosen_key), std::string::npos);
  // Every measurement went to the store.
  auto info = RunEdgeloop("store info --db " + work.File("m.db"));
  EXPECT_EQ(info.exit_code, 0) << info.out;
  const int measured = static_cast<int>(JsonNumber(front, "measured", "").value());
  EXPECT_GE(measured, members.values_size());
  EXPECT_NE(info.out.find(absl::StrCat(measured)), std::string::npos) << info.out;
  auto log = ReadFile(out + "/log.jsonl");
  int generation_lines = 0;
  for (absl::string_view line : absl::StrSplit(*log, '\n', absl::SkipEmpty())) {
    generation_lines += absl::StrContains(line, "\"generation\"");
  }
  EXPECT_EQ(generation_lines, 3);

  // Resuming a finished search reproduces its outputs without new work; resuming under
  // other settings is refused; a second search into the same directory is refused.
  auto again = RunEdgeloop(Base(out, work.File("m.db")) + " --edge " + server.url() + " --resume");
  EXPECT_EQ(again.exit_code, 0) << again.out;
  EXPECT_EQ(JsonField(ReadJson(out + "/front.json"), "front")->DebugString(),
            JsonField(front, "front")->DebugString());
  auto other = RunEdgeloop(Base(out, work.File("m.db")) + " --samples 10 --resume");
  EXPECT_EQ(other.exit_code, 2) << other.out;
  EXPECT_NE(other.out.find("other settings"), std::string::npos) << other.out;
  auto clash = RunEdgeloop(Base(out, work.File("m.db")));
  EXPECT_EQ(clash.exit_code, 2) << clash.out;
  EXPECT_NE(clash.out.find("--resume"), std::string::npos) << clash.out;
  // --resume continues a saved search and never starts one.
  auto nothing = RunEdgeloop(Base(work.File("never_started"), work.File("m.db")) + " --resume");
  EXPECT_EQ(nothing.exit_code, 2) << nothing.out;
  EXPECT_NE(nothing.out.find("holds no saved search"), std::string::npos) << nothing.out;
}

// Under a two-process launch rank 0 searches and both ranks score: the same result as one
// process.
TEST_F(SearchCliTest, TwoRanksScoreLikeOne) {
  TempDir work;
  auto one = RunEdgeloop(Base(work.File("one"), work.File("one.db")));
  ASSERT_EQ(one.exit_code, 0) << one.out;
  const int port = testing::FreeLoopbackPort();
  auto rank = [&](int r) {
    return absl::StrCat("RANK=", r, " WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=", port, " ",
                        testing::EdgeloopBinary(), " ",
                        Base(work.File("two"), work.File("two.db")));
  };
  auto two = RunCommand(
      absl::StrCat("{ (", rank(0), "; echo rc0=$?) & (", rank(1), "; echo rc1=$?); wait; } 2>&1"));
  EXPECT_NE(two.out.find("rc0=0"), std::string::npos) << two.out;
  EXPECT_NE(two.out.find("rc1=0"), std::string::npos) << two.out;
  EXPECT_EQ(ReadFile(work.File("two") + "/front.csv").value_or("two"),
            ReadFile(work.File("one") + "/front.csv").value_or("one"));
}

TEST_F(SearchCliTest, UnreachableEdgeLeavesLatenciesMarkedUnverified) {
  TempDir work;
  const std::string out = work.File("search");
  auto r =
      RunEdgeloop(Base(out, work.File("m.db")) +
                  " --edge ws://127.0.0.1:9 --connect-timeout 1 --edge-wait 0.2 --verify-rounds 1");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("edge unreachable"), std::string::npos) << r.out;
  auto front = ReadJson(out + "/front.json");
  EXPECT_FALSE(JsonField(front, "verified")->bool_value());
  EXPECT_NE(JsonString(front, "message", "").value().find("predicted latencies only"),
            std::string::npos);
  auto csv = ReadFile(out + "/front.csv");
  EXPECT_NE(csv->find(",0,"), std::string::npos);  // verified = 0
}

TEST_F(SearchCliTest, BadInputIsRefusedClearly) {
  TempDir work;
  const std::string d = dir_->path();
  // An impossible latency budget: said, the fastest subnet reported, outputs still written.
  auto r = RunEdgeloop(Base(work.File("c"), work.File("m.db")) +
                       " --objective constrained --max-latency-ms 0.000001");
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find("no subnet found under"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("the fastest found is"), std::string::npos) << r.out;
  EXPECT_TRUE(ReadFile(work.File("c") + "/front.json").ok());

  r = RunEdgeloop(Base(work.File("x"), work.File("m.db")) + " --objective best");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find("unknown objective"), std::string::npos) << r.out;

  ASSERT_TRUE(WriteFileAtomically(work.File("bad.json"), "{not json").ok());
  r = RunEdgeloop(absl::StrCat("search --run ", d, "/run --data ", d,
                               "/lpbf.h5 --val-split C028 --predictor ", work.File("bad.json"),
                               " --db ", work.File("m.db"), " --out ", work.File("y")));
  EXPECT_EQ(r.exit_code, 2) << r.out;

  r = RunEdgeloop(Base(work.File("z"), work.File("m.db")) + " --val-split C099");
  EXPECT_EQ(r.exit_code, 2) << r.out;

  // A saved search resumed against a run of another space.
  auto made = RunEdgeloop(absl::StrCat("init --space ",
                                       testing::SourcePath("supernet/spaces/swin3d_lpbf.textproto"),
                                       " --out ", work.File("other_run"), " --seed 1"));
  ASSERT_EQ(made.exit_code, 0) << made.out;
  std::string resume = Base(work.File("c"), work.File("m.db")) +
                       " --objective constrained --max-latency-ms 0.000001 --resume";
  resume.replace(resume.find(d + "/run"), (d + "/run").size(), work.File("other_run"));
  r = RunEdgeloop(resume);
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find("other settings"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace edgeloop
