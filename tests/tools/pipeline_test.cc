// The integration test of `edgeloop pipeline`: the micro profile end to end (tiny space,
// tiny generated data, a few steps, a real edge server on loopback), then a re-run that
// must skip every finished stage.
#include <chrono>
#include <cstdint>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

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

// Stage records of a pipeline run in DIR `out`, in the format of the versions that built
// them by hand.
std::vector<std::pair<std::string, std::string>> EarlierRecords(const std::string& out) {
  const std::string chosen_arch =
      R"({"patch_size":[4,4,4],"embed_dim":12,"depths":[1,1,1,1],"num_heads":[3,3,3,6],"window_size":[4,4,4],"mlp_ratio":1,"resolution":32,"frames":8})";
  const std::string chosen_key = "p4.4.4-e12-d1.1.1.1-h3.3.3.6-w4.4.4-m1-r32-f8";
  const std::string baseline_key = "p2.4.4-e96-d2.2.6.2-h3.6.12.24-w8.7.7-m4-r48-f8";
  auto train = [&](const char* stage, double epochs) {
    return absl::StrCat(
        R"({"stage":")", stage, R"(","seconds":11.25,"finished_unix":1733312345,"run":")", out, "/",
        stage, R"(","steps":120,"epochs":)", epochs,
        R"(,"samples_per_second":45.5,"train_seconds":10.9,"val_mse":{"min":0.1015,"max":null}})");
  };
  auto tested = [&](const std::string& key, double mse, int64_t params, int64_t flops) {
    return absl::StrCat(
        R"({"key":")", key, R"(","mse":)", mse,
        R"(,"rmse_speed_mm_s":301.5,"rmse_power_w":55.799999999999997,"samples":512,"params":)",
        params, R"(,"flops":)", flops, "}");
  };
  auto measured = [](const std::string& key, const char* batches) {
    return absl::StrCat(R"({"key":")", key, R"(","batches":{)", batches, "}}");
  };
  return {
      {"data",
       absl::StrCat(
           R"({"stage":"data","seconds":2.5,"finished_unix":1733312000,"files":[")", out,
           R"(/data/lpbf.h5"],"synthetic":true,"train_split":"C027","val_split":"C028","test_split":"C029"})")},
      {"supernet", train("supernet", 2)},
      {"finetune", train("finetune", 1)},
      {"baseline", train("baseline", 2)},
      {"predictor",
       absl::StrCat(
           R"({"stage":"predictor","seconds":16,"finished_unix":1733312100,"model":")", out,
           R"(/predictor/model.json","device":"cpu-abc","measured":20,"cv":{"n":20,"rmspe":null,"mape":4.5,"within_5":0.55000000000000004,"within_10":0.84999999999999998,"spearman":0.98999999999999999,"kendall":0.91000000000000003},"edge":{"cpu_model":"AMD EPYC 7B13","cores":2,"threads":2,"torch_version":"1.13.1","device":"cpu","hostname":"vm","fingerprint":"cpu-abc","limits":{"max_batch":64,"max_flops":"1000000000000"}}})")},
      {"search",
       absl::StrCat(
           R"({"stage":"search","seconds":13.5,"finished_unix":1733312200,"dir":")", out,
           R"(/search","evaluated":60,"measured":15,"front_size":5,"verified":true,"latency_budget_ms":6.0113636363636367,"budget_met":true,"search_seconds":13.1,"chosen":{"key":")",
           chosen_key, R"(","arch":)", chosen_arch,
           R"(,"params":225623,"flops":3093216,"generation":2,"val_mse":0.098500000000000004,"rmse_speed_mm_s":null,"rmse_power_w":null,"predicted_ms":0.93999999999999995,"predicted_log_std":0.050000000000000003,"measured_ms":0.94,"measured_p90_ms":1.02,"predicted_before_measurement_ms":0.90000000000000002,"verified":true}})")},
      {"measure",
       absl::StrCat(
           R"({"stage":"measure","seconds":5.25,"finished_unix":1733312300,"chosen":)",
           measured(
               chosen_key,
               R"("1":{"median_ms":0.93999999999999995,"p90_ms":1.02,"runs":40},"2":{"median_ms":2.2799999999999998,"p90_ms":2.5,"runs":40})"),
           R"(,"baseline":)",
           measured(
               baseline_key,
               R"("1":{"median_ms":52.899999999999999,"p90_ms":55.200000000000003,"runs":12},"2":{"median_ms":138,"p90_ms":148,"runs":8})"),
           R"(,"edge":{"cpu_model":"AMD EPYC 7B13","cores":2,"threads":2,"torch_version":"1.13.1","device":"cpu","fingerprint":"cpu-abc"}})")},
      {"test",
       absl::StrCat(R"({"stage":"test","seconds":10.5,"finished_unix":1733312400,"chosen":)",
                    tested(chosen_key, 0.0897, 225623, 3093216), R"(,"chosen_inherited":)",
                    tested(chosen_key, 0.0985, 225623, 3093216), R"(,"baseline":)",
                    tested(baseline_key, 0.0915, 28232336, 43728169488), "}")},
  };
}

TEST(EndToEndPipelineTest, MicroProfileProducesEveryStageAndTheReport) {
  TempDir dir;
  const std::string out = dir.File("pipeline");
  auto r = RunEdgeloop(absl::StrCat("pipeline --profile micro --quiet --out ", out));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  for (const char* stage :
       {"data", "supernet", "predictor", "search", "finetune", "baseline", "measure", "test"}) {
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
  for (const char* needle :
       {"latency batch 1", "latency batch 2", "test MSE", "Latency ratio", "Test-loss ratio",
        "reference ~8.80x", "reference ~1.35x", "pareto.png", "live measurements",
        "Cost of the search", "cpu_model"}) {
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

  // Records as earlier versions wrote them (built by hand: counts and times as numbers,
  // unknown values null, the edge device without its empty fields) still count as done and
  // fill the report.
  for (const auto& [stage, record] : EarlierRecords(out)) {
    ASSERT_TRUE(WriteFileAtomically(absl::StrCat(out, "/stages/", stage, ".json"), record).ok());
  }
  auto earlier = RunEdgeloop(absl::StrCat("pipeline --profile micro --out ", out));
  ASSERT_EQ(earlier.exit_code, 0) << earlier.out;
  for (const char* stage :
       {"data", "supernet", "predictor", "search", "finetune", "baseline", "measure", "test"}) {
    EXPECT_TRUE(absl::StrContains(earlier.out, absl::StrCat(stage, ": done earlier")))
        << stage << earlier.out;
  }
  report = ReadFile(out + "/report.md");
  ASSERT_TRUE(report.ok());
  for (const char* needle :
       {"| parameters | 225623 | 28232336 | 125.13x |",
        "| latency batch 1, median / p90 (ms) | 0.94 / 1.02 | 52.9 / 55.2 | 56.28x |",
        "| latency batch 2, median / p90 (ms) | 2.28 / 2.5 | 138 / 148 | 60.53x |",
        "| test MSE (normalised targets) | 0.08970 | 0.09150 | 1.02x |",
        "before fine-tuning): test MSE 0.09850.",
        "Search: 60 subnets scored with inherited weights, 15 measured live; front of 5",
        "every front latency measured", "Spearman 0.990", "| cpu_model | AMD EPYC 7B13 |",
        "| cores | 2 |", "| test | 10.5 s |", "(synthetic, RAISE-LPBF format)"}) {
    EXPECT_TRUE(absl::StrContains(*report, needle)) << needle << "\n" << *report;
  }
}

TEST(EndToEndPipelineTest, BadInputIsRefused) {
  TempDir dir;
  auto r = RunEdgeloop(absl::StrCat("pipeline --profile huge --out ", dir.File("p")));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(absl::StrContains(r.out, "unknown profile")) << r.out;
  std::ofstream(dir.File("x.h5")) << "not checked before the splits";
  r = RunEdgeloop(
      absl::StrCat("pipeline --profile micro --data ", dir.File("x.h5"), " --out ", dir.File("p")));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(absl::StrContains(r.out, "--test-split")) << r.out;
  r = RunEdgeloop(absl::StrCat("pipeline --profile micro --data ", dir.File("missing.h5"),
                               " --train-split C027 --val-split C028 --test-split C029 --out ",
                               dir.File("p")));
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "flag --data: no such file: " + dir.File("missing.h5")))
      << r.out;
}

}  // namespace
}  // namespace edgeloop
