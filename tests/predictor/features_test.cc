#include "predictor/features.h"

#include <set>

#include "arch/arch_config.h"
#include "arch/cost_model.h"
#include "gtest/gtest.h"

namespace edgeloop::predictor {
namespace {

float Feature(const std::vector<float>& f, const std::string& name) {
  const int i = FeatureIndex(name);
  EXPECT_GE(i, 0) << name;
  return i >= 0 ? f[i] : 0;
}

TEST(FeaturesTest, NamesAreUniqueAndMatchTheValues) {
  const auto& names = FeatureNames();
  EXPECT_EQ(std::set<std::string>(names.begin(), names.end()).size(), names.size());
  EXPECT_EQ(static_cast<int>(ComputeFeatures(arch::BaselineArch(), 1).size()), NumFeatures());
  EXPECT_EQ(kFeatureVersion, 1);
}

TEST(FeaturesTest, BaselineValuesFollowTheCostModel) {
  const ArchConfig arch = arch::BaselineArch();
  const arch::Cost cost = arch::ComputeCost(arch);
  const auto f1 = ComputeFeatures(arch, 1);
  const auto f2 = ComputeFeatures(arch, 2);
  EXPECT_FLOAT_EQ(Feature(f1, "params"), 28232336.0f);
  EXPECT_FLOAT_EQ(Feature(f1, "flops"), static_cast<float>(cost.flops));
  EXPECT_FLOAT_EQ(Feature(f1, "flops_attention"), static_cast<float>(cost.by_op.attention));
  EXPECT_FLOAT_EQ(Feature(f2, "batch"), 2.0f);
  EXPECT_FLOAT_EQ(Feature(f2, "batch_flops"), 2.0f * static_cast<float>(cost.flops));
  EXPECT_FLOAT_EQ(Feature(f2, "batch_flops_mlp"), 2.0f * static_cast<float>(cost.by_op.mlp));
  // Stage geometry of the baseline: stage 0 is 8 x 56 x 56 tokens in (8,7,7) windows.
  EXPECT_FLOAT_EQ(Feature(f1, "s0_tokens"), 8.0f * 56 * 56);
  EXPECT_FLOAT_EQ(Feature(f1, "s0_window_tokens"), 8.0f * 7 * 7);
  EXPECT_FLOAT_EQ(Feature(f1, "s0_windows"), 64.0f);
  EXPECT_FLOAT_EQ(Feature(f1, "s2_depth"), 6.0f);
  EXPECT_FLOAT_EQ(Feature(f1, "s3_width"), 768.0f);
  EXPECT_FLOAT_EQ(Feature(f1, "s3_head_dim"), 32.0f);
  EXPECT_FLOAT_EQ(Feature(f1, "s1_mlp_hidden"), 768.0f);
  EXPECT_FLOAT_EQ(Feature(f1, "s0_attn_elems"), 64.0f * 3 * 392 * 392);
  // Everything but the per-sample quantities is independent of the batch.
  EXPECT_EQ(Feature(f1, "s1_tokens"), Feature(f2, "s1_tokens"));
}

}  // namespace
}  // namespace edgeloop::predictor
