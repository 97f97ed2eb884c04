#include "edge_bench/stats.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace edgeloop::edge_bench {
namespace {

// Standard normal quantile (Acklam's rational approximation, |error| < 1.2e-9).
double NormalQuantile(double p) {
  static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,  -2.759285104469687e+02,
                             1.383577518672690e+02,  -3.066479806614716e+01, 2.506628277459239e+00};
  static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                             6.680131188771972e+01, -1.328068155288572e+01};
  static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                             -2.549732539343734e+00, 4.374664141464968e+00,  2.938163982698783e+00};
  static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                             3.754408661907416e+00};
  const double plow = 0.02425;
  if (p < plow) {
    double q = std::sqrt(-2 * std::log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
           ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  if (p > 1 - plow) return -NormalQuantile(1 - p);
  double q = p - 0.5, r = q * q;
  return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
         (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

}  // namespace

double SortedQuantile(const std::vector<double>& sorted, double q) {
  if (sorted.size() == 1) return sorted[0];
  double pos = q * static_cast<double>(sorted.size() - 1);
  size_t i = static_cast<size_t>(std::floor(pos));
  if (i + 1 >= sorted.size()) return sorted.back();
  double frac = pos - static_cast<double>(i);
  return sorted[i] + frac * (sorted[i + 1] - sorted[i]);
}

bool MedianCiRanks(size_t n, double confidence, size_t* lo, size_t* hi) {
  const double alpha_half = (1.0 - confidence) / 2.0;
  if (n == 0) return false;
  size_t j = 0;  // 1-based rank of the lower bound; 0 = none found
  if (n <= 1000) {
    // Walk the Bin(n, 1/2) CDF: cdf = P(B <= k) for k = 0, 1, ...
    const double log_half_n = static_cast<double>(n) * std::log(0.5);
    double cdf = 0;
    for (size_t k = 0; k < n / 2 + 1; ++k) {
      double log_pmf =
          std::lgamma(n + 1.0) - std::lgamma(k + 1.0) - std::lgamma(n - k + 1.0) + log_half_n;
      cdf += std::exp(log_pmf);
      // Rank j = k + 1 is usable when P(B <= j - 1) = P(B <= k) <= alpha/2.
      if (cdf <= alpha_half)
        j = k + 1;
      else
        break;
    }
  } else {
    double z = NormalQuantile(1.0 - alpha_half);
    double r = std::floor(n / 2.0 - z * std::sqrt(static_cast<double>(n)) / 2.0);
    if (r >= 1) j = static_cast<size_t>(r);
  }
  if (j == 0) return false;
  *lo = j - 1;
  *hi = n - j;
  return true;
}

LatencySummary Summarize(std::vector<double> samples, double confidence) {
  LatencySummary s;
  s.n = samples.size();
  if (samples.empty()) return s;
  std::sort(samples.begin(), samples.end());
  s.min = samples.front();
  s.max = samples.back();
  s.median = SortedQuantile(samples, 0.5);
  s.p10 = SortedQuantile(samples, 0.10);
  s.p90 = SortedQuantile(samples, 0.90);
  s.p99 = SortedQuantile(samples, 0.99);
  s.mean = std::accumulate(samples.begin(), samples.end(), 0.0) / static_cast<double>(s.n);
  if (s.n > 1) {
    double ss = 0;
    for (double x : samples) ss += (x - s.mean) * (x - s.mean);
    s.stddev = std::sqrt(ss / static_cast<double>(s.n - 1));
  }
  size_t lo, hi;
  s.ci_valid = MedianCiRanks(s.n, confidence, &lo, &hi);
  s.ci_low = s.ci_valid ? samples[lo] : s.min;
  s.ci_high = s.ci_valid ? samples[hi] : s.max;
  s.rel_ci_half_width = s.ci_valid && s.median > 0
                            ? std::max(s.median - s.ci_low, s.ci_high - s.median) / s.median
                            : std::numeric_limits<double>::infinity();
  return s;
}

}  // namespace edgeloop::edge_bench
