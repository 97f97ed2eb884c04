// Robust latency statistics for the measurement loop.
//
// Summarize gives median, mean, sample standard deviation, min, max, percentiles
// (linear interpolation between order statistics) and a distribution-free confidence
// interval of the median: [x_(j), x_(n-j+1)] with the largest j such that
// 2 * P(Bin(n, 1/2) <= j-1) <= 1 - confidence (exact binomial; normal approximation for
// large n). With too few samples for the requested confidence the interval is [min, max]
// and `ci_valid` is false, so the stop rule cannot fire on it.
#ifndef EDGELOOP_EDGE_BENCH_STATS_H_
#define EDGELOOP_EDGE_BENCH_STATS_H_

#include <cstddef>
#include <utility>
#include <vector>

namespace edgeloop::edge_bench {

struct LatencySummary {
  size_t n = 0;
  double median = 0, mean = 0, stddev = 0, min = 0, max = 0;
  double p10 = 0, p90 = 0, p99 = 0;
  double ci_low = 0, ci_high = 0;
  bool ci_valid = false;
  // max(median - ci_low, ci_high - median) / median; infinite when the CI is not valid.
  double rel_ci_half_width = 0;
};

// q in [0, 1] of an ascending-sorted, non-empty vector.
double SortedQuantile(const std::vector<double>& sorted, double q);

// 0-based ranks (lo, hi) of the median's confidence interval for n samples; nullopt-like
// (false) when n is too small for `confidence`.
bool MedianCiRanks(size_t n, double confidence, size_t* lo, size_t* hi);

LatencySummary Summarize(std::vector<double> samples, double confidence);

}  // namespace edgeloop::edge_bench

#endif  // EDGELOOP_EDGE_BENCH_STATS_H_
