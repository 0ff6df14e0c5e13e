/* The economic order quantity and its variants (Snyder & Shen, ch. 3):
 * EOQ (eq. 3.4-3.5), planned backorders (eq. 3.27-3.29), finite production
 * rate (EPQ, eq. 3.31-3.32) and quantity discounts (section 3.6). */
#include <string.h>

#include "core/inventory/internal.h"

static void clear(mx_eoq_result *out) {
  memset(out, 0, sizeof *out);
  out->region = -1;
}

int mx_eoq(double K, double h, double lambda, mx_eoq_result *out, mx_error *err) {
  int rc;
  clear(out);
  if ((rc = mx__inv_check_positive(K, "K (fixed order cost)", err)) ||
      (rc = mx__inv_check_positive(h, "h (holding cost)", err)) ||
      (rc = mx__inv_check_positive(lambda, "lambda (demand rate)", err)))
    return rc;
  out->Q = sqrt(2.0 * K * lambda / h);
  out->cost = sqrt(2.0 * K * lambda * h);
  out->T = out->Q / lambda;
  return MX_OK;
}

int mx_eoq_cost(double K, double h, double lambda, double Q, double *cost, mx_error *err) {
  int rc;
  if ((rc = mx__inv_check_nonneg(K, "K (fixed order cost)", err)) ||
      (rc = mx__inv_check_positive(h, "h (holding cost)", err)) ||
      (rc = mx__inv_check_nonneg(lambda, "lambda (demand rate)", err)) ||
      (rc = mx__inv_check_positive(Q, "Q (order quantity)", err)))
    return rc;
  *cost = K * lambda / Q + h * Q / 2.0;
  return MX_OK;
}

int mx_eoq_backorders(double K, double h, double p, double lambda, mx_eoq_result *out,
                      mx_error *err) {
  int rc;
  clear(out);
  if ((rc = mx__inv_check_positive(K, "K (fixed order cost)", err)) ||
      (rc = mx__inv_check_positive(h, "h (holding cost)", err)) ||
      (rc = mx__inv_check_positive(p, "p (stockout cost)", err)) ||
      (rc = mx__inv_check_positive(lambda, "lambda (demand rate)", err)))
    return rc;
  out->Q = sqrt(2.0 * K * lambda * (h + p) / (h * p));
  out->x = h / (h + p);
  out->cost = sqrt(2.0 * K * lambda * h * p / (h + p));
  out->T = out->Q / lambda;
  return MX_OK;
}

int mx_epq(double K, double h, double lambda, double mu, mx_eoq_result *out, mx_error *err) {
  int rc;
  clear(out);
  if ((rc = mx__inv_check_positive(K, "K (fixed order cost)", err)) ||
      (rc = mx__inv_check_positive(h, "h (holding cost)", err)) ||
      (rc = mx__inv_check_positive(lambda, "lambda (demand rate)", err)) ||
      (rc = mx__inv_check_positive(mu, "mu (production rate)", err)))
    return rc;
  if (lambda >= mu)
    return mx_error_set(err, MX_EINVAL,
                        "mu (production rate %g) must exceed lambda (demand rate %g)", mu, lambda);
  double rho = lambda / mu;
  out->Q = sqrt(2.0 * K * lambda / (h * (1.0 - rho)));
  out->cost = sqrt(2.0 * K * lambda * h * (1.0 - rho));
  out->T = out->Q / lambda;
  return MX_OK;
}

/* Cost per period of ordering Q in region j.
 * All-units: c_j lambda + K lambda / Q + i c_j Q / 2.
 * Incremental: an order of Q in region j costs cbar_j + c_j (Q - b_j), where
 * cbar_j is the cost of the first b_j units; with average purchase cost
 * (cbar_j - c_j b_j)/Q + c_j per unit and holding charged on that value
 * (S&S section 3.6.3):
 *   c_j lambda + (K + cbar_j - c_j b_j) lambda / Q + i (cbar_j - c_j b_j) / 2 + i c_j Q / 2. */
static double discount_cost(int kind, double K, double i, double lambda, double bj, double cj,
                            double cbar, double Q) {
  if (kind == MX_DISCOUNT_ALL_UNITS) return cj * lambda + K * lambda / Q + i * cj * Q / 2.0;
  double f = cbar - cj * bj;
  return cj * lambda + (K + f) * lambda / Q + i * f / 2.0 + i * cj * Q / 2.0;
}

int mx_eoq_discount(int kind, double K, double i, double lambda, const double *b, const double *c,
                    size_t n, mx_eoq_result *out, mx_error *err) {
  int rc;
  clear(out);
  if (kind != MX_DISCOUNT_ALL_UNITS && kind != MX_DISCOUNT_INCREMENTAL)
    return mx_error_set(err, MX_EINVAL, "discount kind must be all-units or incremental");
  if ((rc = mx__inv_check_nonneg(K, "K (fixed order cost)", err)) ||
      (rc = mx__inv_check_positive(i, "i (holding cost rate)", err)) ||
      (rc = mx__inv_check_positive(lambda, "lambda (demand rate)", err)))
    return rc;
  if (n == 0) return mx_error_set(err, MX_EINVAL, "quantity discounts need at least one price");
  if (b[0] != 0)
    return mx_error_set(err, MX_EINVAL, "the first breakpoint must be 0 (got %g)", b[0]);
  for (size_t j = 0; j < n; j++) {
    if ((rc = mx__inv_check_positive(c[j], "price", err))) return rc;
    if (j > 0 && !(b[j] > b[j - 1]))
      return mx_error_set(err, MX_EINVAL, "breakpoints must increase (b[%zu] = %g after %g)", j + 1,
                          b[j], b[j - 1]);
  }
  double best = INFINITY, cbar = 0;
  for (size_t j = 0; j < n; j++) {
    if (j > 0) cbar += c[j - 1] * (b[j] - b[j - 1]);
    double lo = b[j], hi = j + 1 < n ? b[j + 1] : INFINITY;
    double f = kind == MX_DISCOUNT_ALL_UNITS ? 0.0 : cbar - c[j] * b[j];
    /* Unconstrained minimiser of the region's cost, then clamp into [lo, hi):
     * the cost is convex in Q, so the clamped point is the region's best
     * (the open upper end is covered by the next region). */
    double q = sqrt(2.0 * (K + f) * lambda / (i * c[j]));
    if (q < lo) q = lo;
    if (q >= hi) continue;
    if (q <= 0) continue;
    double g = discount_cost(kind, K, i, lambda, b[j], c[j], cbar, q);
    if (g < best) {
      best = g;
      out->Q = q;
      out->cost = g;
      out->region = (int)j;
    }
  }
  if (!isfinite(best))
    return mx_error_set(err, MX_EINFEASIBLE, "no feasible order quantity (check breakpoints)");
  out->T = out->Q / lambda;
  return MX_OK;
}
