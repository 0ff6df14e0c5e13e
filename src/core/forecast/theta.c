/* The Theta method as the M4 benchmark (Assimakopoulos & Nikolopoulos 2000;
 * M4 code Theta.classic): theta line 0 is the least-squares line through the
 * series, theta line 2 = 2 y - line 0 is extrapolated by SES (fc_ses_mse),
 * and the forecast is the equal-weight mean of both extrapolations. The
 * caller deseasonalises first (fc_m4_adjust). */
#include <stdlib.h>

#include "core/forecast/internal.h"

void fc_theta(const double *y, size_t n, int h, double *f) {
  if (n < 3) {
    fc_naive(y, n, h, f);
    return;
  }
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (size_t t = 0; t < n; t++) {
    double x = (double)(t + 1);
    sx += x, sy += y[t], sxx += x * x, sxy += x * y[t];
  }
  double b = ((double)n * sxy - sx * sy) / ((double)n * sxx - sx * sx);
  double a = (sy - b * sx) / (double)n;
  double *line2 = malloc(n * sizeof *line2);
  if (!line2) {
    fc_naive(y, n, h, f);
    return;
  }
  for (size_t t = 0; t < n; t++) line2[t] = 2 * y[t] - (a + b * (double)(t + 1));
  double level = fc_ses_mse(line2, n, NULL, NULL);
  free(line2);
  for (int j = 0; j < h; j++) f[j] = 0.5 * level + 0.5 * (a + b * (double)(n + (size_t)j + 1));
}
