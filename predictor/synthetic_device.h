// A simulated edge device: latency as a known function of an architecture's cost, with
// multiplicative noise. Tests, benchmarks and dry runs of the bootstrap use it as the
// Measurer when no edge server is at hand; drift is simulated by changing its speed
// (a global factor) or the speed of one op kind (e.g. attention 3x slower).
//
//   latency_ms = overhead_ms + batch * sum_op (ns_per_mac[op] * op_factor[op] * MACs[op]) * 1e-6
//                + batch * ns_per_activation * activation_total * 1e-6,
//   times global_factor, times exp(noise * N(0,1)).
#ifndef EDGELOOP_PREDICTOR_SYNTHETIC_DEVICE_H_
#define EDGELOOP_PREDICTOR_SYNTHETIC_DEVICE_H_

#include <array>
#include <cstdint>
#include <string>

#include "base/rng.h"
#include "predictor/measurement.h"

namespace edgeloop::predictor {

class SyntheticDevice {
 public:
  // Op kinds in FlopsByOp order: patch_embed, qkv, attention, proj, mlp, merge, head.
  static constexpr int kOps = 7;
  static constexpr int kAttention = 2;

  explicit SyntheticDevice(std::string fingerprint, uint64_t seed = 0, double noise = 0.02);

  // The noiseless latency.
  double TrueLatencyMs(const ArchConfig& arch, int batch) const;
  // One measurement: 5 noisy runs summarized (median is the label).
  Measurement Measure(const ArchConfig& arch, int batch);

  void set_global_factor(double f) { global_factor_ = f; }
  void set_op_factor(int op, double f) { op_factor_[op] = f; }
  // The drift factor a sentinel would report: global_factor.
  double global_factor() const { return global_factor_; }

 private:
  std::string fingerprint_;
  Rng rng_;
  double noise_;
  double overhead_ms_ = 0.8;
  std::array<double, kOps> ns_per_mac_ = {0.020, 0.010, 0.030, 0.010, 0.009, 0.012, 0.05};
  std::array<double, kOps> op_factor_ = {1, 1, 1, 1, 1, 1, 1};
  double ns_per_activation_ = 0.15;
  double global_factor_ = 1.0;
};

}  // namespace edgeloop::predictor

#endif  // EDGELOOP_PREDICTOR_SYNTHETIC_DEVICE_H_
