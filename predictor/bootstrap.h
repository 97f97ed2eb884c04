// Bootstrapping a device's predictor: a space-covering design of architectures, measured
// through a Measurer callback, stored, fitted and cross-validated.
//
// Design (DesignArchitectures): `n` distinct architectures of a space, always starting
// with its cheapest and most expensive corners (trees cannot extrapolate), then
//   - flops: round-robin picks from n equal-width bins of log FLOPs over a large uniform
//            pool, so the extremes of cost are represented as well as the bulk (uniform
//            sampling under-covers both ends);
//   - lhs:   a Latin hypercube over the space's dimensions (patch t/h/w, embed_dim, depth
//            and heads per stage, mlp_ratio, resolution, frames): each dimension's n levels
//            are split evenly over its choices and paired at random across dimensions, so
//            every choice of every dimension appears (when n >= its number of choices) and
//            about equally often; heads that do not divide a stage width move to the
//            nearest valid choice, duplicates are re-drawn by mutation;
//   - mixed: corners, then LHS and FLOPs picks alternately.
// Deterministic under the seed.
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
#include "absl/strings/string_view.h"
#include "arch/space.h"
#include "predictor/latency_model.h"
#include "predictor/measurement.h"
#include "predictor/store.h"

namespace edgeloop::predictor {

enum class DesignKind { kFlops, kLhs, kMixed };
// The design `predictor bootstrap` uses unless told otherwise (see README.md for the
// comparison that chose it).
inline constexpr DesignKind kDefaultDesign = DesignKind::kMixed;

// "flops", "lhs", "mixed"; anything else is InvalidArgument.
absl::StatusOr<DesignKind> ParseDesignKind(absl::string_view name);
const char* DesignKindName(DesignKind kind);

std::vector<ArchConfig> DesignArchitectures(const arch::Space& space, int n, uint64_t seed,
                                            DesignKind kind = kDefaultDesign);

struct BootstrapOptions {
  std::string device;
  int samples = 100;
  std::vector<int> batches = {1};
  uint64_t seed = 0;
  DesignKind design = kDefaultDesign;
  int folds = 5;
  ModelParams params;
  // Few-shot: adapt the store's models of other devices from these measurements
  // (transfer_bootstrap.h) instead of fitting from them alone; a plain fit when the store
  // has no other device's model.
  bool transfer = false;
};

struct BootstrapResult {
  int64_t measured = 0;  // new measurements taken
  int64_t reused = 0;    // design points already in the store
  AccuracyMetrics cv;
  LatencyModel model;
  std::vector<std::string> transferred_from;  // source devices when transferred
  double transfer_loo_rms = 0;
};

absl::StatusOr<BootstrapResult> RunBootstrap(const arch::Space& space,
                                             const BootstrapOptions& options,
                                             const Measurer& measurer, MeasurementStore* store);

}  // namespace edgeloop::predictor

#endif  // EDGELOOP_PREDICTOR_BOOTSTRAP_H_
