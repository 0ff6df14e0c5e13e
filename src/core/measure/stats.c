/* The statistics of a randomised two-group comparison: Student t and
 * chi-square distributions, Wilson and Newcombe intervals for proportions,
 * Welch's interval for means, the relative uplift and the sample-ratio
 * mismatch test. Sources are cited at each function. */
#include <math.h>

#include "core/special.h"
#include "merx/inventory.h" /* mx_std_normal_quantile, mx_std_normal_cdf */
#include "merx/measure.h"

/* Student t: P(T <= -|t|) = I_x(df/2, 1/2) / 2 with x = df / (df + t^2)
 * (Abramowitz & Stegun 26.7.1 with 26.5.27). 1 - x is passed exactly. */
static double t_lower_tail(double t_abs, double df) {
  double t2 = t_abs * t_abs;
  double x = df / (df + t2), y = t2 / (df + t2);
  return 0.5 * mx__beta_inc(0.5 * df, 0.5, x, y);
}

double mx_student_t_cdf(double t, double df) {
  if (!(df > 0) || isnan(t)) return NAN;
  if (isinf(t)) return t > 0 ? 1.0 : 0.0;
  if (isinf(df)) return mx_std_normal_cdf(t);
  double tail = t_lower_tail(fabs(t), df);
  return t < 0 ? tail : 1.0 - tail;
}

/* Density 1 / (sqrt(df) B(df/2, 1/2)) (1 + t^2/df)^(-(df+1)/2) (A&S 26.7.1). */
static double t_pdf(double t, double df) {
  return exp(-0.5 * log(df) - mx__log_beta(0.5 * df, 0.5) - 0.5 * (df + 1) * log1p(t * t / df));
}

double mx_student_t_quantile(double p, double df) {
  if (!(p > 0 && p < 1) || !(df > 0)) return NAN;
  if (p == 0.5) return 0.0;
  if (isinf(df)) return mx_std_normal_quantile(p);
  double a = p < 0.5 ? p : 1.0 - p; /* lower tail probability of -|t| */
  double sign = p < 0.5 ? -1.0 : 1.0;
  /* closed forms (A&S 26.7.3 for one and two degrees of freedom) */
  if (df == 1) return sign * tan(M_PI * (0.5 - a));
  if (df == 2) return sign * sqrt(2.0) * (1 - 2 * a) / sqrt(4 * a * (1 - a));
  /* start: Cornish-Fisher expansion around the normal quantile (A&S 26.7.5) */
  double z = -mx_std_normal_quantile(a), z2 = z * z, v = df;
  double t = z + z * (z2 + 1) / (4 * v) + z * ((5 * z2 + 16) * z2 + 3) / (96 * v * v);
  if (!(t > 0) || !isfinite(t)) t = z > 0 ? z : 1.0;
  /* bracket [lo, hi] with tail(lo) >= a >= tail(hi); tail decreases in t */
  double lo = 0, hi = t;
  while (t_lower_tail(hi, df) > a && hi < 1e300) {
    lo = hi;
    hi *= 2;
  }
  /* Newton on tail(t) - a, falling back to bisection when a step leaves the
   * bracket; the tail is computed directly, so relative precision holds far
   * out (a = 1e-12). */
  for (int it = 0; it < 200; it++) {
    double f = t_lower_tail(t, df) - a;
    if (f > 0) lo = t; else hi = t;
    double step = f / t_pdf(t, df); /* d tail / dt = -pdf */
    double next = t + step;
    if (!(next > lo && next < hi)) next = 0.5 * (lo + hi);
    if (fabs(next - t) <= 1e-15 * fabs(next) || hi - lo <= 1e-15 * hi) {
      t = next;
      break;
    }
    t = next;
  }
  return sign * t;
}

double mx_chi2_sf(double x, double df) {
  if (!(df > 0) || isnan(x)) return NAN;
  if (x <= 0) return 1.0;
  if (isinf(x)) return 0.0;
  return mx__gamma_q(0.5 * df, 0.5 * x);
}

static double z_of_level(double level) { return mx_std_normal_quantile(0.5 + 0.5 * level); }

/* Wilson 1927, eq. in Newcombe 1998a (method 3):
 * (2np + z^2 +- z sqrt(z^2 + 4np(1-p))) / (2(n + z^2)). */
static void wilson_z(double x, double n, double z, double *lo, double *hi) {
  double p = x / n, z2 = z * z;
  double centre = 2 * n * p + z2, denom = 2 * (n + z2);
  double half = z * sqrt(z2 + 4 * n * p * (1 - p));
  *lo = (centre - half) / denom;
  *hi = (centre + half) / denom;
  if (x <= 0) *lo = 0; /* exact at the boundaries (rounding aside) */
  if (x >= n) *hi = 1;
}

void mx_wilson_interval(double x, double n, double level, double *lo, double *hi) {
  if (!(n > 0)) {
    *lo = *hi = NAN;
    return;
  }
  wilson_z(x, n, z_of_level(level), lo, hi);
}

void mx_newcombe_diff(double x1, double n1, double x0, double n0, double level,
                      mx_diff_interval *out) {
  out->diff = out->lo = out->hi = out->se = out->p_value = NAN;
  out->df = INFINITY;
  if (!(n1 > 0 && n0 > 0)) return;
  double z = z_of_level(level);
  double p1 = x1 / n1, p0 = x0 / n0, l1, u1, l0, u0;
  wilson_z(x1, n1, z, &l1, &u1);
  wilson_z(x0, n0, z, &l0, &u0);
  /* Newcombe 1998b, method 10: L = d - sqrt((p1-l1)^2 + (u0-p0)^2),
   * U = d + sqrt((u1-p1)^2 + (p0-l0)^2). */
  out->diff = p1 - p0;
  out->lo = out->diff - sqrt((p1 - l1) * (p1 - l1) + (u0 - p0) * (u0 - p0));
  out->hi = out->diff + sqrt((u1 - p1) * (u1 - p1) + (p0 - l0) * (p0 - l0));
  /* two-proportion z test, pooled variance under H0: p1 = p0 */
  double pp = (x1 + x0) / (n1 + n0);
  out->se = sqrt(pp * (1 - pp) * (1 / n1 + 1 / n0));
  if (out->se > 0) out->p_value = erfc(fabs(out->diff / out->se) / M_SQRT2);
}

void mx_welch_diff(double mean1, double var1, double n1, double mean0, double var0, double n0,
                   double level, mx_diff_interval *out) {
  out->diff = out->lo = out->hi = out->se = out->df = out->p_value = NAN;
  if (!(n1 >= 2 && n0 >= 2)) return;
  out->diff = mean1 - mean0;
  double s1 = var1 / n1, s0 = var0 / n0;
  double se2 = s1 + s0;
  if (!(se2 > 0)) {
    out->lo = out->hi = out->diff;
    out->se = 0;
    return;
  }
  out->se = sqrt(se2);
  /* Welch-Satterthwaite: (s1 + s0)^2 / (s1^2/(n1-1) + s0^2/(n0-1)) */
  out->df = se2 * se2 / (s1 * s1 / (n1 - 1) + s0 * s0 / (n0 - 1));
  double q = mx_student_t_quantile(0.5 + 0.5 * level, out->df);
  out->lo = out->diff - q * out->se;
  out->hi = out->diff + q * out->se;
  out->p_value = 2 * mx_student_t_cdf(-fabs(out->diff) / out->se, out->df);
}

void mx_relative_uplift(double mean1, double var1, double n1, double mean0, double var0,
                        double n0, double level, double *rel, double *lo, double *hi) {
  *rel = *lo = *hi = NAN;
  if (mean0 == 0 || !(n1 > 0 && n0 > 0) || isnan(mean1) || isnan(mean0)) return;
  *rel = mean1 / mean0 - 1;
  double m02 = mean0 * mean0;
  double v = var1 / (n1 * m02) + mean1 * mean1 * var0 / (n0 * m02 * m02);
  if (!(v >= 0) || isnan(var1) || isnan(var0)) return;
  double h = z_of_level(level) * sqrt(v);
  *lo = *rel - h;
  *hi = *rel + h;
}

double mx_srm_test(const double *observed, const double *shares, int k, double *chi2) {
  double total = 0, share_sum = 0;
  int used = 0, impossible = 0;
  for (int i = 0; i < k; i++) {
    if (shares[i] > 0) {
      total += observed[i];
      share_sum += shares[i];
      used++;
    } else if (observed[i] > 0) {
      impossible = 1; /* units in an arm planned to get none */
    }
  }
  if (chi2) *chi2 = NAN;
  if (used < 2 || !(total > 0)) return NAN;
  if (impossible) {
    if (chi2) *chi2 = INFINITY;
    return 0.0;
  }
  double s = 0;
  for (int i = 0; i < k; i++) {
    if (!(shares[i] > 0)) continue;
    double e = total * shares[i] / share_sum, d = observed[i] - e;
    s += d * d / e;
  }
  if (chi2) *chi2 = s;
  return mx_chi2_sf(s, used - 1);
}
