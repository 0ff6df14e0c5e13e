/* Classical seasonal decomposition (as R's stats::decompose) and the M4
 * benchmarks' seasonal adjustment built on it. */
#include <math.h>
#include <stdlib.h>

#include "core/forecast/internal.h"

/* R's mean(): long double sum plus one refinement pass. */
static double r_mean(const double *x, size_t n) {
  long double s = 0;
  for (size_t i = 0; i < n; i++) s += x[i];
  s /= (long double)n;
  long double t = 0;
  for (size_t i = 0; i < n; i++) t += (x[i] - s);
  return (double)(s + t / (long double)n);
}

int fc_decompose(const double *y, size_t n, int m, int multiplicative, double *figure) {
  if (m <= 1 || n < 2 * (size_t)m) return -1;
  /* centred moving average: weights 1/m, halved at both ends when m is even */
  int nf = (m % 2 == 0) ? m + 1 : m;
  int o = nf / 2;
  double *w = malloc((size_t)nf * sizeof *w);
  double *ratio = malloc(n * sizeof *ratio);
  double *bucket = malloc((n / (size_t)m + 1) * sizeof *bucket);
  if (!w || !ratio || !bucket) {
    free(w), free(ratio), free(bucket);
    return -1;
  }
  for (int j = 0; j < nf; j++) w[j] = 1.0 / m;
  if (m % 2 == 0) w[0] = w[nf - 1] = 0.5 / m;
  for (size_t i = 0; i < n; i++) {
    if (i < (size_t)o || i + (size_t)o >= n) {
      ratio[i] = NAN;
      continue;
    }
    double z = 0;
    for (int j = 0; j < nf; j++) z += w[j] * y[i + (size_t)o - (size_t)j];
    ratio[i] = multiplicative ? y[i] / z : y[i] - z;
  }
  int rc = 0;
  for (int p = 0; p < m; p++) {
    size_t c = 0;
    for (size_t i = (size_t)p; i < n; i += (size_t)m)
      if (!isnan(ratio[i])) bucket[c++] = ratio[i];
    if (c == 0) {
      rc = -1;
      break;
    }
    figure[p] = r_mean(bucket, c);
  }
  if (rc == 0) {
    double fm = r_mean(figure, (size_t)m);
    for (int p = 0; p < m; p++) {
      if (multiplicative) figure[p] /= fm;
      else figure[p] -= fm;
      if (!isfinite(figure[p])) rc = -1;
    }
    if (multiplicative && fm == 0) rc = -1;
  }
  free(w), free(ratio), free(bucket);
  return rc;
}

int fc_m4_adjust(const double *y, size_t n, int m, int h, double *adj, double *si_out) {
  double figure[400];
  if (m > 1 && m <= 400 && fc_seasonality_test(y, n, m)) {
    /* multiplicative, as M4; a zero or negative index (a weekday that never
     * sells, a moving average of zero) would divide by zero: additive then */
    int ok = fc_decompose(y, n, m, 1, figure) == 0;
    for (int p = 0; ok && p < m; p++) ok = isfinite(figure[p]) && figure[p] > 1e-9;
    if (ok) {
      for (size_t i = 0; i < n; i++) adj[i] = y[i] / figure[i % (size_t)m];
      for (int j = 0; j < h; j++) si_out[j] = figure[(n + (size_t)j) % (size_t)m];
      for (size_t i = 0; i < n; i++) ok &= isfinite(adj[i]);
      if (ok) return FC_ADJ_MULT;
    }
    if (fc_decompose(y, n, m, 0, figure) == 0) {
      for (size_t i = 0; i < n; i++) adj[i] = y[i] - figure[i % (size_t)m];
      for (int j = 0; j < h; j++) si_out[j] = figure[(n + (size_t)j) % (size_t)m];
      return FC_ADJ_ADD;
    }
    for (size_t i = 0; i < n; i++) adj[i] = y[i];
    for (int j = 0; j < h; j++) si_out[j] = 1;
    return FC_ADJ_FAILED;
  }
  for (size_t i = 0; i < n; i++) adj[i] = y[i];
  for (int j = 0; j < h; j++) si_out[j] = 1;
  return FC_ADJ_NONE;
}

void fc_m4_reseason(double *f, int h, const double *si, int mode) {
  for (int j = 0; j < h; j++) {
    if (mode == FC_ADJ_MULT) f[j] *= si[j];
    else if (mode == FC_ADJ_ADD) f[j] += si[j];
  }
}
