/* Naive, seasonal naive and the M4 seasonality test (Makridakis, Spiliotis &
 * Assimakopoulos 2020, benchmark code of the M4 competition). */
#include <math.h>

#include "core/forecast/internal.h"

void fc_naive(const double *y, size_t n, int h, double *f) {
  double last = n ? y[n - 1] : 0;
  for (int i = 0; i < h; i++) f[i] = last;
}

void fc_snaive(const double *y, size_t n, int m, int h, double *f) {
  if (m <= 1 || n < (size_t)m) {
    fc_naive(y, n, h, f);
    return;
  }
  for (int i = 0; i < h; i++) f[i] = y[n - (size_t)m + (size_t)(i % m)];
}

/* Autocorrelations as R's acf(): mean removed, denominators n. */
static double acf_at(const double *y, size_t n, double mean, double c0, int k) {
  double s = 0;
  for (size_t t = 0; t + (size_t)k < n; t++) s += (y[t] - mean) * (y[t + (size_t)k] - mean);
  return (s / (double)n) / c0;
}

int fc_seasonality_test(const double *y, size_t n, int m) {
  if (m <= 1 || n < 3 * (size_t)m) return 0;
  /* R's acf() stops at lag.max = floor(10 log10 n): beyond it acf(m) is NA,
   * which the M4 code treats as "not seasonal". */
  long lag_max = (long)floor(10.0 * log10((double)n));
  if (lag_max > (long)n - 1) lag_max = (long)n - 1;
  if (lag_max < m) return 0;
  long double sum = 0;
  for (size_t t = 0; t < n; t++) sum += y[t];
  double mean = (double)(sum / (long double)n);
  double c0 = 0;
  for (size_t t = 0; t < n; t++) c0 += (y[t] - mean) * (y[t] - mean);
  c0 /= (double)n;
  if (!(c0 > 0)) return 0;
  double cum = 1;
  for (int k = 1; k < m; k++) {
    double r = acf_at(y, n, mean, c0, k);
    cum += 2 * r * r;
  }
  double rm = acf_at(y, n, mean, c0, m);
  double limit = 1.645 / sqrt((double)n) * sqrt(cum);
  return fabs(rm) > limit;
}
