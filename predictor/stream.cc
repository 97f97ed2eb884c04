#include "predictor/stream.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "arch/arch_config.h"
#include "base/interrupt.h"
#include "base/progress.h"
#include "base/rng.h"

namespace edgeloop::predictor {

std::vector<ArchConfig> SampleNewArchitectures(const arch::Space& space, int n, uint64_t seed,
                                               const std::set<std::string>& exclude) {
  std::vector<ArchConfig> out;
  std::set<std::string> taken;
  Rng rng(seed);
  // Uniform draws with rejection; the attempt cap ends the loop in a nearly exhausted space.
  for (int64_t attempt = 0; static_cast<int>(out.size()) < n && attempt < 200LL * std::max(n, 1);
       ++attempt) {
    ArchConfig a = space.Sample(&rng);
    const std::string key = arch::CanonicalKey(a);
    if (exclude.count(key) || !taken.insert(key).second) continue;
    out.push_back(std::move(a));
  }
  return out;
}

absl::StatusOr<StreamResult> RunStream(const arch::Space& space, const StreamOptions& options,
                                       const Measurer& measurer, MeasurementStore* store,
                                       Recalibrator* recalibrator,
                                       const StreamRowCallback& on_row) {
  if (options.samples < 1) return absl::InvalidArgumentError("the stream needs at least 1 sample");
  if (options.batch < 1)
    return absl::InvalidArgumentError(
        absl::StrCat("batch size ", options.batch, ", expected >= 1"));
  const std::string device = recalibrator->model().meta().device;
  std::set<std::string> exclude;
  if (options.exclude_stored) {
    auto stored = store->Measurements(device);
    if (!stored.ok()) return stored.status();
    for (const auto& s : *stored) {
      if (s.m.batch_size == options.batch) exclude.insert(arch::CanonicalKey(s.m.arch));
    }
  }
  const std::vector<ArchConfig> archs =
      SampleNewArchitectures(space, options.samples, options.seed, exclude);

  StreamResult result;
  std::vector<bool> hits;
  Progress progress("stream", static_cast<int64_t>(archs.size()), "meas");
  for (size_t i = 0; i < archs.size(); ++i) {
    if (Interrupted()) {
      result.interrupted = true;
      break;
    }
    StreamRow row;
    row.index = static_cast<int64_t>(i) + 1;
    row.arch = archs[i];
    auto m = measurer(archs[i], options.batch);
    if (!m.ok() && absl::IsCancelled(m.status()) && Interrupted()) {
      result.interrupted = true;
      break;
    }
    if (!m.ok() && (absl::IsInvalidArgument(m.status()) || absl::IsOutOfRange(m.status()))) {
      row.skipped = m.status();
      ++result.skipped;
    } else if (!m.ok()) {
      return absl::Status(
          m.status().code(),
          absl::StrCat("measuring ", arch::CanonicalKey(archs[i]), ": ", m.status().message(), " (",
                       result.streamed, " measurements committed)"));
    } else {
      if (m->device.empty()) m->device = device;
      m->arch = archs[i];
      m->batch_size = options.batch;
      if (auto s = recalibrator->Observe(*m); !s.ok()) return s;
      row.measurement = *m;
      row.status = recalibrator->status();
      ++result.streamed;
      result.measured_ms.push_back(m->median_ms);
      result.predicted_ms.push_back(row.status.predicted_ms);
      hits.push_back(std::fabs(row.status.relative_error) <= options.tolerance);
    }
    if (on_row) on_row(row);
    int64_t hit_count = 0;
    for (bool h : hits) hit_count += h;
    progress.Update(row.index, hits.empty()
                                   ? ""
                                   : absl::StrFormat("within+-%g%% %.1f%%", options.tolerance * 100,
                                                     100.0 * hit_count / hits.size()));
  }
  progress.Finish();
  result.before_update = ComputeMetrics(result.measured_ms, result.predicted_ms);
  result.recovered_after =
      MeasurementsToRecover(hits, options.recovery_window, options.recovery_hit_rate);
  result.model_version = recalibrator->status().model_version;
  return result;
}

}  // namespace edgeloop::predictor
