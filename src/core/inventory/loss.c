/* Normal and Poisson distribution functions and their first- and
 * second-order loss functions (Snyder & Shen, Fundamentals of Supply Chain
 * Theory, Appendix C: eq. C.22-C.23 and C.27-C.28 for the standard normal,
 * C.31-C.34 for N(mu, sigma^2), C.41-C.42 for the Poisson).
 *
 * The Poisson cdf is the regularised upper incomplete gamma function
 * P(X <= k) = Q(k + 1, mean), evaluated by its series or its continued
 * fraction (core/special.c), so it costs O(1) in k rather than a sum of
 * k + 1 terms. */
#include <math.h>

#include "core/inventory/internal.h"
#include "core/special.h"

double mx_std_normal_pdf(double z) { return 0.39894228040143267794 * exp(-0.5 * z * z); }

double mx_std_normal_cdf(double z) { return 0.5 * erfc(-z * 0.70710678118654752440); }

double mx_std_normal_quantile(double q) {
  if (!(q > 0 && q < 1)) return NAN;
  if (q > 0.5) return -mx_std_normal_quantile(1.0 - q);
  /* Start from Abramowitz & Stegun 26.2.23 (|error| < 4.5e-4), then polish
   * with Halley steps on the erfc-based cdf: cubic convergence reaches full
   * double precision in two or three steps. */
  double t = sqrt(-2.0 * log(q));
  double x = -(t - (2.515517 + 0.802853 * t + 0.010328 * t * t) /
                       (1.0 + 1.432788 * t + 0.189269 * t * t + 0.001308 * t * t * t));
  for (int it = 0; it < 4; it++) {
    double e = mx_std_normal_cdf(x) - q;
    double u = e * 2.50662827463100050242 * exp(0.5 * x * x);
    double step = u / (1.0 + 0.5 * x * u);
    x -= step;
    if (fabs(step) < 1e-15 * (1.0 + fabs(x))) break;
  }
  return x;
}

double mx_std_normal_loss(double z) {
  return mx_std_normal_pdf(z) - z * mx_std_normal_cdf(-z);
}

double mx_std_normal_loss2(double z) {
  return 0.5 * ((z * z + 1.0) * mx_std_normal_cdf(-z) - z * mx_std_normal_pdf(z));
}

double mx_normal_loss(double x, double mu, double sigma) {
  if (sigma <= 0) return mu > x ? mu - x : 0.0;
  return sigma * mx_std_normal_loss((x - mu) / sigma);
}

double mx_normal_loss2(double x, double mu, double sigma) {
  if (sigma <= 0) return mu > x ? 0.5 * (mu - x) * (mu - x) : 0.0;
  return sigma * sigma * mx_std_normal_loss2((x - mu) / sigma);
}

/* ---------------------------------------------------------------- Poisson */

double mx_poisson_pmf(double k, double mean) {
  if (k < 0 || k != floor(k)) return 0.0;
  if (mean <= 0) return k == 0 ? 1.0 : 0.0;
  return exp(k * log(mean) - mean - lgamma(k + 1.0));
}

double mx_poisson_cdf(double x, double mean) {
  if (x < 0) return 0.0;
  if (mean <= 0) return 1.0;
  double k = floor(x);
  double a = k + 1.0;
  /* P(X <= k) = Q(k+1, mean) */
  return mx__gamma_q(a, mean);
}

/* nbar(x) = sum_{k <= x} (x - k) f(k) = x F(j) - mean F(j - 1), j = floor(x),
 * because k f(k) = mean f(k - 1) for the Poisson. */
static double poisson_loss_bar(double x, double mean) {
  if (x < 0) return 0.0;
  double j = floor(x);
  return x * mx_poisson_cdf(j, mean) - mean * mx_poisson_cdf(j - 1, mean);
}

double mx_poisson_loss(double x, double mean) {
  double v = poisson_loss_bar(x, mean) - x + mean;
  return v < 0 ? 0.0 : v;
}

/* n2(x) = 1/2 sum_k (k-x)+ (k-x-1)+ f(k). With j = floor(x) + 1 the terms
 * k > j are exactly the positive ones, so n2 = 1/2 [E[(X-x)(X-x-1)] -
 * sum_{k<=j} (k-x)(k-x-1) f(k)], and for the Poisson sum_{k<=j} k f(k) =
 * mean F(j-1), sum_{k<=j} k(k-1) f(k) = mean^2 F(j-2). */
double mx_poisson_loss2(double x, double mean) {
  double total = mean * mean - 2.0 * x * mean + x * (x + 1.0); /* E[X^2] - (2x+1)E[X] + x(x+1) */
  double j = x < -1 ? -1 : floor(x) + 1.0;
  double head = 0;
  if (j >= 0)
    head = mean * mean * mx_poisson_cdf(j - 2, mean) - 2.0 * x * mean * mx_poisson_cdf(j - 1, mean) +
           x * (x + 1.0) * mx_poisson_cdf(j, mean);
  double v = 0.5 * (total - head);
  return v < 0 ? 0.0 : v;
}
