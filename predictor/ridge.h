// Weighted ridge regression with an unpenalized intercept, per-column penalties and exact
// leave-one-out residuals: the linear half of the latency models (an additive per-feature
// latency table) and of few-shot adaptation to a new device (transfer.h).
//
// Minimizes sum_i w_i (y_i - c - z_i . b)^2 + sum_j penalty_j * b_j^2. The solver works in
// the smaller of the primal (features x features) and dual (rows x rows) forms, so a few
// rows with hundreds of columns and thousands of rows with a few columns are both cheap.
// The leave-one-out residual of row i is what a fit without row i would miss at row i,
// computed in closed form from the hat matrix (no refits).
#ifndef EDGELOOP_PREDICTOR_RIDGE_H_
#define EDGELOOP_PREDICTOR_RIDGE_H_

#include <vector>

#include "absl/status/statusor.h"

namespace edgeloop::predictor {

struct RidgeFit {
  double intercept = 0;
  std::vector<double> coef;  // one per column
  std::vector<double> loo;   // leave-one-out residuals y_i - prediction without row i
  // The weighted mean of loo^2 (the selection criterion of a penalty grid).
  double LooMeanSquare(const std::vector<double>& weight) const;
  double Predict(const double* z) const;
};

// `z` is rows x penalty.size(), row-major; `weight` empty means all 1. Penalties must be
// positive (a column to leave nearly free gets a tiny one). InvalidArgument for
// inconsistent sizes, fewer than 2 rows, non-finite input or a non-positive penalty.
absl::StatusOr<RidgeFit> FitRidge(const std::vector<double>& z, const std::vector<double>& y,
                                  const std::vector<double>& weight,
                                  const std::vector<double>& penalty);

}  // namespace edgeloop::predictor

#endif  // EDGELOOP_PREDICTOR_RIDGE_H_
