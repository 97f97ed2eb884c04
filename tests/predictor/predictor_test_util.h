// Helpers shared by the predictor tests: the default search space and synthetic
// measurements from it.
#ifndef EDGELOOP_TESTS_PREDICTOR_PREDICTOR_TEST_UTIL_H_
#define EDGELOOP_TESTS_PREDICTOR_PREDICTOR_TEST_UTIL_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "arch/space.h"
#include "base/rng.h"
#include "gtest/gtest.h"
#include "predictor/latency_model.h"
#include "predictor/store.h"
#include "predictor/synthetic_device.h"
#include "tests/test_util.h"

namespace edgeloop::predictor {

inline arch::Space DefaultSpace() {
  auto space = arch::Space::FromFile(testing::SourcePath("supernet/spaces/swin3d_lpbf.textproto"));
  EXPECT_TRUE(space.ok()) << space.status();
  return *space;
}

// `n` measurements of uniformly sampled architectures at batch 1..4.
inline std::vector<Measurement> SampleMeasurements(const arch::Space& space,
                                                   SyntheticDevice* device, int n, uint64_t seed) {
  Rng rng(seed);
  std::vector<Measurement> out;
  for (int i = 0; i < n; ++i) {
    const ArchConfig arch = space.Sample(&rng);
    out.push_back(device->Measure(arch, 1 + static_cast<int>(rng.Uniform(4))));
  }
  return out;
}

// A small, quick model configuration for tests.
inline ModelParams QuickParams() {
  ModelParams p;
  p.ensemble = 3;
  p.rounds = 100;
  p.eta = 0.15;
  return p;
}

// A fixture with the default space, a synthetic device and a fresh measurement store in its
// own temporary directory.
class DeviceStoreTest : public ::testing::Test {
 protected:
  // From SetUp(), under ASSERT_NO_FATAL_FAILURE.
  void OpenDeviceAndStore(const char* device, uint64_t device_seed, const std::string& db_name) {
    space_ = std::make_unique<arch::Space>(DefaultSpace());
    device_ = std::make_unique<SyntheticDevice>(device, device_seed);
    auto store = MeasurementStore::Open(dir_.File(db_name));
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
  }

  testing::TempDir dir_;
  std::unique_ptr<arch::Space> space_;
  std::unique_ptr<SyntheticDevice> device_;
  std::unique_ptr<MeasurementStore> store_;
};

}  // namespace edgeloop::predictor

#endif  // EDGELOOP_TESTS_PREDICTOR_PREDICTOR_TEST_UTIL_H_
