#include "supernet/run_dir.h"

#include <filesystem>
#include <fstream>

#include "arch/arch_config.h"
#include "base/atomic_file.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace edgeloop::supernet {
namespace {

struct TwoLayers : torch::nn::Module {
  explicit TwoLayers(int width) {
    a = register_module("a", torch::nn::Linear(3, width));
    register_buffer("index", torch::arange(4));
  }
  torch::nn::Linear a{nullptr};
};

Space TinySpace() { return *Space::FromFile(testing::SourcePath("supernet/spaces/tiny.textproto")); }
std::string TinyText() { return *ReadFile(testing::SourcePath("supernet/spaces/tiny.textproto")); }

TEST(RunDirTest, CreateOpenSaveLoad) {
  testing::TempDir tmp;
  const std::string path = tmp.File("run");
  auto run = RunDir::CreateSupernet(path, TinySpace(), TinyText(), 7, R"({"lr":0.001})");
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_EQ(run->kind(), RunDir::Kind::kSupernet);
  EXPECT_EQ(run->seed(), 7u);
  ASSERT_TRUE(run->space().has_value());
  EXPECT_EQ(run->space()->name(), "tiny");

  torch::manual_seed(1);
  TwoLayers model(5);
  ASSERT_TRUE(run->SaveCheckpoint(3, model, R"({"epoch":1})").ok());
  auto reopened = RunDir::Open(path);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  auto ckpt = reopened->LoadLatest();
  ASSERT_TRUE(ckpt.ok()) << ckpt.status();
  EXPECT_EQ(ckpt->step, 3);
  torch::manual_seed(2);
  TwoLayers other(5);
  ASSERT_TRUE(RunDir::LoadWeights(*ckpt, other).ok());
  EXPECT_TRUE(torch::equal(other.a->weight, model.a->weight));
  EXPECT_NE(ckpt->metadata_json.find("\"epoch\":1"), std::string::npos);
}

TEST(RunDirTest, RefusesToOverwriteARun) {
  testing::TempDir tmp;
  ASSERT_TRUE(RunDir::CreateSupernet(tmp.File("r"), TinySpace(), TinyText(), 1, "").ok());
  auto again = RunDir::CreateSupernet(tmp.File("r"), TinySpace(), TinyText(), 1, "");
  EXPECT_EQ(again.status().code(), absl::StatusCode::kAlreadyExists);
}

TEST(RunDirTest, DetectsCheckpointOfAnotherModel) {
  testing::TempDir tmp;
  auto a = RunDir::CreateSupernet(tmp.File("a"), TinySpace(), TinyText(), 1, "");
  auto b = RunDir::CreateStandalone(tmp.File("b"), BaselineArch(), 1, "");
  ASSERT_TRUE(a.ok() && b.ok()) << b.status();
  TwoLayers model(5);
  ASSERT_TRUE(b->SaveCheckpoint(1, model, "").ok());
  std::filesystem::copy(b->File("checkpoints/ckpt-000000001.ckpt"),
                        a->File("checkpoints/ckpt-000000001.ckpt"));
  auto loaded = a->LoadLatest();
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.status().message().find("belongs to arch:p2.4.4-e96"), std::string::npos)
      << loaded.status();
}

TEST(RunDirTest, WeightsThatDoNotFitAreListed) {
  testing::TempDir tmp;
  auto run = RunDir::CreateStandalone(tmp.File("r"), BaselineArch(), 1, "");
  ASSERT_TRUE(run.ok());
  TwoLayers narrow(5), wide(6);
  ASSERT_TRUE(run->SaveCheckpoint(1, narrow, "").ok());
  auto ckpt = run->LoadLatest();
  ASSERT_TRUE(ckpt.ok());
  auto s = RunDir::LoadWeights(*ckpt, wide);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("mis-shaped: a.weight (checkpoint [5, 3], model [6, 3])"),
            std::string::npos) << s;
}

TEST(RunDirTest, OpenErrors) {
  testing::TempDir tmp;
  EXPECT_NE(RunDir::Open(tmp.path()).status().message().find("is not an edgeloop run directory"),
            std::string::npos);
  auto run = RunDir::CreateSupernet(tmp.File("r"), TinySpace(), TinyText(), 1, "");
  ASSERT_TRUE(run.ok());
  std::ofstream(run->File("space.textproto"), std::ios::app) << "embed_dim: [48]\n";
  auto reopened = RunDir::Open(tmp.File("r"));
  ASSERT_FALSE(reopened.ok());
  EXPECT_NE(reopened.status().message().find("was changed after the run was created"),
            std::string::npos) << reopened.status();
}

}  // namespace
}  // namespace edgeloop::supernet
