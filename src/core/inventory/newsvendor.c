/* The newsvendor problem (Snyder & Shen, section 4.3): order S before demand
 * D is seen; each unit left over costs h, each unit short costs p.
 *   g(S) = h E[(S-D)+] + p E[(D-S)+] = h nbar(S) + p n(S)          (eq. 4.24)
 *   S*   = F^{-1}(alpha), alpha = p / (h + p)                       (eq. 4.27)
 * For discrete demand S* is the smallest S with F(S) >= alpha. */
#include <string.h>

#include "core/inventory/internal.h"

int mx_newsvendor_cost(double h, double p, const mx_dist *demand, double S, double *cost,
                       mx_error *err) {
  int rc;
  if ((rc = mx__inv_check_positive(h, "h (holding cost)", err)) ||
      (rc = mx__inv_check_positive(p, "p (stockout cost)", err)) ||
      (rc = mx__inv_check_dist(demand, "dist", err)))
    return rc;
  if (!isfinite(S)) return mx_error_set(err, MX_EINVAL, "S must be a finite number");
  *cost = mx_inv_newsvendor_g(h, p, demand, S);
  return MX_OK;
}

int mx_newsvendor(double h, double p, const mx_dist *demand, mx_base_stock_result *out,
                  mx_error *err) {
  int rc;
  memset(out, 0, sizeof *out);
  if ((rc = mx__inv_check_positive(h, "h (holding cost)", err)) ||
      (rc = mx__inv_check_positive(p, "p (stockout cost)", err)) ||
      (rc = mx__inv_check_dist(demand, "dist", err)))
    return rc;
  out->alpha = p / (h + p);
  out->S = mx_dist_quantile(demand, out->alpha);
  out->cost = mx_inv_newsvendor_g(h, p, demand, out->S);
  out->mean = mx_dist_mean(demand);
  out->sd = mx_dist_sd(demand);
  return MX_OK;
}
