/* Replenishment plan for one item: forecast -> demand over the protection
 * interval -> order-up-to level -> order quantity.
 *
 * Periodic review every R periods with lead time L: the order placed now is
 * the last chance to cover demand until the next order arrives, L + R periods
 * away, so the order-up-to level S protects the demand of the next L + R
 * periods (Snyder & Shen's base-stock logic with R = 1). Its mean is the sum
 * of the forecasts of those periods; its sd is the forecast's own sd of that
 * sum (cum_sigma, which keeps the correlation of multi-step errors), or the
 * root of summed per-period variances when only those are known. With no sd
 * at all, or when asked, the lead-time demand is Poisson with that mean (the
 * usual model of slow movers); on request it is negative binomial with the
 * forecast's mean and variance (lumpy, over-dispersed demand).
 *
 * S comes from the service target: type 1 (cycle service) -> quantile;
 * type 2 (fill rate) -> smallest S whose expected shortage per cycle,
 * n_{L+R}(S) - n_L(S), is at most (1 - beta) times the cycle's demand; or the
 * newsvendor ratio p / (h + p) when costs are given instead. The order is
 * S - (on hand + on order), not negative, raised to the MOQ and rounded up to
 * whole packs. */
#include <string.h>

#include "core/inventory/internal.h"

/* Demand over periods [0, k) of the forecast (k may be fractional: the last
 * partial period counts pro rata). Periods past the horizon repeat the last
 * forecast. */
static void forecast_sum(const mx_plan_item *it, double k, double *mean, double *var, int *short_) {
  double m = 0, v = 0;
  size_t whole = (size_t)floor(k);
  double frac = k - floor(k);
  *short_ = 0;
  size_t H = it->horizon;
  for (size_t t = 0; t < whole + (frac > 0); t++) {
    double w = t < whole ? 1.0 : frac;
    size_t i = t < H ? t : H - 1;
    if (t >= H) *short_ = 1;
    m += w * it->mean[i];
    if (it->sigma) v += w * it->sigma[i] * it->sigma[i];
  }
  if (it->cum_sigma) {
    size_t last = whole + (frac > 0);
    if (last >= 1) {
      size_t i = last - 1 < H ? last - 1 : H - 1;
      double cs = it->cum_sigma[i];
      if (last > H) cs *= sqrt((double)last / (double)H); /* extend as independent */
      v = cs * cs;
    }
  }
  *mean = m;
  *var = v;
}

static int check_finite_nonneg(double v, const char *name, mx_error *err) {
  return mx__inv_check_nonneg(v, name, err);
}

int mx_plan_item_compute(const mx_plan_item *it, mx_plan_row *out, mx_error *err) {
  int rc;
  memset(out, 0, sizeof *out);
  if (!isfinite(it->on_hand)) return mx_error_set(err, MX_EINVAL, "on_hand must be a number");
  if ((rc = check_finite_nonneg(it->on_order, "on_order", err)) ||
      (rc = check_finite_nonneg(it->lead_time, "lead_time", err)) ||
      (rc = check_finite_nonneg(it->moq, "moq", err)) ||
      (rc = check_finite_nonneg(it->pack_size, "pack_size", err)))
    return rc;
  double R = it->review > 0 ? it->review : 1.0;
  if (!isfinite(R)) return mx_error_set(err, MX_EINVAL, "review must be a positive number");
  /* Finite but absurd (moq = 1e300, lead_time = 1e9) would order that many
   * units: quantities and periods are bounded (docs/cli/plan.md). */
  if ((rc = mx__inv_check_at_most(fabs(it->on_hand), MX_PLAN_MAX_UNITS, "on_hand", err)) ||
      (rc = mx__inv_check_at_most(it->on_order, MX_PLAN_MAX_UNITS, "on_order", err)) ||
      (rc = mx__inv_check_at_most(it->moq, MX_PLAN_MAX_UNITS, "moq", err)) ||
      (rc = mx__inv_check_at_most(it->pack_size, MX_PLAN_MAX_UNITS, "pack_size", err)) ||
      (rc = mx__inv_check_at_most(it->lead_time, MX_PLAN_MAX_PERIODS, "lead_time", err)) ||
      (rc = mx__inv_check_at_most(R, MX_PLAN_MAX_PERIODS, "review", err)))
    return rc;
  if (it->horizon == 0 || !it->mean)
    return mx_error_set(err, MX_EEMPTY, "no forecast for this item");
  for (size_t t = 0; t < it->horizon; t++) {
    if (!isfinite(it->mean[t]) || it->mean[t] < 0)
      return mx_error_set(err, MX_EINVAL, "forecast of period %zu must be >= 0 (got %g)", t + 1,
                          it->mean[t]);
    if (it->sigma && (!isfinite(it->sigma[t]) || it->sigma[t] < 0))
      return mx_error_set(err, MX_EINVAL, "forecast sd of period %zu must be >= 0", t + 1);
    if (it->cum_sigma && (!isfinite(it->cum_sigma[t]) || it->cum_sigma[t] < 0))
      return mx_error_set(err, MX_EINVAL, "cumulative forecast sd of period %zu must be >= 0",
                          t + 1);
  }
  /* Service: a target, or the newsvendor ratio from costs. */
  int type = it->service_type;
  double target = it->service;
  if (type == 0) {
    if ((rc = mx__inv_check_positive(it->h, "h (holding cost)", err)) ||
        (rc = mx__inv_check_positive(it->p, "p (stockout cost)", err)))
      return rc;
    type = MX_SERVICE_CYCLE;
    target = it->p / (it->h + it->p);
  } else if (type != MX_SERVICE_CYCLE && type != MX_SERVICE_FILL) {
    return mx_error_set(err, MX_EINVAL, "service type must be cycle or fill");
  }
  if ((rc = mx__inv_check_probability(target, "service", err))) return rc;

  double L = it->lead_time, P = L + R;
  double mLR, vLR, mL, vL;
  int sh1, sh2;
  forecast_sum(it, P, &mLR, &vLR, &sh1);
  forecast_sum(it, L, &mL, &vL, &sh2);
  out->horizon_short = sh1;
  int poisson = it->dist == MX_DIST_POISSON || (!it->sigma && !it->cum_sigma);
  /* Negative binomial where the forecast says demand is over-dispersed;
   * a variance at or below the mean gives the Poisson. */
  int negbin = !poisson && it->dist == MX_DIST_NEGBIN && mLR > 0 && vLR > mLR;
  if (!poisson && !negbin && it->dist == MX_DIST_NEGBIN) poisson = 1;
  mx_dist dLR, dL;
  memset(&dL, 0, sizeof dL);
  if (negbin) {
    if ((rc = mx_dist_negbin(&dLR, mLR, sqrt(vLR), err))) return rc;
    rc = mL > 0 && vL > mL ? mx_dist_negbin(&dL, mL, sqrt(vL), err) : mx_dist_poisson(&dL, mL, err);
    if (rc) {
      mx_dist_free(&dLR);
      return rc;
    }
  } else if (poisson) {
    mx_dist_poisson(&dLR, mLR, err);
    mx_dist_poisson(&dL, mL, err);
  } else {
    mx_dist_normal(&dLR, mLR, sqrt(vLR), err);
    mx_dist_normal(&dL, mL, sqrt(vL), err);
  }
  int integer = poisson || negbin;
  out->ltd_mean = mLR;
  out->ltd_sd = mx_dist_sd(&dLR);
  double S;
  if (type == MX_SERVICE_CYCLE || !(mLR - mL > 0)) {
    S = mLR > 0 ? mx_dist_quantile(&dLR, target) : 0.0;
  } else {
    /* Fill rate on the cycle's demand; bisection (on integers for count demand). */
    double cycle = mLR - mL, lo = mL - 1.0, hi = mLR + 10.0 * out->ltd_sd + 10.0;
    while (1.0 - (mx_dist_loss(&dLR, hi) - mx_dist_loss(&dL, hi)) / cycle < target) hi *= 2;
    while (1.0 - (mx_dist_loss(&dLR, lo) - mx_dist_loss(&dL, lo)) / cycle >= target)
      lo -= 10.0 * out->ltd_sd + 10.0;
    if (integer) { /* f is monotone, so the integer bracket still brackets */
      lo = floor(lo);
      hi = ceil(hi);
    }
    for (int k = 0; k < 200 && hi - lo > (integer ? 1.0 : 1e-9 * (1 + fabs(hi))); k++) {
      double mid = integer ? floor(0.5 * (lo + hi)) : 0.5 * (lo + hi);
      if (integer && (mid <= lo || mid >= hi)) break;
      if (1.0 - (mx_dist_loss(&dLR, mid) - mx_dist_loss(&dL, mid)) / cycle >= target)
        hi = mid;
      else
        lo = mid;
    }
    S = hi;
  }
  mx_dist_free(&dLR);
  mx_dist_free(&dL);
  if (S < 0) S = 0;
  out->target = S;
  out->safety_stock = S - mLR;
  out->position = it->on_hand + it->on_order;
  double raw = S - out->position;
  if (raw < 0) raw = 0;
  out->raw = raw;
  double q = raw;
  if (q > 0) {
    if (q < it->moq) q = it->moq;
    if (it->pack_size > 0) {
      double packs = ceil(q / it->pack_size - 1e-9);
      q = packs * it->pack_size;
    }
  }
  out->order = q;
  return MX_OK;
}
