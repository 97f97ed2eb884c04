#include "predictor/recalibrator.h"

#include <cmath>
#include <set>

#include "arch/arch_config.h"
#include "gtest/gtest.h"
#include "predictor/features.h"
#include "tests/predictor/predictor_test_util.h"
#include "tests/test_util.h"

namespace edgeloop::predictor {
namespace {

using testing::TempDir;

constexpr char kDevice[] = "sim-device";

class RecalibratorTest : public DeviceStoreTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(OpenDeviceAndStore(kDevice, 21, "recal.db"));
    // Bootstrap: 300 measurements in the store, a model fitted on them.
    const auto initial = SampleMeasurements(*space_, device_.get(), 300, 1);
    ASSERT_TRUE(store_->AddMeasurements(initial).ok());
    ModelMeta meta;
    meta.device = kDevice;
    auto model = LatencyModel::Fit(ArchDataset(initial), meta, QuickParams());
    ASSERT_TRUE(model.ok()) << model.status();
    auto r = Recalibrator::Create(store_.get(), std::move(*model));
    ASSERT_TRUE(r.ok()) << r.status();
    recal_ = std::move(*r);
    Rng rng(99);
    for (int i = 0; i < 200; ++i)
      held_out_.emplace_back(space_->Sample(&rng), 1 + static_cast<int>(rng.Uniform(4)));
    stream_rng_ = std::make_unique<Rng>(7);
  }

  // Share of the held-out architectures predicted within +-10% of the device's current
  // (noiseless) latency.
  double HeldOutAccuracy() const {
    auto p = recal_->model().PredictArchitectures(held_out_);
    EXPECT_TRUE(p.ok()) << p.status();
    int hits = 0;
    for (size_t i = 0; i < held_out_.size(); ++i) {
      const double truth = device_->TrueLatencyMs(held_out_[i].first, held_out_[i].second);
      hits += std::fabs((*p)[i].ms - truth) / truth <= 0.10;
    }
    return static_cast<double>(hits) / held_out_.size();
  }

  // Streams measurements until held-out accuracy is >= 90%; returns how many it took
  // (or `limit` + 1 when it never got there).
  int StreamUntilAccurate(int limit, bool report_sentinel) {
    for (int n = 1; n <= limit; ++n) {
      Measurement m = device_->Measure(space_->Sample(stream_rng_.get()),
                                       1 + static_cast<int>(stream_rng_->Uniform(4)));
      if (!report_sentinel) m.drift_factor = 1.0;
      auto s = recal_->Observe(m);
      EXPECT_TRUE(s.ok()) << s;
      if (!s.ok()) return limit + 1;
      if (HeldOutAccuracy() >= 0.90) return n;
    }
    return limit + 1;
  }

  std::set<std::string> ModelKinds() const {
    std::set<std::string> kinds;
    auto versions = store_->ModelVersions(kDevice);
    EXPECT_TRUE(versions.ok()) << versions.status();
    if (versions.ok())
      for (const auto& v : *versions) kinds.insert(v.kind);
    return kinds;
  }

  std::unique_ptr<Recalibrator> recal_;
  std::vector<std::pair<ArchConfig, int>> held_out_;
  std::unique_ptr<Rng> stream_rng_;
};

TEST_F(RecalibratorTest, StableDeviceNeedsNoStructuralUpdates) {
  ASSERT_GE(HeldOutAccuracy(), 0.95);
  for (int i = 0; i < 30; ++i) {
    ASSERT_TRUE(recal_->Observe(device_->Measure(space_->Sample(stream_rng_.get()), 1)).ok());
    EXPECT_EQ(recal_->status().action, RecalibrationAction::kOffset);
  }
  EXPECT_FALSE(recal_->status().degraded);
  EXPECT_LT(std::fabs(recal_->status().offset), 0.05);
  EXPECT_GE(HeldOutAccuracy(), 0.95);
  // Every observation was committed with the prediction made before it.
  auto rows = store_->Measurements(kDevice);
  ASSERT_EQ(rows->size(), 330u);
  EXPECT_FALSE(std::isnan(rows->back().predicted_ms));
  EXPECT_EQ(rows->back().model_version, 1);
  EXPECT_EQ(ModelKinds(), std::set<std::string>({"initial"}));
}

TEST_F(RecalibratorTest, GlobalSlowdownIsFixedByTheOffset) {
  device_->set_global_factor(1.5);
  EXPECT_LT(HeldOutAccuracy(), 0.10);
  const int needed = StreamUntilAccurate(20, /*report_sentinel=*/false);
  std::printf(
      "global 1.5x slowdown: accuracy >= 90%% after %d observations (offset %.3f, log 1.5 = "
      "%.3f)\n",
      needed, recal_->status().offset, std::log(1.5));
  EXPECT_LE(needed, 20);
  EXPECT_NEAR(recal_->status().offset, std::log(1.5), 0.08);
}

TEST_F(RecalibratorTest, SentinelDriftFactorMovesTheOffsetAtOnce) {
  ASSERT_TRUE(recal_->Observe(device_->Measure(space_->Sample(stream_rng_.get()), 1)).ok());
  device_->set_global_factor(1.5);
  const int needed = StreamUntilAccurate(20, /*report_sentinel=*/true);
  EXPECT_LE(needed, 2);
}

// A changed device state (e.g. the governor) starts a new regime at once: the measurements
// carry the state fingerprint, the sentinel is off.
TEST_F(RecalibratorTest, DeviceStateChangeIsFlaggedAsDrift) {
  for (int i = 0; i < 5; ++i) {
    Measurement m = device_->Measure(space_->Sample(stream_rng_.get()), 1);
    m.state_fingerprint = "state-performance";
    ASSERT_TRUE(recal_->Observe(m).ok());
    EXPECT_FALSE(recal_->status().state_changed);
  }
  Measurement m = device_->Measure(space_->Sample(stream_rng_.get()), 1);
  m.state_fingerprint = "state-powersave";
  ASSERT_TRUE(recal_->Observe(m).ok());
  EXPECT_TRUE(recal_->status().state_changed);
  // Stored with the measurement; a restored recalibrator still knows the last state.
  auto stored = store_->Measurements(kDevice);
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->back().m.state_fingerprint, "state-powersave");
  auto saved = recal_->SaveState();
  ASSERT_TRUE(saved.ok());
  auto restored = Recalibrator::Restore(store_.get(), *saved);
  ASSERT_TRUE(restored.ok()) << restored.status();
  m = device_->Measure(space_->Sample(stream_rng_.get()), 1);
  m.state_fingerprint = "state-powersave";
  ASSERT_TRUE((*restored)->Observe(m).ok());
  EXPECT_FALSE((*restored)->status().state_changed);
  m.state_fingerprint = "state-performance";
  ASSERT_TRUE((*restored)->Observe(m).ok());
  EXPECT_TRUE((*restored)->status().state_changed);
  // Unknown state (older servers) is no change.
  m.state_fingerprint.clear();
  ASSERT_TRUE((*restored)->Observe(m).ok());
  EXPECT_FALSE((*restored)->status().state_changed);
}

TEST_F(RecalibratorTest, AttentionSlowdownIsFixedByResidualTrees) {
  device_->set_op_factor(SyntheticDevice::kAttention, 3.0);
  const double before = HeldOutAccuracy();
  EXPECT_LT(before, 0.6);
  const int needed = StreamUntilAccurate(150, /*report_sentinel=*/false);
  std::printf(
      "attention 3x slowdown: accuracy %.2f -> >= 0.90 after %d observations; versions kinds:",
      before, needed);
  for (const auto& k : ModelKinds()) std::printf(" %s", k.c_str());
  std::printf("\n");
  EXPECT_LE(needed, 150);
  // And it stays there as the stream goes on (residual rounds, refits).
  for (int i = 0; i < 40; ++i) {
    ASSERT_TRUE(recal_->Observe(device_->Measure(space_->Sample(stream_rng_.get()), 1)).ok());
  }
  const double after = HeldOutAccuracy();
  std::printf("attention 3x slowdown: accuracy %.3f after 40 more observations\n", after);
  EXPECT_GE(after, 0.85);
  const auto kinds = ModelKinds();
  EXPECT_TRUE(kinds.count("residual") || kinds.count("refit"));
  auto resumed = Recalibrator::Resume(store_.get(), kDevice);
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  // A restarted process resumes from the latest stored version: the same trees, and an
  // offset at most `offset_snapshot` behind the live one.
  EXPECT_EQ((*resumed)->status().model_version, recal_->status().model_version);
  auto a = recal_->model().PredictArchitectures(held_out_);
  auto b = (*resumed)->model().PredictArchitectures(held_out_);
  const double lag = std::exp(recal_->model().meta().offset - (*resumed)->model().meta().offset);
  EXPECT_LE(std::fabs(std::log(lag)), RecalibratorOptions().offset_snapshot + 1e-12);
  for (size_t i = 0; i < held_out_.size(); ++i)
    EXPECT_NEAR((*a)[i].ms, (*b)[i].ms * lag, 1e-9 * (*a)[i].ms);
}

TEST_F(RecalibratorTest, PeriodicRefitLearnsTheNewRegime) {
  RecalibratorOptions options;
  options.refit_every = 60;
  options.residual_every = 1000;  // isolate the refit level
  auto r = Recalibrator::Resume(store_.get(), kDevice, options);
  ASSERT_TRUE(r.ok()) << r.status();
  recal_ = std::move(*r);
  device_->set_op_factor(SyntheticDevice::kAttention, 3.0);
  const double before = HeldOutAccuracy();
  for (int i = 0; i < 60; ++i) {
    ASSERT_TRUE(recal_
                    ->Observe(device_->Measure(space_->Sample(stream_rng_.get()),
                                               1 + static_cast<int>(stream_rng_->Uniform(4))))
                    .ok());
  }
  EXPECT_EQ(recal_->status().action, RecalibrationAction::kRefit);
  EXPECT_TRUE(ModelKinds().count("refit"));
  EXPECT_EQ(recal_->model().meta().offset, 0);
  const double after = HeldOutAccuracy();
  std::printf("attention 3x slowdown, refit on the new regime: accuracy %.3f -> %.3f\n", before,
              after);
  EXPECT_GE(after, 0.6);
  EXPECT_GT(after, before + 0.4);
}

TEST_F(RecalibratorTest, RefusesMeasurementsOfAnotherDevice) {
  Measurement m = device_->Measure(arch::BaselineArch(), 1);
  m.device = "intruder";
  EXPECT_TRUE(absl::IsInvalidArgument(recal_->Observe(m)));
  EXPECT_EQ(*store_->CountMeasurements(), 300);
}

// A recalibrator restored from a saved state continues exactly as the original would: the
// same actions, the same model, the same predictions (the search resumes through this).
TEST(RecalibratorStateTest, RestoredRecalibratorContinuesIdentically) {
  TempDir dir;
  const arch::Space space = DefaultSpace();
  auto start = [&](const std::string& file) {
    auto store = MeasurementStore::Open(dir.File(file));
    EXPECT_TRUE(store.ok()) << store.status();
    SyntheticDevice boot(kDevice, 21);
    const auto initial = SampleMeasurements(space, &boot, 120, 1);
    EXPECT_TRUE((*store)->AddMeasurements(initial).ok());
    ModelMeta meta;
    meta.device = kDevice;
    auto model = LatencyModel::Fit(ArchDataset(initial), meta, QuickParams());
    EXPECT_TRUE(model.ok()) << model.status();
    auto r = Recalibrator::Create(store->get(), std::move(*model));
    EXPECT_TRUE(r.ok()) << r.status();
    return std::make_pair(std::move(*store), std::move(*r));
  };
  auto [store_a, a] = start("a.db");
  auto [store_b, b] = start("b.db");
  // A drifting device: attention 3x slower, so residual updates happen along the way.
  SyntheticDevice device(kDevice, 5);
  device.set_op_factor(SyntheticDevice::kAttention, 3.0);
  Rng rng(3);
  std::vector<Measurement> stream;
  for (int i = 0; i < 40; ++i) stream.push_back(device.Measure(space.Sample(&rng), 1));
  for (int i = 0; i < 40; ++i) {
    ASSERT_TRUE(a->Observe(stream[i]).ok());
    ASSERT_TRUE(b->Observe(stream[i]).ok());
    if (i == 22) {
      auto state = b->SaveState();
      ASSERT_TRUE(state.ok()) << state.status();
      b.reset();
      auto restored = Recalibrator::Restore(store_b.get(), *state);
      ASSERT_TRUE(restored.ok()) << restored.status();
      b = std::move(*restored);
    }
    EXPECT_EQ(a->status().action, b->status().action) << "observation " << i;
    EXPECT_EQ(a->status().degraded, b->status().degraded) << "observation " << i;
    EXPECT_DOUBLE_EQ(a->status().offset, b->status().offset) << "observation " << i;
  }
  EXPECT_GT(a->model().meta().residual_rounds, 0);  // the drift exercised residual updates
  Rng probe(9);
  std::vector<std::pair<ArchConfig, int>> archs;
  for (int i = 0; i < 50; ++i) archs.emplace_back(space.Sample(&probe), 1);
  auto pa = a->model().PredictArchitectures(archs);
  auto pb = b->model().PredictArchitectures(archs);
  ASSERT_TRUE(pa.ok() && pb.ok());
  for (size_t i = 0; i < archs.size(); ++i) EXPECT_DOUBLE_EQ((*pa)[i].ms, (*pb)[i].ms);

  // A state naming measurements the store does not hold is refused.
  auto state = a->SaveState();
  ASSERT_TRUE(state.ok());
  auto empty = MeasurementStore::Open(dir.File("empty.db"));
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(Recalibrator::Restore(empty->get(), *state).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(Recalibrator::Restore(empty->get(), "{}").status()));
}

}  // namespace
}  // namespace edgeloop::predictor
