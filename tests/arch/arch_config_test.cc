#include "arch/arch_config.h"

#include "gtest/gtest.h"

namespace edgeloop::arch {
namespace {

constexpr char kBaselineJson[] =
    "{\"patch_size\":[2,4,4],\"embed_dim\":96,\"depths\":[2,2,6,2],\"num_heads\":[3,6,12,24],"
    "\"window_size\":[8,7,7],\"mlp_ratio\":4,\"resolution\":224,\"frames\":16}";

TEST(ArchConfigTest, JsonRoundTrip) {
  ArchConfig b = BaselineArch();
  EXPECT_EQ(ArchToJson(b), kBaselineJson);
  auto parsed = ArchFromJson(ArchToJson(b));
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_TRUE(ArchEqual(*parsed, b));
  EXPECT_EQ(ArchToJson(*parsed), ArchToJson(b));
}

TEST(ArchConfigTest, FractionalMlpRatioRoundTrips) {
  ArchConfig a = BaselineArch();
  a.set_mlp_ratio(2.5);
  auto parsed = ArchFromJson(ArchToJson(a));
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->mlp_ratio(), 2.5);
  EXPECT_EQ(CanonicalKey(*parsed), CanonicalKey(a));
}

TEST(ArchConfigTest, AcceptsReferenceHyperparametersJson) {
  // As stored in the reference's network_architectures.hyperparameters column: a name,
  // in_chans, num_classes, float mlp_ratio, searched training hyper-parameters, and no
  // resolution/frames (which default to the reference input 16 x 224 x 224).
  auto a = ArchFromJson(
      R"({"name": "swin_trial_17", "in_chans": 1, "num_classes": 400,
          "patch_size": [2, 4, 4], "embed_dim": 96, "depths": [2, 2, 6, 2],
          "num_heads": [3, 6, 12, 24], "window_size": [8, 7, 7], "mlp_ratio": 4.0,
          "lr": 0.0001, "step_size": 10, "gamma": 0.5})");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_TRUE(ArchEqual(*a, BaselineArch()));
}

TEST(ArchConfigTest, CanonicalKeyIgnoresFieldOrderAndSpacing) {
  auto a = ArchFromJson(kBaselineJson);
  auto b = ArchFromJson(
      R"({ "frames":16, "resolution":224, "mlp_ratio":4.0, "window_size":[8,7,7],
           "num_heads":[3,6,12,24], "depths":[2,2,6,2], "embed_dim":96, "patch_size":[2,4,4] })");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(CanonicalKey(*a), CanonicalKey(*b));
  EXPECT_EQ(CanonicalKey(*a), "p2.4.4-e96-d2.2.6.2-h3.6.12.24-w8.7.7-m4-r224-f16");
}

TEST(ArchConfigTest, DifferentArchitecturesDifferentKeys) {
  ArchConfig a = BaselineArch(), b = BaselineArch();
  b.set_depths(2, 4);
  EXPECT_NE(CanonicalKey(a), CanonicalKey(b));
  b = BaselineArch();
  b.set_resolution(64);
  EXPECT_NE(CanonicalKey(a), CanonicalKey(b));
  b = BaselineArch();
  b.set_patch_size(0, 4);
  EXPECT_NE(CanonicalKey(a), CanonicalKey(b));
}

struct BadJsonCase {
  const char* json;
  const char* expected_fragment;
};

class BadJsonTest : public ::testing::TestWithParam<BadJsonCase> {};

TEST_P(BadJsonTest, ClearOneLineError) {
  auto r = ArchFromJson(GetParam().json);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  std::string msg(r.status().message());
  EXPECT_NE(msg.find(GetParam().expected_fragment), std::string::npos) << msg;
  EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, BadJsonTest,
    ::testing::Values(
        BadJsonCase{"{not json", "malformed"}, BadJsonCase{"[1,2]", "must be an object"},
        BadJsonCase{
            R"({"patch_size":[2,4,4],"embed_dim":96,"depths":[2,2,6,2],"num_heads":[3,6,12,24],"mlp_ratio":4,"colour":"red"})",
            "unknown field 'colour'"},
        BadJsonCase{
            R"({"patch_size":[2,4],"embed_dim":96,"depths":[2,2,6,2],"num_heads":[3,6,12,24],"mlp_ratio":4})",
            "'patch_size': got [2,4], expected a list of 3 integers"},
        BadJsonCase{
            R"({"patch_size":[2,4,4],"embed_dim":96.5,"depths":[2,2,6,2],"num_heads":[3,6,12,24],"mlp_ratio":4})",
            "'embed_dim': got 96.5, expected an integer"},
        BadJsonCase{
            R"({"patch_size":[2,4,4],"embed_dim":96,"depths":[2,2,6],"num_heads":[3,6,12,24],"mlp_ratio":4})",
            "'depths'"},
        BadJsonCase{
            R"({"patch_size":[2,4,4],"embed_dim":96,"depths":[2,2,6,2],"num_heads":[3,6,12,25],"mlp_ratio":4})",
            "num_heads[3]': got 25, expected a positive divisor of the stage width 768"},
        BadJsonCase{
            R"({"patch_size":[2,4,4],"embed_dim":96,"depths":[2,2,6,2],"num_heads":[3,6,12,24]})",
            "lacks required field 'mlp_ratio'"},
        BadJsonCase{
            R"({"patch_size":[2,4,4],"embed_dim":96,"depths":[2,2,6,2],"num_heads":[3,6,12,24],"mlp_ratio":4,"in_chans":3})",
            "'in_chans': got 3"},
        BadJsonCase{
            R"({"patch_size":[2,4,4],"embed_dim":96,"depths":[2,2,6,2],"num_heads":[3,6,12,24],"mlp_ratio":-1})",
            "'mlp_ratio'"},
        BadJsonCase{
            R"({"patch_size":[2,4,4],"embed_dim":96,"depths":[2,0,6,2],"num_heads":[3,6,12,24],"mlp_ratio":4})",
            "'depths'"},
        BadJsonCase{
            R"({"patch_size":[2,4,4],"embed_dim":96,"depths":[2,2,6,2],"num_heads":[3,6,12,24],"mlp_ratio":4,"resolution":2})",
            "'resolution': got 2"}));

TEST(ArchConfigTest, StageWidthAndMlpHidden) {
  ArchConfig b = BaselineArch();
  EXPECT_EQ(StageWidth(b, 0), 96);
  EXPECT_EQ(StageWidth(b, 3), 768);
  EXPECT_EQ(MlpHidden(b, 3), 3072);
  b.set_mlp_ratio(1.5);
  EXPECT_EQ(MlpHidden(b, 0), 144);
}

}  // namespace
}  // namespace edgeloop::arch

namespace edgeloop::arch {
namespace {

// `space validate` and `store import --csv` read architectures through ArchFromJson: a
// document nested 40,000 deep is refused at once instead of hanging the parser.
TEST(ArchConfigTest, DeeplyNestedJsonIsRefusedAtOnce) {
  const std::string deep =
      "{\"embed_dim\":" + std::string(40000, '[') + std::string(40000, ']') + "}";
  auto a = ArchFromJson(deep);
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(a.status().message().find("nested deeper than"), std::string::npos) << a.status();
}

}  // namespace
}  // namespace edgeloop::arch
