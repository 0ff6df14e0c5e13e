/* Shared by the files of src/core/inventory only. */
#ifndef MERX_CORE_INVENTORY_INTERNAL_H
#define MERX_CORE_INVENTORY_INTERNAL_H

#include <math.h>
#include "merx/inventory.h"

/* Parameter checks that fill err with "NAME must be ..." and return MX_EINVAL. */
int mx__inv_check_positive(double v, const char *name, mx_error *err);    /* v > 0, finite */
int mx__inv_check_nonneg(double v, const char *name, mx_error *err);      /* v >= 0, finite */
int mx__inv_check_probability(double v, const char *name, mx_error *err); /* 0 < v < 1 */
int mx__inv_check_at_most(double v, double max, const char *name, mx_error *err); /* v <= max */
int mx__inv_check_dist(const mx_dist *d, const char *name, mx_error *err);

/* Newsvendor cost g(y) = h nbar(y) + p n(y) on distribution d. */
static inline double mx_inv_newsvendor_g(double h, double p, const mx_dist *d, double y) {
  double n = mx_dist_loss(d, y);
  double nbar = y - mx_dist_mean(d) + n;
  if (nbar < 0) nbar = 0;
  return h * nbar + p * n;
}

#endif
