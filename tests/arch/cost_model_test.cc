#include "arch/cost_model.h"

#include "arch/arch_config.h"
#include "gtest/gtest.h"

namespace edgeloop::arch {
namespace {

ArchConfig Make(std::array<int, 3> patch, int embed, std::array<int, 4> depths,
                std::array<int, 4> heads, double mlp, int res, int frames,
                std::array<int, 3> window = {8, 7, 7}) {
  ArchConfig a;
  for (int v : patch) a.add_patch_size(v);
  a.set_embed_dim(embed);
  for (int v : depths) a.add_depths(v);
  for (int v : heads) a.add_num_heads(v);
  for (int v : window) a.add_window_size(v);
  a.set_mlp_ratio(mlp);
  a.set_resolution(res);
  a.set_frames(frames);
  return a;
}

TEST(CostModelTest, BaselineParamsMatchReference) {
  EXPECT_EQ(CountParams(BaselineArch()), 28232336);
}

TEST(CostModelTest, ReferenceSmallestParamsMatchReference) {
  ArchConfig smallest = Make({4, 4, 4}, 24, {1, 1, 1, 1}, {3, 3, 3, 3}, 1, 224, 16);
  EXPECT_EQ(CountParams(smallest), 585638);
}

TEST(CostModelTest, ParamsDoNotDependOnInputSize) {
  ArchConfig a = BaselineArch(), b = BaselineArch();
  b.set_resolution(64);
  b.set_frames(8);
  EXPECT_EQ(CountParams(a), CountParams(b));
}

TEST(CostModelTest, HandCountedFlopsOfASmallModel) {
  // Counted by hand: patch (2,4,4), embed 12, depth 1 per stage, window (4,4,4), mlp 1,
  // 8 frames at 32x32 -> stage grids 4x8x8, 4x4x4, 4x2x2, 4x1x1.
  ArchConfig a = Make({2, 4, 4}, 12, {1, 1, 1, 1}, {3, 3, 3, 3}, 1, 32, 8, {4, 4, 4});
  Cost c = ComputeCost(a);
  EXPECT_EQ(c.by_op.patch_embed, 98304);
  EXPECT_EQ(c.by_op.qkv, 442368);
  EXPECT_EQ(c.by_op.attention, 617472);
  EXPECT_EQ(c.by_op.proj, 147456);
  EXPECT_EQ(c.by_op.mlp, 294912);
  EXPECT_EQ(c.by_op.merge, 221184);
  EXPECT_EQ(c.by_op.head, 118800);
  EXPECT_EQ(c.flops, 1940496);
}

TEST(CostModelTest, GeometryClipsAndPadsWindows) {
  // 36 / 4 = 9 tokens across: larger than the window 7, so padded to 14 with 2x2 windows;
  // 16 frames / 2 = 8 = window T, so clipped (not larger) and unshifted in T.
  ArchConfig a = Make({2, 4, 4}, 24, {1, 1, 1, 1}, {3, 3, 3, 3}, 1, 36, 16);
  auto g = ComputeGeometry(a);
  EXPECT_EQ(g[0].d, 8);
  EXPECT_EQ(g[0].h, 9);
  EXPECT_EQ(g[0].window[0], 8);
  EXPECT_EQ(g[0].window[1], 7);
  EXPECT_EQ(g[0].hp, 14);
  EXPECT_EQ(g[0].windows, 1 * 2 * 2);
  EXPECT_TRUE(g[0].shifted);
  EXPECT_EQ(g[0].padded_tokens, 8 * 14 * 14);
  // Stage 2: ceil(9/2) = 5 <= 7, so the window clips to 5 and nothing is shifted.
  EXPECT_EQ(g[1].h, 5);
  EXPECT_EQ(g[1].window[1], 5);
  EXPECT_FALSE(g[1].shifted);
  EXPECT_EQ(g[1].windows, 1);
  EXPECT_EQ(g[3].h, 2);
}

TEST(CostModelTest, BaselineFlopsAreInTheExpectedRange) {
  // Video Swin-T at 32x224x224 is ~88 GFLOPs (MAC); at 16 frames about half, minus the
  // 3 input channels of the patch embedding.
  Cost c = ComputeCost(BaselineArch());
  EXPECT_GT(c.flops, 40e9);
  EXPECT_LT(c.flops, 50e9);
  EXPECT_EQ(c.flops, c.by_op.Total());
}

TEST(CostModelTest, FlopsGrowWithEveryDimension) {
  ArchConfig base = Make({4, 4, 4}, 24, {1, 1, 1, 1}, {3, 3, 3, 3}, 1, 64, 16);
  const int64_t f0 = ComputeCost(base).flops;
  ArchConfig a = base;
  a.set_embed_dim(48);
  EXPECT_GT(ComputeCost(a).flops, f0);
  a = base;
  a.set_depths(2, 4);
  EXPECT_GT(ComputeCost(a).flops, f0);
  a = base;
  a.set_mlp_ratio(4);
  EXPECT_GT(ComputeCost(a).flops, f0);
  a = base;
  a.set_resolution(128);
  EXPECT_GT(ComputeCost(a).flops, f0);
  a = base;
  a.set_patch_size(0, 2);
  EXPECT_GT(ComputeCost(a).flops, f0);
}

}  // namespace
}  // namespace edgeloop::arch
