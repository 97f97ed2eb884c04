#include "supernet/train/checkpoint.h"

#include <filesystem>
#include <fstream>

#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace edgeloop::train {
namespace {

ArchiveWriter Tensors(float value) {
  return [value](torch::serialize::OutputArchive& a) {
    a.write("w", torch::full({4, 3}, value));
    torch::serialize::OutputArchive nested;
    nested.write("m", torch::arange(5, torch::kFloat) * value);
    a.write("optim", nested);
  };
}

float ReadW(const LoadedCheckpoint& c) {
  torch::Tensor w;
  c.archive->read("w", w);
  return w[0][0].item<float>();
}

TEST(CheckpointTest, RoundTrip) {
  testing::TempDir dir;
  std::string path = dir.File("a.ckpt");
  ASSERT_TRUE(WriteCheckpointFile(path, R"({"step":7})", Tensors(2.5)).ok());
  auto c = ReadCheckpointFile(path);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->metadata_json, R"({"step":7})");
  EXPECT_FLOAT_EQ(ReadW(*c), 2.5f);
  torch::serialize::InputArchive nested;
  c->archive->read("optim", nested);
  torch::Tensor m;
  nested.read("m", m);
  EXPECT_FLOAT_EQ(m.sum().item<float>(), 25.0f);
}

TEST(CheckpointTest, TruncationAndCorruptionAreDetected) {
  testing::TempDir dir;
  std::string path = dir.File("a.ckpt");
  ASSERT_TRUE(WriteCheckpointFile(path, "{}", Tensors(1)).ok());
  const auto size = std::filesystem::file_size(path);
  for (auto cut : {size - 1, size / 2, size_t{10}}) {
    std::filesystem::copy_file(path, dir.File("t.ckpt"),
                               std::filesystem::copy_options::overwrite_existing);
    std::filesystem::resize_file(dir.File("t.ckpt"), cut);
    auto c = ReadCheckpointFile(dir.File("t.ckpt"));
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.status().code(), absl::StatusCode::kDataLoss) << cut;
  }
  {  // flip one payload byte
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(size / 2));
    char ch;
    f.read(&ch, 1);
    f.seekp(static_cast<std::streamoff>(size / 2));
    ch = static_cast<char>(ch ^ 0x5a);
    f.write(&ch, 1);
  }
  auto c = ReadCheckpointFile(path);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("checksum mismatch"), std::string::npos) << c.status();
}

TEST(CheckpointTest, DirKeepsNewestAndFallsBackPastDamage) {
  testing::TempDir dir;
  CheckpointDir ckpts(dir.File("checkpoints"), 2);
  EXPECT_EQ(ckpts.LoadLatest().status().code(), absl::StatusCode::kNotFound);
  for (int step : {10, 20, 30}) ASSERT_TRUE(ckpts.Save(step, "{}", Tensors(step)).ok());
  EXPECT_EQ(ckpts.Steps(), (std::vector<int64_t>{20, 30}));
  auto latest = ckpts.LoadLatest();
  ASSERT_TRUE(latest.ok());
  EXPECT_EQ(latest->step, 30);
  EXPECT_FLOAT_EQ(ReadW(*latest), 30.0f);
  // A checkpoint cut short by a crash (as if written in place) is passed over.
  std::filesystem::resize_file(ckpts.PathFor(30), 100);
  latest = ckpts.LoadLatest();
  ASSERT_TRUE(latest.ok()) << latest.status();
  EXPECT_EQ(latest->step, 20);
  ASSERT_EQ(latest->skipped.size(), 1u);
  EXPECT_NE(latest->skipped[0].find("ckpt-000000030.ckpt is damaged"), std::string::npos);
  std::filesystem::resize_file(ckpts.PathFor(20), 5);
  EXPECT_EQ(ckpts.LoadLatest().status().code(), absl::StatusCode::kDataLoss);
}

TEST(CheckpointTest, NotACheckpoint) {
  testing::TempDir dir;
  std::ofstream(dir.File("x.ckpt")) << "hello";
  auto c = ReadCheckpointFile(dir.File("x.ckpt"));
  EXPECT_EQ(c.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(c.status().message().find("bad header"), std::string::npos);
}

}  // namespace
}  // namespace edgeloop::train
