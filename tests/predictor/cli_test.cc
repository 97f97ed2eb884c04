// The predictor and store commands, run as a user would.
#include <cmath>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "arch/arch_config.h"
#include "base/atomic_file.h"
#include "base/json.h"
#include "gtest/gtest.h"
#include "predictor/csv.h"
#include "predictor/model_io.h"
#include "predictor/store.h"
#include "tests/predictor/predictor_test_util.h"
#include "tests/test_util.h"

namespace edgeloop::predictor {
namespace {

using testing::RunEdgeloop;
using testing::TempDir;

// A generic table: latency = 2 + 0.5 * a + 0.1 * a * b (+ 1% noise); c is irrelevant,
// `name` is not numeric and must be skipped.
void WriteTable(const std::string& path, int rows, uint64_t seed) {
  Rng rng(seed);
  std::ofstream out(path);
  out << "name,a,b,c,latency\n";
  for (int i = 0; i < rows; ++i) {
    const double a = 1 + rng.Uniform(50), b = 1 + rng.Uniform(20), c = rng.UniformDouble();
    const double y = (2 + 0.5 * a + 0.1 * a * b) * std::exp(0.01 * rng.Normal());
    out << "row" << i << "," << a << "," << b << "," << c << "," << y << "\n";
  }
}

TEST(PredictorCliTest, GenericCsvFitEvalRoundTrip) {
  TempDir dir;
  WriteTable(dir.File("train.csv"), 300, 1);
  WriteTable(dir.File("test.csv"), 100, 2);
  auto fit =
      RunEdgeloop("predictor fit --csv " + dir.File("train.csv") + " --target latency --out " +
                  dir.File("t.json") + " --folds 3 --rounds 100");
  ASSERT_EQ(fit.exit_code, 0) << fit.out;
  EXPECT_NE(fit.out.find("cv (3-fold): n=300"), std::string::npos) << fit.out;
  EXPECT_NE(fit.out.find("3 features"), std::string::npos) << fit.out;  // a, b, c; not name
  auto eval = RunEdgeloop("predictor eval --model " + dir.File("t.json") + " --csv " +
                          dir.File("test.csv") + " --json");
  ASSERT_EQ(eval.exit_code, 0) << eval.out;
  auto metrics = ParseJson(eval.out, "eval");
  ASSERT_TRUE(metrics.ok()) << eval.out;
  EXPECT_EQ(*JsonNumber(metrics->struct_value(), "n", "eval"), 100);
  EXPECT_GE(*JsonNumber(metrics->struct_value(), "within_10", "eval"), 0.9) << eval.out;
  // Explicit feature list.
  auto fit2 =
      RunEdgeloop("predictor fit --csv " + dir.File("train.csv") +
                  " --target latency --features a,b --folds 0 --out " + dir.File("ab.json"));
  ASSERT_EQ(fit2.exit_code, 0) << fit2.out;
  EXPECT_NE(fit2.out.find("2 features"), std::string::npos) << fit2.out;
}

TEST(PredictorCliTest, BadCsvInputExitsWithTwo) {
  TempDir dir;
  WriteTable(dir.File("train.csv"), 20, 1);
  ASSERT_TRUE(WriteFileAtomically(dir.File("empty.csv"), "a,b,latency\n").ok());
  ASSERT_TRUE(WriteFileAtomically(dir.File("text.csv"), "a,latency\n1,fast\n2,3\n").ok());
  const std::string out = " --out " + dir.File("m.json");
  struct Case {
    std::string args, message;
  } cases[] = {
      {"--csv " + dir.File("train.csv") + " --target nope" + out, "no column \"nope\""},
      {"--csv " + dir.File("train.csv") + " --target latency --features a,zz" + out,
       "no column \"zz\""},
      {"--csv " + dir.File("train.csv") + " --target latency --features name" + out,
       "is not a number"},
      {"--csv " + dir.File("empty.csv") + " --target latency" + out, "empty training set"},
      {"--csv " + dir.File("text.csv") + " --target latency" + out, "line 2, column \"latency\""},
      {"--csv " + dir.File("missing.csv") + " --target latency" + out, "no such file"},
  };
  for (const auto& c : cases) {
    auto r = RunEdgeloop("predictor fit " + c.args);
    EXPECT_EQ(r.exit_code, 2) << c.args << "\n" << r.out;
    EXPECT_NE(r.out.find(c.message), std::string::npos) << c.args << "\n" << r.out;
  }
}

TEST(PredictorCliTest, StoreImportExportFitPredictAndBadInput) {
  TempDir dir;
  const arch::Space space = DefaultSpace();
  SyntheticDevice device("cli-device", 8);
  // A CSV in the export format, written through the library's CSV helpers.
  std::string csv = "device,arch_json,batch_size,median_ms\n";
  for (const auto& m : SampleMeasurements(space, &device, 120, 3)) {
    csv += CsvLine({m.device, arch::ArchToJson(m.arch), absl::StrCat(m.batch_size),
                    absl::StrCat(m.median_ms)});
  }
  ASSERT_TRUE(WriteFileAtomically(dir.File("in.csv"), csv).ok());
  const std::string db = dir.File("s.db");
  auto imp = RunEdgeloop("store import --db " + db + " --csv " + dir.File("in.csv"));
  ASSERT_EQ(imp.exit_code, 0) << imp.out;
  EXPECT_NE(imp.out.find("imported 120"), std::string::npos) << imp.out;
  auto info = RunEdgeloop("store info --db " + db + " --json --check");
  ASSERT_EQ(info.exit_code, 0) << info.out;
  EXPECT_NE(info.out.find("\"measurements\":120"), std::string::npos) << info.out;
  EXPECT_NE(info.out.find("\"integrity\":\"ok\""), std::string::npos) << info.out;
  auto exp = RunEdgeloop("store export --db " + db + " --csv " + dir.File("out.csv"));
  ASSERT_EQ(exp.exit_code, 0) << exp.out;

  auto fit = RunEdgeloop("predictor fit --db " + db +
                         " --device cli-device --folds 3 --rounds 80 --out " + dir.File("m.json"));
  ASSERT_EQ(fit.exit_code, 0) << fit.out;
  EXPECT_NE(fit.out.find("store version 1"), std::string::npos) << fit.out;
  auto eval =
      RunEdgeloop("predictor eval --model " + dir.File("m.json") + " --csv " + dir.File("out.csv"));
  ASSERT_EQ(eval.exit_code, 0) << eval.out;
  EXPECT_NE(eval.out.find("n=120"), std::string::npos) << eval.out;
  auto predict = RunEdgeloop("predictor predict --model " + dir.File("m.json") +
                             " --arch baseline --batch 2 --json --device cli-device");
  ASSERT_EQ(predict.exit_code, 0) << predict.out;
  auto p = ParseJson(predict.out, "predict");
  ASSERT_TRUE(p.ok()) << predict.out;
  const double expected = device.TrueLatencyMs(arch::BaselineArch(), 2);
  EXPECT_NEAR(*JsonNumber(p->struct_value(), "latency_ms", "p"), expected, 0.25 * expected)
      << predict.out;
  auto exported = RunEdgeloop("predictor export --db " + db + " --device cli-device --out " +
                              dir.File("v1.json"));
  ASSERT_EQ(exported.exit_code, 0) << exported.out;
  EXPECT_EQ(*ReadFile(dir.File("v1.json")), *ReadFile(dir.File("m.json")));

  // Bad input: exit 2 with a clear message, the store untouched.
  ASSERT_TRUE(WriteFileAtomically(dir.File("junk.db"), "definitely not sqlite").ok());
  ASSERT_TRUE(WriteFileAtomically(dir.File("junk.json"), "{\"learner\":").ok());
  ASSERT_TRUE(
      WriteFileAtomically(dir.File("junk.json.meta.json"), *ReadFile(dir.File("m.json.meta.json")))
          .ok());
  ASSERT_TRUE(WriteFileAtomically(dir.File("bad.csv"),
                                  "device,arch_json,batch_size,median_ms\ncli-device,{},1,2\n")
                  .ok());
  struct Case {
    std::string args, message;
  } cases[] = {
      {"store info --db " + dir.File("junk.db"), "not a valid edgeloop store"},
      {"store import --db " + dir.File("junk.db") + " --csv " + dir.File("in.csv"),
       "not a valid edgeloop store"},
      {"store import --db " + db + " --csv " + dir.File("bad.csv"), "bad.csv: line 2"},
      {"store info --db " + dir.File("none.db"), "no such store"},
      {"predictor fit --db " + db + " --device nobody --out " + dir.File("x.json"),
       "empty training set"},
      {"predictor predict --model " + dir.File("m.json") + " --arch baseline --device other-device",
       "trained for device"},
      {"predictor predict --model " + dir.File("junk.json") + " --arch baseline",
       "not a valid XGBoost model"},
      {"predictor eval --model " + dir.File("m.json") + " --csv " + dir.File("bad.csv"),
       "bad.csv: line 2"},
  };
  for (const auto& c : cases) {
    auto r = RunEdgeloop(c.args);
    EXPECT_EQ(r.exit_code, 2) << c.args << "\n" << r.out;
    EXPECT_NE(r.out.find(c.message), std::string::npos) << c.args << "\n" << r.out;
  }
  EXPECT_EQ(*ReadFile(dir.File("junk.db")), "definitely not sqlite");
  auto after = RunEdgeloop("store info --db " + db + " --json --check");
  EXPECT_NE(after.out.find("\"measurements\":120"), std::string::npos) << after.out;
  // A user who may read the store but not write it: info works, an import is refused.
  testing::CommandResult ro;
  if (testing::RunEdgeloopAsNobody(dir.path(), "store info --db " + db, &ro)) {
    EXPECT_EQ(ro.exit_code, 0) << ro.out;
    EXPECT_NE(ro.out.find("measurements 120"), std::string::npos) << ro.out;
    ASSERT_TRUE(testing::RunEdgeloopAsNobody(
        dir.path(), "store import --db " + db + " --csv " + dir.File("in.csv"), &ro));
    EXPECT_EQ(ro.exit_code, 2) << ro.out;
    EXPECT_NE(ro.out.find("attempt to write a readonly database (the store and its directory "
                          "must be writable by this user)"),
              std::string::npos)
        << ro.out;
    EXPECT_EQ(std::count(ro.out.begin(), ro.out.end(), '\n'), 1) << ro.out;
  }
}

// A second device bootstrapped from 6 design points by adapting the first one's model.
TEST(PredictorCliTest, TransferBootstrapOfASecondDevice) {
  TempDir dir;
  const std::string db = dir.File("b.db"),
                    space = testing::SourcePath("supernet/spaces/swin3d_lpbf.textproto");
  ASSERT_EQ(RunEdgeloop("predictor bootstrap --simulate --device first --space " + space +
                        " --samples 40 --folds 3 --db " + db + " --out " + dir.File("a.json"))
                .exit_code,
            0);
  auto boot = RunEdgeloop("predictor bootstrap --simulate --device second --transfer --space " +
                          space + " --samples 6 --db " + db + " --out " + dir.File("b.json"));
  ASSERT_EQ(boot.exit_code, 0) << boot.out;
  EXPECT_NE(boot.out.find("6 new measurements"), std::string::npos) << boot.out;
  EXPECT_NE(boot.out.find("transferred from 1 device(s) (first)"), std::string::npos) << boot.out;
  auto model = LoadModel(dir.File("b.json"));
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_EQ(model->meta().device, "second");
}

TEST(PredictorCliTest, SimulatedBootstrapThenRecalibrateFromCsv) {
  TempDir dir;
  const std::string db = dir.File("b.db");
  auto boot = RunEdgeloop("predictor bootstrap --simulate --space " +
                          testing::SourcePath("supernet/spaces/swin3d_lpbf.textproto") +
                          " --samples 60 --batch 1,2 --folds 3 --db " + db + " --out " +
                          dir.File("b.json"));
  ASSERT_EQ(boot.exit_code, 0) << boot.out;
  EXPECT_NE(boot.out.find("120 new measurements"), std::string::npos) << boot.out;
  EXPECT_NE(boot.out.find("cv (3-fold): n=120"), std::string::npos) << boot.out;
  EXPECT_NE(boot.out.find("store version 1"), std::string::npos) << boot.out;

  // The device slows down 1.5x: stream 30 new measurements through the recalibrator.
  const arch::Space space = DefaultSpace();
  SyntheticDevice device("simulated", 77);
  device.set_global_factor(1.5);
  std::string csv = "arch_json,batch_size,median_ms\n";
  for (const auto& m : SampleMeasurements(space, &device, 30, 5)) {
    csv +=
        CsvLine({arch::ArchToJson(m.arch), absl::StrCat(m.batch_size), absl::StrCat(m.median_ms)});
  }
  ASSERT_TRUE(WriteFileAtomically(dir.File("stream.csv"), csv).ok());
  auto recal = RunEdgeloop("predictor recalibrate --db " + db + " --device simulated --csv " +
                           dir.File("stream.csv"));
  ASSERT_EQ(recal.exit_code, 0) << recal.out;
  EXPECT_NE(recal.out.find("streamed 30 measurements"), std::string::npos) << recal.out;
  // The first prediction misses by about a third; the later ones are back within 10%.
  const size_t first = recal.out.find("error -3");
  EXPECT_NE(first, std::string::npos) << recal.out;
  auto info = RunEdgeloop("store info --db " + db + " --json");
  EXPECT_NE(info.out.find("\"measurements\":150"), std::string::npos) << info.out;
  auto exported = RunEdgeloop("predictor export --db " + db + " --device simulated --out " +
                              dir.File("latest.json"));
  ASSERT_EQ(exported.exit_code, 0) << exported.out;
  auto model = LoadModel(dir.File("latest.json"));
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_NEAR(model->meta().offset, std::log(1.5), 0.1);
  // Another device's stream is refused.
  auto other = RunEdgeloop("predictor recalibrate --db " + db + " --device nobody --csv " +
                           dir.File("stream.csv"));
  EXPECT_EQ(other.exit_code, 2) << other.out;
}

}  // namespace
}  // namespace edgeloop::predictor
