#include "predictor/bootstrap.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

#include "arch/arch_config.h"
#include "arch/cost_model.h"
#include "gtest/gtest.h"
#include "tests/predictor/predictor_test_util.h"
#include "tests/test_util.h"

namespace edgeloop::predictor {
namespace {

using testing::TempDir;

double LogFlops(const ArchConfig& a) {
  return std::log(static_cast<double>(arch::ComputeCost(a).flops));
}

TEST(BootstrapTest, DesignIsDistinctDeterministicAndCoversTheFlopsRange) {
  const arch::Space space = DefaultSpace();
  for (DesignKind kind : {DesignKind::kFlops, DesignKind::kLhs, DesignKind::kMixed}) {
    SCOPED_TRACE(DesignKindName(kind));
    const auto design = DesignArchitectures(space, 60, 5, kind);
    ASSERT_EQ(design.size(), 60u);
    std::set<std::string> keys;
    for (const auto& a : design) {
      keys.insert(arch::CanonicalKey(a));
      EXPECT_TRUE(space.Contains(a).ok()) << space.Contains(a);
    }
    EXPECT_EQ(keys.size(), 60u);
    const auto again = DesignArchitectures(space, 60, 5, kind);
    for (size_t i = 0; i < design.size(); ++i) EXPECT_TRUE(arch::ArchEqual(design[i], again[i]));
    // The corners are in.
    EXPECT_TRUE(arch::ArchEqual(design[0], space.Min()));
    EXPECT_TRUE(arch::ArchEqual(design[1], space.Max()));
    if (kind == DesignKind::kLhs) continue;
    // Every tenth of the log-FLOPs range holds a design point, which uniform sampling of
    // the same size does not achieve at the cheap end.
    const double lo = LogFlops(space.Min()), hi = LogFlops(space.Max());
    std::set<int> deciles;
    for (const auto& a : design)
      deciles.insert(std::min(9, static_cast<int>((LogFlops(a) - lo) / (hi - lo) * 10)));
    EXPECT_EQ(deciles.size(), 10u);
  }
}

// Counts, per dimension of Space::Dimensions() (window_size excluded), how often each
// choice appears in `design`.
std::map<std::string, std::map<std::string, int>> ChoiceCounts(
    const std::vector<ArchConfig>& design) {
  std::map<std::string, std::map<std::string, int>> counts;
  auto fmt = [](double v) { return absl::StrFormat("%g", v); };
  for (const auto& a : design) {
    counts["patch_size.t"][fmt(a.patch_size(0))]++;
    counts["patch_size.h"][fmt(a.patch_size(1))]++;
    counts["patch_size.w"][fmt(a.patch_size(2))]++;
    counts["embed_dim"][fmt(a.embed_dim())]++;
    for (int s = 0; s < arch::kNumStages; ++s) {
      counts[absl::StrCat("depths[", s, "]")][fmt(a.depths(s))]++;
      counts[absl::StrCat("num_heads[", s, "]")][fmt(a.num_heads(s))]++;
    }
    counts["mlp_ratio"][fmt(a.mlp_ratio())]++;
    counts["resolution"][fmt(a.resolution())]++;
    counts["frames"][fmt(a.frames())]++;
  }
  return counts;
}

TEST(BootstrapTest, LatinHypercubeCoversEveryChoiceOfEveryDimension) {
  const std::vector<arch::Space> spaces = {
      *arch::Space::FromFile(testing::SourcePath("supernet/spaces/tiny.textproto")),
      DefaultSpace()};
  for (const arch::Space& s : spaces) {
    size_t most_choices = 0;
    for (const auto& d : s.Dimensions()) most_choices = std::max(most_choices, d.choices.size());
    // The corners plus n - 2 hypercube points, n = the largest number of choices.
    const int n = static_cast<int>(most_choices) + 2;
    const auto design = DesignArchitectures(s, n, 11, DesignKind::kLhs);
    ASSERT_EQ(design.size(), static_cast<size_t>(n));
    auto counts = ChoiceCounts(design);
    for (const auto& d : s.Dimensions()) {
      if (d.name == "window_size") continue;
      for (const auto& c : d.choices)
        EXPECT_GT(counts[d.name][c], 0) << s.name() << " " << d.name << "=" << c;
    }
    // Balanced: with 10 points per choice of resolution, each appears about equally often.
    const int big = 10 * static_cast<int>(s.spec().resolution_size()) + 2;
    auto big_counts = ChoiceCounts(DesignArchitectures(s, big, 3, DesignKind::kLhs));
    for (const auto& [choice, count] : big_counts["resolution"]) EXPECT_GE(count, 8) << choice;
  }
}

TEST(BootstrapTest, DesignKindNamesRoundTrip) {
  for (DesignKind kind : {DesignKind::kFlops, DesignKind::kLhs, DesignKind::kMixed}) {
    auto parsed = ParseDesignKind(DesignKindName(kind));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, kind);
  }
  EXPECT_FALSE(ParseDesignKind("sobol").ok());
}

TEST(BootstrapTest, MeasuresStoresFitsAndResumes) {
  TempDir dir;
  const arch::Space space = DefaultSpace();
  auto store = MeasurementStore::Open(dir.File("boot.db"));
  ASSERT_TRUE(store.ok());
  SyntheticDevice device("boot-device", 4);
  int calls = 0;
  Measurer measurer = [&](const ArchConfig& arch, int batch) -> absl::StatusOr<Measurement> {
    ++calls;
    Measurement m = device.Measure(arch, batch);
    m.device.clear();  // the bootstrap fills it in
    return m;
  };
  BootstrapOptions options;
  options.device = "boot-device";
  options.samples = 80;
  options.batches = {1, 2};
  options.params = QuickParams();
  auto result = RunBootstrap(space, options, measurer, store->get());
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(calls, 160);
  EXPECT_EQ(result->measured, 160);
  EXPECT_EQ(result->cv.n, 160);
  EXPECT_GE(result->cv.within_10, 0.85) << MetricsToText(result->cv);
  EXPECT_GE(result->cv.spearman, 0.98) << MetricsToText(result->cv);
  EXPECT_EQ(*(*store)->CountMeasurements("boot-device"), 160);
  EXPECT_EQ(result->model.meta().version, 1);
  EXPECT_TRUE((*store)->LoadModel("boot-device").ok());

  // Rerun (e.g. after an interruption): nothing is measured twice.
  auto again = RunBootstrap(space, options, measurer, store->get());
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(calls, 160);
  EXPECT_EQ(again->reused, 160);
  EXPECT_EQ(again->model.meta().version, 2);
}

TEST(BootstrapTest, MeasurerFailuresStopWithTheCommittedRowsKept) {
  TempDir dir;
  const arch::Space space = DefaultSpace();
  auto store = MeasurementStore::Open(dir.File("boot.db"));
  SyntheticDevice device("d", 4);
  int calls = 0;
  Measurer flaky = [&](const ArchConfig& arch, int batch) -> absl::StatusOr<Measurement> {
    if (++calls > 5) return absl::UnavailableError("edge server went away");
    return device.Measure(arch, batch);
  };
  BootstrapOptions options;
  options.device = "d";
  options.samples = 20;
  auto result = RunBootstrap(space, options, flaky, store->get());
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("edge server went away"), std::string::npos);
  EXPECT_EQ(*(*store)->CountMeasurements("d"), 5);
  options.device.clear();
  EXPECT_TRUE(absl::IsInvalidArgument(RunBootstrap(space, options, flaky, store->get()).status()));
}

}  // namespace
}  // namespace edgeloop::predictor
