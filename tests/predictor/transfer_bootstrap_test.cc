// Few-shot bootstrap of a new device from the store's models of other devices
// (predictor/transfer_bootstrap.h through `RunBootstrap` with `transfer`).
#include "predictor/transfer_bootstrap.h"

#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "predictor/bootstrap.h"
#include "predictor/metrics.h"
#include "predictor/model_io.h"
#include "tests/predictor/predictor_test_util.h"
#include "tests/test_util.h"

namespace edgeloop::predictor {
namespace {

using testing::TempDir;

// Devices that weigh the operator kinds differently (SyntheticDevice op order: patch_embed,
// qkv, attention, proj, mlp, merge, head).
std::unique_ptr<SyntheticDevice> MakeDevice(const std::string& name, uint64_t seed,
                                            double attention, double mlp, double global) {
  auto d = std::make_unique<SyntheticDevice>(name, seed);
  d->set_op_factor(SyntheticDevice::kAttention, attention);
  d->set_op_factor(4, mlp);
  d->set_global_factor(global);
  return d;
}

absl::StatusOr<BootstrapResult> Bootstrap(const arch::Space& space, SyntheticDevice* device,
                                          const std::string& name, int samples, bool transfer,
                                          MeasurementStore* store) {
  Measurer measurer = [&](const ArchConfig& arch, int batch) -> absl::StatusOr<Measurement> {
    Measurement m = device->Measure(arch, batch);
    m.device = name;
    return m;
  };
  BootstrapOptions options;
  options.device = name;
  options.samples = samples;
  options.batches = {1, 2};
  options.params = QuickParams();
  options.transfer = transfer;
  return RunBootstrap(space, options, measurer, store);
}

AccuracyMetrics Score(const LatencyModel& model, const std::vector<Measurement>& test) {
  const Dataset d = ArchDataset(test);
  auto p = model.PredictMs(d.x.data(), d.rows());
  EXPECT_TRUE(p.ok()) << p.status();
  return ComputeMetrics(d.y, p.value_or(std::vector<double>(d.rows(), 1.0)));
}

TEST(TransferBootstrapTest, TenMeasurementsOfANewDeviceUseTheKnownDevicesModels) {
  TempDir dir;
  const arch::Space space = DefaultSpace();
  auto store = MeasurementStore::Open(dir.File("m.db"));
  ASSERT_TRUE(store.ok());
  auto a = MakeDevice("dev-a", 1, 1.0, 1.0, 1.0);
  auto b = MakeDevice("dev-b", 2, 2.5, 0.6, 1.6);
  ASSERT_TRUE(Bootstrap(space, a.get(), "dev-a", 60, false, store->get()).ok());
  ASSERT_TRUE(Bootstrap(space, b.get(), "dev-b", 60, false, store->get()).ok());

  auto target = MakeDevice("dev-c", 3, 1.8, 0.8, 0.7);
  auto transferred = Bootstrap(space, target.get(), "dev-c", 10, true, store->get());
  ASSERT_TRUE(transferred.ok()) << transferred.status();
  EXPECT_EQ(transferred->transferred_from, (std::vector<std::string>{"dev-a", "dev-b"}));
  EXPECT_EQ(transferred->measured, 20);  // 10 architectures at batch 1 and 2
  auto stored = LoadModelVersion(**store, "dev-c");
  ASSERT_TRUE(stored.ok()) << stored.status();

  // The same 10 design points fitted alone, on a store of their own.
  auto alone_store = MeasurementStore::Open(dir.File("alone.db"));
  ASSERT_TRUE(alone_store.ok());
  auto twin = MakeDevice("dev-c", 3, 1.8, 0.8, 0.7);
  auto alone = Bootstrap(space, twin.get(), "dev-c", 10, false, alone_store->get());
  ASSERT_TRUE(alone.ok()) << alone.status();
  EXPECT_TRUE(alone->transferred_from.empty());

  auto tester = MakeDevice("dev-c", 99, 1.8, 0.8, 0.7);
  const std::vector<Measurement> test = SampleMeasurements(space, tester.get(), 200, 7);
  const AccuracyMetrics with = Score(transferred->model, test);
  const AccuracyMetrics without = Score(alone->model, test);
  // (Measured: within +-10% 78.5% against 52.5%, MAPE 6.3% against 10.7%.)
  EXPECT_GE(with.within_10, without.within_10 + 0.15)
      << MetricsToText(with) << " alone: " << MetricsToText(without);
  EXPECT_LT(with.mape, 0.75 * without.mape);
  EXPECT_GE(with.spearman, 0.99);
}

TEST(TransferBootstrapTest, WithoutAnotherDevicesModelItFitsFromScratch) {
  TempDir dir;
  const arch::Space space = DefaultSpace();
  auto store = MeasurementStore::Open(dir.File("m.db"));
  ASSERT_TRUE(store.ok());
  auto c = MakeDevice("dev-c", 3, 1.0, 1.0, 1.0);
  auto r = Bootstrap(space, c.get(), "dev-c", 12, true, store->get());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->transferred_from.empty());
  const Dataset none = ArchDataset(std::vector<Measurement>{});
  EXPECT_EQ(FitByTransfer(space, **store, "dev-c", none, {}).status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace edgeloop::predictor
