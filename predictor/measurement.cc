#include "predictor/measurement.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace edgeloop::predictor {
namespace {

double Percentile(const std::vector<double>& sorted, double q) {
  const double pos = q * (sorted.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
}

}  // namespace

void FillStatistics(std::vector<double> times_ms, Measurement* m) {
  std::sort(times_ms.begin(), times_ms.end());
  const size_t n = times_ms.size();
  m->runs = static_cast<int>(n);
  m->min_ms = times_ms.front();
  m->max_ms = times_ms.back();
  m->median_ms = Percentile(times_ms, 0.5);
  m->p10_ms = Percentile(times_ms, 0.1);
  m->p90_ms = Percentile(times_ms, 0.9);
  m->p99_ms = Percentile(times_ms, 0.99);
  m->mean_ms = std::accumulate(times_ms.begin(), times_ms.end(), 0.0) / n;
  double ss = 0;
  for (double t : times_ms) ss += (t - m->mean_ms) * (t - m->mean_ms);
  m->std_ms = n > 1 ? std::sqrt(ss / (n - 1)) : 0.0;
}

}  // namespace edgeloop::predictor
