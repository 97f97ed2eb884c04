// The supernet commands as a user runs them: init, export (--run and --from-state-dict),
// eval on a generated data file, and every bad-input case (exit code 2, one-line error).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>

#include <torch/script.h>

#include "absl/strings/str_cat.h"
#include "arch/space.h"
#include "base/atomic_file.h"
#include "supernet/evaluate.h"
#include "supernet/run_dir.h"
#include "supernet/state_dict.h"
#include "supernet/video_swin.h"
#include "tests/test_util.h"

namespace edgeloop::supernet {
namespace {

using testing::RunEdgeloop;
using testing::SourcePath;
using testing::TempDir;

const std::string kTiny = SourcePath("supernet/spaces/tiny.textproto");

// One run directory and one data file shared by the tests of this file.
class SupernetCliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    auto r = RunEdgeloop("init --space " + kTiny + " --out " + Run() + " --seed 4");
    ASSERT_EQ(r.exit_code, 0) << r.out;
    r = RunEdgeloop("data synth --out " + Data() +
                    " --objects C027 --layers 2 --lines-per-layer 6 --frame-size 32 --seed 1");
    ASSERT_EQ(r.exit_code, 0) << r.out;
  }
  static void TearDownTestSuite() { delete dir_; }
  static std::string Run() { return dir_->File("run"); }
  static std::string Data() { return dir_->File("data.h5"); }
  static std::string File(const std::string& name) { return dir_->File(name); }
  static TempDir* dir_;
};
TempDir* SupernetCliTest::dir_ = nullptr;

TEST_F(SupernetCliTest, InitWritesTheRunLayout) {
  for (const char* f :
       {"space.textproto", "run.json", "checkpoints/latest", "checkpoints/ckpt-000000000.pt"}) {
    EXPECT_TRUE(std::filesystem::exists(Run() + "/" + f)) << f;
  }
  auto run = RunDir::Open(Run());
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_EQ(run->seed(), 4u);
  EXPECT_EQ(run->space().name(), "tiny");
  auto net = run->LoadSupernet();
  ASSERT_TRUE(net.ok()) << net.status();
  // The same seed gives the same weights.
  auto fresh = MakeSupernet(run->space(), 4);
  ASSERT_TRUE(fresh.ok());
  auto a = StateDictOf(**net), b = StateDictOf(**fresh);
  for (const auto& [name, t] : b) EXPECT_TRUE(torch::equal(a.at(name), t)) << name;
  // A second init into the same directory is refused.
  auto r = RunEdgeloop("init --space " + kTiny + " --out " + Run());
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find("already holds a run"), std::string::npos) << r.out;
}

TEST_F(SupernetCliTest, CheckpointRoundTripKeepsExtras) {
  auto run = RunDir::Open(Run());
  ASSERT_TRUE(run.ok());
  auto path = run->LatestCheckpointPath();
  ASSERT_TRUE(path.ok());
  auto ckpt = ReadCheckpoint(*path);
  ASSERT_TRUE(ckpt.ok()) << ckpt.status();
  EXPECT_EQ(ckpt->step, 0);
  EXPECT_EQ(ckpt->space_fingerprint, SpaceFingerprint(run->space()));
  ckpt->step = 7;
  ckpt->extras["optimizer"] = torch::IValue(std::string("adam-state"));
  ASSERT_TRUE(WriteCheckpoint(File("extra.pt"), *ckpt).ok());
  auto back = ReadCheckpoint(File("extra.pt"));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->step, 7);
  EXPECT_EQ(back->extras.at("optimizer").toStringRef(), "adam-state");
  EXPECT_EQ(back->model.size(), ckpt->model.size());
}

TEST_F(SupernetCliTest, ExportFromRunLoadsBackWithEqualOutputs) {
  const std::string out = File("min.pt");
  auto r = RunEdgeloop("export --run " + Run() + " --arch min --out " + out);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  auto run = RunDir::Open(Run());
  auto net = run->LoadSupernet();
  ASSERT_TRUE(net.ok());
  auto model = (*net)->extract(run->space().Min());
  ASSERT_TRUE(model.ok());
  (*model)->eval();
  torch::jit::Module loaded = torch::jit::load(out);
  loaded.eval();
  torch::NoGradGuard no_grad;
  const ArchConfig arch = run->space().Min();
  torch::Tensor x = torch::randn({2, 1, arch.frames(), arch.resolution(), arch.resolution()});
  EXPECT_LT((loaded.forward({x}).toTensor() - (*model)->forward(x)).abs().max().item<double>(),
            1e-5);
  auto json = ReadFile(File("min.json"));
  ASSERT_TRUE(json.ok());
  EXPECT_TRUE(arch::ArchEqual(*arch::ArchFromJson(*json), arch));
}

TEST_F(SupernetCliTest, ExportFromStateDict) {
  const ArchConfig arch = arch::Space::FromFile(kTiny)->Max();
  auto model = MakeVideoSwin(arch, 12);
  ASSERT_TRUE(model.ok());
  StateDict state = StateDictOf(**model);
  ASSERT_TRUE(WriteStateDictFile(File("good.pt"), state).ok());
  ASSERT_TRUE(WriteFileAtomically(File("arch.json"), arch::ArchToJson(arch)).ok());
  auto r = RunEdgeloop("export --from-state-dict " + File("good.pt") + " --arch " +
                       File("arch.json") + " --out " + File("imported.pt"));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  torch::jit::Module loaded = torch::jit::load(File("imported.pt"));
  (*model)->eval();
  torch::NoGradGuard no_grad;
  torch::Tensor x = torch::randn({1, 1, arch.frames(), arch.resolution(), arch.resolution()});
  EXPECT_LT((loaded.forward({x}).toTensor() - (*model)->forward(x)).abs().max().item<double>(),
            1e-5);

  state.erase("norm.bias");
  state["bogus"] = torch::zeros({2});
  state["linear_layers.2.weight"] = torch::zeros({3, 200});
  ASSERT_TRUE(WriteStateDictFile(File("bad.pt"), state).ok());
  r = RunEdgeloop("export --from-state-dict " + File("bad.pt") + " --arch " + File("arch.json") +
                  " --out " + File("bad_out.pt"));
  EXPECT_EQ(r.exit_code, 2) << r.out;
  for (const char* needle : {"missing: norm.bias", "unexpected: bogus",
                             "linear_layers.2.weight [3,200] (expected [2,200])"})
    EXPECT_NE(r.out.find(needle), std::string::npos) << r.out;
  EXPECT_FALSE(std::filesystem::exists(File("bad_out.pt")));
}

TEST_F(SupernetCliTest, BadInputExitsWithTwo) {
  struct Case {
    std::string args, needle;
  };
  const std::vector<Case> cases = {
      // architecture outside the run's space
      {"export --run " + Run() + " --arch baseline --out " + File("x.pt"),
       "outside the run's space"},
      {"eval --run " + Run() + " --arch baseline --data " + Data(), "outside the run's space"},
      // not a run directory / not a state dict
      {"export --run " + File("nowhere") + " --arch min --out " + File("x.pt"),
       "not a run directory"},
      {"export --from-state-dict " + kTiny + " --arch baseline --out " + File("x.pt"),
       "not a torch.save file"},
      {"export --run " + Run() + " --from-state-dict x.pt --arch min --out " + File("x.pt"),
       "exactly one of"},
      {"eval --run " + Run() + " --arch min --data " + Data() + " --threads 0", "--threads"},
  };
  for (const Case& c : cases) {
    auto r = RunEdgeloop(c.args);
    EXPECT_EQ(r.exit_code, 2) << c.args << "\n" << r.out;
    EXPECT_NE(r.out.find(c.needle), std::string::npos) << c.args << "\n" << r.out;
  }
}

TEST_F(SupernetCliTest, CheckpointOfAnotherSpaceIsDetected) {
  // A run of a different space whose checkpoint is dropped into our run.
  auto text = ReadFile(kTiny);
  ASSERT_TRUE(text.ok());
  std::string other = *text;
  other.replace(other.find("mlp_ratio: [1, 2]"), 17, "mlp_ratio: [1, 3]");
  ASSERT_TRUE(WriteFileAtomically(File("other.textproto"), other).ok());
  auto r = RunEdgeloop("init --space " + File("other.textproto") + " --out " + File("other_run"));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  std::filesystem::copy(File("run"), File("mixed"), std::filesystem::copy_options::recursive);
  std::filesystem::copy_file(File("other_run/checkpoints/ckpt-000000000.pt"),
                             File("mixed/checkpoints/ckpt-000000000.pt"),
                             std::filesystem::copy_options::overwrite_existing);
  r = RunEdgeloop("export --run " + File("mixed") + " --arch min --out " + File("x.pt"));
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find("another search space"), std::string::npos) << r.out;
}

TEST_F(SupernetCliTest, EvalReportsLossAndRmse) {
  auto r = RunEdgeloop("eval --run " + Run() + " --arch min --data " + Data() +
                       " --split C027 --samples 6 --batch-size 4 --json");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("\"samples\":6"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"mse\":"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"rmse_speed_mm_s\":"), std::string::npos) << r.out;

  // The same numbers as the library call on the extracted model.
  auto run = RunDir::Open(Run());
  auto net = run->LoadSupernet();
  ASSERT_TRUE(net.ok());
  EvalOptions options;
  options.files = {Data()};
  options.split = "C027";
  options.max_samples = 6;
  options.batch_size = 4;
  auto result = EvaluateSubnet(**net, run->space().Min(), options);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->samples, 6);
  EXPECT_GT(result->mse, 0);
  EXPECT_NEAR(result->rmse_speed_mm_s,
              std::sqrt(2 * result->mse - std::pow(result->rmse_power_w / 215.0, 2)) * 900.0, 1e-3);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "\"mse\":%.9g", result->mse);
  EXPECT_NE(r.out.find(buf), std::string::npos) << r.out << " vs " << buf;
}

}  // namespace
}  // namespace edgeloop::supernet
