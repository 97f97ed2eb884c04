#include "predictor/store_io.h"

#include "absl/strings/str_cat.h"
#include "arch/arch_config.h"
#include "base/atomic_file.h"
#include "base/json.h"
#include "gtest/gtest.h"
#include "predictor/csv.h"
#include "predictor/features.h"
#include "tests/predictor/predictor_test_util.h"
#include "tests/test_util.h"

namespace edgeloop::predictor {
namespace {

using testing::TempDir;

TEST(StoreIoTest, CsvExportImportRoundTrip) {
  TempDir dir;
  const arch::Space space = DefaultSpace();
  SyntheticDevice a("dev-a", 1), b("dev-b", 2);
  auto src = MeasurementStore::Open(dir.File("src.db"));
  ASSERT_TRUE(src.ok()) << src.status();
  std::vector<Measurement> ms = SampleMeasurements(space, &a, 6, 1);
  for (const auto& m : SampleMeasurements(space, &b, 4, 2)) ms.push_back(m);
  ms[0].peak_memory_bytes = 987654321;
  ms[0].drift_factor = 1.25;
  ASSERT_TRUE((*src)->AddMeasurements(ms).ok());
  auto n = ExportCsv(**src, dir.File("all.csv"));
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, 10);
  EXPECT_EQ(*ExportCsv(**src, dir.File("b.csv"), "dev-b"), 4);

  auto text = ReadFile(dir.File("all.csv"));
  ASSERT_TRUE(text.ok());
  auto parsed = ParseMeasurementCsv(*text, "all.csv", "");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  ASSERT_EQ(parsed->size(), 10u);
  auto dst = MeasurementStore::Open(dir.File("dst.db"));
  ASSERT_TRUE((*dst)->AddMeasurements(*parsed).ok());
  auto before = (*src)->Measurements();
  auto after = (*dst)->Measurements();
  ASSERT_EQ(before->size(), after->size());
  for (size_t i = 0; i < before->size(); ++i) {
    const Measurement &x = (*before)[i].m, &y = (*after)[i].m;
    EXPECT_EQ(x.device, y.device);
    EXPECT_TRUE(arch::ArchEqual(x.arch, y.arch));
    EXPECT_EQ(x.batch_size, y.batch_size);
    EXPECT_DOUBLE_EQ(x.median_ms, y.median_ms);  // 17 significant digits: exact
    EXPECT_DOUBLE_EQ(x.p90_ms, y.p90_ms);
    EXPECT_DOUBLE_EQ(x.drift_factor, y.drift_factor);
    EXPECT_EQ(x.peak_memory_bytes, y.peak_memory_bytes);
    EXPECT_EQ(x.measured_at, y.measured_at);
  }
  // Export of the copy is byte-identical to the original's.
  ASSERT_TRUE(ExportCsv(**dst, dir.File("again.csv")).ok());
  EXPECT_EQ(*ReadFile(dir.File("again.csv")), *text);

  // With features: the same rows plus one column per feature, in FeatureNames() order,
  // holding ComputeFeatures of the row; import ignores the extra columns.
  ASSERT_EQ(*ExportCsv(**src, dir.File("features.csv"), "", /*with_features=*/true), 10);
  auto with_features = ReadFile(dir.File("features.csv"));
  ASSERT_TRUE(with_features.ok());
  auto table = ParseCsv(*with_features, "features.csv");
  ASSERT_TRUE(table.ok()) << table.status();
  ASSERT_EQ(table->rows.size(), 10u);
  const int first = table->Column(FeatureNames()[0]);
  ASSERT_EQ(first, table->Column("state_fingerprint") + 1);
  ASSERT_EQ(table->rows[0].size(), static_cast<size_t>(first + NumFeatures()));
  const std::vector<float> expected =
      ComputeFeatures((*before)[3].m.arch, (*before)[3].m.batch_size);
  for (int f = 0; f < NumFeatures(); ++f) {
    EXPECT_FLOAT_EQ(std::stof(table->rows[3][first + f]), expected[f]) << FeatureNames()[f];
  }
  auto reparsed = ParseMeasurementCsv(*with_features, "features.csv", "");
  ASSERT_TRUE(reparsed.ok()) << reparsed.status();
  EXPECT_EQ(reparsed->size(), 10u);
}

TEST(StoreIoTest, CsvBadInput) {
  const std::string arch = CsvField(arch::ArchToJson(arch::BaselineArch()));
  // Missing median column.
  auto missing =
      ParseMeasurementCsv("device,arch_json,batch_size\nd," + arch + ",1\n", "x.csv", "");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("median_ms"), std::string::npos) << missing.status();
  // Non-numeric latency.
  auto nan = ParseMeasurementCsv("device,arch_json,batch_size,median_ms\nd," + arch + ",1,fast\n",
                                 "x.csv", "");
  ASSERT_FALSE(nan.ok());
  EXPECT_NE(nan.status().message().find("line 2"), std::string::npos) << nan.status();
  // No device column and no default device.
  EXPECT_FALSE(
      ParseMeasurementCsv("arch_json,batch_size,median_ms\n" + arch + ",1,3\n", "x.csv", "").ok());
  EXPECT_TRUE(
      ParseMeasurementCsv("arch_json,batch_size,median_ms\n" + arch + ",1,3\n", "x.csv", "dflt")
          .ok());
  // Bad architecture.
  EXPECT_FALSE(ParseMeasurementCsv(
                   "device,arch_json,batch_size,median_ms\nd,{\"embed_dim\":7},1,3\n", "x.csv", "")
                   .ok());
}

std::string Entry(const std::string& name, const std::string& label, int batch, double time,
                  const std::string& extra = "") {
  return absl::StrCat("{\"name\":\"", name, "\",\"run_name\":\"", name,
                      "\",\"run_type\":\"iteration\",\"iterations\":3,\"real_time\":", time,
                      ",\"cpu_time\":", time, ",\"time_unit\":\"us\",\"label\":", label,
                      ",\"batch\":", batch, ",\"torch_threads\":2,\"threads\":1", extra, "}");
}

TEST(StoreIoTest, MicrobenchJsonConvention) {
  const std::string base = JsonQuote(arch::ArchToJson(arch::BaselineArch()));
  ArchConfig other = arch::BaselineArch();
  other.set_embed_dim(48);
  const std::string small = JsonQuote(arch::ArchToJson(other));
  const std::string json = absl::StrCat(
      "{\"context\":{\"date\":\"x\",\"edgeloop_device\":\"ctx-device\"},\"benchmarks\":[",
      Entry("BM_Forward/baseline/1", base, 1, 1000), ",",
      Entry("BM_Forward/baseline/1", base, 1, 3000), ",",
      Entry("BM_Forward/baseline/1", base, 1, 2000), ",",
      Entry("BM_Forward/small/2", small, 2, 500, ",\"median_ms\":0.45,\"peak_memory_bytes\":1024"),
      ",",
      "{\"name\":\"BM_Forward/baseline/1_median\",\"run_name\":\"BM_Forward/baseline/"
      "1\",\"run_type\":"
      "\"aggregate\",\"aggregate_name\":\"median\",\"real_time\":2000,\"time_unit\":\"us\","
      "\"label\":",
      base, ",\"batch\":1}", ",", "{\"name\":\"BM_Broken\",\"error_occurred\":true}]}");
  auto ms = ParseMicrobenchJson(json, "mb.json", "");
  ASSERT_TRUE(ms.ok()) << ms.status();
  ASSERT_EQ(ms->size(), 2u);
  const Measurement& a = (*ms)[0];
  EXPECT_EQ(a.device, "ctx-device");
  EXPECT_TRUE(arch::ArchEqual(a.arch, arch::BaselineArch()));
  EXPECT_EQ(a.batch_size, 1);
  EXPECT_EQ(a.threads, 2);
  EXPECT_EQ(a.runs, 3);                // three repetitions
  EXPECT_DOUBLE_EQ(a.median_ms, 2.0);  // us -> ms
  EXPECT_DOUBLE_EQ(a.min_ms, 1.0);
  EXPECT_DOUBLE_EQ(a.max_ms, 3.0);
  EXPECT_DOUBLE_EQ(a.mean_ms, 2.0);
  EXPECT_DOUBLE_EQ(a.std_ms, 1.0);
  EXPECT_NEAR(a.p10_ms, 1.2, 1e-12);
  EXPECT_EQ(a.source, "microbench");
  const Measurement& b = (*ms)[1];
  EXPECT_EQ(b.batch_size, 2);
  EXPECT_DOUBLE_EQ(b.median_ms, 0.45);  // the benchmark's own statistic wins
  EXPECT_EQ(b.peak_memory_bytes, 1024);
  // --device overrides the context.
  EXPECT_EQ((*ParseMicrobenchJson(json, "mb.json", "flag-device"))[0].device, "flag-device");
}

TEST(StoreIoTest, MicrobenchBadInput) {
  const std::string base = JsonQuote(arch::ArchToJson(arch::BaselineArch()));
  auto no_label = ParseMicrobenchJson(
      "{\"context\":{\"edgeloop_device\":\"d\"},\"benchmarks\":[{\"name\":\"BM_X\",\"real_time\":1,"
      "\"batch\":1}]}",
      "mb.json", "");
  ASSERT_FALSE(no_label.ok());
  EXPECT_NE(no_label.status().message().find("label"), std::string::npos) << no_label.status();
  auto no_batch = ParseMicrobenchJson(
      absl::StrCat("{\"benchmarks\":[{\"name\":\"BM_X\",\"real_time\":1,\"label\":", base, "}]}"),
      "mb.json", "d");
  ASSERT_FALSE(no_batch.ok());
  EXPECT_NE(no_batch.status().message().find("batch"), std::string::npos) << no_batch.status();
  EXPECT_FALSE(ParseMicrobenchJson("{\"benchmarks\":[]}", "mb.json", "").ok());  // no device
  EXPECT_FALSE(ParseMicrobenchJson("not json", "mb.json", "d").ok());
}

}  // namespace
}  // namespace edgeloop::predictor
