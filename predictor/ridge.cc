#include "predictor/ridge.h"

#include <algorithm>
#include <cmath>
#include <cstddef>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace edgeloop::predictor {
namespace {

// The intercept is column 0 with this penalty: free in practice, and it keeps the system
// positive definite.
constexpr double kInterceptPenalty = 1e-8;

// In-place inverse of the symmetric positive definite n x n matrix `a` (row-major) by
// Cholesky; false when it is not numerically positive definite.
bool InvertSpd(std::vector<double>* a, size_t n) {
  std::vector<double>& m = *a;
  std::vector<double> l(n * n, 0.0);
  for (size_t j = 0; j < n; ++j) {
    double d = m[j * n + j];
    for (size_t k = 0; k < j; ++k) d -= l[j * n + k] * l[j * n + k];
    if (!(d > 0)) return false;
    l[j * n + j] = std::sqrt(d);
    for (size_t i = j + 1; i < n; ++i) {
      double s = m[i * n + j];
      for (size_t k = 0; k < j; ++k) s -= l[i * n + k] * l[j * n + k];
      l[i * n + j] = s / l[j * n + j];
    }
  }
  // inv(L), lower triangular, then inv(A) = inv(L)^T inv(L).
  std::vector<double> li(n * n, 0.0);
  for (size_t i = 0; i < n; ++i) {
    li[i * n + i] = 1 / l[i * n + i];
    for (size_t j = 0; j < i; ++j) {
      double s = 0;
      for (size_t k = j; k < i; ++k) s -= l[i * n + k] * li[k * n + j];
      li[i * n + j] = s / l[i * n + i];
    }
  }
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = 0; j <= i; ++j) {
      double s = 0;
      for (size_t k = i; k < n; ++k) s += li[k * n + i] * li[k * n + j];
      m[i * n + j] = m[j * n + i] = s;
    }
  }
  return true;
}

}  // namespace

double RidgeFit::LooMeanSquare(const std::vector<double>& weight) const {
  double s = 0, w = 0;
  for (size_t i = 0; i < loo.size(); ++i) {
    const double wi = weight.empty() ? 1.0 : weight[i];
    s += wi * loo[i] * loo[i];
    w += wi;
  }
  return w > 0 ? s / w : 0;
}

double RidgeFit::Predict(const double* z) const {
  double p = intercept;
  for (size_t j = 0; j < coef.size(); ++j) p += coef[j] * z[j];
  return p;
}

absl::StatusOr<RidgeFit> FitRidge(const std::vector<double>& z, const std::vector<double>& y,
                                  const std::vector<double>& weight,
                                  const std::vector<double>& penalty) {
  const size_t n = y.size(), p = penalty.size() + 1;
  if (n < 2) return absl::InvalidArgumentError("ridge regression needs at least 2 rows");
  if (z.size() != n * penalty.size() || (!weight.empty() && weight.size() != n))
    return absl::InvalidArgumentError("ridge regression: inconsistent sizes");
  for (double v : penalty)
    if (!(v > 0) || !std::isfinite(v))
      return absl::InvalidArgumentError("ridge regression: penalties must be positive");
  // Rows scaled by sqrt(weight), the intercept as column 0.
  std::vector<double> a(n * p), b(n), sw(n);
  for (size_t i = 0; i < n; ++i) {
    const double wi = weight.empty() ? 1.0 : weight[i];
    if (!(wi > 0)) return absl::InvalidArgumentError("ridge regression: weights must be positive");
    sw[i] = std::sqrt(wi);
    if (!std::isfinite(y[i]) || !std::isfinite(sw[i]))
      return absl::InvalidArgumentError("ridge regression: non-finite target or weight");
    a[i * p] = sw[i];
    for (size_t j = 1; j < p; ++j) {
      a[i * p + j] = sw[i] * z[i * (p - 1) + j - 1];
      if (!std::isfinite(a[i * p + j]))
        return absl::InvalidArgumentError(absl::StrCat("ridge regression: non-finite input"));
    }
    b[i] = sw[i] * y[i];
  }
  std::vector<double> inv_pen(p);
  inv_pen[0] = 1 / kInterceptPenalty;
  for (size_t j = 1; j < p; ++j) inv_pen[j] = 1 / penalty[j - 1];
  RidgeFit fit;
  std::vector<double> beta(p, 0.0), resid(n), hdiag(n);
  if (n <= p) {
    // Dual: M = (A P^-1 A^T + I)^-1, alpha = M b, beta = P^-1 A^T alpha; residual = alpha,
    // 1 - h_ii = M_ii.
    std::vector<double> m(n * n);
    for (size_t i = 0; i < n; ++i)
      for (size_t k = 0; k <= i; ++k) {
        double s = i == k ? 1.0 : 0.0;
        for (size_t j = 0; j < p; ++j) s += a[i * p + j] * inv_pen[j] * a[k * p + j];
        m[i * n + k] = m[k * n + i] = s;
      }
    if (!InvertSpd(&m, n)) return absl::InternalError("ridge regression: singular system");
    std::vector<double> alpha(n, 0.0);
    for (size_t i = 0; i < n; ++i)
      for (size_t k = 0; k < n; ++k) alpha[i] += m[i * n + k] * b[k];
    for (size_t j = 0; j < p; ++j)
      for (size_t i = 0; i < n; ++i) beta[j] += inv_pen[j] * a[i * p + j] * alpha[i];
    for (size_t i = 0; i < n; ++i) {
      resid[i] = alpha[i];
      hdiag[i] = 1 - m[i * n + i];
    }
  } else {
    // Primal: G = (A^T A + P)^-1, beta = G A^T b, h_ii = a_i^T G a_i.
    std::vector<double> g(p * p, 0.0), atb(p, 0.0);
    for (size_t i = 0; i < n; ++i)
      for (size_t j = 0; j < p; ++j) {
        atb[j] += a[i * p + j] * b[i];
        for (size_t k = 0; k <= j; ++k) g[j * p + k] += a[i * p + j] * a[i * p + k];
      }
    for (size_t j = 0; j < p; ++j) {
      g[j * p + j] += 1 / inv_pen[j];
      for (size_t k = 0; k < j; ++k) g[k * p + j] = g[j * p + k];
    }
    if (!InvertSpd(&g, p)) return absl::InternalError("ridge regression: singular system");
    for (size_t j = 0; j < p; ++j)
      for (size_t k = 0; k < p; ++k) beta[j] += g[j * p + k] * atb[k];
    std::vector<double> ga(p);
    for (size_t i = 0; i < n; ++i) {
      double fitted = 0, h = 0;
      for (size_t j = 0; j < p; ++j) {
        fitted += a[i * p + j] * beta[j];
        ga[j] = 0;
        for (size_t k = 0; k < p; ++k) ga[j] += g[j * p + k] * a[i * p + k];
        h += a[i * p + j] * ga[j];
      }
      resid[i] = b[i] - fitted;
      hdiag[i] = h;
    }
  }
  fit.intercept = beta[0];
  fit.coef.assign(beta.begin() + 1, beta.end());
  fit.loo.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const double denom = std::max(1 - hdiag[i], 1e-12);
    fit.loo[i] = resid[i] / denom / sw[i];
  }
  return fit;
}

}  // namespace edgeloop::predictor
