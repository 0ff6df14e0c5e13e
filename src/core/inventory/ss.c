/* Periodic-review (s,S) policies (Snyder & Shen, section 4.6): at each review,
 * if the inventory position is <= s, order up to S.
 *
 * Exact cost for discrete demand (Zheng & Federgruen 1991; S&S eq.
 * 4.71-4.75): with per-period pmf f and the renewal quantities
 *   m(0) = 1 / (1 - f(0)),  m(j) = m(0) sum_{l=1}^{j} f(l) m(j-l),
 *   M(k) = sum_{j<k} m(j)   (expected periods spent at position S - j),
 *   c(s,S) = (K + sum_{j=0}^{S-s-1} m(j) G(S-j)) / M(S-s),
 * where G(y) is the newsvendor cost on the demand of L + 1 periods.
 * The optimum is found by the Zheng-Federgruen search (S&S Algorithm 4.2),
 * which only evaluates c along a monotone path of (s,S) pairs.
 *
 * Power approximation (Ehrhardt & Mosier 1984, as in S&S eq. 4.77-4.80):
 *   Q = 1.30 mu^0.494 (K/h)^0.506 (1 + sigma_L^2 / mu^2)^0.116
 *   z = sqrt(Q h / (sigma_L p))
 *   s = 0.973 mu_L + sigma_L (0.183 / z + 1.063 - 2.192 z),  S = s + Q
 * with mu_L, sigma_L the mean and sd of the demand over L + 1 periods. */
#include <stdlib.h>
#include <string.h>

#include "core/inventory/internal.h"

typedef struct {
  double K, h, p;
  const mx_dist *d; /* per period */
  mx_dist ltd;      /* L + 1 periods */
  double *m;        /* renewal function m(j), grown on demand */
  size_t nm, cap;
  double *f;        /* per-period pmf f(0..nf-1), dense */
  size_t nf;
} ss_problem;

static void ss_free(ss_problem *pb) {
  free(pb->m);
  free(pb->f);
  mx_dist_free(&pb->ltd);
}

static double pmf(const ss_problem *pb, size_t k) { return k < pb->nf ? pb->f[k] : 0.0; }

/* Make m(0..j) available. */
static int ensure_m(ss_problem *pb, size_t j, mx_error *err) {
  if (j < pb->nm) return MX_OK;
  if (j >= pb->cap) {
    size_t cap = pb->cap ? pb->cap : 64;
    while (cap <= j) cap *= 2;
    double *nmv = realloc(pb->m, cap * sizeof *nmv);
    if (!nmv) return mx_error_set(err, MX_ENOMEM, "out of memory");
    pb->m = nmv;
    pb->cap = cap;
  }
  for (size_t k = pb->nm; k <= j; k++) {
    if (k == 0) {
      pb->m[0] = 1.0 / (1.0 - pmf(pb, 0));
      continue;
    }
    double s = 0;
    size_t lmax = k < pb->nf - 1 ? k : pb->nf - 1;
    for (size_t l = 1; l <= lmax; l++) s += pb->f[l] * pb->m[k - l];
    pb->m[k] = pb->m[0] * s;
  }
  pb->nm = j + 1;
  return MX_OK;
}

static double G(const ss_problem *pb, double y) { return mx_inv_newsvendor_g(pb->h, pb->p, &pb->ltd, y); }

static int cost_ss(ss_problem *pb, double s, double S, double *c, mx_error *err) {
  if (!(S > s)) return mx_error_set(err, MX_EINVAL, "S (%g) must exceed s (%g)", S, s);
  double span = S - s;
  if (span > 1e7) return mx_error_set(err, MX_ELIMIT, "S - s = %g is too large", span);
  size_t n = (size_t)span;
  int rc;
  if ((rc = ensure_m(pb, n - 1, err))) return rc;
  double num = pb->K, M = 0;
  for (size_t j = 0; j < n; j++) {
    num += pb->m[j] * G(pb, S - (double)j);
    M += pb->m[j];
  }
  *c = num / M;
  return MX_OK;
}

static int ss_setup(ss_problem *pb, double K, double h, double p, const mx_dist *d, double L,
                    mx_error *err) {
  int rc;
  memset(pb, 0, sizeof *pb);
  if ((rc = mx__inv_check_nonneg(K, "K (fixed order cost)", err)) ||
      (rc = mx__inv_check_positive(h, "h (holding cost)", err)) ||
      (rc = mx__inv_check_positive(p, "p (stockout cost)", err)) ||
      (rc = mx__inv_check_dist(d, "dist", err)) || (rc = mx__inv_check_nonneg(L, "L (lead time)", err)))
    return rc;
  if (!mx_dist_is_integer(d))
    return mx_error_set(err, MX_EINVAL,
                        "exact (s,S) needs discrete demand on 0, 1, 2, ... (poisson, discrete or "
                        "empirical); got %s: use the power approximation",
                        mx_dist_kind_name(d->kind));
  if (L != floor(L)) return mx_error_set(err, MX_EINVAL, "L (lead time) must be a whole number of periods");
  pb->K = K;
  pb->h = h;
  pb->p = p;
  pb->d = d;
  /* Dense per-period pmf up to where the tail is negligible. */
  double hi = d->kind == MX_DIST_POISSON ? mx_dist_quantile(d, 1.0 - 1e-16) + 2 : d->x[d->n - 1];
  if (hi > 1e7) return mx_error_set(err, MX_ELIMIT, "demand too large for exact (s,S)");
  pb->nf = (size_t)hi + 1;
  pb->f = calloc(pb->nf, sizeof *pb->f);
  if (!pb->f) return mx_error_set(err, MX_ENOMEM, "out of memory");
  if (d->kind == MX_DIST_POISSON)
    for (size_t k = 0; k < pb->nf; k++) pb->f[k] = mx_poisson_pmf((double)k, d->a);
  else
    for (size_t i = 0; i < d->n; i++) pb->f[(size_t)d->x[i]] = d->p[i];
  if (pb->f[0] >= 1.0 - 1e-15)
    return mx_error_set(err, MX_EINVAL, "demand is always 0: no (s,S) policy is needed");
  return mx_dist_periods(d, L + 1.0, &pb->ltd, err);
}

int mx_inv_ss_cost(double K, double h, double p, const mx_dist *per_period, double L, double s,
               double S, double *cost, mx_error *err) {
  ss_problem pb;
  int rc = ss_setup(&pb, K, h, p, per_period, L, err);
  if (rc == MX_OK) {
    if (s != floor(s) || S != floor(S))
      rc = mx_error_set(err, MX_EINVAL, "s and S must be whole numbers for discrete demand");
    else
      rc = cost_ss(&pb, s, S, cost, err);
  }
  ss_free(&pb);
  return rc;
}

static int zheng_federgruen(ss_problem *pb, mx_inv_ss_result *out, mx_error *err) {
  int rc;
  double ystar = mx_dist_quantile(&pb->ltd, pb->p / (pb->h + pb->p));
  /* s0: lower s from y* until c(s, y*) <= G(s). */
  double S0 = ystar, s = ystar, c;
  for (;;) {
    s -= 1;
    if ((rc = cost_ss(pb, s, S0, &c, err))) return rc;
    if (c <= G(pb, s)) break;
  }
  double cbest;
  if ((rc = cost_ss(pb, s, S0, &cbest, err))) return rc;
  /* Raise S while G(S) <= best cost; on improvement raise s as far as
   * c(s, S0) <= G(s + 1). */
  for (double S = S0 + 1; G(pb, S) <= cbest; S += 1) {
    double cs;
    if ((rc = cost_ss(pb, s, S, &cs, err))) return rc;
    if (cs < cbest) {
      S0 = S;
      for (;;) {
        double cc;
        if ((rc = cost_ss(pb, s, S0, &cc, err))) return rc;
        if (cc <= G(pb, s + 1))
          s += 1;
        else
          break;
      }
      if ((rc = cost_ss(pb, s, S0, &cbest, err))) return rc;
    }
  }
  out->s = s;
  out->S = S0;
  out->cost = cbest;
  return MX_OK;
}

int mx_inv_ss(int method, double K, double h, double p, const mx_dist *per_period, double L,
          mx_inv_ss_result *out, mx_error *err) {
  int rc;
  memset(out, 0, sizeof *out);
  if (method == MX_SS_EXACT) {
    ss_problem pb;
    rc = ss_setup(&pb, K, h, p, per_period, L, err);
    if (rc == MX_OK) rc = zheng_federgruen(&pb, out, err);
    ss_free(&pb);
    return rc;
  }
  if (method != MX_SS_POWER) return mx_error_set(err, MX_EINVAL, "unknown (s,S) method %d", method);
  if ((rc = mx__inv_check_positive(K, "K (fixed order cost)", err)) ||
      (rc = mx__inv_check_positive(h, "h (holding cost)", err)) ||
      (rc = mx__inv_check_positive(p, "p (stockout cost)", err)) ||
      (rc = mx__inv_check_dist(per_period, "dist", err)) ||
      (rc = mx__inv_check_nonneg(L, "L (lead time)", err)))
    return rc;
  double mu = mx_dist_mean(per_period), sd = mx_dist_sd(per_period);
  if (!(mu > 0) || !(sd > 0))
    return mx_error_set(err, MX_EINVAL,
                        "power approximation needs demand with positive mean and sd (got %g, %g)",
                        mu, sd);
  double muL = mu * (L + 1.0), sdL = sd * sqrt(L + 1.0);
  double Q = 1.30 * pow(mu, 0.494) * pow(K / h, 0.506) * pow(1.0 + sdL * sdL / (mu * mu), 0.116);
  double z = sqrt(Q * h / (sdL * p));
  out->s = 0.973 * muL + sdL * (0.183 / z + 1.063 - 2.192 * z);
  out->S = out->s + Q;
  out->cost = NAN;
  return MX_OK;
}
