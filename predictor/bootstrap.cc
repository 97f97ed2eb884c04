#include "predictor/bootstrap.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "absl/strings/str_cat.h"
#include "arch/arch_config.h"
#include "arch/cost_model.h"
#include "base/interrupt.h"
#include "base/progress.h"
#include "base/rng.h"

namespace edgeloop::predictor {

std::vector<ArchConfig> DesignArchitectures(const Space& space, int n, uint64_t seed) {
  std::vector<ArchConfig> design;
  if (n <= 0) return design;
  std::set<std::string> taken;
  auto take = [&](const ArchConfig& a) {
    if (static_cast<int>(design.size()) < n && taken.insert(CanonicalKey(a)).second) design.push_back(a);
  };
  take(space.Min());
  take(space.Max());
  Rng rng(seed);
  const int pool_size = std::max(1000, 20 * n);
  std::vector<std::pair<double, ArchConfig>> pool;
  std::set<std::string> in_pool = taken;
  for (int i = 0; i < pool_size; ++i) {
    ArchConfig a = space.Sample(&rng);
    if (in_pool.insert(CanonicalKey(a)).second) pool.emplace_back(std::log(ComputeCost(a).flops), a);
  }
  if (pool.empty()) return design;
  double lo = pool[0].first, hi = pool[0].first;
  for (const auto& p : pool) {
    lo = std::min(lo, p.first);
    hi = std::max(hi, p.first);
  }
  const int bins = std::max(1, n);
  std::vector<std::vector<const ArchConfig*>> binned(bins);
  for (const auto& p : pool) {
    int b = hi > lo ? static_cast<int>((p.first - lo) / (hi - lo) * bins) : 0;
    binned[std::min(b, bins - 1)].push_back(&p.second);
  }
  for (auto& bin : binned) rng.Shuffle(&bin);
  for (size_t pass = 0; static_cast<int>(design.size()) < n; ++pass) {
    bool any = false;
    for (const auto& bin : binned) {
      if (pass < bin.size()) {
        take(*bin[pass]);
        any = true;
      }
    }
    if (!any) break;
  }
  return design;
}

absl::StatusOr<BootstrapResult> RunBootstrap(const Space& space, const BootstrapOptions& options,
                                             const Measurer& measurer, MeasurementStore* store) {
  if (options.device.empty()) return absl::InvalidArgumentError("bootstrap needs a device fingerprint");
  if (options.samples < 2) return absl::InvalidArgumentError("bootstrap needs at least 2 samples");
  if (options.batches.empty()) return absl::InvalidArgumentError("bootstrap needs a batch size");
  for (int b : options.batches) {
    if (b < 1) return absl::InvalidArgumentError(absl::StrCat("batch size ", b, ", expected >= 1"));
  }
  auto existing = store->Measurements(options.device);
  if (!existing.ok()) return existing.status();
  std::set<std::string> measured;
  for (const auto& s : *existing) measured.insert(absl::StrCat(CanonicalKey(s.m.arch), "|", s.m.batch_size));

  int64_t new_measurements = 0, reused = 0;
  const std::vector<ArchConfig> design = DesignArchitectures(space, options.samples, options.seed);
  Progress progress("bootstrap", static_cast<int64_t>(design.size() * options.batches.size()), "meas");
  int64_t done = 0;
  for (const ArchConfig& arch : design) {
    for (int batch : options.batches) {
      if (Interrupted()) {
        return absl::CancelledError(absl::StrCat("bootstrap interrupted after ", done,
                                                 " design points; rerun to resume"));
      }
      if (measured.count(absl::StrCat(CanonicalKey(arch), "|", batch))) {
        ++reused;
      } else {
        auto m = measurer(arch, batch);
        if (!m.ok()) {
          return absl::Status(m.status().code(), absl::StrCat("measuring ", CanonicalKey(arch), " at batch ",
                                                              batch, ": ", m.status().message()));
        }
        if (m->device.empty()) m->device = options.device;
        if (m->device != options.device) {
          return absl::FailedPreconditionError(absl::StrCat("the measurer reported device \"", m->device,
                                                            "\", expected \"", options.device, "\""));
        }
        m->arch = arch;
        m->batch_size = batch;
        if (auto id = store->AddMeasurement(*m); !id.ok()) return id.status();
        ++new_measurements;
      }
      progress.Update(++done);
    }
  }
  progress.Finish();

  auto all = store->Measurements(options.device);
  if (!all.ok()) return all.status();
  const Dataset data = ArchDataset(*all);
  ModelMeta meta;
  meta.mode = kArchMode;
  meta.device = options.device;
  const int folds = std::min(options.folds, data.rows() / 2);
  if (folds >= 2) {
    auto cv = CrossValidate(data, meta, options.params, folds);
    if (!cv.ok()) return cv.status();
    meta.has_cv = true;
    meta.cv = *cv;
  }
  auto model = LatencyModel::Fit(data, meta, options.params);
  if (!model.ok()) return model.status();
  if (auto version = SaveModelVersion(store, &*model, "bootstrap"); !version.ok()) return version.status();
  return BootstrapResult{new_measurements, reused, meta.cv, std::move(*model)};
}

}  // namespace edgeloop::predictor
