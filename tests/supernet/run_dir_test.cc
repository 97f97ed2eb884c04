// Run directories: a damaged newest checkpoint falls back to the newest intact one for every
// reader (the library, `edgeloop eval`, `edgeloop export --run`), keep-last pruning, a
// training job's preparation of its directory, and training checkpoints that resume exactly.
#include "supernet/run_dir.h"

#include <gtest/gtest.h>

#include <filesystem>

#include <torch/script.h>

#include "base/atomic_file.h"
#include "tests/test_util.h"

namespace edgeloop::supernet {
namespace {

using testing::RunEdgeloop;
using testing::SourcePath;
using testing::TempDir;

const std::string kTiny = SourcePath("supernet/spaces/tiny.textproto");

// Moves every weight, so checkpoints of different steps hold different supernets.
void Perturb(SupernetImpl& net, double by) {
  torch::NoGradGuard no_grad;
  for (auto& p : net.parameters()) p.add_(by);
}

bool SameWeights(SupernetImpl& a, SupernetImpl& b) {
  const StateDict x = StateDictOf(a), y = StateDictOf(b);
  for (const auto& [name, t] : x)
    if (!torch::equal(t, y.at(name))) return false;
  return true;
}

TEST(RunDirTest, KeepLastPrunesOldCheckpoints) {
  TempDir dir;
  auto run = RunDir::Create(dir.File("run"), kTiny, 3);
  ASSERT_TRUE(run.ok()) << run.status();
  auto net = run->LoadSupernet();
  ASSERT_TRUE(net.ok());
  for (int64_t step : {10, 20, 30}) ASSERT_TRUE(run->SaveCheckpoint(**net, step, {}, 2).ok());
  auto files = run->CheckpointFiles();
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(files[0].first, 20);
  EXPECT_EQ(files[1].first, 30);
  EXPECT_EQ(*run->LatestCheckpointPath(), files[1].second);
  ASSERT_TRUE(run->SaveCheckpoint(**net, 40).ok());  // keep_last 0 keeps all
  EXPECT_EQ(run->CheckpointFiles().size(), 3u);
}

TEST(RunDirTest, TruncatedLatestFallsBackToThePreviousCheckpoint) {
  TempDir dir;
  const std::string path = dir.File("run");
  auto run = RunDir::Create(path, kTiny, 5);
  ASSERT_TRUE(run.ok()) << run.status();
  auto step0 = run->LoadSupernet();
  ASSERT_TRUE(step0.ok());
  auto trained = run->LoadSupernet();
  ASSERT_TRUE(trained.ok());
  Perturb(**trained, 0.01);
  ASSERT_TRUE(run->SaveCheckpoint(**trained, 100).ok());
  auto loaded = run->LoadSupernet();
  ASSERT_TRUE(loaded.ok());
  EXPECT_TRUE(SameWeights(**loaded, **trained));

  // The disk loses the tail of the newest checkpoint.
  const std::string latest = *run->LatestCheckpointPath();
  auto bytes = ReadFile(latest);
  ASSERT_TRUE(bytes.ok());
  ASSERT_TRUE(WriteFileAtomically(latest, bytes->substr(0, bytes->size() / 3)).ok());
  std::string used;
  auto checkpoint = run->ReadNewestCheckpoint(&used);
  ASSERT_TRUE(checkpoint.ok()) << checkpoint.status();
  EXPECT_EQ(checkpoint->step, 0);
  loaded = run->LoadSupernet();
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_TRUE(SameWeights(**loaded, **step0));

  // The commands use the step-0 weights and say why.
  auto r = RunEdgeloop("export --run " + path + " --arch min --out " + dir.File("min.pt"));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("ckpt-000000100.pt is damaged"), std::string::npos) << r.out;
  auto extracted = (*step0)->extract(run->space().Min());
  ASSERT_TRUE(extracted.ok());
  (*extracted)->eval();
  torch::jit::Module exported = torch::jit::load(dir.File("min.pt"));
  const ArchConfig arch = run->space().Min();
  torch::NoGradGuard no_grad;
  torch::Tensor x = torch::randn({1, 1, arch.frames(), arch.resolution(), arch.resolution()});
  EXPECT_LT(
      (exported.forward({x}).toTensor() - (*extracted)->forward(x)).abs().max().item<double>(),
      1e-5);

#if !EDGELOOP_EDGE_ONLY_TEST  // the edge-only build has no `data` or `eval`
  r = RunEdgeloop("data synth --out " + dir.File("d.h5") +
                  " --objects C027 --layers 1 --lines-per-layer 4 --frame-size 32 --seed 1");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  r = RunEdgeloop("eval --run " + path + " --arch min --data " + dir.File("d.h5") +
                  " --samples 2 --json");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("is damaged"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"samples\":2"), std::string::npos) << r.out;
#endif

  // With every checkpoint damaged there is nothing to fall back to.
  const std::string first = run->CheckpointFiles().front().second;
  ASSERT_TRUE(WriteFileAtomically(first, "PK\x03\x04 lost").ok());
  EXPECT_EQ(run->LoadSupernet().status().code(), absl::StatusCode::kDataLoss);
  r = RunEdgeloop("export --run " + path + " --arch min --out " + dir.File("none.pt"));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.out.find("every checkpoint in"), std::string::npos) << r.out;
}

// One AdamW step on made-up gradients (the same on every call): moves weights and state.
void StepWithFixedGradients(SupernetImpl& net, torch::optim::Optimizer& optimizer) {
  optimizer.zero_grad();
  for (auto& p : net.parameters()) p.mutable_grad() = torch::full_like(p, 0.01) + 0.1 * p.detach();
  optimizer.step();
}

TEST(RunDirTest, ATrainingCheckpointRestoresTheOptimizerAndThePosition) {
  TempDir dir;
  auto run = RunDir::Create(dir.File("run"), kTiny, 3);
  ASSERT_TRUE(run.ok()) << run.status();
  auto net = run->LoadSupernet();
  ASSERT_TRUE(net.ok());
  torch::optim::AdamW optimizer((*net)->parameters(), torch::optim::AdamWOptions(1e-2));
  StepWithFixedGradients(**net, optimizer);
  TrainingPosition position;
  position.step = 7;
  position.epoch = 2;
  position.batch_in_epoch = 3;
  position.world_size = 2;
  position.global_batch = 8;
  ASSERT_TRUE(run->SaveTrainingCheckpoint(**net, optimizer, position, 0).ok());

  std::string path;
  auto checkpoint = run->ReadNewestCheckpoint(&path);
  ASSERT_TRUE(checkpoint.ok()) << checkpoint.status();
  EXPECT_EQ(path, dir.File("run") + "/checkpoints/ckpt-000000007.pt");
  const TrainingPosition read = TrainingPositionOf(*checkpoint);
  EXPECT_EQ(read.step, 7);
  EXPECT_EQ(read.epoch, 2);
  EXPECT_EQ(read.batch_in_epoch, 3);
  EXPECT_EQ(read.world_size, 2);
  EXPECT_EQ(read.global_batch, 8);
  auto restored = run->LoadSupernet();
  ASSERT_TRUE(restored.ok());
  EXPECT_TRUE(SameWeights(**restored, **net));
  torch::optim::AdamW restored_optimizer((*restored)->parameters(),
                                         torch::optim::AdamWOptions(1e-2));
  ASSERT_TRUE(LoadOptimizerState(*checkpoint, path, restored_optimizer).ok());
  // The next step is the same only if the moments came back exactly.
  StepWithFixedGradients(**net, optimizer);
  StepWithFixedGradients(**restored, restored_optimizer);
  EXPECT_TRUE(SameWeights(**restored, **net));

  // The step-0 checkpoint of a fresh run records no position and no optimizer.
  auto first = ReadCheckpoint(run->CheckpointFiles().front().second);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(TrainingPositionOf(*first).world_size, -1);
  EXPECT_EQ(TrainingPositionOf(*first).step, 0);
  const absl::Status none = LoadOptimizerState(*first, "ckpt-0", restored_optimizer);
  EXPECT_EQ(none.code(), absl::StatusCode::kDataLoss) << none;
  EXPECT_NE(none.message().find("ckpt-0: no optimizer state"), std::string::npos) << none;
}

TEST(RunDirTest, PrepareForTrainingCreatesOrChecksButNeverOverwrites) {
  TempDir dir;
  auto text = ReadFile(kTiny);
  ASSERT_TRUE(text.ok());
  auto tiny = arch::Space::FromText(*text);
  ASSERT_TRUE(tiny.ok());
  const std::string path = dir.File("a/b/run");  // parents are created
  // --resume continues a run; it never starts one.
  absl::Status nothing = RunDir::PrepareForTraining(path, *tiny, *text, 4, true);
  EXPECT_EQ(nothing.code(), absl::StatusCode::kNotFound) << nothing;
  EXPECT_NE(nothing.message().find("holds no run to continue"), std::string::npos) << nothing;
  EXPECT_FALSE(std::filesystem::exists(path));
  ASSERT_TRUE(RunDir::PrepareForTraining(path, *tiny, *text, 4, false).ok());
  auto run = RunDir::Open(path);
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_EQ(run->seed(), 4u);
  EXPECT_EQ(*ReadFile(path + "/space.textproto"), *text);  // verbatim, comments and all
  EXPECT_EQ(run->CheckpointFiles().size(), 1u);

  absl::Status again = RunDir::PrepareForTraining(path, *tiny, *text, 4, false);
  EXPECT_EQ(again.code(), absl::StatusCode::kAlreadyExists) << again;
  EXPECT_NE(again.message().find("pass --resume"), std::string::npos) << again;
  EXPECT_TRUE(RunDir::PrepareForTraining(path, *tiny, *text, 4, true).ok());
  SearchSpace other_spec = tiny->spec();
  other_spec.set_name("other");
  other_spec.clear_resolution();
  other_spec.add_resolution(32);
  absl::Status other = RunDir::PrepareForTraining(path, arch::Space(other_spec), "", 4, true);
  EXPECT_EQ(other.code(), absl::StatusCode::kInvalidArgument) << other;
  EXPECT_NE(other.message().find("another space or architecture"), std::string::npos) << other;

  // A foreign run.json is reported, and left as it was.
  const std::string foreign = dir.File("foreign");
  std::filesystem::create_directories(foreign);
  ASSERT_TRUE(WriteFileAtomically(foreign + "/run.json", "{\"format\":\"theirs\"}").ok());
  absl::Status refused = RunDir::PrepareForTraining(foreign, *tiny, *text, 4, false);
  EXPECT_EQ(refused.code(), absl::StatusCode::kInvalidArgument) << refused;
  EXPECT_EQ(*ReadFile(foreign + "/run.json"), "{\"format\":\"theirs\"}");
  EXPECT_FALSE(std::filesystem::exists(foreign + "/checkpoints"));
}

}  // namespace
}  // namespace edgeloop::supernet
