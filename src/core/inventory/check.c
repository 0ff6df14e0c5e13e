/* Parameter validation shared by the inventory models: every model refuses
 * impossible inputs (h <= 0, a service level outside (0,1), NaN, ...) with a
 * message that names the parameter, rather than returning a number. */
#include "core/inventory/internal.h"

int mx__inv_check_positive(double v, const char *name, mx_error *err) {
  if (!isfinite(v) || v <= 0)
    return mx_error_set(err, MX_EINVAL, "%s must be a positive number (got %g)", name, v);
  return MX_OK;
}

int mx__inv_check_nonneg(double v, const char *name, mx_error *err) {
  if (!isfinite(v) || v < 0)
    return mx_error_set(err, MX_EINVAL, "%s must be a non-negative number (got %g)", name, v);
  return MX_OK;
}

int mx__inv_check_at_most(double v, double max, const char *name, mx_error *err) {
  if (v > max) return mx_error_set(err, MX_EINVAL, "%s of %g is beyond the maximum %g", name, v, max);
  return MX_OK;
}

int mx__inv_check_probability(double v, const char *name, mx_error *err) {
  if (!isfinite(v) || v <= 0 || v >= 1)
    return mx_error_set(err, MX_EINVAL, "%s must be strictly between 0 and 1 (got %g)", name, v);
  return MX_OK;
}

int mx__inv_check_dist(const mx_dist *d, const char *name, mx_error *err) {
  if (!d || d->kind < MX_DIST_NORMAL || d->kind > MX_DIST_NEGBIN)
    return mx_error_set(err, MX_EINVAL, "%s: not a demand distribution", name);
  return MX_OK;
}
