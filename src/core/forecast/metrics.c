/* Forecast accuracy measures. sMAPE and MASE exactly as the M4 organisers
 * define them (Makridakis et al. 2020, eq. 1-2); RMSSE as in M5; WAPE, bias,
 * pinball loss and interval coverage. */
#include <math.h>

#include "merx/forecast.h"

double mx_metric_smape(const double *y, const double *f, size_t h) {
  double s = 0;
  for (size_t j = 0; j < h; j++) {
    double d = fabs(y[j]) + fabs(f[j]);
    s += d > 0 ? 200.0 * fabs(y[j] - f[j]) / d : 0;
  }
  return h ? s / (double)h : NAN;
}

static double scale_of(const double *x, size_t n, int m, int squared) {
  size_t lag = m > 1 ? (size_t)m : 1;
  if (n <= lag) return NAN;
  double s = 0;
  for (size_t t = lag; t < n; t++) {
    double d = x[t] - x[t - lag];
    s += squared ? d * d : fabs(d);
  }
  return s / (double)(n - lag);
}

double mx_metric_mase(const double *x, size_t n, int m, const double *y, const double *f,
                      size_t h) {
  double sc = scale_of(x, n, m, 0);
  if (!(sc > 0) || h == 0) return NAN;
  double s = 0;
  for (size_t j = 0; j < h; j++) s += fabs(y[j] - f[j]);
  return s / (double)h / sc;
}

double mx_metric_rmsse(const double *x, size_t n, int m, const double *y, const double *f,
                       size_t h) {
  double sc = scale_of(x, n, m, 1);
  if (!(sc > 0) || h == 0) return NAN;
  double s = 0;
  for (size_t j = 0; j < h; j++) s += (y[j] - f[j]) * (y[j] - f[j]);
  return sqrt(s / (double)h / sc);
}

double mx_metric_wape(const double *y, const double *f, size_t h) {
  double a = 0, b = 0;
  for (size_t j = 0; j < h; j++) {
    a += fabs(y[j] - f[j]);
    b += fabs(y[j]);
  }
  return b > 0 ? a / b : NAN;
}

double mx_metric_bias(const double *y, const double *f, size_t h) {
  double s = 0;
  for (size_t j = 0; j < h; j++) s += f[j] - y[j];
  return h ? s / (double)h : NAN;
}

double mx_metric_pinball(const double *y, const double *fq, double q, size_t h) {
  double s = 0;
  for (size_t j = 0; j < h; j++) {
    double d = y[j] - fq[j];
    s += d >= 0 ? q * d : (q - 1) * d;
  }
  return h ? s / (double)h : NAN;
}

double mx_metric_coverage(const double *y, const double *lo, const double *hi, size_t h) {
  size_t in = 0;
  for (size_t j = 0; j < h; j++)
    if (y[j] >= lo[j] && y[j] <= hi[j]) in++;
  return h ? (double)in / (double)h : NAN;
}
