// The integration test of `edgeloop pipeline`: the micro profile end to end (tiny space,
// tiny generated data, a few steps, a real edge server on loopback), then a re-run that
// must skip every finished stage.
#include <chrono>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/atomic_file.h"
#include "base/json.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace edgeloop {
namespace {

using testing::RunEdgeloop;
using testing::TempDir;

TEST(EndToEndPipelineTest, MicroProfileProducesEveryStageAndTheReport) {
  TempDir dir;
  const std::string out = dir.File("pipeline");
  auto r = RunEdgeloop(absl::StrCat("pipeline --profile micro --quiet --out ", out));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  for (const char* stage : {"data", "supernet", "predictor", "search", "finetune", "baseline", "measure", "test"}) {
    auto record = ReadFile(absl::StrCat(out, "/stages/", stage, ".json"));
    ASSERT_TRUE(record.ok()) << stage;
    auto parsed = ParseJsonObject(*record, stage);
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_GT(JsonNumber(*parsed, "seconds", stage).value(), 0) << stage;
  }
  for (const char* file : {"data/lpbf.h5", "space.textproto", "baseline.json", "measurements.db",
                           "predictor/model.json", "search/front.csv", "search/front.json",
                           "search/pareto.png", "search/chosen/model.pt", "supernet/run.json",
                           "finetune/run.json", "baseline/run.json", "report.md"}) {
    EXPECT_TRUE(ReadFile(absl::StrCat(out, "/", file)).ok()) << file;
  }
  auto report = ReadFile(out + "/report.md");
  ASSERT_TRUE(report.ok());
  // Every number of the comparison is filled in.
  const size_t table = report->find("## Chosen subnet vs the human-designed baseline");
  const size_t table_end = report->find("## Pareto front");
  ASSERT_NE(table, std::string::npos);
  EXPECT_EQ(report->substr(table, table_end - table).find("n/a"), std::string::npos) << *report;
  for (const char* needle : {"latency batch 1", "latency batch 2", "test MSE", "Latency ratio",
                             "Test-loss ratio", "reference ~8.80x", "reference ~1.35x", "pareto.png",
                             "live measurements", "Cost of the search", "cpu_model"}) {
    EXPECT_TRUE(absl::StrContains(*report, needle)) << needle;
  }
  // The test split holds another object than training.
  auto test = ParseJsonObject(*ReadFile(out + "/stages/test.json"), "test");
  EXPECT_GT(JsonNumber(JsonField(*test, "chosen")->struct_value(), "samples", "").value(), 0);

  // A re-run skips every finished stage and only rewrites the report.
  const auto start = std::chrono::steady_clock::now();
  auto again = RunEdgeloop(absl::StrCat("pipeline --profile micro --out ", out));
  ASSERT_EQ(again.exit_code, 0) << again.out;
  EXPECT_TRUE(absl::StrContains(again.out, "search: done earlier")) << again.out;
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 30);
}

TEST(EndToEndPipelineTest, BadInputIsRefused) {
  TempDir dir;
  auto r = RunEdgeloop(absl::StrCat("pipeline --profile huge --out ", dir.File("p")));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(absl::StrContains(r.out, "unknown profile")) << r.out;
  r = RunEdgeloop(absl::StrCat("pipeline --profile micro --data ", dir.File("x.h5"), " --out ", dir.File("p")));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(absl::StrContains(r.out, "--test-split")) << r.out;
  r = RunEdgeloop(absl::StrCat("pipeline --profile micro --data ", dir.File("missing.h5"),
                               " --train-split C027 --val-split C028 --test-split C029 --out ", dir.File("p")));
  EXPECT_EQ(r.exit_code, 2) << r.out;
}

}  // namespace
}  // namespace edgeloop
