// Few-shot transfer (predictor/transfer.h) and `predictor fit --device-column` / `predictor
// adapt`: on synthetic devices whose lookup tables are mixtures of a few hardware traits, a
// new device must become predictable from 10 of its measurements.
#include "predictor/transfer.h"

#include <tuple>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/atomic_file.h"
#include "base/json.h"
#include "base/rng.h"
#include "gtest/gtest.h"
#include "predictor/metrics.h"
#include "predictor/transfer_stream.h"
#include "tests/test_util.h"

namespace edgeloop::predictor {
namespace {

using testing::RunEdgeloop;
using testing::TempDir;

constexpr int kLayers = 10, kOps = 4;

// Per-operator costs of three hardware traits (compute, memory, launch overhead); a device
// weighs them. Its latency is the sum of the chosen operators' costs (+ 1% noise).
struct Device {
  std::string name;
  double compute, memory, overhead;
};

double Cost(const Device& d, int layer, int op) {
  const double flops = (1 + op) * (1 + layer % 3), bytes = (4 - op) * (1 + layer / 4);
  return d.compute * flops + d.memory * bytes + d.overhead;
}

std::vector<int> RandomArch(Rng* rng) {
  std::vector<int> a(kLayers);
  for (int& op : a) op = static_cast<int>(rng->Uniform(kOps));
  return a;
}

double Latency(const Device& d, const std::vector<int>& arch, Rng* noise) {
  double y = 0.3;
  for (int l = 0; l < kLayers; ++l) y += Cost(d, l, arch[l]);
  return y * std::exp(0.01 * noise->Normal());
}

std::vector<std::string> Names() {
  std::vector<std::string> n;
  for (int l = 0; l < kLayers; ++l)
    for (int o = 0; o < kOps; ++o) n.push_back(absl::StrCat("l", l, "_op", o));
  return n;
}

void AddRow(const std::vector<int>& arch, double y, Dataset* d) {
  for (int l = 0; l < kLayers; ++l)
    for (int o = 0; o < kOps; ++o) d->x.push_back(arch[l] == o ? 1.0f : 0.0f);
  d->y.push_back(y);
}

const std::vector<Device>& Sources() {
  static const std::vector<Device> s = {{"gpu", 0.02, 0.10, 0.05},
                                        {"cpu", 0.30, 0.05, 0.01},
                                        {"phone", 0.50, 0.30, 0.02},
                                        {"npu", 0.05, 0.40, 0.10}};
  return s;
}
const Device kTarget = {"board", 0.40, 0.20, 0.04};

// `n` random architectures of device `d`.
Dataset Table(const Device& d, int n, uint64_t seed) {
  Dataset out;
  out.feature_names = Names();
  Rng rng(seed), noise(seed + 99);
  for (int i = 0; i < n; ++i) {
    const std::vector<int> arch = RandomArch(&rng);
    AddRow(arch, Latency(d, arch, &noise), &out);
  }
  return out;
}

class TransferTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    Dataset all;
    all.feature_names = Names();
    std::vector<std::string> device_of_row;
    for (size_t s = 0; s < Sources().size(); ++s) {
      const Dataset d = Table(Sources()[s], 200, 10 + s);
      all.x.insert(all.x.end(), d.x.begin(), d.x.end());
      all.y.insert(all.y.end(), d.y.begin(), d.y.end());
      device_of_row.insert(device_of_row.end(), d.rows(), Sources()[s].name);
    }
    auto model = TransferModel::Fit(all, device_of_row, "latency_ms", ModelParams(), 3);
    ASSERT_TRUE(model.ok()) << model.status();
    model_ = new TransferModel(*std::move(model));
  }
  static void TearDownTestSuite() { delete model_; }
  static AccuracyMetrics Score(const TransferModel& m, const Dataset& test) {
    auto p = m.PredictMs(test.x.data(), test.rows());
    EXPECT_TRUE(p.ok()) << p.status();
    return ComputeMetrics(test.y, p.value_or(std::vector<double>(test.rows(), 1.0)));
  }
  static TransferModel* model_;
};
TransferModel* TransferTest::model_ = nullptr;

TEST_F(TransferTest, TenShotsOfANewDeviceBeatEverySourceAsIs) {
  TransferModel m = *TransferModel::Load([] {
    static TempDir dir;
    EXPECT_TRUE(model_->Save(dir.File("t.json")).ok());
    return dir.File("t.json");
  }());
  EXPECT_EQ(m.PredictMs(nullptr, 0).status().code(), absl::StatusCode::kFailedPrecondition);
  const Dataset test = Table(kTarget, 400, 77);
  ASSERT_TRUE(m.Adapt(Table(kTarget, 10, 5), "board").ok());
  const AccuracyMetrics adapted = Score(m, test);
  EXPECT_GE(adapted.spearman, 0.95) << MetricsToText(adapted);
  EXPECT_GE(adapted.within_10, 0.90) << MetricsToText(adapted);
  for (const auto& s : m.source_devices()) {
    auto p = m.PredictSourceMs(s, test.x.data(), test.rows());
    ASSERT_TRUE(p.ok());
    EXPECT_GT(adapted.spearman, Spearman(test.y, *p)) << s;
  }
  // More shots do not make it worse.
  ASSERT_TRUE(m.Adapt(Table(kTarget, 60, 6), "board").ok());
  EXPECT_GE(Score(m, test).within_10, adapted.within_10 - 0.02);
  EXPECT_EQ(m.adaptation()->shots, 60);
}

TEST_F(TransferTest, AdaptedModelRoundTripsThroughItsFile) {
  TransferModel m = *TransferModel::Load([] {
    static TempDir dir;
    EXPECT_TRUE(model_->Save(dir.File("t.json")).ok());
    return dir.File("t.json");
  }());
  ASSERT_TRUE(m.Adapt(Table(kTarget, 12, 8), "board").ok());
  TempDir dir;
  ASSERT_TRUE(m.Save(dir.File("a.json")).ok());
  EXPECT_TRUE(TransferModel::IsTransferModelFile(dir.File("a.json")));
  auto loaded = TransferModel::Load(dir.File("a.json"));
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  const Dataset test = Table(kTarget, 50, 9);
  auto a = m.PredictMs(test.x.data(), test.rows());
  auto b = loaded->PredictMs(test.x.data(), test.rows());
  ASSERT_TRUE(a.ok() && b.ok());
  for (int i = 0; i < test.rows(); ++i) EXPECT_NEAR((*a)[i], (*b)[i], 1e-9 * (*a)[i]);
  EXPECT_EQ(loaded->adaptation()->device, "board");
}

TEST_F(TransferTest, BadShotsAreRefused) {
  TransferModel m = *TransferModel::Load([] {
    static TempDir dir;
    EXPECT_TRUE(model_->Save(dir.File("t.json")).ok());
    return dir.File("t.json");
  }());
  EXPECT_EQ(m.Adapt(Table(kTarget, 1, 1), "board").code(), absl::StatusCode::kInvalidArgument);
  Dataset other = Table(kTarget, 5, 1);
  other.feature_names[0] = "something_else";
  EXPECT_EQ(m.Adapt(other, "board").code(), absl::StatusCode::kInvalidArgument);
  TempDir dir;
  std::ofstream(dir.File("junk.json")) << "{\"format\":\"edgeloop-transfer-model\"}";
  EXPECT_EQ(TransferModel::Load(dir.File("junk.json")).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// A stream of source rows, then the unseen device: the sources are predicted as before, the
// new device within 20 of its measurements.
TEST_F(TransferTest, ReplayedSwitchRecoversWithinTwentyMeasurements) {
  TransferModel m = *TransferModel::Load([] {
    static TempDir dir;
    EXPECT_TRUE(model_->Save(dir.File("t.json")).ok());
    return dir.File("t.json");
  }());
  Dataset stream;
  stream.feature_names = Names();
  std::vector<std::string> device_of_row;
  for (const auto& [device, n, seed] :
       {std::tuple{Sources()[1], 30, 31}, {Sources()[2], 30, 32}, {kTarget, 80, 33}}) {
    const Dataset d = Table(device, n, seed);
    stream.x.insert(stream.x.end(), d.x.begin(), d.x.end());
    stream.y.insert(stream.y.end(), d.y.begin(), d.y.end());
    device_of_row.insert(device_of_row.end(), n, device.name);
  }
  auto r = ReplayStream(&m, stream, device_of_row);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->switch_at, 60);
  EXPECT_EQ(r->new_device, "board");
  EXPECT_GE(r->before_switch.within_10, 0.95) << MetricsToText(r->before_switch);
  EXPECT_GE(r->recovered_after, 0);
  EXPECT_LE(r->recovered_after, 20);
  // The first prediction of the new device is the sources' mean: far off, so the count is
  // not trivially 0.
  EXPECT_GT(std::fabs(r->predicted[60] / r->measured[60] - 1), 0.1);
  device_of_row.back() = "another";
  EXPECT_EQ(ReplayStream(&m, stream, device_of_row).status().code(),
            absl::StatusCode::kInvalidArgument);
}

void WriteCsv(const std::string& path, const std::vector<std::pair<Device, int>>& parts,
              uint64_t seed, bool with_device) {
  std::ofstream out(path);
  if (with_device) out << "device,";
  out << "latency_ms";
  for (const auto& n : Names()) out << "," << n;
  out << "\n";
  for (const auto& [device, n] : parts) {
    const Dataset d = Table(device, n, seed++);
    for (int r = 0; r < d.rows(); ++r) {
      if (with_device) out << device.name << ",";
      out << d.y[r];
      for (int j = 0; j < d.cols(); ++j) out << "," << d.row(r)[j];
      out << "\n";
    }
  }
}

TEST(TransferCliTest, FitAdaptEvalAsAUserWould) {
  TempDir dir;
  std::vector<std::pair<Device, int>> sources;
  for (const auto& s : Sources()) sources.push_back({s, 120});
  WriteCsv(dir.File("rows.csv"), sources, 1, true);
  WriteCsv(dir.File("shots.csv"), {{kTarget, 10}}, 50, false);
  WriteCsv(dir.File("test.csv"), {{kTarget, 200}}, 60, false);
  auto fit = RunEdgeloop("predictor fit --csv " + dir.File("rows.csv") +
                         " --target latency_ms --device-column device --folds 3 --out " +
                         dir.File("t.json"));
  ASSERT_EQ(fit.exit_code, 0) << fit.out;
  EXPECT_NE(fit.out.find("transfer model of 4 devices"), std::string::npos) << fit.out;
  auto unadapted = RunEdgeloop("predictor eval --model " + dir.File("t.json") + " --csv " +
                               dir.File("test.csv"));
  EXPECT_EQ(unadapted.exit_code, 2) << unadapted.out;
  EXPECT_NE(unadapted.out.find("not adapted"), std::string::npos) << unadapted.out;
  auto adapt = RunEdgeloop("predictor adapt --from " + dir.File("t.json") + " --csv " +
                           dir.File("shots.csv") + " --device board --out " + dir.File("a.json"));
  ASSERT_EQ(adapt.exit_code, 0) << adapt.out;
  EXPECT_NE(adapt.out.find("adapted to board from 10 measurements"), std::string::npos)
      << adapt.out;
  auto eval = RunEdgeloop("predictor eval --json --model " + dir.File("a.json") + " --csv " +
                          dir.File("test.csv"));
  ASSERT_EQ(eval.exit_code, 0) << eval.out;
  auto metrics = ParseJson(eval.out, "eval");
  ASSERT_TRUE(metrics.ok()) << eval.out;
  EXPECT_GE(*JsonNumber(metrics->struct_value(), "spearman", "eval"), 0.95) << eval.out;
}

TEST(TransferCliTest, BadInputExitsWithTwo) {
  TempDir dir;
  WriteCsv(dir.File("rows.csv"), {{Sources()[0], 30}, {Sources()[1], 4}}, 1, true);
  WriteCsv(dir.File("plain.csv"), {{kTarget, 10}}, 2, false);
  std::ofstream(dir.File("text.csv")) << "device,latency_ms,l0_op0\ngpu,fast,1\ngpu,2,0\n";
  std::ofstream(dir.File("one.csv")) << "latency_ms,l0_op0\n2,1\n";
  // A tabular (non-transfer) model to adapt from.
  ASSERT_EQ(RunEdgeloop("predictor fit --csv " + dir.File("plain.csv") +
                        " --target latency_ms --folds 0 --out " + dir.File("plain.json"))
                .exit_code,
            0);
  ASSERT_EQ(RunEdgeloop("predictor fit --csv " + dir.File("rows.csv") +
                        " --target latency_ms --device-column device --folds 2 --out " +
                        dir.File("t.json"))
                .exit_code,
            0);
  const std::string out = " --out " + dir.File("x.json");
  struct Case {
    std::string args, message;
  } cases[] = {
      {"predictor fit --csv " + dir.File("rows.csv") + " --target latency_ms --device-column dev" +
           out,
       "no column \"dev\""},
      {"predictor fit --csv " + dir.File("rows.csv") +
           " --target latency_ms --device-column device --folds 3" + out,
       "device \"cpu\": cross-validation with 3 folds needs at least 6"},
      {"predictor fit --csv " + dir.File("text.csv") +
           " --target latency_ms --device-column device --folds 2" + out,
       "latency_ms"},
      {"predictor fit --csv " + dir.File("rows.csv") +
           " --target latency_ms --device-column device --features device" + out,
       "cannot be a feature"},
      {"predictor adapt --from " + dir.File("plain.json") + " --csv " + dir.File("plain.csv") + out,
       "not a transfer model"},
      {"predictor adapt --from " + dir.File("t.json") + " --csv " + dir.File("one.csv") + out,
       "no feature column"},
  };
  // An output folder that does not exist yet is created.
  auto adapt = RunEdgeloop("predictor adapt --from " + dir.File("t.json") + " --csv " +
                           dir.File("plain.csv") + " --out " + dir.File("new/dir/a.json"));
  EXPECT_EQ(adapt.exit_code, 0) << adapt.out;
  EXPECT_TRUE(PathExists(dir.File("new/dir/a.json")));
  for (const auto& c : cases) {
    auto r = RunEdgeloop(c.args);
    EXPECT_EQ(r.exit_code, 2) << c.args << "\n" << r.out;
    EXPECT_NE(r.out.find(c.message), std::string::npos) << c.args << "\n" << r.out;
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
  }
}

}  // namespace
}  // namespace edgeloop::predictor
