/* Demand distributions: normal, Poisson, lognormal, discrete and empirical,
 * with cdf, quantile, first- and second-order loss functions, sampling and
 * the demand of several periods (lead-time demand).
 *
 * Discrete kinds keep sorted support, cumulative probabilities and tail sums
 * of x p and x^2 p, so cdf, quantile and both loss functions cost one binary
 * search. Second-order loss uses the discrete definition of Snyder & Shen
 * (Appendix C) when the support is integer, 1/2 E[(X-x)+ (X-x-1)+], so that
 * sums of n(y) over consecutive y telescope as the (r,Q) and (s,S) formulas
 * need; otherwise the continuous definition 1/2 E[((X-x)+)^2]. */
#include <stdlib.h>
#include <string.h>

#include "core/inventory/internal.h"
#include "util/util.h"

#define MAX_SUPPORT (1u << 20)

const char *mx_dist_kind_name(mx_dist_kind kind) {
  switch (kind) {
  case MX_DIST_NORMAL: return "normal";
  case MX_DIST_POISSON: return "poisson";
  case MX_DIST_LOGNORMAL: return "lognormal";
  case MX_DIST_DISCRETE: return "discrete";
  case MX_DIST_EMPIRICAL: return "empirical";
  case MX_DIST_NEGBIN: return "negbin";
  }
  return "?";
}

void mx_dist_free(mx_dist *d) {
  if (!d) return;
  free(d->x);
  free(d->p);
  free(d->cp);
  free(d->tx);
  free(d->txx);
  memset(d, 0, sizeof *d);
}

int mx_dist_normal(mx_dist *d, double mu, double sigma, mx_error *err) {
  memset(d, 0, sizeof *d);
  if (!isfinite(mu)) return mx_error_set(err, MX_EINVAL, "normal: mu must be finite (got %g)", mu);
  if (!isfinite(sigma) || sigma < 0)
    return mx_error_set(err, MX_EINVAL, "normal: sigma must be >= 0 (got %g)", sigma);
  d->kind = MX_DIST_NORMAL;
  d->a = mu;
  d->b = sigma;
  return MX_OK;
}

int mx_dist_poisson(mx_dist *d, double mean, mx_error *err) {
  memset(d, 0, sizeof *d);
  if (!isfinite(mean) || mean < 0)
    return mx_error_set(err, MX_EINVAL, "poisson: mean must be >= 0 (got %g)", mean);
  d->kind = MX_DIST_POISSON;
  d->a = mean;
  return MX_OK;
}

int mx_dist_lognormal(mx_dist *d, double mu, double sigma, mx_error *err) {
  memset(d, 0, sizeof *d);
  if (!isfinite(mu)) return mx_error_set(err, MX_EINVAL, "lognormal: mu must be finite (got %g)", mu);
  if (!isfinite(sigma) || sigma <= 0)
    return mx_error_set(err, MX_EINVAL, "lognormal: sigma must be > 0 (got %g)", sigma);
  d->kind = MX_DIST_LOGNORMAL;
  d->a = mu;
  d->b = sigma;
  return MX_OK;
}

typedef struct {
  double x, p;
} xp_pair;

static int by_x(const void *a, const void *b) {
  double u = ((const xp_pair *)a)->x, v = ((const xp_pair *)b)->x;
  return u < v ? -1 : u > v;
}

/* Build the discrete tables from pairs (sorted here, repeats merged). */
static int discrete_build(mx_dist *d, xp_pair *pr, size_t n, mx_dist_kind kind, mx_error *err) {
  qsort(pr, n, sizeof *pr, by_x);
  size_t m = 0;
  for (size_t i = 0; i < n; i++) {
    if (pr[i].p <= 0) continue;
    if (m > 0 && pr[m - 1].x == pr[i].x)
      pr[m - 1].p += pr[i].p;
    else
      pr[m++] = pr[i];
  }
  if (m == 0) return mx_error_set(err, MX_EINVAL, "%s: no value has a positive probability",
                                  mx_dist_kind_name(kind));
  d->kind = kind;
  d->n = m;
  d->x = malloc(m * sizeof *d->x);
  d->p = malloc(m * sizeof *d->p);
  d->cp = malloc(m * sizeof *d->cp);
  d->tx = malloc((m + 1) * sizeof *d->tx);
  d->txx = malloc((m + 1) * sizeof *d->txx);
  if (!d->x || !d->p || !d->cp || !d->tx || !d->txx) {
    mx_dist_free(d);
    return mx_error_set(err, MX_ENOMEM, "out of memory");
  }
  double total = 0;
  for (size_t i = 0; i < m; i++) total += pr[i].p;
  double c = 0;
  for (size_t i = 0; i < m; i++) {
    d->x[i] = pr[i].x;
    d->p[i] = pr[i].p / total;
    c += d->p[i];
    d->cp[i] = c;
  }
  d->cp[m - 1] = 1.0;
  d->tx[m] = d->txx[m] = 0;
  for (size_t i = m; i-- > 0;) {
    d->tx[i] = d->tx[i + 1] + d->x[i] * d->p[i];
    d->txx[i] = d->txx[i + 1] + d->x[i] * d->x[i] * d->p[i];
  }
  return MX_OK;
}

int mx_dist_discrete(mx_dist *d, const double *x, const double *p, size_t n, int normalise,
                     mx_error *err) {
  memset(d, 0, sizeof *d);
  if (n == 0) return mx_error_set(err, MX_EINVAL, "discrete: no values given");
  if (n > MAX_SUPPORT) return mx_error_set(err, MX_ELIMIT, "discrete: more than %u values", MAX_SUPPORT);
  double total = 0;
  for (size_t i = 0; i < n; i++) {
    if (!isfinite(x[i]))
      return mx_error_set(err, MX_EINVAL, "discrete: value %zu is not a finite number", i + 1);
    if (!isfinite(p[i]) || p[i] < 0)
      return mx_error_set(err, MX_EINVAL, "discrete: probability of %g must be >= 0 (got %g)",
                          x[i], p[i]);
    total += p[i];
  }
  if (!(total > 0)) return mx_error_set(err, MX_EINVAL, "discrete: probabilities sum to 0");
  if (!normalise && fabs(total - 1.0) > 1e-6)
    return mx_error_set(err, MX_EINVAL, "discrete: probabilities sum to %.9g, not 1", total);
  xp_pair *pr = malloc(n * sizeof *pr);
  if (!pr) return mx_error_set(err, MX_ENOMEM, "out of memory");
  for (size_t i = 0; i < n; i++) pr[i] = (xp_pair){x[i], p[i]};
  int rc = discrete_build(d, pr, n, MX_DIST_DISCRETE, err);
  free(pr);
  return rc;
}

int mx_dist_negbin(mx_dist *d, double mean, double sd, mx_error *err) {
  memset(d, 0, sizeof *d);
  if (!isfinite(mean) || mean <= 0)
    return mx_error_set(err, MX_EINVAL, "negbin: mean must be > 0 (got %g)", mean);
  double var = sd * sd;
  if (!isfinite(sd) || !(var > mean))
    return mx_error_set(err, MX_EINVAL,
                        "negbin: the variance (sd^2 = %g) must exceed the mean (%g); "
                        "use poisson otherwise",
                        var, mean);
  double q = mean / var, r = mean * mean / (var - mean);
  size_t cap = 256, n = 0;
  xp_pair *pr = malloc(cap * sizeof *pr);
  if (!pr) return mx_error_set(err, MX_ENOMEM, "out of memory");
  double f = exp(r * log(q)), cum = 0;
  for (size_t k = 0;; k++) {
    if (k > 0) f *= (k - 1 + r) / (double)k * (1.0 - q);
    if (n == cap) {
      if (cap >= MAX_SUPPORT) {
        free(pr);
        return mx_error_set(err, MX_ELIMIT, "negbin: more than %u support points", MAX_SUPPORT);
      }
      xp_pair *np = realloc(pr, 2 * cap * sizeof *pr);
      if (!np) {
        free(pr);
        return mx_error_set(err, MX_ENOMEM, "out of memory");
      }
      pr = np;
      cap *= 2;
    }
    pr[n++] = (xp_pair){(double)k, f};
    cum += f;
    if (cum >= 1.0 - 1e-12 && (double)k > mean) break;
  }
  int rc = discrete_build(d, pr, n, MX_DIST_NEGBIN, err);
  free(pr);
  if (rc == MX_OK) {
    d->a = mean;
    d->b = sd;
  }
  return rc;
}

int mx_dist_empirical(mx_dist *d, const double *samples, size_t n, mx_error *err) {
  memset(d, 0, sizeof *d);
  if (n == 0) return mx_error_set(err, MX_EINVAL, "empirical: no samples given");
  if (n > MAX_SUPPORT) return mx_error_set(err, MX_ELIMIT, "empirical: more than %u samples", MAX_SUPPORT);
  xp_pair *pr = malloc(n * sizeof *pr);
  if (!pr) return mx_error_set(err, MX_ENOMEM, "out of memory");
  for (size_t i = 0; i < n; i++) {
    if (!isfinite(samples[i])) {
      free(pr);
      return mx_error_set(err, MX_EINVAL, "empirical: sample %zu is not a finite number", i + 1);
    }
    pr[i] = (xp_pair){samples[i], 1.0};
  }
  int rc = discrete_build(d, pr, n, MX_DIST_EMPIRICAL, err);
  free(pr);
  return rc;
}

int mx_dist_copy(mx_dist *dst, const mx_dist *src, mx_error *err) {
  memset(dst, 0, sizeof *dst);
  if (!mx_dist_is_discrete(src) || src->kind == MX_DIST_POISSON) {
    *dst = *src;
    dst->x = dst->p = dst->cp = dst->tx = dst->txx = NULL;
    dst->n = 0;
    return MX_OK;
  }
  xp_pair *pr = malloc(src->n * sizeof *pr);
  if (!pr) return mx_error_set(err, MX_ENOMEM, "out of memory");
  for (size_t i = 0; i < src->n; i++) pr[i] = (xp_pair){src->x[i], src->p[i]};
  int rc = discrete_build(dst, pr, src->n, src->kind, err);
  free(pr);
  if (rc == MX_OK) {
    dst->a = src->a;
    dst->b = src->b;
  }
  return rc;
}

int mx_dist_is_discrete(const mx_dist *d) {
  return d->kind == MX_DIST_POISSON || d->kind == MX_DIST_DISCRETE ||
         d->kind == MX_DIST_EMPIRICAL || d->kind == MX_DIST_NEGBIN;
}

int mx_dist_is_integer(const mx_dist *d) {
  if (d->kind == MX_DIST_POISSON || d->kind == MX_DIST_NEGBIN) return 1;
  if (d->kind != MX_DIST_DISCRETE && d->kind != MX_DIST_EMPIRICAL) return 0;
  for (size_t i = 0; i < d->n; i++)
    if (d->x[i] < 0 || d->x[i] != floor(d->x[i])) return 0;
  return 1;
}

double mx_dist_mean(const mx_dist *d) {
  switch (d->kind) {
  case MX_DIST_NORMAL: return d->a;
  case MX_DIST_POISSON: return d->a;
  case MX_DIST_LOGNORMAL: return exp(d->a + 0.5 * d->b * d->b);
  default: return d->tx[0];
  }
}

double mx_dist_sd(const mx_dist *d) {
  switch (d->kind) {
  case MX_DIST_NORMAL: return d->b;
  case MX_DIST_POISSON: return sqrt(d->a);
  case MX_DIST_LOGNORMAL: {
    double s2 = d->b * d->b;
    return sqrt((exp(s2) - 1.0) * exp(2.0 * d->a + s2));
  }
  default: {
    double m = d->tx[0], v = d->txx[0] - m * m;
    return v > 0 ? sqrt(v) : 0.0;
  }
  }
}

/* Index of the first support point > x (n when none). */
static size_t upper_index(const mx_dist *d, double x) {
  size_t lo = 0, hi = d->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (d->x[mid] <= x)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

double mx_dist_pdf(const mx_dist *d, double x) {
  switch (d->kind) {
  case MX_DIST_NORMAL:
    if (d->b <= 0) return x == d->a ? INFINITY : 0.0;
    return mx_std_normal_pdf((x - d->a) / d->b) / d->b;
  case MX_DIST_POISSON: return mx_poisson_pmf(x, d->a);
  case MX_DIST_LOGNORMAL:
    if (x <= 0) return 0.0;
    return mx_std_normal_pdf((log(x) - d->a) / d->b) / (x * d->b);
  default: {
    size_t i = upper_index(d, x);
    return (i > 0 && d->x[i - 1] == x) ? d->p[i - 1] : 0.0;
  }
  }
}

double mx_dist_cdf(const mx_dist *d, double x) {
  switch (d->kind) {
  case MX_DIST_NORMAL:
    if (d->b <= 0) return x >= d->a ? 1.0 : 0.0;
    return mx_std_normal_cdf((x - d->a) / d->b);
  case MX_DIST_POISSON: return mx_poisson_cdf(x, d->a);
  case MX_DIST_LOGNORMAL:
    if (x <= 0) return 0.0;
    return mx_std_normal_cdf((log(x) - d->a) / d->b);
  default: {
    size_t i = upper_index(d, x);
    return i == 0 ? 0.0 : d->cp[i - 1];
  }
  }
}

double mx_dist_quantile(const mx_dist *d, double q) {
  if (!(q > 0 && q < 1)) return NAN;
  switch (d->kind) {
  case MX_DIST_NORMAL: return d->a + d->b * mx_std_normal_quantile(q);
  case MX_DIST_LOGNORMAL: return exp(d->a + d->b * mx_std_normal_quantile(q));
  case MX_DIST_POISSON: {
    double m = d->a;
    if (m <= 0) return 0.0;
    /* Start near the normal approximation, then step to the smallest k with
     * F(k) >= q. */
    double k = floor(m + sqrt(m) * mx_std_normal_quantile(q));
    if (k < 0) k = 0;
    while (k > 0 && mx_poisson_cdf(k - 1, m) >= q) k -= 1;
    while (mx_poisson_cdf(k, m) < q) k += 1;
    return k;
  }
  default: {
    size_t lo = 0, hi = d->n - 1;
    while (lo < hi) {
      size_t mid = lo + (hi - lo) / 2;
      if (d->cp[mid] >= q)
        hi = mid;
      else
        lo = mid + 1;
    }
    return d->x[lo];
  }
  }
}

static double lognormal_loss(double x, double m, double s) {
  double e = exp(m + 0.5 * s * s);
  if (x <= 0) return e - x;
  double lx = log(x);
  return e * mx_std_normal_cdf((m + s * s - lx) / s) - x * mx_std_normal_cdf((m - lx) / s);
}

static double lognormal_loss2(double x, double m, double s) {
  double e1 = exp(m + 0.5 * s * s), e2 = exp(2.0 * m + 2.0 * s * s);
  if (x <= 0) return 0.5 * (e2 - 2.0 * x * e1 + x * x);
  double lx = log(x);
  double t2 = e2 * mx_std_normal_cdf((m + 2.0 * s * s - lx) / s);
  double t1 = e1 * mx_std_normal_cdf((m + s * s - lx) / s);
  double t0 = mx_std_normal_cdf((m - lx) / s);
  double v = 0.5 * (t2 - 2.0 * x * t1 + x * x * t0);
  return v < 0 ? 0.0 : v;
}

double mx_dist_loss(const mx_dist *d, double x) {
  switch (d->kind) {
  case MX_DIST_NORMAL: return mx_normal_loss(x, d->a, d->b);
  case MX_DIST_POISSON: return mx_poisson_loss(x, d->a);
  case MX_DIST_LOGNORMAL: return lognormal_loss(x, d->a, d->b);
  default: {
    size_t i = upper_index(d, x);
    double tail_p = i == 0 ? 1.0 : 1.0 - d->cp[i - 1];
    double v = d->tx[i] - x * tail_p;
    return v < 0 ? 0.0 : v;
  }
  }
}

double mx_dist_loss_bar(const mx_dist *d, double x) {
  double v = x - mx_dist_mean(d) + mx_dist_loss(d, x);
  return v < 0 ? 0.0 : v;
}

double mx_dist_loss2(const mx_dist *d, double x) {
  switch (d->kind) {
  case MX_DIST_NORMAL: return mx_normal_loss2(x, d->a, d->b);
  case MX_DIST_POISSON: return mx_poisson_loss2(x, d->a);
  case MX_DIST_LOGNORMAL: return lognormal_loss2(x, d->a, d->b);
  default: {
    /* Sum over support points above the threshold of a quadratic in x_i,
     * from the tail sums: integer support uses (X-x)(X-x-1) over X > x+1,
     * otherwise (X-x)^2 over X > x. */
    int integer = mx_dist_is_integer(d);
    double cut = integer ? x + 1.0 : x;
    size_t i = upper_index(d, cut);
    double tp = i == 0 ? 1.0 : 1.0 - d->cp[i - 1];
    double v;
    if (integer) /* (k-x)(k-x-1) = k^2 - (2x+1) k + x(x+1) */
      v = d->txx[i] - (2.0 * x + 1.0) * d->tx[i] + x * (x + 1.0) * tp;
    else
      v = d->txx[i] - 2.0 * x * d->tx[i] + x * x * tp;
    v *= 0.5;
    return v < 0 ? 0.0 : v;
  }
  }
}

double mx_dist_sample(const mx_dist *d, void *rngp) {
  mx_rng *rng = rngp;
  switch (d->kind) {
  case MX_DIST_NORMAL: return d->a + d->b * mx__rng_normal(rng);
  case MX_DIST_LOGNORMAL: return exp(d->a + d->b * mx__rng_normal(rng));
  case MX_DIST_POISSON: {
    double m = d->a;
    if (m <= 0) return 0;
    if (m < 30) { /* Knuth: multiply uniforms until below e^-m */
      double lim = exp(-m), prod = mx__rng_uniform(rng);
      double k = 0;
      while (prod > lim) {
        prod *= mx__rng_uniform(rng);
        k += 1;
      }
      return k;
    }
    /* Inversion from the mode outwards on the exact cdf (O(sqrt m) steps). */
    double u = mx__rng_uniform(rng);
    if (u <= 0) u = 1e-300;
    return mx_dist_quantile(d, u);
  }
  default: {
    double u = mx__rng_uniform(rng);
    size_t lo = 0, hi = d->n - 1;
    while (lo < hi) {
      size_t mid = lo + (hi - lo) / 2;
      if (d->cp[mid] > u)
        hi = mid;
      else
        lo = mid + 1;
    }
    return d->x[lo];
  }
  }
}

/* Convolution of two dense pmfs on integer grids starting at offsets a0, b0. */
static int convolve(const double *a, size_t na, const double *b, size_t nb, double **out,
                    size_t *nout, mx_error *err) {
  size_t n = na + nb - 1;
  if (n > MAX_SUPPORT)
    return mx_error_set(err, MX_ELIMIT,
                        "lead-time demand would have more than %u support points", MAX_SUPPORT);
  double *c = calloc(n, sizeof *c);
  if (!c) return mx_error_set(err, MX_ENOMEM, "out of memory");
  for (size_t i = 0; i < na; i++) {
    if (a[i] == 0) continue;
    for (size_t j = 0; j < nb; j++) c[i + j] += a[i] * b[j];
  }
  *out = c;
  *nout = n;
  return MX_OK;
}

static int point_mass(mx_dist *out, double v, mx_error *err) {
  double one = 1.0;
  return mx_dist_discrete(out, &v, &one, 1, 0, err);
}

int mx_dist_periods(const mx_dist *d, double k, mx_dist *out, mx_error *err) {
  memset(out, 0, sizeof *out);
  int rc;
  if ((rc = mx__inv_check_dist(d, "demand", err))) return rc;
  if (!isfinite(k) || k < 0)
    return mx_error_set(err, MX_EINVAL, "number of periods must be >= 0 (got %g)", k);
  if (k == 0) return point_mass(out, 0.0, err);
  switch (d->kind) {
  case MX_DIST_NORMAL: return mx_dist_normal(out, k * d->a, d->b * sqrt(k), err);
  case MX_DIST_POISSON: return mx_dist_poisson(out, k * d->a, err);
  case MX_DIST_NEGBIN: return mx_dist_negbin(out, k * d->a, d->b * sqrt(k), err);
  case MX_DIST_LOGNORMAL: {
    /* Fenton-Wilkinson: a lognormal with the sum's mean and variance. */
    double m = mx_dist_mean(d) * k, sd = mx_dist_sd(d), v = sd * sd * k;
    double s2 = log(1.0 + v / (m * m));
    return mx_dist_lognormal(out, log(m) - 0.5 * s2, sqrt(s2), err);
  }
  default: break;
  }
  if (k != floor(k))
    return mx_error_set(err, MX_EINVAL,
                        "%s demand: the number of periods must be whole (got %g)",
                        mx_dist_kind_name(d->kind), k);
  if (k == 1) return mx_dist_copy(out, d, err);
  if (!mx_dist_is_integer(d))
    return mx_error_set(err, MX_EINVAL,
                        "%s demand over %g periods needs non-negative integer values",
                        mx_dist_kind_name(d->kind), k);
  /* Dense pmf on 0..max, then binary powering of the convolution. */
  size_t nb = (size_t)d->x[d->n - 1] + 1;
  if ((double)nb * k > MAX_SUPPORT)
    return mx_error_set(err, MX_ELIMIT,
                        "lead-time demand would have more than %u support points", MAX_SUPPORT);
  double *base = calloc(nb, sizeof *base), *acc = malloc(sizeof *acc);
  if (!base || !acc) {
    free(base);
    free(acc);
    return mx_error_set(err, MX_ENOMEM, "out of memory");
  }
  for (size_t i = 0; i < d->n; i++) base[(size_t)d->x[i]] = d->p[i];
  acc[0] = 1.0;
  size_t nacc = 1;
  unsigned long long kk = (unsigned long long)k;
  rc = MX_OK;
  while (kk && rc == MX_OK) {
    if (kk & 1) {
      double *t;
      size_t nt;
      if ((rc = convolve(acc, nacc, base, nb, &t, &nt, err))) break;
      free(acc);
      acc = t;
      nacc = nt;
    }
    kk >>= 1;
    if (kk) {
      double *t;
      size_t nt;
      if ((rc = convolve(base, nb, base, nb, &t, &nt, err))) break;
      free(base);
      base = t;
      nb = nt;
    }
  }
  if (rc == MX_OK) {
    xp_pair *pr = malloc(nacc * sizeof *pr);
    if (!pr) {
      rc = mx_error_set(err, MX_ENOMEM, "out of memory");
    } else {
      for (size_t i = 0; i < nacc; i++) pr[i] = (xp_pair){(double)i, acc[i]};
      rc = discrete_build(out, pr, nacc, d->kind, err);
      free(pr);
    }
  }
  free(base);
  free(acc);
  return rc;
}
