#include "arch/space.h"

#include <map>
#include <set>

#include "arch/arch_config.h"
#include "arch/cost_model.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace edgeloop::arch {
namespace {

Space Load(const std::string& rel) {
  auto s = Space::FromFile(testing::SourcePath(rel));
  EXPECT_TRUE(s.ok()) << s.status();
  return *s;
}

const char kSmallSpace[] = R"(
  name: "small"
  patch_size { t: [2, 4] h: [4] w: [4] }
  embed_dim: [12, 24]
  stage { depth: [1, 2] num_heads: [3] }
  stage { depth: [1] num_heads: [3, 6] }
  stage { depth: [1] num_heads: [3] }
  stage { depth: [1] num_heads: [3] }
  mlp_ratio: [1, 2]
  window_size: [4, 4, 4]
  resolution: [32]
  frames: [8]
)";

// embed 6: stage-0 width 6 admits 3 heads but not 4; embed 12 admits both.
const char kDivisibilitySpace[] = R"(
  name: "divisibility"
  patch_size { t: [2] h: [4] w: [4] }
  embed_dim: [6, 12]
  stage { depth: [1] num_heads: [3, 4] }
  stage { depth: [1] num_heads: [3] }
  stage { depth: [1] num_heads: [3] }
  stage { depth: [1] num_heads: [3] }
  mlp_ratio: [1]
  window_size: [4, 4, 4]
  resolution: [32]
  frames: [8]
)";

TEST(SpaceTest, DefaultSpaceSizeAndCorners) {
  Space s = Load("supernet/spaces/swin3d_lpbf.textproto");
  EXPECT_EQ(s.name(), "swin3d_lpbf");
  // 8 patches x 3 embeds x 108 depth combos x 24 head combos x 4 mlp x 5 res x 1 frames.
  EXPECT_EQ(s.NumArchitectures(), 8ull * 3 * 108 * 24 * 4 * 5);
  ArchConfig min = s.Min(), max = s.Max();
  EXPECT_TRUE(s.Contains(min).ok());
  EXPECT_TRUE(s.Contains(max).ok());
  EXPECT_EQ(CanonicalKey(min), "p4.4.4-e24-d1.1.1.1-h3.3.3.3-w8.7.7-m1-r64-f16");
  EXPECT_EQ(CanonicalKey(max), "p2.2.2-e96-d4.4.6.4-h3.6.12.24-w8.7.7-m4-r224-f16");
  auto baseline = s.Named("baseline");
  ASSERT_TRUE(baseline.ok());
  EXPECT_TRUE(ArchEqual(*baseline, BaselineArch()));
  EXPECT_TRUE(s.Contains(*baseline).ok());
  auto smallest = s.Named("reference_smallest");
  ASSERT_TRUE(smallest.ok());
  EXPECT_EQ(CountParams(*smallest), 585638);
}

TEST(SpaceTest, ReferenceSpaceHasAbout124kArchitectures) {
  // The reference's own space (embed 24/48, stage-3 depth 1/2/4, fixed input) is the
  // 124,416 quoted as "about 124k".
  auto s = Space::FromText(R"(
    name: "reference"
    patch_size { t: [2, 4] h: [2, 4] w: [2, 4] }
    embed_dim: [24, 48]
    stage { depth: [1, 2, 4] num_heads: [3] }
    stage { depth: [1, 2, 4] num_heads: [3, 6] }
    stage { depth: [1, 2, 4] num_heads: [3, 6, 12] }
    stage { depth: [1, 2, 4] num_heads: [3, 6, 12, 24] }
    mlp_ratio: [1, 2, 3, 4]
    window_size: [8, 7, 7]
    resolution: [224]
    frames: [16]
  )");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->NumArchitectures(), 124416u);
}

TEST(SpaceTest, TinySpaceLoads) {
  Space s = Load("supernet/spaces/tiny.textproto");
  EXPECT_EQ(s.NumArchitectures(), 512u);
  EXPECT_TRUE(s.Contains(s.Min()).ok());
  EXPECT_TRUE(s.Contains(s.Max()).ok());
  // The built-in baseline exists by name even though it lies outside the tiny space.
  auto b = s.Named("baseline");
  ASSERT_TRUE(b.ok());
  EXPECT_FALSE(s.Contains(*b).ok());
}

TEST(SpaceTest, CountExcludesStructurallyInvalidCombinations) {
  // embed 6: stage-0 width 6 is not divisible by 4 heads, so only heads 3 (and 6) count.
  auto s = Space::FromText(kDivisibilitySpace);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->NumArchitectures(), 1u + 2u);  // embed 6: heads {3}; embed 12: heads {3, 4}
  // Every value is offered by the space, but 4 heads do not divide width 6.
  ArchConfig bad = s->Min();
  bad.set_embed_dim(6);
  bad.set_num_heads(0, 4);
  EXPECT_NE(s->Contains(bad).message().find("expected a positive divisor of the stage width 6"),
            std::string::npos)
      << s->Contains(bad);
  Rng rng(1);
  for (int i = 0; i < 200; ++i) EXPECT_TRUE(s->Contains(s->Sample(&rng)).ok());
}

TEST(SpaceTest, SamplingIsDeterministicUnderASeed) {
  Space s = Load("supernet/spaces/swin3d_lpbf.textproto");
  Rng a(123), b(123), c(124);
  std::vector<std::string> ka, kc;
  for (int i = 0; i < 50; ++i) {
    std::string k = CanonicalKey(s.Sample(&a));
    EXPECT_EQ(k, CanonicalKey(s.Sample(&b)));
    ka.push_back(k);
    kc.push_back(CanonicalKey(s.Sample(&c)));
  }
  EXPECT_NE(ka, kc);
}

TEST(SpaceTest, SamplingCoversEveryChoiceAndIsUniform) {
  auto s = Space::FromText(kSmallSpace);
  ASSERT_TRUE(s.ok()) << s.status();
  const uint64_t n = s->NumArchitectures();
  ASSERT_EQ(n, 2u * 2 * 2 * 2 * 2);  // patch t, embed, depth0, heads1, mlp
  std::map<std::string, int> counts;
  Rng rng(5);
  const int draws = 3200;
  for (int i = 0; i < draws; ++i) {
    ArchConfig a = s->Sample(&rng);
    ASSERT_TRUE(s->Contains(a).ok());
    ++counts[CanonicalKey(a)];
  }
  EXPECT_EQ(counts.size(), n);  // every architecture drawn
  for (const auto& [k, c] : counts) {
    EXPECT_GT(c, 60) << k;  // expected 100 each
    EXPECT_LT(c, 140) << k;
  }
}

TEST(SpaceTest, DefaultSpaceSamplesCoverEveryDimension) {
  Space s = Load("supernet/spaces/swin3d_lpbf.textproto");
  std::map<std::string, std::set<double>> seen;
  Rng rng(9);
  for (int i = 0; i < 2000; ++i) {
    ArchConfig a = s.Sample(&rng);
    ASSERT_TRUE(s.Contains(a).ok()) << CanonicalKey(a);
    for (int d = 0; d < 3; ++d) seen["patch" + std::to_string(d)].insert(a.patch_size(d));
    seen["embed"].insert(a.embed_dim());
    for (int st = 0; st < 4; ++st) {
      seen["depth" + std::to_string(st)].insert(a.depths(st));
      seen["heads" + std::to_string(st)].insert(a.num_heads(st));
    }
    seen["mlp"].insert(a.mlp_ratio());
    seen["res"].insert(a.resolution());
  }
  EXPECT_EQ(seen["patch0"].size(), 2u);
  EXPECT_EQ(seen["embed"].size(), 3u);
  EXPECT_EQ(seen["depth2"].size(), 4u);
  EXPECT_EQ(seen["heads0"].size(), 1u);
  EXPECT_EQ(seen["heads3"].size(), 4u);
  EXPECT_EQ(seen["mlp"].size(), 4u);
  EXPECT_EQ(seen["res"].size(), 5u);
}

TEST(SpaceTest, MutationAndCrossoverStayInside) {
  Space s = Load("supernet/spaces/swin3d_lpbf.textproto");
  Rng rng(77);
  int changed = 0;
  for (int i = 0; i < 500; ++i) {
    ArchConfig a = s.Sample(&rng), b = s.Sample(&rng);
    ArchConfig m = s.Mutate(a, 0.3, &rng);
    ASSERT_TRUE(s.Contains(m).ok()) << s.Contains(m);
    changed += CanonicalKey(m) != CanonicalKey(a);
    ArchConfig c = s.Crossover(a, b, &rng);
    ASSERT_TRUE(s.Contains(c).ok()) << s.Contains(c);
    // Every gene of the child comes from one of the parents (heads may be repaired).
    EXPECT_TRUE(c.embed_dim() == a.embed_dim() || c.embed_dim() == b.embed_dim());
    EXPECT_TRUE(c.resolution() == a.resolution() || c.resolution() == b.resolution());
  }
  EXPECT_GT(changed, 450);
  // Probability 0 changes nothing; probability 1 changes every multi-choice gene.
  ArchConfig a = s.Sample(&rng);
  EXPECT_EQ(CanonicalKey(s.Mutate(a, 0.0, &rng)), CanonicalKey(a));
  ArchConfig all = s.Mutate(a, 1.0, &rng);
  EXPECT_NE(all.embed_dim(), a.embed_dim());
  EXPECT_NE(all.resolution(), a.resolution());
}

TEST(SpaceTest, MutationRepairsHeadsAfterEmbedChange) {
  auto s = Space::FromText(kDivisibilitySpace);
  ASSERT_TRUE(s.ok());
  Rng rng(3);
  for (int i = 0; i < 200; ++i) {
    ArchConfig a = s->Sample(&rng);
    ASSERT_TRUE(s->Contains(s->Mutate(a, 0.9, &rng)).ok());
  }
}

struct ContainsCase {
  const char* field;
  std::function<void(ArchConfig*)> change;
  const char* fragment;
};

TEST(SpaceTest, ContainsNamesFieldValueAndChoices) {
  Space s = Load("supernet/spaces/swin3d_lpbf.textproto");
  std::vector<ContainsCase> cases = {
      {"embed", [](ArchConfig* a) { a->set_embed_dim(64); },
       "arch field 'embed_dim': got 64, not in space 'swin3d_lpbf'; allowed: 24, 48, 96"},
      {"depth", [](ArchConfig* a) { a->set_depths(2, 3); },
       "'depths[2]': got 3, not in space 'swin3d_lpbf'; allowed: 1, 2, 4, 6"},
      {"heads", [](ArchConfig* a) { a->set_num_heads(1, 12); },
       "'num_heads[1]': got 12, not in space 'swin3d_lpbf'; allowed: 3, 6"},
      {"res", [](ArchConfig* a) { a->set_resolution(100); },
       "'resolution': got 100, not in space 'swin3d_lpbf'; allowed: 64, 96, 128, 160, 224"},
      {"window", [](ArchConfig* a) { a->set_window_size(1, 4); }, "'window_size': got [8,4,7]"},
      {"mlp", [](ArchConfig* a) { a->set_mlp_ratio(1.5); }, "'mlp_ratio': got 1.5"},
      {"patch", [](ArchConfig* a) { a->set_patch_size(1, 8); }, "'patch_size[1] (H)': got 8"},
      {"shape", [](ArchConfig* a) { a->add_depths(1); },
       "'depths': got [2,2,6,2,1], expected 4 values, one per stage"},
  };
  for (const auto& c : cases) {
    ArchConfig a = BaselineArch();
    c.change(&a);
    absl::Status st = s.Contains(a);
    ASSERT_FALSE(st.ok()) << c.field;
    EXPECT_NE(st.message().find(c.fragment), std::string::npos) << st.message();
  }
}

struct BadSpaceCase {
  std::string text;
  std::string fragment;
};

TEST(SpaceTest, InvalidSpaceFilesGiveClearErrors) {
  const std::string good_tail = R"(
    mlp_ratio: [1] window_size: [4, 4, 4] resolution: [32] frames: [8])";
  const std::string stages = R"(
    stage { depth: [1] num_heads: [3] } stage { depth: [1] num_heads: [3] }
    stage { depth: [1] num_heads: [3] } stage { depth: [1] num_heads: [3] })";
  std::vector<BadSpaceCase> cases = {
      {"name: \"x\" colour: 3",
       "f.textproto:1:17: Message type \"edgeloop.SearchSpace\" has no field named \"colour\""},
      {"name: \"x\" embed_dim: [12,", "f.textproto:1"},
      {"name: \"x\" patch_size { t: [2] h: [4] w: [4] } embed_dim: [12]" + good_tail,
       "'stage': got 0 stages, expected exactly 4"},
      {"name: \"x\" patch_size { t: [2] h: [4] } embed_dim: [12]" + stages + good_tail,
       "'patch_size.w' needs at least one choice"},
      {"name: \"x\" patch_size { t: [2] h: [4] w: [4] } embed_dim: [12, 12]" + stages + good_tail,
       "'embed_dim' must list distinct positive values"},
      {"name: \"x\" patch_size { t: [2] h: [4] w: [4] } embed_dim: [10]" + stages + good_tail,
       "no num_heads choice of stage 0 (3) divides its width 10 for embed_dim 10"},
      {"name: \"x\" patch_size { t: [2] h: [4] w: [4] } embed_dim: [12]" + stages +
           " mlp_ratio: [1] window_size: [4, 4] resolution: [32] frames: [8]",
       "'window_size' must be exactly 3 positive values"},
      {"name: \"x\" patch_size { t: [2] h: [4] w: [4] } embed_dim: [12]" + stages + good_tail +
           " named { name: \"min\" }",
       "names must be non-empty, unique, and not 'min' or 'max'"},
  };
  for (const auto& c : cases) {
    auto s = Space::FromText(c.text, "f.textproto");
    ASSERT_FALSE(s.ok()) << c.text;
    EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(s.status().message().find(c.fragment), std::string::npos)
        << "got: " << s.status().message() << "\nwanted: " << c.fragment;
  }
}

TEST(SpaceTest, MissingFileIsAnError) {
  auto s = Space::FromFile("/nonexistent/space.textproto");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("/nonexistent/space.textproto"), std::string::npos);
}

TEST(SpaceTest, ResolveArchForms) {
  Space s = Load("supernet/spaces/swin3d_lpbf.textproto");
  EXPECT_TRUE(ArchEqual(*ResolveArch("baseline", &s), BaselineArch()));
  EXPECT_TRUE(ArchEqual(*ResolveArch("min", &s), s.Min()));
  EXPECT_TRUE(ArchEqual(*ResolveArch(ArchToJson(s.Max()), &s), s.Max()));
  testing::TempDir dir;
  std::string path = dir.File("a.json");
  FILE* f = fopen(path.c_str(), "w");
  fputs(ArchToJson(s.Min()).c_str(), f);
  fclose(f);
  EXPECT_TRUE(ArchEqual(*ResolveArch(path, &s), s.Min()));
  auto bad = ResolveArch("nonsense", &s);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("unknown architecture name 'nonsense'"), std::string::npos);
  EXPECT_TRUE(ArchEqual(*ResolveArch("baseline", nullptr), BaselineArch()));
}

}  // namespace
}  // namespace edgeloop::arch
