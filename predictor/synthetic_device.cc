#include "predictor/synthetic_device.h"

#include <cmath>
#include <vector>

#include "arch/cost_model.h"
#include "predictor/features.h"

namespace edgeloop::predictor {

SyntheticDevice::SyntheticDevice(std::string fingerprint, uint64_t seed, double noise)
    : fingerprint_(std::move(fingerprint)), rng_(seed), noise_(noise) {}

double SyntheticDevice::TrueLatencyMs(const ArchConfig& arch, int batch) const {
  const arch::FlopsByOp f = arch::ComputeCost(arch).by_op;
  const double macs[kOps] = {double(f.patch_embed), double(f.qkv), double(f.attention),
                             double(f.proj),        double(f.mlp), double(f.merge),
                             double(f.head)};
  double ns = 0;
  for (int op = 0; op < kOps; ++op) ns += ns_per_mac_[op] * op_factor_[op] * macs[op];
  static const int activation_index = FeatureIndex("activation_total");
  const double activations = ComputeFeatures(arch, 1)[activation_index];
  ns += ns_per_activation_ * activations;
  return (overhead_ms_ + batch * ns * 1e-6) * global_factor_;
}

Measurement SyntheticDevice::Measure(const ArchConfig& arch, int batch) {
  Measurement m;
  m.device = fingerprint_;
  m.arch = arch;
  m.batch_size = batch;
  m.threads = 1;
  const double truth = TrueLatencyMs(arch, batch);
  std::vector<double> runs;
  for (int i = 0; i < 5; ++i) runs.push_back(truth * std::exp(noise_ * rng_.Normal()));
  FillStatistics(runs, &m);
  m.drift_factor = global_factor_;
  m.source = "synthetic";
  return m;
}

}  // namespace edgeloop::predictor
