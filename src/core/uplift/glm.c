/* L2-regularised logistic regression (Newton / IRLS) and ridge regression
 * (formulas in merx/glm.h). Both reduce to the same step: form the p x p
 * system X'WX + reg * I0 with dsyrk over rows scaled by sqrt(w), and solve it
 * by Cholesky (LAPACK dposv). p is small (features after one-hot coding,
 * tens to a few hundred), n can be millions: the cost is the dsyrk, n p^2.
 * Newton for the logistic log-likelihood: Hastie, Tibshirani & Friedman,
 * "The Elements of Statistical Learning", 2nd ed., section 4.4.1 (eq. 4.26),
 * with the ridge term added to the gradient and the Hessian. */
#include "merx/glm.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* LAPACK's Cholesky solve, exported by OpenBLAS (no LAPACKE header needed). */
extern void dposv_(const char *uplo, const int *n, const int *nrhs, double *a, const int *lda,
                   double *b, const int *ldb, int *info);

/* Solve (Xs'Xs + reg * I0) d = g in place of g, Xs n x p row-major (rows
 * already scaled by sqrt(weight)). h is p x p scratch. */
static int solve_system(const double *Xs, size_t n, uint32_t p, double reg, double *h, double *g,
                        mx_error *err) {
  cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)p, (int)n, 1.0, Xs, (int)p, 0.0, h,
              (int)p);
  for (uint32_t j = 1; j < p; j++) h[(size_t)j * p + j] += reg;
  /* The row-major upper triangle is LAPACK's (column-major) lower one. */
  int np = (int)p, one = 1, info = 0;
  dposv_("L", &np, &one, h, &np, g, &np, &info);
  if (info != 0)
    return mx_error_set(err, MX_EINVAL,
                        "the model's normal equations are singular (LAPACK info %d): a feature is "
                        "constant or a copy of another; drop it or use a larger regularisation",
                        info);
  return MX_OK;
}

static int check_args(const double *X, size_t n, uint32_t p, double reg, mx_error *err) {
  if (!X || p == 0) return mx_error_set(err, MX_EINVAL, "no design matrix");
  if (n == 0) return mx_error_set(err, MX_EEMPTY, "no rows to fit");
  if (!(reg >= 0) || !isfinite(reg))
    return mx_error_set(err, MX_EINVAL, "regularisation must be a finite number >= 0");
  if (p > 1u << 15) return mx_error_set(err, MX_ELIMIT, "too many model columns (%u)", p);
  return MX_OK;
}

void mx_glm_predict(const double *X, size_t n, uint32_t p, const double *beta, int logistic,
                    double *out) {
  if (n == 0) return;
  cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)n, (int)p, 1.0, X, (int)p, beta, 1, 0.0, out, 1);
  if (logistic)
    for (size_t i = 0; i < n; i++) out[i] = 1.0 / (1.0 + exp(-out[i]));
}

int mx_glm_ridge_fit(const double *X, const double *y, size_t n, uint32_t p, double reg,
                     double *beta, mx_error *err) {
  int rc = check_args(X, n, p, reg, err);
  if (rc) return rc;
  double *h = malloc((size_t)p * p * sizeof *h);
  if (!h) return mx_error_set(err, MX_ENOMEM, "out of memory");
  cblas_dgemv(CblasRowMajor, CblasTrans, (int)n, (int)p, 1.0, X, (int)p, y, 1, 0.0, beta, 1);
  rc = solve_system(X, n, p, reg, h, beta, err);
  free(h);
  return rc;
}

/* Penalised log-likelihood sum_i [y eta - log(1 + e^eta)] - reg/2 |beta_1..|^2
 * for linear predictors eta. */
static double penalised_loglik(const double *eta, const double *y, size_t n, const double *beta,
                               uint32_t p, double reg) {
  double ll = 0;
  for (size_t i = 0; i < n; i++) {
    double e = eta[i];
    /* log(1 + e^x) without overflow */
    double soft = e > 0 ? e + log1p(exp(-e)) : log1p(exp(e));
    ll += y[i] * e - soft;
  }
  double pen = 0;
  for (uint32_t j = 1; j < p; j++) pen += beta[j] * beta[j];
  return ll - 0.5 * reg * pen;
}

int mx_glm_logistic_fit(const double *X, const double *y, size_t n, uint32_t p, double reg,
                        int max_iter, double *beta, int *iterations, mx_error *err) {
  if (iterations) *iterations = 0;
  int rc = check_args(X, n, p, reg, err);
  if (rc) return rc;
  double pos = 0;
  for (size_t i = 0; i < n; i++) {
    if (y[i] != 0 && y[i] != 1)
      return mx_error_set(err, MX_EINVAL, "logistic regression: outcome of row %zu is %g, not 0 or 1",
                          i + 1, y[i]);
    pos += y[i];
  }
  if (pos == 0 || pos == (double)n)
    return mx_error_set(err, MX_EEMPTY,
                        "logistic regression: the outcome is %d in all %zu rows (both 0 and 1 are needed)",
                        pos == 0 ? 0 : 1, n);
  if (max_iter <= 0) max_iter = 50;
  double *xs = malloc(n * p * sizeof *xs);
  double *eta = malloc(n * sizeof *eta), *eta_new = malloc(n * sizeof *eta_new);
  double *h = malloc((size_t)p * p * sizeof *h), *g = malloc(p * sizeof *g);
  double *trial = malloc(p * sizeof *trial);
  if (!xs || !eta || !eta_new || !h || !g || !trial) {
    rc = mx_error_set(err, MX_ENOMEM, "out of memory");
    goto done;
  }
  /* Start from the intercept-only optimum: every other step is small. */
  memset(beta, 0, p * sizeof *beta);
  double mean = pos / (double)n;
  beta[0] = log(mean / (1 - mean));
  mx_glm_predict(X, n, p, beta, 0, eta);
  double ll = penalised_loglik(eta, y, n, beta, p, reg);
  int it;
  for (it = 0; it < max_iter; it++) {
    /* gradient g = X'(y - mu) - reg * beta (no penalty on the intercept);
     * Hessian X'WX + reg * I0, W = mu (1 - mu) */
    for (size_t i = 0; i < n; i++) {
      double mu = 1.0 / (1.0 + exp(-eta[i]));
      double w = mu * (1 - mu);
      if (w < 1e-12) w = 1e-12;
      double sw = sqrt(w);
      for (uint32_t j = 0; j < p; j++) xs[i * p + j] = X[i * p + j] * sw;
      eta_new[i] = y[i] - mu; /* residual, reused below */
    }
    cblas_dgemv(CblasRowMajor, CblasTrans, (int)n, (int)p, 1.0, X, (int)p, eta_new, 1, 0.0, g, 1);
    for (uint32_t j = 1; j < p; j++) g[j] -= reg * beta[j];
    if ((rc = solve_system(xs, n, p, reg, h, g, err))) goto done;
    /* Step halving keeps every step an ascent (the penalised log-likelihood
     * is concave, so a full Newton step almost always is one). */
    double t = 1, ll_new = ll;
    int accepted = 0;
    for (int half = 0; half < 40; half++, t *= 0.5) {
      for (uint32_t j = 0; j < p; j++) trial[j] = beta[j] + t * g[j];
      mx_glm_predict(X, n, p, trial, 0, eta_new);
      ll_new = penalised_loglik(eta_new, y, n, trial, p, reg);
      if (ll_new >= ll - 1e-12 * (1 + fabs(ll))) {
        accepted = 1;
        break;
      }
    }
    if (!accepted) break; /* no ascent left: at the optimum to rounding */
    double move = 0, size = 0;
    for (uint32_t j = 0; j < p; j++) {
      move = fmax(move, fabs(trial[j] - beta[j]));
      size = fmax(size, fabs(trial[j]));
    }
    memcpy(beta, trial, p * sizeof *beta);
    memcpy(eta, eta_new, n * sizeof *eta);
    ll = ll_new;
    if (move <= 1e-9 * (1 + size)) {
      it++;
      break;
    }
  }
  if (iterations) *iterations = it;
  for (uint32_t j = 0; j < p; j++)
    if (!isfinite(beta[j])) {
      rc = mx_error_set(err, MX_EINVAL, "logistic regression diverged (non-finite coefficient)");
      break;
    }
done:
  free(xs);
  free(eta);
  free(eta_new);
  free(h);
  free(g);
  free(trial);
  return rc;
}
