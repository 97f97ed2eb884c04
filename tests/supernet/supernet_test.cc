#include "supernet/supernet.h"

#include <gtest/gtest.h>

#include "arch/space.h"
#include "base/atomic_file.h"
#include "base/rng.h"
#include "supernet/state_dict.h"
#include "tests/test_util.h"

namespace edgeloop::supernet {
namespace {

arch::Space LoadSpace(const std::string& name) {
  auto space = arch::Space::FromFile(testing::SourcePath("supernet/spaces/" + name + ".textproto"));
  EXPECT_TRUE(space.ok()) << space.status();
  return *space;
}

torch::Tensor InputFor(const ArchConfig& arch, int64_t batch, uint64_t seed) {
  torch::manual_seed(seed);
  return torch::randn({batch, 1, arch.frames(), arch.resolution(), arch.resolution()});
}

// Max abs difference between the supernet's active subnet and the extracted model.
double ExtractionGap(Supernet& net, const ArchConfig& arch) {
  torch::NoGradGuard no_grad;
  EXPECT_TRUE(net->set_active(arch).ok());
  auto model = net->extract(arch);
  EXPECT_TRUE(model.ok()) << model.status();
  EXPECT_FALSE((*model)->is_training());
  torch::Tensor x = InputFor(arch, 2, 11);
  return (net->forward(x) - (*model)->forward(x)).abs().max().item<double>();
}

class TinySupernetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto made = MakeSupernet(space_, 5);
    ASSERT_TRUE(made.ok()) << made.status();
    net_ = *made;
    net_->eval();
  }
  arch::Space space_ = LoadSpace("tiny");
  Supernet net_{nullptr};
};

TEST_F(TinySupernetTest, ExtractedEqualsActiveForMinMaxAndSamples) {
  EXPECT_LT(ExtractionGap(net_, space_.Min()), 1e-5);
  EXPECT_LT(ExtractionGap(net_, space_.Max()), 1e-5);
  Rng rng(3);
  for (int i = 0; i < 12; ++i) {
    ArchConfig arch = net_->sample_active(&rng);
    EXPECT_LT(ExtractionGap(net_, arch), 1e-5) << arch::ArchToJson(arch);
  }
}

TEST_F(TinySupernetTest, SubnetsDiffer) {
  torch::NoGradGuard no_grad;
  ArchConfig a = space_.Max();
  ArchConfig b = a;
  b.set_mlp_ratio(1);
  torch::Tensor x = InputFor(a, 1, 2);
  ASSERT_TRUE(net_->set_active(a).ok());
  torch::Tensor ya = net_->forward(x);
  ASSERT_TRUE(net_->set_active(b).ok());
  EXPECT_GT((ya - net_->forward(x)).abs().max().item<double>(), 1e-6);
}

TEST_F(TinySupernetTest, SampleActiveIsSeeded) {
  Rng r1(42), r2(42);
  for (int i = 0; i < 5; ++i) {
    ArchConfig a = net_->sample_active(&r1);
    EXPECT_TRUE(space_.Contains(a).ok());
    EXPECT_TRUE(arch::ArchEqual(a, net_->sample_active(&r2)));
  }
}

TEST_F(TinySupernetTest, ArchitectureOutsideTheSpaceIsRejected) {
  ArchConfig arch = space_.Max();
  arch.set_embed_dim(96);
  arch.set_num_heads(0, 3);
  absl::Status s = net_->set_active(arch);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("embed_dim"), std::string::npos) << s;
  EXPECT_FALSE(net_->extract(arch).ok());
  EXPECT_TRUE(arch::ArchEqual(net_->active(), space_.Max()));
}

// A change to one shared weight of the widest network shows in every subnet that uses it
// and in none that does not.
TEST_F(TinySupernetTest, WeightSharingReallyShares) {
  torch::NoGradGuard no_grad;
  ArchConfig big = space_.Max();  // mlp_ratio 2: uses hidden units 0..2C-1
  ArchConfig small = big;         // mlp_ratio 1: uses hidden units 0..C-1
  small.set_mlp_ratio(1);
  const int64_t c = arch::StageWidth(big, 0);
  torch::Tensor x = InputFor(big, 1, 9);
  auto outputs = [&] {
    std::pair<torch::Tensor, torch::Tensor> out;
    EXPECT_TRUE(net_->set_active(big).ok());
    out.first = net_->forward(x);
    EXPECT_TRUE(net_->set_active(small).ok());
    out.second = net_->forward(x);
    return out;
  };
  auto before = outputs();
  auto params = net_->named_parameters();
  torch::Tensor fc1 = params["layers.0.blocks.0.mlp.fc1.weight"];
  // The network's outputs are small at initialisation, so changes are checked bitwise:
  // untouched computations are deterministic and reproduce exactly.
  fc1[c + 1] += 5.0;  // a hidden unit only the big subnet uses
  auto after_unused = outputs();
  EXPECT_FALSE(torch::equal(after_unused.first, before.first));
  EXPECT_TRUE(torch::equal(after_unused.second, before.second));
  fc1[0] += 5.0;  // a hidden unit both use
  auto after_shared = outputs();
  EXPECT_FALSE(torch::equal(after_shared.second, after_unused.second));
  // The extracted copy holds exactly the shared slice.
  auto extracted = net_->extract(small);
  ASSERT_TRUE(extracted.ok());
  torch::Tensor copy = (*extracted)->named_parameters()["layers.0.blocks.0.mlp.fc1.weight"];
  EXPECT_TRUE(torch::equal(copy, fc1.narrow(0, 0, c).narrow(1, 0, c)));
}

TEST_F(TinySupernetTest, PerChoicePatchEmbeddings) {
  auto params = net_->named_parameters();
  EXPECT_NE(params.find("patch_embeds.t2_h4_w4.proj.weight"), nullptr);
  EXPECT_NE(params.find("patch_embeds.t4_h4_w4.proj.weight"), nullptr);
  EXPECT_EQ(params["patch_embeds.t4_h4_w4.proj.weight"].sizes(),
            (std::vector<int64_t>{24, 1, 4, 4, 4}));
  // Each patch choice runs its own embedding: changing the t4 one leaves t2 subnets alone.
  torch::NoGradGuard no_grad;
  ArchConfig t2 = space_.Max(), t4 = space_.Max();
  t4.set_patch_size(0, 4);
  torch::Tensor x = InputFor(t2, 1, 4);
  ASSERT_TRUE(net_->set_active(t2).ok());
  torch::Tensor y2 = net_->forward(x);
  ASSERT_TRUE(net_->set_active(t4).ok());
  torch::Tensor y4 = net_->forward(x);
  params["patch_embeds.t4_h4_w4.proj.bias"] += 1.0;
  EXPECT_FALSE(torch::equal(net_->forward(x), y4));
  ASSERT_TRUE(net_->set_active(t2).ok());
  EXPECT_TRUE(torch::equal(net_->forward(x), y2));
}

TEST_F(TinySupernetTest, LoadSubnetWeightsSeedsTheSharedSlices) {
  const ArchConfig arch = space_.Min();
  auto standalone = MakeVideoSwin(arch, 99);
  ASSERT_TRUE(standalone.ok());
  (*standalone)->eval();
  ASSERT_TRUE(net_->LoadSubnetWeights(arch, StateDictOf(**standalone)).ok());
  torch::NoGradGuard no_grad;
  ASSERT_TRUE(net_->set_active(arch).ok());
  torch::Tensor x = InputFor(arch, 2, 1);
  EXPECT_LT((net_->forward(x) - (*standalone)->forward(x)).abs().max().item<double>(), 1e-5);

  StateDict bad = StateDictOf(**standalone);
  bad.erase("norm.weight");
  bad["extra.weight"] = torch::zeros({1});
  bad["head.fc_cls.bias"] = torch::zeros({3});
  absl::Status s = net_->LoadSubnetWeights(arch, bad);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  for (const char* needle : {"missing: norm.weight", "unexpected: extra.weight",
                             "head.fc_cls.bias [3] (expected [400])"}) {
    EXPECT_NE(s.message().find(needle), std::string::npos) << s;
  }
}

// The default space holds the baseline; to keep the test fast on two cores it runs with
// the space's inputs shrunk to 8 frames of 32x32 (the widths and depths stay the real ones).
TEST(BaselineSupernetTest, ExtractedBaselineEqualsActiveAtLowResolution) {
  auto text = ReadFile(testing::SourcePath("supernet/spaces/swin3d_lpbf.textproto"));
  ASSERT_TRUE(text.ok());
  std::string small = *text;
  small.replace(small.find("resolution: ["), std::string("resolution: [").size(),
                "resolution: [32, ");
  small.replace(small.find("frames: ["), std::string("frames: [").size(), "frames: [8, ");
  auto space = arch::Space::FromText(small);
  ASSERT_TRUE(space.ok()) << space.status();
  auto net = MakeSupernet(*space, 1);
  ASSERT_TRUE(net.ok());
  (*net)->eval();
  ArchConfig baseline = arch::BaselineArch();
  baseline.set_resolution(32);
  baseline.set_frames(8);
  ASSERT_TRUE(space->Contains(baseline).ok());
  EXPECT_LT(ExtractionGap(*net, baseline), 1e-5);
}

}  // namespace
}  // namespace edgeloop::supernet
