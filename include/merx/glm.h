/* merx — generalised linear models: L2-regularised logistic regression and
 * ridge linear regression on a dense design matrix, in double precision on
 * the BLAS/LAPACK path (dsyrk for X'WX, dposv for the Cholesky solve).
 *
 * X is row-major n x p; column 0 is taken as the intercept and is not
 * penalised (callers put a column of ones there). Both fits minimise
 *     sum_i loss_i(beta) + (reg / 2) * sum_{j >= 1} beta_j^2
 * with loss = -log-likelihood of a Bernoulli outcome (logistic) or
 * (y - x'beta)^2 / 2 (ridge): reg = 1 is scikit-learn's LogisticRegression
 * default (C = 1) and Ridge(alpha = 1). Deterministic for a given BLAS
 * thread count. */
#ifndef MERX_GLM_H
#define MERX_GLM_H

#include <stddef.h>
#include <stdint.h>
#include "merx/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Newton's method (iteratively reweighted least squares) with step halving;
 * stops when no coefficient moves more than 1e-9 (relative) or after
 * max_iter steps. y holds 0/1 values. beta (p) receives the coefficients;
 * *iterations (may be NULL) the Newton steps taken. Errors: MX_EINVAL (bad
 * arguments, a y not 0/1), MX_EEMPTY (n == 0, or y all 0 or all 1: the
 * intercept has no finite optimum), MX_ENOMEM. */
MX_API int mx_glm_logistic_fit(const double *X, const double *y, size_t n, uint32_t p, double reg,
                               int max_iter, double *beta, int *iterations, mx_error *err);

/* Ridge regression: solves (X'X + reg * I0) beta = X'y, I0 the identity with
 * a zero for the intercept. */
MX_API int mx_glm_ridge_fit(const double *X, const double *y, size_t n, uint32_t p, double reg,
                            double *beta, mx_error *err);

/* Predictions for rows of X: x'beta (identity link) or 1 / (1 + exp(-x'beta))
 * (logistic) into out (n). */
MX_API void mx_glm_predict(const double *X, size_t n, uint32_t p, const double *beta, int logistic,
                           double *out);

#ifdef __cplusplus
}
#endif
#endif
