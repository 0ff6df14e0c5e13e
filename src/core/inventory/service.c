/* Service-level tools: safety stock with lead-time variance, type-2 fill
 * rates of (r,Q) and (R,S) through loss functions, the reorder point that
 * reaches a fill rate, and the order-up-to level of periodic review.
 *
 * Type 1 (cycle service level) is P(no stockout in a replenishment cycle):
 * the level is the service quantile of demand over the protection interval.
 * Type 2 (fill rate) is the fraction of demand met from stock:
 *   (r,Q):  beta = 1 - (n(r) - n(r+Q)) / Q                  (S&S section 5.3)
 *   (R,S):  beta = 1 - (n_{L+R}(S) - n_L(S)) / (R mu)
 * where n_k is the loss function of demand over k periods: the shortage in a
 * cycle is what the L+R periods' demand exceeds S by, minus what was already
 * short before the cycle began (Silver, Pyke & Peterson 1998, ch. 7). */
#include <string.h>

#include "core/inventory/internal.h"

int mx_safety_stock(double service, double mu, double sigma, double L, double sigma_L, double R,
                    mx_safety_stock_result *out, mx_error *err) {
  int rc;
  memset(out, 0, sizeof *out);
  if ((rc = mx__inv_check_probability(service, "service", err)) ||
      (rc = mx__inv_check_nonneg(mu, "mu (mean demand per period)", err)) ||
      (rc = mx__inv_check_nonneg(sigma, "sigma (demand sd per period)", err)) ||
      (rc = mx__inv_check_nonneg(L, "L (lead time)", err)) ||
      (rc = mx__inv_check_nonneg(sigma_L, "sigma_L (lead-time sd)", err)) ||
      (rc = mx__inv_check_nonneg(R, "R (review period)", err)))
    return rc;
  double P = L + R;
  out->z = mx_std_normal_quantile(service);
  out->mean = mu * P;
  out->sd = sqrt(P * sigma * sigma + mu * mu * sigma_L * sigma_L);
  out->safety_stock = out->z * out->sd;
  out->level = out->mean + out->safety_stock;
  return MX_OK;
}

int mx_fill_rate_rq(const mx_dist *ltd, double r, double Q, double *beta, mx_error *err) {
  int rc;
  if ((rc = mx__inv_check_dist(ltd, "dist", err)) ||
      (rc = mx__inv_check_positive(Q, "Q (order quantity)", err)))
    return rc;
  if (!isfinite(r)) return mx_error_set(err, MX_EINVAL, "r (reorder point) must be finite");
  double v = 1.0 - (mx_dist_loss(ltd, r) - mx_dist_loss(ltd, r + Q)) / Q;
  *beta = v < 0 ? 0 : v > 1 ? 1 : v;
  return MX_OK;
}

typedef struct {
  mx_dist dLR, dL;
  double cycle_demand;
} rs_tables;

static int rs_setup(rs_tables *t, const mx_dist *d, double R, double L, mx_error *err) {
  int rc;
  memset(t, 0, sizeof *t);
  if ((rc = mx__inv_check_dist(d, "dist", err)) ||
      (rc = mx__inv_check_positive(R, "R (review period)", err)) ||
      (rc = mx__inv_check_nonneg(L, "L (lead time)", err)))
    return rc;
  if ((rc = mx_dist_periods(d, L + R, &t->dLR, err))) return rc;
  if ((rc = mx_dist_periods(d, L, &t->dL, err))) {
    mx_dist_free(&t->dLR);
    return rc;
  }
  t->cycle_demand = R * mx_dist_mean(d);
  return MX_OK;
}

static void rs_free(rs_tables *t) {
  mx_dist_free(&t->dLR);
  mx_dist_free(&t->dL);
}

static double rs_fill(const rs_tables *t, double S) {
  if (!(t->cycle_demand > 0)) return 1.0;
  double short_ = mx_dist_loss(&t->dLR, S) - mx_dist_loss(&t->dL, S);
  double v = 1.0 - short_ / t->cycle_demand;
  return v < 0 ? 0 : v > 1 ? 1 : v;
}

int mx_fill_rate_rs(const mx_dist *d, double R, double L, double S, double *beta, mx_error *err) {
  rs_tables t;
  int rc;
  if (!isfinite(S)) return mx_error_set(err, MX_EINVAL, "S (order-up-to level) must be finite");
  if ((rc = rs_setup(&t, d, R, L, err))) return rc;
  *beta = rs_fill(&t, S);
  rs_free(&t);
  return MX_OK;
}

/* Smallest x (integer when discrete) with ok(x) true, ok monotone in x. */
typedef double (*level_fn)(const void *ctx, double x);

static double smallest_level(level_fn f, const void *ctx, double target, double start, double scale,
                             int integer) {
  double lo = start, hi = start;
  if (scale <= 0) scale = 1;
  while (f(ctx, lo) >= target) lo -= scale, scale *= 2;
  scale = scale > 1 ? scale : 1;
  while (f(ctx, hi) < target) hi += scale, scale *= 2;
  /* f(lo) < target <= f(hi) */
  if (integer) {
    lo = floor(lo);
    hi = ceil(hi);
    while (hi - lo > 1) {
      double mid = floor(0.5 * (lo + hi));
      if (f(ctx, mid) >= target)
        hi = mid;
      else
        lo = mid;
    }
    return hi;
  }
  for (int it = 0; it < 200 && hi - lo > 1e-10 * (1.0 + fabs(hi)); it++) {
    double mid = 0.5 * (lo + hi);
    if (f(ctx, mid) >= target)
      hi = mid;
    else
      lo = mid;
  }
  return hi;
}

typedef struct {
  const mx_dist *d;
  double Q;
} rq_ctx;

static double rq_fill_fn(const void *c, double r) {
  const rq_ctx *x = c;
  double v = 1.0 - (mx_dist_loss(x->d, r) - mx_dist_loss(x->d, r + x->Q)) / x->Q;
  return v < 0 ? 0 : v > 1 ? 1 : v;
}

int mx_reorder_point_fill(const mx_dist *ltd, double Q, double beta, double *r, mx_error *err) {
  int rc;
  if ((rc = mx__inv_check_dist(ltd, "dist", err)) ||
      (rc = mx__inv_check_positive(Q, "Q (order quantity)", err)) ||
      (rc = mx__inv_check_probability(beta, "fill rate", err)))
    return rc;
  rq_ctx c = {ltd, Q};
  *r = smallest_level(rq_fill_fn, &c, beta, mx_dist_mean(ltd), mx_dist_sd(ltd) + 1.0,
                      mx_dist_is_discrete(ltd));
  return MX_OK;
}

static double rs_fill_fn(const void *c, double S) { return rs_fill(c, S); }

int mx_order_up_to(int service_type, double target, const mx_dist *d, double R, double L,
                   double *S, mx_error *err) {
  int rc;
  if ((rc = mx__inv_check_probability(target, "service", err))) return rc;
  if (service_type != MX_SERVICE_CYCLE && service_type != MX_SERVICE_FILL)
    return mx_error_set(err, MX_EINVAL, "service type must be cycle (type 1) or fill (type 2)");
  rs_tables t;
  if ((rc = rs_setup(&t, d, R, L, err))) return rc;
  if (service_type == MX_SERVICE_CYCLE)
    *S = mx_dist_quantile(&t.dLR, target);
  else
    *S = smallest_level(rs_fill_fn, &t, target, mx_dist_mean(&t.dLR), mx_dist_sd(&t.dLR) + 1.0,
                        mx_dist_is_discrete(d));
  rs_free(&t);
  return MX_OK;
}
