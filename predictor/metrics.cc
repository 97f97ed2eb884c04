#include "predictor/metrics.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "absl/strings/str_format.h"
#include "base/proto_json.h"

namespace edgeloop::predictor {
namespace {

double Pearson(const std::vector<double>& a, const std::vector<double>& b) {
  const size_t n = a.size();
  if (n < 2) return 0;
  const double ma = std::accumulate(a.begin(), a.end(), 0.0) / n;
  const double mb = std::accumulate(b.begin(), b.end(), 0.0) / n;
  double sab = 0, saa = 0, sbb = 0;
  for (size_t i = 0; i < n; ++i) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) * (a[i] - ma);
    sbb += (b[i] - mb) * (b[i] - mb);
  }
  if (saa <= 0 || sbb <= 0) return 0;
  return sab / std::sqrt(saa * sbb);
}

int Sign(double x) { return (x > 0) - (x < 0); }

}  // namespace

std::vector<double> AverageRanks(const std::vector<double>& v) {
  std::vector<size_t> order(v.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t i, size_t j) { return v[i] < v[j]; });
  std::vector<double> ranks(v.size());
  for (size_t i = 0; i < order.size();) {
    size_t j = i;
    while (j + 1 < order.size() && v[order[j + 1]] == v[order[i]]) ++j;
    const double rank = (i + j) / 2.0 + 1.0;
    for (size_t k = i; k <= j; ++k) ranks[order[k]] = rank;
    i = j + 1;
  }
  return ranks;
}

double Spearman(const std::vector<double>& a, const std::vector<double>& b) {
  return Pearson(AverageRanks(a), AverageRanks(b));
}

double KendallTauB(const std::vector<double>& a, const std::vector<double>& b) {
  const size_t n = a.size();
  // O(n^2) is fine for the evaluation sets we score (thousands of samples at most).
  int64_t concordant_minus_discordant = 0, pairs_a = 0, pairs_b = 0;
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = i + 1; j < n; ++j) {
      const int sa = Sign(a[i] - a[j]), sb = Sign(b[i] - b[j]);
      concordant_minus_discordant += sa * sb;
      pairs_a += sa != 0;
      pairs_b += sb != 0;
    }
  }
  if (pairs_a == 0 || pairs_b == 0) return 0;
  return concordant_minus_discordant / std::sqrt(static_cast<double>(pairs_a) * pairs_b);
}

AccuracyMetrics ComputeMetrics(const std::vector<double>& measured,
                               const std::vector<double>& predicted) {
  AccuracyMetrics m;
  m.n = static_cast<int64_t>(measured.size());
  if (m.n == 0) return m;
  double sq = 0, abs_sum = 0;
  int64_t in5 = 0, in10 = 0;
  for (size_t i = 0; i < measured.size(); ++i) {
    const double rel = std::fabs(measured[i] - predicted[i]) / measured[i];
    sq += rel * rel;
    abs_sum += rel;
    // A hair of tolerance so that exactly 5% / 10% counts as inside despite rounding.
    in5 += rel <= 0.05 + 1e-12;
    in10 += rel <= 0.10 + 1e-12;
  }
  m.rmspe = std::sqrt(sq / m.n) * 100;
  m.mape = abs_sum / m.n * 100;
  m.within_5 = static_cast<double>(in5) / m.n;
  m.within_10 = static_cast<double>(in10) / m.n;
  m.spearman = Spearman(measured, predicted);
  m.kendall = KendallTauB(measured, predicted);
  return m;
}

int64_t MeasurementsToRecover(const std::vector<bool>& hits, int window, double threshold) {
  const int64_t n = static_cast<int64_t>(hits.size());
  if (window < 1 || n < window) return -1;
  int64_t in_window = 0;
  for (int64_t i = 0; i < n; ++i) {
    in_window += hits[i];
    if (i >= window) in_window -= hits[i - window];
    if (i + 1 >= window && in_window >= threshold * window - 1e-9) return i + 1 - window;
  }
  return -1;
}

AccuracyMetricsJson MetricsToMessage(const AccuracyMetrics& m) {
  AccuracyMetricsJson j;
  j.set_n(static_cast<double>(m.n));
  j.set_rmspe(m.rmspe);
  j.set_mape(m.mape);
  j.set_within_5(m.within_5);
  j.set_within_10(m.within_10);
  j.set_spearman(m.spearman);
  j.set_kendall(m.kendall);
  return j;
}

AccuracyMetrics MetricsFromMessage(const AccuracyMetricsJson& j) {
  AccuracyMetrics m;
  m.n = static_cast<int64_t>(j.n());
  m.rmspe = j.rmspe();
  m.mape = j.mape();
  m.within_5 = j.within_5();
  m.within_10 = j.within_10();
  m.spearman = j.spearman();
  m.kendall = j.kendall();
  return m;
}

std::string MetricsToJson(const AccuracyMetrics& m) {
  return ProtoToJson(MetricsToMessage(m)).value_or(std::string());
}

std::string MetricsToText(const AccuracyMetrics& m) {
  return absl::StrFormat(
      "n=%d RMSPE %.2f%% MAPE %.2f%% within+-5%% %.1f%% within+-10%% %.1f%% Spearman %.4f "
      "Kendall %.4f",
      m.n, m.rmspe, m.mape, m.within_5 * 100, m.within_10 * 100, m.spearman, m.kendall);
}

}  // namespace edgeloop::predictor
