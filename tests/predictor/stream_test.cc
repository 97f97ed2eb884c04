// The recalibration stream on the simulated device: unseen architectures only, before-update
// accuracy, drift recovery counting, skipped refusals and a clean stop on SIGINT.
#include "predictor/stream.h"

#include <csignal>
#include <set>

#include "arch/arch_config.h"
#include "base/interrupt.h"
#include "gtest/gtest.h"
#include "predictor/bootstrap.h"
#include "tests/predictor/predictor_test_util.h"
#include "tests/test_util.h"

namespace edgeloop::predictor {
namespace {

using testing::TempDir;

constexpr char kDevice[] = "stream-device";

class StreamTest : public DeviceStoreTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(OpenDeviceAndStore(kDevice, 5, "stream.db"));
    measurer_ = [this](const ArchConfig& arch, int batch) -> absl::StatusOr<Measurement> {
      ++calls_;
      Measurement m = device_->Measure(arch, batch);
      m.drift_factor = 1.0;  // no sentinel: the recalibrator must notice drift from errors
      return m;
    };
    BootstrapOptions options;
    options.device = kDevice;
    options.samples = 80;
    options.params = QuickParams();
    auto boot = RunBootstrap(*space_, options, measurer_, store_.get());
    ASSERT_TRUE(boot.ok()) << boot.status();
    auto r = Recalibrator::Resume(store_.get(), kDevice);
    ASSERT_TRUE(r.ok()) << r.status();
    recal_ = std::move(*r);
  }

  std::set<std::string> StoredKeys() const {
    std::set<std::string> keys;
    auto stored = store_->Measurements(kDevice);
    EXPECT_TRUE(stored.ok());
    for (const auto& s : *stored) keys.insert(arch::CanonicalKey(s.m.arch));
    return keys;
  }

  std::unique_ptr<Recalibrator> recal_;
  Measurer measurer_;
  int calls_ = 0;
};

TEST_F(StreamTest, MeasuresOnlyUnseenArchitecturesAndScoresBeforeUpdatePredictions) {
  const std::set<std::string> before = StoredKeys();
  StreamOptions options;
  options.samples = 40;
  options.seed = 3;
  std::vector<StreamRow> rows;
  auto result = RunStream(*space_, options, measurer_, store_.get(), recal_.get(),
                          [&](const StreamRow& row) { rows.push_back(row); });
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->streamed, 40);
  EXPECT_FALSE(result->interrupted);
  ASSERT_EQ(rows.size(), 40u);
  std::set<std::string> streamed;
  for (size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(rows[i].index, static_cast<int64_t>(i) + 1);
    EXPECT_EQ(before.count(arch::CanonicalKey(rows[i].arch)), 0u)
        << "re-measured a stored architecture";
    streamed.insert(arch::CanonicalKey(rows[i].arch));
    // The reported prediction is the one made before the model saw the measurement.
    EXPECT_DOUBLE_EQ(result->predicted_ms[i], rows[i].status.predicted_ms);
    EXPECT_DOUBLE_EQ(result->measured_ms[i], rows[i].measurement.median_ms);
  }
  EXPECT_EQ(streamed.size(), 40u);
  // Everything is committed, each with its before-update prediction.
  auto stored = store_->Measurements(kDevice);
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->size(), before.size() + 40);
  // A bootstrap of 80 predicts the simulated device (2% noise) well on unseen subnets.
  EXPECT_EQ(result->before_update.n, 40);
  EXPECT_GE(result->before_update.within_10, 0.9);
  EXPECT_GE(result->before_update.spearman, 0.97);
  EXPECT_EQ(result->recovered_after, 0);
  // Deterministic under the seed: the same stream on a copy excludes what it just measured.
  EXPECT_EQ(SampleNewArchitectures(*space_, 40, 3, before).size(), 40u);
  for (const auto& a : SampleNewArchitectures(*space_, 40, 3, before))
    EXPECT_EQ(streamed.count(arch::CanonicalKey(a)), 1u);
}

TEST_F(StreamTest, CountsMeasurementsUntilAccurateAfterDrift) {
  // Attention becomes 4x slower: an op-specific change the offset alone cannot fix.
  device_->set_op_factor(SyntheticDevice::kAttention, 4.0);
  StreamOptions options;
  options.samples = 90;
  options.seed = 8;
  auto result = RunStream(*space_, options, measurer_, store_.get(), recal_.get(), nullptr);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_GT(result->recovered_after, 0) << "the drift went unnoticed";
  EXPECT_LE(result->recovered_after, 60);
  EXPECT_LT(result->before_update.within_10, 0.95);
}

TEST_F(StreamTest, SkipsRefusedArchitecturesAndStopsCleanlyOnInterrupt) {
  int n = 0;
  Measurer flaky = [&](const ArchConfig& arch, int batch) -> absl::StatusOr<Measurement> {
    ++n;
    if (n == 2) return absl::OutOfRangeError("limit_exceeded: too many FLOPs");
    if (n == 4) std::raise(SIGINT);  // as a user's Ctrl-C during the 4th measurement
    return measurer_(arch, batch);
  };
  InstallInterruptHandlers();
  StreamOptions options;
  options.samples = 10;
  int64_t rows = 0;
  auto result = RunStream(*space_, options, flaky, store_.get(), recal_.get(),
                          [&](const StreamRow&) { ++rows; });
  ResetInterrupted();
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_TRUE(result->interrupted);
  EXPECT_EQ(result->skipped, 1);
  EXPECT_EQ(result->streamed, 3);  // the 4th completed before the stream noticed
  EXPECT_EQ(rows, 4);
  auto count = store_->CountMeasurements(kDevice);
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(*count, 80 + 3);
}

TEST_F(StreamTest, FailsWithTheMeasurerStatusAfterCommitting) {
  int n = 0;
  Measurer failing = [&](const ArchConfig& arch, int batch) -> absl::StatusOr<Measurement> {
    if (++n == 3) return absl::UnavailableError("connection lost");
    return measurer_(arch, batch);
  };
  StreamOptions options;
  options.samples = 5;
  auto result = RunStream(*space_, options, failing, store_.get(), recal_.get(), nullptr);
  EXPECT_TRUE(absl::IsUnavailable(result.status())) << result.status();
  EXPECT_NE(result.status().message().find("2 measurements committed"), std::string::npos)
      << result.status();
  EXPECT_EQ(*store_->CountMeasurements(kDevice), 82);
}

TEST(StreamMetricsTest, MeasurementsToRecover) {
  EXPECT_EQ(MeasurementsToRecover({true, true, true}, 3, 0.9), 0);
  EXPECT_EQ(MeasurementsToRecover({false, false, true, true, true}, 3, 0.9), 2);
  // 9 of 10 is enough at 90%.
  std::vector<bool> hits = {false, false, false, true, true, true, true,
                            false, true,  true,  true, true, true};
  EXPECT_EQ(MeasurementsToRecover(hits, 10, 0.9), 3);
  EXPECT_EQ(MeasurementsToRecover({false, true, false, true}, 2, 0.9), -1);
  EXPECT_EQ(MeasurementsToRecover({true}, 2, 0.9), -1);
}

}  // namespace
}  // namespace edgeloop::predictor
