#include "search/search.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "absl/strings/str_split.h"
#include "arch/arch_config.h"
#include "base/atomic_file.h"
#include "base/json.h"
#include "gtest/gtest.h"
#include "search/outputs.h"
#include "search/pareto.h"
#include "tests/search/synthetic_objectives.h"
#include "tests/test_util.h"

namespace edgeloop::search {
namespace {

using testing::FakeEdgeLatency;
using testing::SyntheticAccuracy;
using testing::SyntheticMse;
using testing::TrueLatencyMs;

arch::Space TinySpace() {
  return arch::Space::FromFile(edgeloop::testing::SourcePath("supernet/spaces/tiny.textproto"))
      .value();
}

// Every architecture of the (512-member) tiny space.
std::vector<ArchConfig> Enumerate(const arch::Space& space) {
  std::map<std::string, ArchConfig> all;
  Rng rng(1);
  for (int i = 0; i < 40000 && all.size() < space.NumArchitectures(); ++i) {
    ArchConfig a = space.Sample(&rng);
    all.emplace(arch::CanonicalKey(a), a);
  }
  std::vector<ArchConfig> out;
  for (auto& [k, a] : all) out.push_back(a);
  return out;
}

std::vector<Point> TruePoints(const std::vector<ArchConfig>& archs) {
  std::vector<Point> points;
  for (const ArchConfig& a : archs) points.push_back({SyntheticMse(a), TrueLatencyMs(a)});
  return points;
}

SearchOptions Options(const std::string& dir, Strategy strategy = Strategy::kPareto) {
  SearchOptions o;
  o.strategy = strategy;
  o.population = 16;
  o.generations = 10;
  o.seed = 7;
  o.out_dir = dir;
  o.progress = false;
  o.identity = "test";
  return o;
}

// Writes DIR/front.csv for `result` and returns its lines, the header first.
std::vector<std::string> FrontCsvRows(const SearchResult& result, const std::string& dir) {
  EXPECT_TRUE(WriteFrontCsv(result, dir + "/front.csv").ok());
  auto csv = ReadFile(dir + "/front.csv");
  EXPECT_TRUE(csv.ok()) << csv.status();
  if (!csv.ok()) return {};
  return absl::StrSplit(*csv, '\n', absl::SkipEmpty());
}

std::vector<Point> FrontPoints(const SearchResult& r) {
  std::vector<Point> points;
  for (int i : r.front) points.push_back(r.archive[i].objectives());
  return points;
}

TEST(SearchTest, ParetoFindsTheKnownFrontOfTheTinySpace) {
  const arch::Space space = TinySpace();
  const std::vector<ArchConfig> all = Enumerate(space);
  ASSERT_EQ(all.size(), 512u);
  const std::vector<Point> truth = TruePoints(all);
  std::set<std::string> true_front;
  for (int i : ParetoFront(truth)) true_front.insert(arch::CanonicalKey(all[i]));
  const Point reference = {1.1 * std::max_element(truth.begin(), truth.end(),
                                                  [](auto& a, auto& b) { return a[0] < b[0]; })
                                     ->at(0),
                           1.1 * std::max_element(truth.begin(), truth.end(), [](auto& a, auto& b) {
                                   return a[1] < b[1];
                                 })->at(1)};
  const double true_hv = Hypervolume(truth, reference);

  edgeloop::testing::TempDir dir;
  SyntheticAccuracy accuracy;
  FakeEdgeLatency latency(/*has_edge=*/true);
  SearchOptions o = Options(dir.path());
  o.generations = 20;  // 336 of the 512 architectures
  auto result = RunSearch(space, o, &accuracy, &latency);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(accuracy.evaluated(), 16 * 21);  // the budget, each architecture once
  EXPECT_TRUE(result->verified);
  int found = 0;
  for (int i : result->front) {
    const Candidate& c = result->archive[i];
    ASSERT_TRUE(c.measured()) << c.key;
    EXPECT_DOUBLE_EQ(c.measured_ms, TrueLatencyMs(c.arch));
    found += true_front.count(c.key);
  }
  const double hv = Hypervolume(FrontPoints(*result), reference);
  // The front is 30 points apart by fractions of a percent; what matters is that the
  // search covers it (hypervolume) and lands on most of it.
  EXPECT_GE(hv / true_hv, 0.99) << "found " << found << " of " << true_front.size();
  EXPECT_GE(found, static_cast<int>(0.5 * true_front.size()));
}

double MeanHypervolume(Strategy strategy, const arch::Space& space, const Point& reference) {
  double sum = 0;
  for (uint64_t seed : {1, 2, 3}) {
    edgeloop::testing::TempDir dir;
    SyntheticAccuracy accuracy;
    FakeEdgeLatency latency(true);
    SearchOptions o = Options(dir.path(), strategy);
    o.population = 8;
    o.generations = 6;
    o.seed = seed;
    auto result = RunSearch(space, o, &accuracy, &latency);
    EXPECT_TRUE(result.ok()) << result.status();
    if (!result.ok()) return 0;
    EXPECT_EQ(accuracy.evaluated(), 8 * 7) << StrategyName(strategy);
    sum += Hypervolume(FrontPoints(*result), reference);
  }
  return sum / 3;
}

TEST(SearchTest, EveryStrategyRespectsTheBudgetAndParetoBeatsRandom) {
  const arch::Space space = TinySpace();
  const std::vector<Point> truth = TruePoints(Enumerate(space));
  Point reference = {0, 0};
  for (const Point& p : truth)
    reference = {std::max(reference[0], p[0] * 1.1), std::max(reference[1], p[1] * 1.1)};
  const double pareto = MeanHypervolume(Strategy::kPareto, space, reference);
  const double random = MeanHypervolume(Strategy::kRandom, space, reference);
  const double weighted = MeanHypervolume(Strategy::kWeighted, space, reference);
  EXPECT_GT(pareto, random);
  EXPECT_GT(weighted, 0);
}

TEST(SearchTest, ConstrainedChoiceHoldsOnMeasuredLatency) {
  const arch::Space space = TinySpace();
  std::vector<double> latencies;
  for (const ArchConfig& a : Enumerate(space)) latencies.push_back(TrueLatencyMs(a));
  std::sort(latencies.begin(), latencies.end());
  const double budget = latencies[latencies.size() / 4];
  edgeloop::testing::TempDir dir;
  SyntheticAccuracy accuracy;
  FakeEdgeLatency latency(true);
  SearchOptions o = Options(dir.path(), Strategy::kConstrained);
  o.max_latency_ms = budget;
  auto result = RunSearch(space, o, &accuracy, &latency);
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_TRUE(result->feasible);
  const Candidate& chosen = result->archive[result->chosen];
  ASSERT_TRUE(chosen.measured());
  EXPECT_LE(chosen.measured_ms, budget);
  // No measured subnet under the budget is more accurate.
  for (const Candidate& c : result->archive) {
    if (c.measured() && c.measured_ms <= budget) {
      EXPECT_GE(c.val_mse, chosen.val_mse);
    }
  }

  edgeloop::testing::TempDir dir2;
  SyntheticAccuracy accuracy2;
  FakeEdgeLatency latency2(true);
  o.out_dir = dir2.path();
  o.max_latency_ms = latencies.front() / 10;  // impossible
  auto impossible = RunSearch(space, o, &accuracy2, &latency2);
  ASSERT_TRUE(impossible.ok()) << impossible.status();
  EXPECT_FALSE(impossible->feasible);
  EXPECT_NE(impossible->message.find("no subnet found under"), std::string::npos)
      << impossible->message;
  ASSERT_GE(impossible->chosen, 0);
  for (const Candidate& c : impossible->archive) {
    EXPECT_GE(c.latency_ms(), impossible->archive[impossible->chosen].latency_ms());
  }
}

TEST(SearchTest, ResumedSearchEndsWithTheSameFront) {
  const arch::Space space = TinySpace();
  edgeloop::testing::TempDir full_dir, cut_dir;
  SyntheticAccuracy accuracy;
  FakeEdgeLatency latency(true);
  auto full = RunSearch(space, Options(full_dir.path()), &accuracy, &latency);
  ASSERT_TRUE(full.ok()) << full.status();

  {
    SyntheticAccuracy interrupted(/*cancel_at=*/5);  // dies in generation 4
    FakeEdgeLatency edge(true);
    auto cut = RunSearch(space, Options(cut_dir.path()), &interrupted, &edge);
    ASSERT_TRUE(absl::IsCancelled(cut.status())) << cut.status();
  }
  SyntheticAccuracy accuracy2;
  FakeEdgeLatency latency2(true);
  SearchOptions o = Options(cut_dir.path());
  o.resume = true;
  auto resumed = RunSearch(space, o, &accuracy2, &latency2);
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  EXPECT_LT(accuracy2.evaluated(), accuracy.evaluated());  // finished generations are not redone
  ASSERT_EQ(resumed->archive.size(), full->archive.size());
  for (size_t i = 0; i < full->archive.size(); ++i) {
    EXPECT_EQ(resumed->archive[i].key, full->archive[i].key);
    EXPECT_EQ(resumed->archive[i].measured(), full->archive[i].measured());
  }
  EXPECT_EQ(resumed->front, full->front);
  EXPECT_EQ(resumed->chosen, full->chosen);
  // One log line per generation, none twice.
  auto log = ReadFile(cut_dir.path() + "/log.jsonl");
  ASSERT_TRUE(log.ok());
  int generations = 0;
  for (absl::string_view line : absl::StrSplit(*log, '\n', absl::SkipEmpty())) {
    generations += line.find("\"generation\"") != absl::string_view::npos;
  }
  EXPECT_EQ(generations, 11);

  // A saved search resumes only under the same settings.
  o.identity = "another run";
  SyntheticAccuracy accuracy3;
  FakeEdgeLatency latency3(true);
  auto refused = RunSearch(space, o, &accuracy3, &latency3);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition) << refused.status();
}

TEST(SearchTest, EdgeDownThenBackStillEndsVerified) {
  const arch::Space space = TinySpace();
  edgeloop::testing::TempDir dir;
  SyntheticAccuracy accuracy;
  FakeEdgeLatency latency(true, /*down_collects=*/5);
  auto result = RunSearch(space, Options(dir.path()), &accuracy, &latency);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_GT(latency.measurements(), 0);
  EXPECT_TRUE(result->verified) << result->message;
  // Generations during the outage measured nothing, later ones did.
  auto log = ReadFile(dir.path() + "/log.jsonl");
  ASSERT_TRUE(log.ok());
  std::vector<std::string> lines = absl::StrSplit(*log, '\n', absl::SkipEmpty());
  EXPECT_NE(lines[0].find("\"measured_new\":0"), std::string::npos);
  EXPECT_NE(lines[0].find("\"edge_connected\":false"), std::string::npos);
  EXPECT_NE(lines[6].find("\"edge_connected\":true"), std::string::npos);
}

TEST(SearchTest, UnreachableEdgeMarksLatenciesUnverified) {
  const arch::Space space = TinySpace();
  edgeloop::testing::TempDir dir;
  SyntheticAccuracy accuracy;
  FakeEdgeLatency latency(true, /*down_collects=*/-1);
  auto result = RunSearch(space, Options(dir.path()), &accuracy, &latency);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_FALSE(result->verified);
  EXPECT_NE(result->message.find("predicted latencies only"), std::string::npos) << result->message;
  const std::vector<std::string> rows = FrontCsvRows(*result, dir.path());
  for (size_t r = 1; r < rows.size(); ++r) {
    EXPECT_EQ(std::vector<std::string>(absl::StrSplit(rows[r], ',')).at(2), "0") << rows[r];
  }
}

TEST(SearchTest, OutputsAgreeWithEachOther) {
  const arch::Space space = TinySpace();
  edgeloop::testing::TempDir dir;
  SyntheticAccuracy accuracy;
  FakeEdgeLatency latency(true);
  SearchOptions o = Options(dir.path());
  o.generations = 3;
  auto result = RunSearch(space, o, &accuracy, &latency);
  ASSERT_TRUE(result.ok()) << result.status();
  OutputContext context{"pareto", "fake-edge", 1, 0};
  const std::vector<std::string> rows = FrontCsvRows(*result, dir.path());
  ASSERT_TRUE(WriteFrontJson(*result, context, dir.path() + "/front.json").ok());
  absl::Status plotted = PlotPareto(*result, context, dir.path() + "/pareto.png");
  ASSERT_TRUE(plotted.ok()) << plotted;
  auto png = ReadFile(dir.path() + "/pareto.png");
  ASSERT_TRUE(png.ok());
  EXPECT_EQ(png->substr(1, 3), "PNG");

  auto json = ReadFile(dir.path() + "/front.json");
  ASSERT_TRUE(json.ok());
  auto parsed = ParseJsonObject(*json, "front.json");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  const auto& front = JsonField(*parsed, "front")->list_value();
  ASSERT_EQ(static_cast<int>(rows.size()) - 1, front.values_size());
  ASSERT_EQ(front.values_size(), static_cast<int>(result->front.size()));
  for (int k = 0; k < front.values_size(); ++k) {
    const auto& entry = front.values(k).struct_value();
    EXPECT_EQ(JsonString(entry, "key", "").value(), result->archive[result->front[k]].key);
    EXPECT_NE(rows[k + 1].find(result->archive[result->front[k]].key), std::string::npos);
    if (k > 0) {
      EXPECT_GE(JsonNumber(entry, "val_mse", "").value(),
                JsonNumber(front.values(k - 1).struct_value(), "val_mse", "").value());
    }
  }
  const auto* chosen = JsonField(*parsed, "chosen");
  ASSERT_TRUE(chosen != nullptr && chosen->has_struct_value());
  EXPECT_EQ(JsonString(chosen->struct_value(), "key", "").value(),
            result->archive[result->chosen].key);
}

TEST(SearchTest, BadSettingsAreRefused) {
  const arch::Space space = TinySpace();
  edgeloop::testing::TempDir dir;
  SyntheticAccuracy accuracy;
  FakeEdgeLatency latency(false);
  SearchOptions o = Options(dir.path());
  o.population = 1;
  EXPECT_EQ(RunSearch(space, o, &accuracy, &latency).status().code(),
            absl::StatusCode::kInvalidArgument);
  o = Options(dir.path(), Strategy::kConstrained);
  EXPECT_EQ(RunSearch(space, o, &accuracy, &latency).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(ParseStrategy("best").ok());
}

}  // namespace
}  // namespace edgeloop::search
