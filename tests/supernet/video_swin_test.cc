#include "supernet/video_swin.h"

#include <gtest/gtest.h>

#include "arch/cost_model.h"
#include "arch/space.h"
#include "base/rng.h"
#include "tests/test_util.h"

namespace edgeloop::supernet {
namespace {

int64_t NumParams(torch::nn::Module& m) {
  int64_t n = 0;
  for (const auto& p : m.parameters()) n += p.numel();
  return n;
}

arch::Space LoadSpace(const std::string& name) {
  auto space = arch::Space::FromFile(testing::SourcePath("supernet/spaces/" + name + ".textproto"));
  EXPECT_TRUE(space.ok()) << space.status();
  return *space;
}

TEST(VideoSwinTest, BaselineHasReferenceParameterCount) {
  VideoSwin model(arch::BaselineArch());
  EXPECT_EQ(NumParams(*model), 28232336);
  EXPECT_EQ(NumParams(*model), arch::CountParams(arch::BaselineArch()));
}

TEST(VideoSwinTest, ParameterCountsEqualAnalyticCount) {
  for (const char* name : {"swin3d_lpbf", "tiny"}) {
    arch::Space space = LoadSpace(name);
    Rng rng(7);
    std::vector<ArchConfig> archs = {space.Min(), space.Max()};
    for (int i = 0; i < 6; ++i) archs.push_back(space.Sample(&rng));
    for (const ArchConfig& arch : archs) {
      VideoSwin model(arch);
      EXPECT_EQ(NumParams(*model), arch::CountParams(arch)) << arch::ArchToJson(arch);
    }
  }
}

TEST(VideoSwinTest, ReferenceParameterNames) {
  VideoSwin model(arch::BaselineArch());
  auto params = model->named_parameters();
  for (const char* name :
       {"patch_embed.proj.weight", "patch_embed.proj.bias",
        "layers.0.blocks.1.attn.relative_position_bias_table", "layers.0.blocks.1.attn.qkv.weight",
        "layers.0.blocks.1.attn.qkv.bias", "layers.0.blocks.1.attn.proj.weight",
        "layers.0.blocks.1.norm1.weight", "layers.0.blocks.1.norm2.bias",
        "layers.0.blocks.1.mlp.fc1.weight", "layers.0.blocks.1.mlp.fc2.weight",
        "layers.2.blocks.5.mlp.fc2.bias", "layers.0.downsample.reduction.weight",
        "layers.0.downsample.norm.weight", "norm.weight", "head.fc_cls.weight", "head.fc_cls.bias",
        "linear_layers.0.weight", "linear_layers.2.weight"}) {
    EXPECT_NE(params.find(name), nullptr) << name;
  }
  EXPECT_EQ(params.find("layers.3.downsample.norm.weight"), nullptr);
  EXPECT_EQ(params.find("layers.0.downsample.reduction.bias"), nullptr);
  auto buffers = model->named_buffers();
  ASSERT_NE(buffers.find("layers.0.blocks.0.attn.relative_position_index"), nullptr);
  EXPECT_EQ(buffers["layers.0.blocks.0.attn.relative_position_index"].sizes(),
            (std::vector<int64_t>{392, 392}));
}

TEST(VideoSwinTest, ForwardShapeAndDeterministicInit) {
  arch::Space space = LoadSpace("tiny");
  const ArchConfig arch = space.Max();
  auto a = MakeVideoSwin(arch, 3);
  auto b = MakeVideoSwin(arch, 3);
  auto c = MakeVideoSwin(arch, 4);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  (*a)->eval();
  (*b)->eval();
  (*c)->eval();
  torch::NoGradGuard no_grad;
  torch::Tensor x = torch::randn({2, 1, arch.frames(), arch.resolution(), arch.resolution()});
  torch::Tensor ya = (*a)->forward(x);
  EXPECT_EQ(ya.sizes(), (std::vector<int64_t>{2, 2}));
  EXPECT_TRUE(torch::equal(ya, (*b)->forward(x)));
  EXPECT_FALSE(torch::allclose(ya, (*c)->forward(x)));
}

TEST(VideoSwinTest, WrongInputShapeIsRejected) {
  arch::Space space = LoadSpace("tiny");
  const ArchConfig arch = space.Min();
  auto model = MakeVideoSwin(arch);
  ASSERT_TRUE(model.ok());
  torch::Tensor x = torch::randn({1, 1, arch.frames(), arch.resolution() + 1, arch.resolution()});
  EXPECT_THROW((*model)->forward(x), c10::Error);
  EXPECT_FALSE(CheckInput(arch, x.sizes()).ok());
  EXPECT_TRUE(CheckInput(arch, {3, 1, arch.frames(), arch.resolution(), arch.resolution()}).ok());
}

TEST(VideoSwinTest, InvalidArchitectureIsRejected) {
  ArchConfig arch = arch::BaselineArch();
  arch.set_num_heads(0, 5);  // does not divide 96
  EXPECT_FALSE(MakeVideoSwin(arch).ok());
}

}  // namespace
}  // namespace edgeloop::supernet
