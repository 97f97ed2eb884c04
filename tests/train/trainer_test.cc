// `edgeloop train` as users run it: the real binary on generated HDF5 data, one or two
// processes, killed and resumed.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/atomic_file.h"
#include "gtest/gtest.h"
#include "supernet/run_dir.h"
#include "supernet/state_dict.h"
#include "tests/test_util.h"

namespace edgeloop {
namespace {

using testing::RunCommand;
using testing::RunEdgeloop;

class TrainTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir();
    // 2 layers x 8 lines = 16 samples of 32x32 frames.
    auto r = RunEdgeloop(absl::StrCat("data synth --out ", Data(),
                                      " --objects C027 --layers 2 --lines-per-layer 8 "
                                      "--frame-size 32 --seed 5"));
    ASSERT_EQ(r.exit_code, 0) << r.out;
  }
  static void TearDownTestSuite() { delete dir_; }

  static std::string Data() { return dir_->File("lpbf.h5"); }
  static std::string Space() { return testing::SourcePath("supernet/spaces/tiny.textproto"); }
  std::string Out(const std::string& name) { return dir_->File(name); }

  // The common flags of a small, exactly reproducible supernet run.
  static std::string Flags(const std::string& out, int steps, int batch) {
    return absl::StrCat("train --space ", Space(), " --data ", Data(), " --out ", out, " --steps ",
                        steps, " --batch-size ", batch,
                        " --seed 3 --threads 1 --workers 1 --quiet --lr 0.002");
  }

  static supernet::StateDict Weights(const std::string& run_dir) {
    auto run = supernet::RunDir::Open(run_dir);
    EXPECT_TRUE(run.ok()) << run.status();
    auto net = run->LoadSupernet();
    EXPECT_TRUE(net.ok()) << net.status();
    return supernet::StateDictOf(**net);
  }

  static void ExpectSameWeights(const std::string& a, const std::string& b, double atol) {
    auto wa = Weights(a), wb = Weights(b);
    ASSERT_EQ(wa.size(), wb.size());
    ASSERT_GT(wa.size(), 10u);
    for (const auto& [name, t] : wa) {
      ASSERT_TRUE(wb.count(name)) << name;
      EXPECT_TRUE(torch::allclose(t, wb[name], 0, atol))
          << name << " max diff " << (t - wb[name]).abs().max().item<double>();
    }
  }

  static testing::TempDir* dir_;
};
testing::TempDir* TrainTest::dir_ = nullptr;

// What a user sees of a run: the summary on stdout, the run directory's files, one
// log.jsonl line per logged step (each member's loss and architecture, which
// tools/bench/sandwich_bench.sh replays) and per validation, and summary.json.
TEST_F(TrainTest, ARunReportsOnStdoutAndInItsRunDirectory) {
  const std::string out = Out("report");
  auto r = RunEdgeloop(Flags(out, 4, 4) +
                       " --val-split all --val-samples 8 --val-every 2"
                       " --log-every 1");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  for (const char* line : {"trained 4 steps (", "  val MSE min ", "  val MSE max ",
                           "  val MSE of predicting the training mean "})
    EXPECT_NE(r.out.find(line), std::string::npos) << line << "\n" << r.out;
  for (const char* f : {"run.json", "space.textproto", "log.jsonl", "summary.json",
                        "checkpoints/ckpt-000000004.pt"})
    EXPECT_TRUE(std::filesystem::exists(out + "/" + f)) << f;
  auto log = ReadFile(out + "/log.jsonl");
  ASSERT_TRUE(log.ok()) << log.status();
  std::vector<std::string> lines;
  std::istringstream in(*log);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  ASSERT_EQ(lines.size(), 5u) << *log;  // steps 1-4 and the validation at step 2
  for (const std::string& line : {lines[0], lines[1], lines[3], lines[4]}) {
    for (const char* key :
         {"\"epoch\":0,\"lr\":", ",\"distill_weight\":", ",\"resolution\":", "\"loss\":{\"max\":",
          "\"subnets\":{\"max\":\"p", ",\"rand2\":\"p", "\"samples_per_s\":", "\"step_s\":"})
      EXPECT_NE(line.find(key), std::string::npos) << key << " in " << line;
  }
  // Distillation warms up over the first quarter, 48 px opens at 60% of the steps.
  EXPECT_EQ(lines[0].rfind("{\"step\":1,\"epoch\":0,", 0), 0u) << lines[0];
  EXPECT_NE(lines[0].find(",\"distill_weight\":0,\"resolution\":32,"), std::string::npos)
      << lines[0];
  EXPECT_EQ(lines[2].rfind("{\"step\":2,\"val_mse\":{\"min\":", 0), 0u) << lines[2];
  EXPECT_NE(lines[2].find("\"mean_predictor_mse\":"), std::string::npos) << lines[2];
  auto summary = ReadFile(out + "/summary.json");
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_EQ(summary->rfind("{\"steps\":4,\"samples_per_s\":", 0), 0u) << *summary;
  for (const char* key : {"\"val_split\":\"all\"", "\"min\":{\"mse\":", "\"max\":{\"mse\":",
                          "\"rmse_speed_mm_s\":", "\"samples\":8}", "\"mean_predictor_mse\":"})
    EXPECT_NE(summary->find(key), std::string::npos) << key << " in " << *summary;
}

// --init-supernet-from reads a real Python torch.save(model.state_dict()) file (the import
// fixture, tests/supernet/testdata/) into the shared weights of the space's baseline.
TEST_F(TrainTest, InitSupernetFromAPyTorchStateDict) {
  const std::string fixture = testing::SourcePath("tests/supernet/testdata/tiny_swin.pt");
  const std::string space = Out("fixture.textproto");
  {
    std::ofstream f(space);
    f << "name: \"fixture\"\npatch_size { t: [2] h: [4] w: [4] }\nembed_dim: [3, 6]\n"
         "stage { depth: [1, 2] num_heads: [1] }\nstage { depth: [2] num_heads: [2] }\n"
         "stage { depth: [1] num_heads: [3] }\nstage { depth: [1] num_heads: [4] }\n"
         "mlp_ratio: [1]\nwindow_size: [2, 2, 2]\nresolution: [20]\nframes: [4]\n"
         "named { name: \"baseline\" arch { patch_size: [2, 4, 4] embed_dim: 3 "
         "depths: [2, 2, 1, 1] num_heads: [1, 2, 3, 4] window_size: [2, 2, 2] mlp_ratio: 1 "
         "resolution: 20 frames: 4 } }\n";
  }
  const std::string out = Out("from_pytorch");
  // One step at a negligible learning rate: the saved weights are the imported ones.
  auto r = RunEdgeloop(absl::StrCat("train --space ", space, " --data ", Data(), " --out ", out,
                                    " --steps 1 --batch-size 2 --lr 1e-12 --weight-decay 0 "
                                    "--seed 3 --threads 1 --workers 1 --quiet "
                                    "--init-supernet-from ",
                                    fixture));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  auto run = supernet::RunDir::Open(out);
  ASSERT_TRUE(run.ok()) << run.status();
  auto net = run->LoadSupernet();
  ASSERT_TRUE(net.ok()) << net.status();
  auto baseline = (*net)->extract(*run->space().Named("baseline"));
  ASSERT_TRUE(baseline.ok()) << baseline.status();
  auto imported = supernet::ReadStateDictFile(fixture);
  ASSERT_TRUE(imported.ok()) << imported.status();
  for (const auto& p : (*baseline)->named_parameters()) {
    ASSERT_TRUE(imported->count(p.key())) << p.key();
    EXPECT_TRUE(torch::allclose(p.value(), imported->at(p.key()).to(torch::kFloat), 0, 1e-6))
        << p.key();
  }
  // A truncated file is refused before any training.
  auto bytes = ReadFile(fixture);
  ASSERT_TRUE(bytes.ok());
  ASSERT_TRUE(WriteFileAtomically(Out("cut.pt"), bytes->substr(0, 1000)).ok());
  r = RunEdgeloop(absl::StrCat("train --space ", space, " --data ", Data(), " --out ",
                               Out("from_cut"),
                               " --steps 1 --batch-size 2 --quiet "
                               "--init-supernet-from ",
                               Out("cut.pt")));
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find("truncated or corrupt PyTorch archive"), std::string::npos) << r.out;
}

TEST_F(TrainTest, TwoRanksEqualOneRankWithTheSameGlobalBatch) {
  // The whole split (16 samples) is one global batch, so both jobs see the same samples.
  const std::string common = " --head-dropout=false --random-subnets 1";
  auto one = RunEdgeloop(Flags(Out("one"), 3, 16) + common);
  ASSERT_EQ(one.exit_code, 0) << one.out;
  const int port = 29000 + static_cast<int>(getpid() % 1000);
  auto rank = [&](int r) {
    return absl::StrCat("RANK=", r, " WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=", port, " ",
                        testing::EdgeloopBinary(), " ", Flags(Out("two"), 3, 16), common);
  };
  auto two = RunCommand(
      absl::StrCat("{ (", rank(0), "; echo rc0=$?) & (", rank(1), "; echo rc1=$?); wait; } 2>&1"));
  ASSERT_NE(two.out.find("rc0=0"), std::string::npos) << two.out;
  ASSERT_NE(two.out.find("rc1=0"), std::string::npos) << two.out;
  // Summation order differs between the two jobs; AdamW's normalisation magnifies that
  // noise on near-zero gradients to ~1e-5. Different data would differ by ~lr = 2e-3.
  ExpectSameWeights(Out("one"), Out("two"), 1e-4);
}

TEST_F(TrainTest, KilledRunResumesToTheSameWeights) {
  const std::string flags = " --checkpoint-every 3 --keep-checkpoints 5 --log-every 1";
  auto straight = RunEdgeloop(Flags(Out("straight"), 12, 4) + flags);
  ASSERT_EQ(straight.exit_code, 0) << straight.out;

  const std::string out = Out("killed");
  pid_t pid = fork();
  if (pid == 0) {
    execl(
        "/bin/sh", "sh", "-c",
        (testing::EdgeloopBinary() + " " + Flags(out, 12, 4) + flags + " >/dev/null 2>&1").c_str(),
        nullptr);
    _exit(127);
  }
  // Kill -9 as soon as the second checkpoint exists.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!std::filesystem::exists(out + "/checkpoints/ckpt-000000006.pt") &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill(-pid, SIGKILL);
  kill(pid, SIGKILL);
  system(("pkill -9 -f 'out " + out + " ' 2>/dev/null").c_str());
  waitpid(pid, nullptr, 0);
  ASSERT_TRUE(std::filesystem::exists(out + "/checkpoints/ckpt-000000006.pt"));
  // A damaged newest checkpoint (a disk that lost its tail) is detected; the one before is used.
  std::ofstream(out + "/checkpoints/ckpt-000000009.pt") << "PK\x03\x04 cut short";

  auto resumed = RunEdgeloop(Flags(out, 12, 4) + flags + " --resume");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.out;
  EXPECT_NE(resumed.out.find("ckpt-000000009.pt is damaged"), std::string::npos) << resumed.out;
  EXPECT_NE(resumed.out.find("resuming from step 6"), std::string::npos) << resumed.out;
  ExpectSameWeights(Out("straight"), out, 1e-6);
  // The steps logged after the checkpoint it resumed from were dropped: each step once.
  std::ifstream log(out + "/log.jsonl");
  std::vector<int> steps;
  for (std::string line; std::getline(log, line);) {
    if (line.find("\"loss\"") == std::string::npos) continue;
    steps.push_back(std::atoi(line.c_str() + line.find("\"step\":") + 7));
  }
  std::vector<int> want(12);
  std::iota(want.begin(), want.end(), 1);
  EXPECT_EQ(steps, want);
}

TEST_F(TrainTest, SigtermWritesACheckpointAndExitsCleanly) {
  const std::string out = Out("sigterm");
  const std::string log = out + "/log.jsonl";
  pid_t pid = fork();
  if (pid == 0) {
    std::string cmd = testing::EdgeloopBinary() + " " + Flags(out, 100000, 4) +
                      " --checkpoint-every 100000 --log-every 1";
    execl("/bin/sh", "sh", "-c", ("exec " + cmd + " >" + out + ".txt 2>&1").c_str(), nullptr);
    _exit(127);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    std::ifstream in(log);
    std::string line;
    int lines = 0;
    while (std::getline(in, line)) ++lines;
    if (lines >= 2) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill(pid, SIGTERM);
  // A scheduler may send TERM again (Slurm to every process, then the job script's trap):
  // that does not cut the checkpoint short.
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 75);  // interrupted, state saved: a job script requeues on it
  std::ifstream in(out + ".txt");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("interrupted at step"), std::string::npos) << text;
  auto run = supernet::RunDir::Open(out);
  ASSERT_TRUE(run.ok());
  auto latest = run->LatestCheckpointPath();
  ASSERT_TRUE(latest.ok()) << latest.status();
  auto ckpt = supernet::ReadCheckpoint(*latest);
  ASSERT_TRUE(ckpt.ok()) << ckpt.status();
  EXPECT_GE(ckpt->step, 2);
}

TEST_F(TrainTest, StandaloneFromInheritedWeights) {
  auto sup = RunEdgeloop(Flags(Out("sup"), 2, 4));
  ASSERT_EQ(sup.exit_code, 0) << sup.out;
  const std::string arch =
      R"('{"patch_size":[4,4,4],"embed_dim":12,"depths":[1,1,1,1],"num_heads":[3,3,3,3],"window_size":[4,4,4],"mlp_ratio":1,"resolution":32,"frames":8}')";
  auto fine = RunEdgeloop(absl::StrCat("train --arch ", arch, " --init-from ", Out("sup"),
                                       " --data ", Data(), " --out ", Out("fine"),
                                       " --steps 4 --batch-size 4 --threads 1 --quiet"
                                       " --val-split all --val-samples 8"));
  ASSERT_EQ(fine.exit_code, 0) << fine.out;
  EXPECT_NE(fine.out.find("val MSE arch"), std::string::npos) << fine.out;
  // A stand-alone run is the run of a one-architecture space: eval/export work on it as is.
  auto run = supernet::RunDir::Open(Out("fine"));
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->space().NumArchitectures(), 1u);
}

TEST_F(TrainTest, BadInput) {
  auto r = RunEdgeloop(Flags(Out("bad1"), 2, 4));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  // The run exists: no silent overwrite.
  r = RunEdgeloop(Flags(Out("bad1"), 2, 4));
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find("already holds a run"), std::string::npos) << r.out;
  // Resuming it with another space.
  r = RunEdgeloop(absl::StrCat(
      "train --space ", testing::SourcePath("supernet/spaces/swin3d_lpbf.textproto"), " --data ",
      Data(), " --out ", Out("bad1"), " --steps 2 --batch-size 4 --resume --quiet"));
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find("another space or architecture"), std::string::npos) << r.out;
  // Resuming it as a two-process job.
  const int port = 30000 + static_cast<int>(getpid() % 1000);
  auto rank = [&](int rk) {
    return absl::StrCat("RANK=", rk, " WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=", port, " ",
                        testing::EdgeloopBinary(), " ", Flags(Out("bad1"), 4, 4), " --resume");
  };
  r = RunCommand(
      absl::StrCat("{ (", rank(0), "; echo rc0=$?) & (", rank(1), "; echo rc1=$?); wait; } 2>&1"));
  EXPECT_NE(r.out.find("rc0=2"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("resume with the same world size"), std::string::npos) << r.out;
  // --resume continues a run and never starts one.
  r = RunEdgeloop(Flags(Out("never_started"), 2, 4) + " --resume");
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find("holds no run to continue"), std::string::npos) << r.out;
  EXPECT_FALSE(std::filesystem::exists(Out("never_started")));
  r = RunEdgeloop(Flags(Out("bad2"), 2, 4) + " --data /nonexistent.h5");
  EXPECT_EQ(r.exit_code, 2) << r.out;
  r = RunEdgeloop(absl::StrCat("train --data ", Data(), " --out ", Out("bad3"), " --steps 1"));
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find("exactly one of --space"), std::string::npos) << r.out;
  r = RunEdgeloop(Flags(Out("bad4"), 2, 4) + " --batch-size 100");
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find("fewer than one batch"), std::string::npos) << r.out;
  // A failed start leaves no run behind.
  EXPECT_FALSE(std::filesystem::exists(Out("bad4") + "/checkpoints/ckpt-000000001.pt"));
  // Schedule flags out of range are refused before the run directory.
  r = RunEdgeloop(Flags(Out("bad5"), 2, 4) + " --progressive-resolution 1.5");
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find("flag --progressive-resolution: got 1.5, expected in [0, 1]"),
            std::string::npos)
      << r.out;
  EXPECT_FALSE(std::filesystem::exists(Out("bad5") + "/run.json"));
  // Stand-alone training has one resolution: --member-resolutions is refused.
  r = RunEdgeloop(absl::StrCat(
      "train --arch '{\"patch_size\":[4,4,4],\"embed_dim\":12,\"depths\":[1,1,1,1],"
      "\"num_heads\":[3,3,3,3],\"window_size\":[4,4,4],\"mlp_ratio\":1,\"resolution\":32,"
      "\"frames\":8}' --data ",
      Data(), " --out ", Out("bad6"), " --steps 1 --member-resolutions --quiet"));
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find("--member-resolutions goes with --space"), std::string::npos) << r.out;
  EXPECT_FALSE(std::filesystem::exists(Out("bad6") + "/run.json"));
}

}  // namespace
}  // namespace edgeloop
