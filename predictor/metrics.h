// Accuracy of latency predictions against measurements, as the predictor literature
// reports it (nn-Meter's definitions):
//   rmspe     = sqrt(mean(((y - p) / y)^2)) * 100            (percent)
//   mape      = mean(|y - p| / y) * 100                       (percent)
//   within_5  = share of samples with |y - p| / y <= 0.05     (fraction in [0, 1])
//   within_10 = share with |y - p| / y <= 0.10
//   spearman  = Pearson correlation of the ranks (ties get their average rank)
//   kendall   = Kendall's tau-b (tie-corrected)
// Measured values must be positive. Correlations of fewer than two samples, or of a
// constant series, are 0.
#ifndef EDGELOOP_PREDICTOR_METRICS_H_
#define EDGELOOP_PREDICTOR_METRICS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "predictor/model_meta.pb.h"

namespace edgeloop::predictor {

struct AccuracyMetrics {
  int64_t n = 0;
  double rmspe = 0, mape = 0, within_5 = 0, within_10 = 0, spearman = 0, kendall = 0;
};

AccuracyMetrics ComputeMetrics(const std::vector<double>& measured,
                               const std::vector<double>& predicted);

double Spearman(const std::vector<double>& a, const std::vector<double>& b);
double KendallTauB(const std::vector<double>& a, const std::vector<double>& b);
// Average ranks (1-based) with ties sharing their mean rank.
std::vector<double> AverageRanks(const std::vector<double>& v);

// Drift recovery: the number of leading entries of `hits` (prediction within tolerance,
// in stream order) before the first run of `window` consecutive entries whose share of
// hits is >= `threshold`; 0 when accurate from the start, -1 when never (or fewer than
// `window` entries).
int64_t MeasurementsToRecover(const std::vector<bool>& hits, int window, double threshold);

// {"n":..,"rmspe":..,"mape":..,"within_5":..,"within_10":..,"spearman":..,"kendall":..}
std::string MetricsToJson(const AccuracyMetrics& m);
// The message behind that JSON (model_meta.proto), also the model sidecar's "cv".
AccuracyMetricsJson MetricsToMessage(const AccuracyMetrics& m);
AccuracyMetrics MetricsFromMessage(const AccuracyMetricsJson& m);
// "n=200 RMSPE 4.1% MAPE 3.2% within+-5% 78.0% within+-10% 97.5% Spearman 0.991 Kendall 0.932"
std::string MetricsToText(const AccuracyMetrics& m);

}  // namespace edgeloop::predictor

#endif  // EDGELOOP_PREDICTOR_METRICS_H_
