/* Periodic-review base-stock policy with lead time L (Snyder & Shen,
 * ch. 4): with backorders and zero fixed cost the order placed now is the
 * first to affect the inventory level L + 1 periods later, so the optimal
 * base-stock level is the newsvendor solution on the demand of L + 1 periods. */
#include <string.h>

#include "core/inventory/internal.h"

int mx_base_stock(double h, double p, const mx_dist *per_period, double L,
                  mx_base_stock_result *out, mx_error *err) {
  int rc;
  memset(out, 0, sizeof *out);
  if ((rc = mx__inv_check_dist(per_period, "dist", err)) ||
      (rc = mx__inv_check_nonneg(L, "L (lead time)", err)))
    return rc;
  mx_dist ltd;
  if ((rc = mx_dist_periods(per_period, L + 1.0, &ltd, err))) return rc;
  rc = mx_newsvendor(h, p, &ltd, out, err);
  mx_dist_free(&ltd);
  return rc;
}
