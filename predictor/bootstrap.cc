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
#include "predictor/model_io.h"
#include "predictor/transfer_bootstrap.h"

namespace edgeloop::predictor {

namespace {

// The distinct architectures of a design so far, in order.
class DesignSet {
 public:
  explicit DesignSet(int n) : n_(n) {}
  bool full() const { return static_cast<int>(archs_.size()) >= n_; }
  bool Has(const ArchConfig& a) const { return keys_.count(arch::CanonicalKey(a)) > 0; }
  // False when full or already present.
  bool Take(const ArchConfig& a) {
    if (full() || !keys_.insert(arch::CanonicalKey(a)).second) return false;
    archs_.push_back(a);
    return true;
  }
  // Takes `a`, or when it is already present a mutation of it that is not.
  void TakeOrRedraw(const arch::Space& space, ArchConfig a, Rng* rng) {
    for (int attempt = 0; attempt < 50 && !full(); ++attempt) {
      if (Take(a)) return;
      a = space.Mutate(a, 0.15, rng);
    }
  }
  std::vector<ArchConfig> Release() { return std::move(archs_); }

 private:
  int n_;
  std::set<std::string> keys_;
  std::vector<ArchConfig> archs_;
};

// Round-robin picks from `bins` equal-width bins of log FLOPs over a uniform pool: up to
// `n` architectures not in `design`, in the order they should be taken (the first `bins`
// span the whole range; later ones are spares for collisions and small spaces).
std::vector<ArchConfig> FlopsStratifiedPicks(const arch::Space& space, int bins, int n,
                                             const DesignSet& design, Rng* rng) {
  bins = std::max(1, bins);
  const int pool_size = std::max(1000, 20 * std::max(bins, n));
  std::vector<std::pair<double, ArchConfig>> pool;
  std::set<std::string> in_pool;
  for (int i = 0; i < pool_size; ++i) {
    ArchConfig a = space.Sample(rng);
    if (!design.Has(a) && in_pool.insert(arch::CanonicalKey(a)).second) {
      pool.emplace_back(std::log(arch::ComputeCost(a).flops), a);
    }
  }
  std::vector<ArchConfig> picks;
  if (pool.empty()) return picks;
  double lo = pool[0].first, hi = pool[0].first;
  for (const auto& p : pool) {
    lo = std::min(lo, p.first);
    hi = std::max(hi, p.first);
  }
  std::vector<std::vector<const ArchConfig*>> binned(bins);
  for (const auto& p : pool) {
    int b = hi > lo ? static_cast<int>((p.first - lo) / (hi - lo) * bins) : 0;
    binned[std::min(b, bins - 1)].push_back(&p.second);
  }
  for (auto& bin : binned) rng->Shuffle(&bin);
  for (size_t pass = 0; static_cast<int>(picks.size()) < n; ++pass) {
    bool any = false;
    for (const auto& bin : binned) {
      if (pass < bin.size() && static_cast<int>(picks.size()) < n) {
        picks.push_back(*bin[pass]);
        any = true;
      }
    }
    if (!any) break;
  }
  return picks;
}

// Number of choices of each LHS dimension, in the order LevelsToArch reads them: patch
// t, h, w, embed_dim, depth of stages 0-3, heads of stages 0-3, mlp_ratio, resolution,
// frames (window_size is fixed by the space).
std::vector<int> DimensionSizes(const SearchSpace& s) {
  std::vector<int> sizes = {s.patch_size().t_size(), s.patch_size().h_size(),
                            s.patch_size().w_size(), s.embed_dim_size()};
  for (int st = 0; st < arch::kNumStages; ++st) sizes.push_back(s.stage(st).depth_size());
  for (int st = 0; st < arch::kNumStages; ++st) sizes.push_back(s.stage(st).num_heads_size());
  sizes.push_back(s.mlp_ratio_size());
  sizes.push_back(s.resolution_size());
  sizes.push_back(s.frames_size());
  return sizes;
}

// The architecture at choice indices `level`; a heads choice that does not divide its
// stage's width becomes the nearest valid one (the space guarantees one exists).
ArchConfig LevelsToArch(const SearchSpace& s, const std::vector<int>& level) {
  ArchConfig a;
  a.add_patch_size(s.patch_size().t(level[0]));
  a.add_patch_size(s.patch_size().h(level[1]));
  a.add_patch_size(s.patch_size().w(level[2]));
  a.set_embed_dim(s.embed_dim(level[3]));
  for (int st = 0; st < arch::kNumStages; ++st) a.add_depths(s.stage(st).depth(level[4 + st]));
  for (int st = 0; st < arch::kNumStages; ++st) {
    const auto& heads = s.stage(st).num_heads();
    const int64_t width = static_cast<int64_t>(a.embed_dim()) << st;
    const int want = level[8 + st];
    int chosen = want;
    for (int d = 0; d < heads.size(); ++d) {
      if (want - d >= 0 && width % heads[want - d] == 0) {
        chosen = want - d;
        break;
      }
      if (want + d < heads.size() && width % heads[want + d] == 0) {
        chosen = want + d;
        break;
      }
    }
    a.add_num_heads(heads[chosen]);
  }
  for (int w : s.window_size()) a.add_window_size(w);
  a.set_mlp_ratio(s.mlp_ratio(level[12]));
  a.set_resolution(s.resolution(level[13]));
  a.set_frames(s.frames(level[14]));
  return a;
}

// `m` points of a Latin hypercube over the dimensions: level i of a dimension with c
// choices is choice floor(perm[i] * c / m), perm a random permutation per dimension.
std::vector<ArchConfig> LatinHypercube(const arch::Space& space, int m, Rng* rng) {
  const std::vector<int> sizes = DimensionSizes(space.spec());
  std::vector<std::vector<int>> levels(m, std::vector<int>(sizes.size()));
  std::vector<int> perm(m);
  for (size_t d = 0; d < sizes.size(); ++d) {
    for (int i = 0; i < m; ++i) perm[i] = i;
    rng->Shuffle(&perm);
    for (int i = 0; i < m; ++i) {
      levels[i][d] = static_cast<int>(static_cast<int64_t>(perm[i]) * sizes[d] / m);
    }
  }
  std::vector<ArchConfig> out;
  out.reserve(m);
  for (const auto& l : levels) out.push_back(LevelsToArch(space.spec(), l));
  return out;
}

}  // namespace

absl::StatusOr<DesignKind> ParseDesignKind(absl::string_view name) {
  if (name == "flops") return DesignKind::kFlops;
  if (name == "lhs") return DesignKind::kLhs;
  if (name == "mixed") return DesignKind::kMixed;
  return absl::InvalidArgumentError(
      absl::StrCat("design \"", name, "\": expected flops, lhs or mixed"));
}

const char* DesignKindName(DesignKind kind) {
  switch (kind) {
    case DesignKind::kFlops:
      return "flops";
    case DesignKind::kLhs:
      return "lhs";
    case DesignKind::kMixed:
      return "mixed";
  }
  return "?";
}

std::vector<ArchConfig> DesignArchitectures(const arch::Space& space, int n, uint64_t seed,
                                            DesignKind kind) {
  DesignSet design(std::max(0, n));
  if (n <= 0) return design.Release();
  design.Take(space.Min());
  design.Take(space.Max());
  Rng rng(seed);
  const int rest = std::max(0, n - 2);
  if (kind == DesignKind::kFlops) {
    for (const ArchConfig& a : FlopsStratifiedPicks(space, n, n, design, &rng)) design.Take(a);
  } else if (kind == DesignKind::kLhs) {
    for (const ArchConfig& a : LatinHypercube(space, rest, &rng))
      design.TakeOrRedraw(space, a, &rng);
  } else {
    const int lhs_points = (rest + 1) / 2;
    const std::vector<ArchConfig> lhs = LatinHypercube(space, lhs_points, &rng);
    const std::vector<ArchConfig> flops =
        FlopsStratifiedPicks(space, rest - lhs_points, n, design, &rng);
    size_t next_flops = 0;
    for (const ArchConfig& a : lhs) {
      design.TakeOrRedraw(space, a, &rng);
      while (next_flops < flops.size() && !design.Take(flops[next_flops++]) && !design.full()) {
      }
    }
    while (next_flops < flops.size() && !design.full()) design.Take(flops[next_flops++]);
  }
  // Small spaces: top up with uniform samples (a space may hold fewer than n).
  for (int attempt = 0; attempt < 20 * n && !design.full(); ++attempt)
    design.Take(space.Sample(&rng));
  return design.Release();
}

absl::StatusOr<BootstrapResult> RunBootstrap(const arch::Space& space,
                                             const BootstrapOptions& options,
                                             const Measurer& measurer, MeasurementStore* store) {
  if (options.device.empty())
    return absl::InvalidArgumentError("bootstrap needs a device fingerprint");
  if (options.samples < 2) return absl::InvalidArgumentError("bootstrap needs at least 2 samples");
  if (options.batches.empty()) return absl::InvalidArgumentError("bootstrap needs a batch size");
  for (int b : options.batches) {
    if (b < 1) return absl::InvalidArgumentError(absl::StrCat("batch size ", b, ", expected >= 1"));
  }
  auto existing = store->Measurements(options.device);
  if (!existing.ok()) return existing.status();
  std::set<std::string> measured;
  for (const auto& s : *existing)
    measured.insert(absl::StrCat(arch::CanonicalKey(s.m.arch), "|", s.m.batch_size));

  int64_t new_measurements = 0, reused = 0;
  const std::vector<ArchConfig> design =
      DesignArchitectures(space, options.samples, options.seed, options.design);
  Progress progress("bootstrap", static_cast<int64_t>(design.size() * options.batches.size()),
                    "meas");
  int64_t done = 0;
  for (const ArchConfig& arch : design) {
    for (int batch : options.batches) {
      if (Interrupted()) {
        return absl::CancelledError(
            absl::StrCat("bootstrap interrupted after ", done, " design points; rerun to resume"));
      }
      if (measured.count(absl::StrCat(arch::CanonicalKey(arch), "|", batch))) {
        ++reused;
      } else {
        auto m = measurer(arch, batch);
        if (!m.ok()) {
          return absl::Status(m.status().code(),
                              absl::StrCat("measuring ", arch::CanonicalKey(arch), " at batch ",
                                           batch, ": ", m.status().message()));
        }
        if (m->device.empty()) m->device = options.device;
        if (m->device != options.device) {
          return absl::FailedPreconditionError(absl::StrCat("the measurer reported device \"",
                                                            m->device, "\", expected \"",
                                                            options.device, "\""));
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
  if (options.transfer) {
    TransferBootstrapOptions t;
    t.batches = options.batches;
    t.seed = options.seed;
    t.params = options.params;
    auto transferred = FitByTransfer(space, *store, options.device, data, t);
    if (transferred.ok()) {
      if (auto v = SaveModelVersion(store, &transferred->model, "transfer"); !v.ok())
        return v.status();
      BootstrapResult r{new_measurements, reused, {}, std::move(transferred->model)};
      r.transferred_from = transferred->sources;
      r.transfer_loo_rms = transferred->loo_rms;
      return r;
    }
    if (!absl::IsNotFound(transferred.status())) return transferred.status();
  }
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
  if (auto version = SaveModelVersion(store, &*model, "bootstrap"); !version.ok())
    return version.status();
  return BootstrapResult{new_measurements, reused, meta.cv, std::move(*model)};
}

}  // namespace edgeloop::predictor
