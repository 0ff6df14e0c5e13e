/* Empirical prediction intervals from rolling-origin errors inside the
 * history: the method is re-run from origins n-h, n-h-s, n-h-2s, ... and its
 * h-step errors against the known values give, per step, the error
 * distribution. With at least 20 origins the half-width at level L is the
 * L-quantile of the absolute errors (linear interpolation, R type 7; the
 * split-conformal interval of Vovk et al. / Lei et al. 2018); with fewer, a
 * Student t with the root-mean-square error as scale (a handful of origins
 * cannot resolve a 2.5% tail). With fewer than 4 origins (a series shorter
 * than h + 3 + 3h/4) a random walk's sigma sqrt(h) x sd(diff y) is used. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/forecast/internal.h"
#include "merx/inventory.h" /* mx_std_normal_quantile */

/* Student t quantile by the Cornish-Fisher expansion around the normal
 * (Abramowitz & Stegun 26.7.5); within 1% of the exact value from 3 degrees
 * of freedom on, which is all an interval half-width needs. */
static double t_quantile(double p, int dof) {
  double z = mx_std_normal_quantile(p), v = dof, z2 = z * z;
  if (dof < 3) v = 3;
  return z + z * (z2 + 1) / (4 * v) + z * ((5 * z2 + 16) * z2 + 3) / (96 * v * v) +
         z * (((3 * z2 + 19) * z2 + 17) * z2 - 15) / (384 * v * v * v);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double quantile_sorted(const double *v, int k, double p) {
  double pos = p * (k - 1);
  int i = (int)floor(pos);
  if (i >= k - 1) return v[k - 1];
  return v[i] + (pos - i) * (v[i + 1] - v[i]);
}

int fc_empirical_intervals(const double *y, size_t n, int h, fc_point_fn point, void *ctx,
                           int max_origins, const double *mean, int nlevels, const double *levels,
                           double *sigma, double *cum_sigma, double *lo, double *hi) {
  size_t H = (size_t)h;
  size_t min_train = 3;
  int K = 0;
  size_t step = H / 4 ? H / 4 : 1;
  while (K < max_origins && n >= H + min_train + (size_t)K * step) K++;
  if (K < 4) K = 0; /* too few origins to estimate a spread: random walk below */
  double *e = K ? malloc((size_t)K * H * sizeof *e) : NULL;
  double *f = K ? malloc(H * sizeof *f) : NULL;
  double *col = K ? malloc((size_t)K * sizeof *col) : NULL;
  if (K && (!e || !f || !col)) K = 0;
  if (K == 0) {
    /* random walk: Var(h-step) = h sigma_diff^2 */
    double s = 0;
    size_t c = 0;
    for (size_t t = 1; t < n; t++, c++) s += (y[t] - y[t - 1]) * (y[t] - y[t - 1]);
    double sd = c ? sqrt(s / (double)c) : (n ? fabs(y[0]) * 0.5 : 0);
    double cum = 0;
    for (size_t j = 0; j < H; j++) {
      sigma[j] = sd * sqrt((double)(j + 1));
      cum += (double)(j + 1) * (double)(j + 1);
      cum_sigma[j] = sd * sqrt(cum);
    }
    for (int l = 0; l < nlevels; l++) {
      double z = mx_std_normal_quantile(0.5 + levels[l] / 200.0);
      for (size_t j = 0; j < H; j++) {
        lo[(size_t)l * H + j] = mean[j] - z * sigma[j];
        hi[(size_t)l * H + j] = mean[j] + z * sigma[j];
      }
    }
    free(e), free(f), free(col);
    return 0;
  }
  for (int k = 0; k < K; k++) {
    size_t origin = n - H - (size_t)k * step;
    point(y, origin, h, f, ctx);
    for (size_t j = 0; j < H; j++) {
      /* origins near the end see fewer than h actuals: NaN marks the gap */
      e[(size_t)k * H + j] = origin + j < n ? y[origin + j] - f[j] : NAN;
    }
  }
  /* per-step mean squared error, then a scale smoothed over neighbouring
   * steps (a few origins per step are noisy) and never shrinking with the
   * horizon (the error of a forecast further out is not smaller) */
  double *mse = malloc(H * sizeof *mse), *z = malloc((size_t)K * H * sizeof *z);
  if (!mse || !z) {
    free(mse), free(z), free(e), free(f), free(col);
    return 0;
  }
  for (size_t j = 0; j < H; j++) {
    double ss = 0;
    int c = 0;
    for (int k = 0; k < K; k++) {
      double v = e[(size_t)k * H + j];
      if (!isnan(v)) ss += v * v, c++;
    }
    mse[j] = c ? ss / c : NAN;
  }
  size_t w = H / 8;
  for (size_t j = 0; j < H; j++) {
    double ss = 0;
    int c = 0;
    for (size_t i = j > w ? j - w : 0; i <= j + w && i < H; i++)
      if (!isnan(mse[i])) ss += mse[i], c++;
    sigma[j] = c ? sqrt(ss / c) : (j ? sigma[j - 1] : 0);
    if (j && sigma[j] < sigma[j - 1]) sigma[j] = sigma[j - 1];
  }
  /* normalised conformity scores |e| / sigma_j pooled over steps and origins
   * (split conformal with a locally scaled score, Lei et al. 2018 sec. 5.2):
   * K x H scores resolve the tails that K errors per step cannot */
  int nz = 0;
  for (size_t j = 0; j < H; j++)
    for (int k = 0; k < K; k++) {
      double v = e[(size_t)k * H + j];
      if (!isnan(v) && sigma[j] > 0) z[nz++] = fabs(v) / sigma[j];
    }
  if (nz >= 20) qsort(z, (size_t)nz, sizeof *z, cmp_double);
  for (size_t j = 0; j < H; j++) {
    /* cumulative: errors of the running sums per origin */
    double cs = 0;
    int cc = 0;
    for (int k = 0; k < K; k++) {
      double sum = 0;
      int ok = 1;
      for (size_t i = 0; i <= j; i++) {
        double v = e[(size_t)k * H + i];
        if (isnan(v)) ok = 0;
        else sum += v;
      }
      if (ok) {
        cs += sum * sum;
        cc++;
      }
    }
    cum_sigma[j] = cc ? sqrt(cs / cc) : sigma[j] * sqrt((double)(j + 1));
    for (int l = 0; l < nlevels; l++) {
      double a = (1 - levels[l] / 100.0) / 2;
      double q;
      if (nz >= 20) {
        /* the ceil((N + 1) L) / N quantile: finite-sample conformal coverage */
        double p = ceil((nz + 1) * (1 - 2 * a)) / nz;
        q = quantile_sorted(z, nz, p > 1 ? 1 : p) * sigma[j];
      } else {
        /* few scores: Student t with K - 1 degrees of freedom */
        q = (K > 1 ? t_quantile(1 - a, K - 1) : mx_std_normal_quantile(1 - a)) * sigma[j];
      }
      lo[(size_t)l * H + j] = mean[j] - q;
      hi[(size_t)l * H + j] = mean[j] + q;
    }
  }
  free(mse), free(z);
  free(e), free(f), free(col);
  return K;
}
