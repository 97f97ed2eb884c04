// Bootstrapping a device's predictor: a space-covering design of architectures, measured
// through a Measurer callback, stored, fitted and cross-validated.
//
// Design (DesignArchitectures): `n` distinct architectures of a space that cover its FLOPs
// range: the cheapest and most expensive corners, then round-robin picks from equal-width
// bins of log FLOPs over a large uniform pool, so the extremes are represented as well as
// the bulk (uniform sampling under-covers both ends). Deterministic under the seed.
//
// RunBootstrap is resumable: (architecture, batch) pairs already in the store for the
// device are not measured again, so an interrupted bootstrap picks up where it stopped.
#ifndef EDGELOOP_PREDICTOR_BOOTSTRAP_H_
#define EDGELOOP_PREDICTOR_BOOTSTRAP_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "arch/space.h"
#include "predictor/latency_model.h"
#include "predictor/measurement.h"
#include "predictor/store.h"

namespace edgeloop::predictor {

std::vector<ArchConfig> DesignArchitectures(const Space& space, int n, uint64_t seed);

// Measures one architecture at one batch size on the device (e.g. through the edge
// benchmarking client). The returned measurement's device may be left empty.
using Measurer = std::function<absl::StatusOr<Measurement>(const ArchConfig& arch, int batch)>;

struct BootstrapOptions {
  std::string device;
  int samples = 100;
  std::vector<int> batches = {1};
  uint64_t seed = 0;
  int folds = 5;
  ModelParams params;
};

struct BootstrapResult {
  int64_t measured = 0;  // new measurements taken
  int64_t reused = 0;    // design points already in the store
  AccuracyMetrics cv;
  LatencyModel model;
};

absl::StatusOr<BootstrapResult> RunBootstrap(const Space& space, const BootstrapOptions& options,
                                             const Measurer& measurer, MeasurementStore* store);

}  // namespace edgeloop::predictor

#endif  // EDGELOOP_PREDICTOR_BOOTSTRAP_H_
