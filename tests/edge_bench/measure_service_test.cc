// The measurement service without sockets: a fake device whose runs spin for a set time
// stands in for LibTorch, so cache, sentinel, paired reference, cancellation and request
// bounds are checked directly.
#include "edge_bench/measure_service.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "arch/arch_config.h"
#include "arch/cost_model.h"
#include "edge_bench/protocol.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace edgeloop::edge_bench {
namespace {

// What the fake device did, and knobs to change its behaviour between requests.
struct FakeDevice {
  std::atomic<double> slowdown{1.0};  // multiplies every run's time
  std::vector<std::string> built;     // CanonicalKey of each Create, in order
  std::vector<uint64_t> seeds;        // the seed of each Create
  std::vector<int> prepared;          // every PrepareBatch
  absl::Status create_error;          // returned by Create when not OK
  std::function<void()> on_run;       // called after every run
};

class FakeWorkload : public Workload {
 public:
  FakeWorkload(FakeDevice* device, int base_us) : device_(device), base_us_(base_us) {}
  absl::Status PrepareBatch(int batch) override {
    device_->prepared.push_back(batch);
    batch_ = batch;
    return absl::OkStatus();
  }
  absl::Status RunOnce() override {
    const double us = base_us_ * batch_ * device_->slowdown.load();
    const auto end =
        std::chrono::steady_clock::now() + std::chrono::microseconds(static_cast<int64_t>(us));
    while (std::chrono::steady_clock::now() < end) {
    }
    if (device_->on_run) device_->on_run();
    return absl::OkStatus();
  }
  void ResetPeakMemory() override {}
  int64_t PeakMemoryBytes() override { return 4096; }

 private:
  FakeDevice* device_;
  int base_us_;
  int batch_ = 1;
};

class FakeFactory : public WorkloadFactory {
 public:
  explicit FakeFactory(FakeDevice* device) : device_(device) {}
  absl::StatusOr<std::unique_ptr<Workload>> Create(const ArchConfig& arch, uint64_t seed) override {
    device_->built.push_back(arch::CanonicalKey(arch));
    device_->seeds.push_back(seed);
    if (!device_->create_error.ok()) return device_->create_error;
    return std::make_unique<FakeWorkload>(device_, 100 + arch.embed_dim());
  }
  DeviceInfo Describe() const override {
    DeviceInfo info;
    info.set_device("fake");
    info.set_threads(1);
    info.set_fingerprint("fake-fingerprint");
    return info;
  }

 private:
  FakeDevice* device_;
};

MeasurementSettings QuickSettings() {
  MeasurementSettings s;
  s.set_warmup_runs(1);
  s.set_warmup_ms(0.01);  // 0 would mean "the default"
  s.set_min_runs(5);
  s.set_max_runs(9);
  s.set_max_time_ms(2000);
  s.set_target_rel_ci(0.5);
  return s;
}

// Distinct from the sentinel and the reference, so the fake tells them apart.
ArchConfig MeasuredArch() {
  ArchConfig a = DefaultSentinelArch();
  a.set_embed_dim(48);
  return a;
}

MeasureServiceOptions TestOptions() {
  MeasureServiceOptions o;
  o.limits.set_max_batch(8);
  o.limits.set_max_flops(int64_t{1} << 40);
  o.max_batch_sizes = 3;
  o.defaults = QuickSettings();
  o.sentinel_settings = QuickSettings();
  o.sentinel_interval_s = -1;
  o.reference = DefaultReferenceArch();
  o.reference_calibration_ms = 20;
  return o;
}

MeasureRequest Request(uint64_t id, std::vector<int> batches) {
  MeasureRequest r;
  r.set_request_id(id);
  *r.mutable_arch() = MeasuredArch();
  for (int b : batches) r.add_batch_sizes(b);
  r.set_seed(7);
  return r;
}

class MeasureServiceTest : public ::testing::Test {
 protected:
  std::unique_ptr<MeasureService> Make(MeasureServiceOptions o = TestOptions()) {
    auto service = MeasureService::Create(std::move(o), std::make_unique<FakeFactory>(&device_));
    EXPECT_TRUE(service.ok()) << service.status();
    return service.ok() ? std::move(*service) : nullptr;
  }
  Envelope Run(MeasureService* service, const MeasureRequest& request,
               std::function<bool()> cancelled = nullptr) {
    return service->Process(request, cancelled,
                            [this](MeasureProgress p) { progress_.push_back(std::move(p)); });
  }
  FakeDevice device_;
  std::vector<MeasureProgress> progress_;
};

TEST_F(MeasureServiceTest, MeasuresEveryBatchSizeWithOneBuild) {
  auto service = Make();
  const Envelope e = Run(service.get(), Request(11, {1, 2}));
  ASSERT_TRUE(e.has_measure_result()) << e.DebugString();
  const MeasureResult& r = e.measure_result();
  EXPECT_EQ(r.request_id(), 11u);
  EXPECT_EQ(r.arch_key(), arch::CanonicalKey(MeasuredArch()));
  EXPECT_EQ(r.device().fingerprint(), "fake-fingerprint");
  EXPECT_EQ(r.device().limits().max_batch(), 8);
  EXPECT_EQ(r.drift_factor(), 0);  // sentinel disabled
  ASSERT_EQ(r.batches_size(), 2);
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(r.batches(i).batch_size(), i + 1);
    EXPECT_FALSE(r.batches(i).cached());
    EXPECT_GE(r.batches(i).runs(), 5);
    EXPECT_LE(r.batches(i).runs(), 9);
    EXPECT_GT(r.batches(i).median_ms(), 0);
  }
  // Batch 2 runs twice as long as batch 1 on the fake device.
  EXPECT_GT(r.batches(1).median_ms(), 1.3 * r.batches(0).median_ms());
  EXPECT_EQ(device_.built, std::vector<std::string>{arch::CanonicalKey(MeasuredArch())});
  EXPECT_EQ(device_.seeds, std::vector<uint64_t>{7});
  EXPECT_EQ(device_.prepared, (std::vector<int>{1, 2}));
  EXPECT_EQ(service->counters().measured, 2);
  EXPECT_EQ(service->counters().cache_hits, 0);
  ASSERT_FALSE(progress_.empty());
  EXPECT_EQ(progress_.front().phase(), PHASE_BUILDING);
  bool saw_timed_second_batch = false;
  for (const MeasureProgress& p : progress_) {
    EXPECT_EQ(p.request_id(), 11u);
    if (p.batch_index() == 1 && p.phase() == PHASE_TIMED)
      saw_timed_second_batch = p.batch_size() == 2;
  }
  EXPECT_TRUE(saw_timed_second_batch);
}

TEST_F(MeasureServiceTest, AnswersFromTheCacheUnlessForced) {
  auto service = Make();
  const Envelope first = Run(service.get(), Request(1, {1, 2}));
  ASSERT_TRUE(first.has_measure_result());
  // No progress sink: allowed.
  const Envelope again = service->Process(Request(2, {1, 2}), nullptr, nullptr);
  ASSERT_TRUE(again.has_measure_result());
  for (int i = 0; i < 2; ++i) {
    EXPECT_TRUE(again.measure_result().batches(i).cached());
    EXPECT_EQ(again.measure_result().batches(i).median_ms(),
              first.measure_result().batches(i).median_ms());
  }
  EXPECT_EQ(device_.built.size(), 1u);  // nothing to measure, nothing built
  EXPECT_EQ(service->counters().cache_hits, 2);

  // Partly cached: only the new batch size is measured, the model built once.
  const Envelope mixed = Run(service.get(), Request(3, {2, 4}));
  ASSERT_TRUE(mixed.has_measure_result());
  EXPECT_TRUE(mixed.measure_result().batches(0).cached());
  EXPECT_FALSE(mixed.measure_result().batches(1).cached());
  EXPECT_EQ(device_.built.size(), 2u);

  MeasureRequest forced = Request(4, {1});
  forced.set_force(true);
  const Envelope measured = Run(service.get(), forced);
  ASSERT_TRUE(measured.has_measure_result());
  EXPECT_FALSE(measured.measure_result().batches(0).cached());
  EXPECT_EQ(service->counters().measured, 4);
  EXPECT_EQ(service->counters().cache_hits, 3);
}

TEST_F(MeasureServiceTest, CacheFileOutlivesTheService) {
  testing::TempDir dir;
  MeasureServiceOptions o = TestOptions();
  o.cache_file = dir.File("cache.pb");
  double median = 0;
  {
    auto service = Make(o);
    const Envelope e = Run(service.get(), Request(1, {2}));
    ASSERT_TRUE(e.has_measure_result());
    median = e.measure_result().batches(0).median_ms();
  }
  auto restarted = Make(o);
  const Envelope e = Run(restarted.get(), Request(1, {2}));
  ASSERT_TRUE(e.has_measure_result());
  EXPECT_TRUE(e.measure_result().batches(0).cached());
  EXPECT_EQ(e.measure_result().batches(0).median_ms(), median);
  EXPECT_EQ(device_.built.size(), 1u);

  FILE* f = fopen(o.cache_file.c_str(), "wb");
  fputs("\xff\xff not a cache", f);
  fclose(f);
  auto broken = MeasureService::Create(o, std::make_unique<FakeFactory>(&device_));
  EXPECT_TRUE(absl::IsDataLoss(broken.status())) << broken.status();
}

TEST_F(MeasureServiceTest, PairedRequestsCalibrateTheReferenceOnce) {
  auto service = Make();
  ASSERT_TRUE(Run(service.get(), Request(1, {1})).has_measure_result());
  MeasureRequest paired = Request(2, {1});
  paired.mutable_settings()->set_paired_reference(true);
  // The plain cached result does not answer a paired request.
  const Envelope e = Run(service.get(), paired);
  ASSERT_TRUE(e.has_measure_result()) << e.DebugString();
  const BatchResult& b = e.measure_result().batches(0);
  EXPECT_FALSE(b.cached());
  EXPECT_GT(b.reference_nominal_ms(), 0);
  EXPECT_GT(b.normalized_median_ms(), 0);
  EXPECT_GT(b.speed_factor(), 0);
  // The paired result answers the next paired request; a new batch reuses the reference.
  paired.set_request_id(3);
  paired.add_batch_sizes(2);
  const Envelope next = Run(service.get(), paired);
  ASSERT_TRUE(next.has_measure_result());
  EXPECT_TRUE(next.measure_result().batches(0).cached());
  EXPECT_FALSE(next.measure_result().batches(1).cached());
  EXPECT_EQ(next.measure_result().batches(1).reference_nominal_ms(), b.reference_nominal_ms());
  int references = 0;
  for (const std::string& key : device_.built)
    references += key == arch::CanonicalKey(DefaultReferenceArch());
  EXPECT_EQ(references, 1);
}

TEST_F(MeasureServiceTest, SentinelGivesTheDriftFactor) {
  MeasureServiceOptions o = TestOptions();
  o.sentinel_interval_s = 0;  // before every measurement
  auto service = Make(o);
  const Envelope first = Run(service.get(), Request(1, {1}));
  ASSERT_TRUE(first.has_measure_result());
  EXPECT_EQ(first.measure_result().drift_factor(), 1.0);
  EXPECT_EQ(first.measure_result().batches(0).drift_factor(), 1.0);
  EXPECT_EQ(device_.built.front(), arch::CanonicalKey(DefaultSentinelArch()));
  EXPECT_EQ(device_.seeds.front(), 0u);
  EXPECT_EQ(progress_.front().phase(), PHASE_SENTINEL);

  device_.slowdown = 3;  // the device slowed down
  MeasureRequest forced = Request(2, {1});
  forced.set_force(true);
  const Envelope slow = Run(service.get(), forced);
  ASSERT_TRUE(slow.has_measure_result());
  EXPECT_GT(slow.measure_result().drift_factor(), 1.5);
  EXPECT_EQ(service->counters().sentinel_runs, 2);
  // Cached answers need no sentinel.
  ASSERT_TRUE(Run(service.get(), Request(3, {1})).has_measure_result());
  EXPECT_EQ(service->counters().sentinel_runs, 2);
}

TEST_F(MeasureServiceTest, SentinelWaitsForItsInterval) {
  MeasureServiceOptions o = TestOptions();
  o.sentinel_interval_s = 600;
  auto service = Make(o);
  ASSERT_TRUE(Run(service.get(), Request(1, {1})).has_measure_result());
  device_.slowdown = 3;
  const Envelope e = Run(service.get(), Request(2, {2}));
  ASSERT_TRUE(e.has_measure_result());
  EXPECT_EQ(e.measure_result().drift_factor(), 1.0);  // not re-measured yet
  EXPECT_EQ(service->counters().sentinel_runs, 1);
}

TEST_F(MeasureServiceTest, CancelAndShutdownEndTheRequest) {
  auto service = Make();
  int runs = 0;
  device_.on_run = [&runs] { ++runs; };
  const Envelope cancelled = Run(service.get(), Request(5, {1}), [&runs] { return runs >= 3; });
  ASSERT_TRUE(cancelled.has_error()) << cancelled.DebugString();
  EXPECT_EQ(cancelled.error().request_id(), 5u);
  EXPECT_EQ(cancelled.error().code(), ERROR_CANCELLED);
  EXPECT_EQ(service->counters().measured, 0);
  // Nothing of the cancelled request was cached.
  const Envelope after = Run(service.get(), Request(6, {1}));
  ASSERT_TRUE(after.has_measure_result());
  EXPECT_FALSE(after.measure_result().batches(0).cached());

  EXPECT_FALSE(service->shutting_down());
  service->BeginShutdown();
  EXPECT_TRUE(service->shutting_down());
  const Envelope stopped = Run(service.get(), Request(7, {2}));
  ASSERT_TRUE(stopped.has_error());
  EXPECT_EQ(stopped.error().code(), ERROR_SHUTTING_DOWN);
  EXPECT_EQ(stopped.error().request_id(), 7u);
}

TEST_F(MeasureServiceTest, WorkloadFailuresMapToErrorCodes) {
  auto service = Make();
  device_.create_error = absl::InvalidArgumentError("heads do not divide the width");
  const Envelope invalid = Run(service.get(), Request(1, {1}));
  ASSERT_TRUE(invalid.has_error());
  EXPECT_EQ(invalid.error().code(), ERROR_INVALID_ARCH);
  EXPECT_EQ(invalid.error().message(), "heads do not divide the width");
  device_.create_error = absl::ResourceExhaustedError("out of memory");
  const Envelope internal = Run(service.get(), Request(2, {1}));
  ASSERT_TRUE(internal.has_error());
  EXPECT_EQ(internal.error().code(), ERROR_INTERNAL);
}

TEST_F(MeasureServiceTest, ValidateBoundsRequests) {
  MeasureServiceOptions o = TestOptions();
  const int64_t flops = arch::ComputeCost(MeasuredArch()).flops;
  o.limits.set_max_flops(2 * flops);
  auto service = Make(o);
  auto code = [&](const MeasureRequest& r) { return service->Validate(r).first; };
  EXPECT_EQ(code(Request(1, {1, 2})), ERROR_UNSPECIFIED);
  EXPECT_EQ(service->Validate(Request(1, {2})).second, "");
  EXPECT_EQ(code(Request(1, {})), ERROR_LIMIT_EXCEEDED);
  EXPECT_EQ(code(Request(1, {1, 1, 1, 1})), ERROR_LIMIT_EXCEEDED);  // max_batch_sizes 3
  EXPECT_EQ(code(Request(1, {0})), ERROR_LIMIT_EXCEEDED);
  EXPECT_EQ(code(Request(1, {9})), ERROR_LIMIT_EXCEEDED);  // max_batch 8
  const auto [too_many_flops, why] = service->Validate(Request(1, {3}));
  EXPECT_EQ(too_many_flops, ERROR_LIMIT_EXCEEDED);
  EXPECT_NE(why.find("MACs"), std::string::npos) << why;
  MeasureRequest broken = Request(1, {1});
  broken.mutable_arch()->clear_depths();
  EXPECT_EQ(code(broken), ERROR_INVALID_ARCH);
  MeasureRequest huge = Request(1, {1});
  huge.mutable_arch()->set_embed_dim(1536);  // valid, but above the server's 1024
  EXPECT_EQ(code(huge), ERROR_LIMIT_EXCEEDED);
  MeasureRequest greedy = Request(1, {1});
  greedy.mutable_settings()->set_max_runs(1000000);
  EXPECT_EQ(code(greedy), ERROR_LIMIT_EXCEEDED);
}

// A fake sysfs tree of two cores under `root` with the given governor and cur_freq.
void WriteFakeCpus(const std::string& root, const std::string& governor, int cur_khz) {
  for (int c = 0; c < 2; ++c) {
    const std::string dir = absl::StrCat(root, "/sys/devices/system/cpu/cpu", c, "/cpufreq");
    std::filesystem::create_directories(dir);
    std::ofstream(dir + "/scaling_governor") << governor << "\n";
    std::ofstream(dir + "/scaling_cur_freq") << cur_khz << "\n";
    std::ofstream(dir + "/scaling_max_freq") << 2000000 << "\n";
  }
  std::ofstream(root + "/sys/devices/system/cpu/online") << "0-1\n";
}

TEST_F(MeasureServiceTest, ResultsCarryTheDeviceStateAndFlagItsChanges) {
  testing::TempDir root;
  WriteFakeCpus(root.path(), "powersave", 1000000);
  MeasureServiceOptions o = TestOptions();
  o.sysfs_root = root.path();
  auto service = Make(o);
  const DeviceInfo& device = service->device();
  EXPECT_FALSE(device.machine().empty());
  ASSERT_EQ(device.state().cpus_size(), 2);
  EXPECT_EQ(device.state().cpus(1).governor(), "powersave");
  const std::string start = device.state_fingerprint();
  ASSERT_EQ(start.size(), 16u);

  Envelope first = Run(service.get(), Request(1, {1}));
  ASSERT_TRUE(first.has_measure_result()) << first.DebugString();
  EXPECT_EQ(first.measure_result().state_fingerprint(), start);
  EXPECT_FALSE(first.measure_result().state_changed());
  EXPECT_EQ(first.measure_result().state().cpus(0).cur_freq_khz(), 1000000);

  WriteFakeCpus(root.path(), "powersave", 1900000);  // only the momentary frequency moved
  Envelope second = Run(service.get(), Request(2, {1}));
  EXPECT_EQ(second.measure_result().state_fingerprint(), start);
  EXPECT_FALSE(second.measure_result().state_changed());
  EXPECT_EQ(second.measure_result().state().cpus(0).cur_freq_khz(), 1900000);

  WriteFakeCpus(root.path(), "performance", 1900000);
  Envelope third = Run(service.get(), Request(3, {1}));  // cached, still stamped
  ASSERT_TRUE(third.has_measure_result());
  EXPECT_NE(third.measure_result().state_fingerprint(), start);
  EXPECT_TRUE(third.measure_result().state_changed());
  EXPECT_EQ(third.measure_result().previous_state_fingerprint(), start);
  Envelope fourth = Run(service.get(), Request(4, {1}));
  EXPECT_FALSE(fourth.measure_result().state_changed());  // same as the previous request
}

TEST_F(MeasureServiceTest, LockStateRefusesOnceTheStateMoved) {
  testing::TempDir root;
  WriteFakeCpus(root.path(), "powersave", 1000000);
  MeasureServiceOptions o = TestOptions();
  o.sysfs_root = root.path();
  o.lock_state = true;
  auto service = Make(o);
  WriteFakeCpus(root.path(), "powersave", 1500000);
  ASSERT_TRUE(Run(service.get(), Request(1, {1})).has_measure_result());
  const size_t built = device_.built.size();

  WriteFakeCpus(root.path(), "performance", 1500000);
  Envelope refused = Run(service.get(), Request(2, {2}));
  ASSERT_TRUE(refused.has_error()) << refused.DebugString();
  EXPECT_EQ(refused.error().code(), ERROR_STATE_CHANGED);
  EXPECT_EQ(refused.error().request_id(), 2u);
  EXPECT_EQ(refused.error().message(),
            "device state changed since start: cpu0 governor powersave -> performance; "
            "cpu1 governor powersave -> performance");
  EXPECT_EQ(device_.built.size(), built);  // nothing was built or measured
  EXPECT_TRUE(absl::IsAborted(StatusFromError(refused.error())));

  WriteFakeCpus(root.path(), "powersave", 1200000);  // back as it was: measures again
  EXPECT_TRUE(Run(service.get(), Request(3, {2})).has_measure_result());
}

TEST_F(MeasureServiceTest, CreateChecksItsOptions) {
  auto service = Make();
  EXPECT_EQ(service->device().device(), "fake");
  EXPECT_EQ(service->device().limits().max_flops(), int64_t{1} << 40);
  MeasureServiceOptions bad_settings = TestOptions();
  bad_settings.defaults.set_target_rel_ci(2);
  EXPECT_TRUE(absl::IsOutOfRange(
      MeasureService::Create(bad_settings, std::make_unique<FakeFactory>(&device_)).status()));
  MeasureServiceOptions bad_sentinel = TestOptions();
  bad_sentinel.sentinel.clear_depths();
  EXPECT_TRUE(absl::IsInvalidArgument(
      MeasureService::Create(bad_sentinel, std::make_unique<FakeFactory>(&device_)).status()));
}

}  // namespace
}  // namespace edgeloop::edge_bench
