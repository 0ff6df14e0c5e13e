/* Simple exponential smoothing as the M4 benchmark fitted it:
 * forecast::ses(x, initial = "optimal") = ets(x, "ANN", opt.crit = "mse").
 * Parameters (alpha, l0) minimise the mean squared one-step error, started
 * where ets() starts (alpha = 1e-4 + 0.2 * 0.9998, l0 = mean of the first
 * min(10, n) values) and searched with the same Nelder-Mead path
 * (optim.c), within the "usual" bounds 1e-4 <= alpha <= 0.9999. */
#include <math.h>

#include "core/forecast/internal.h"

typedef struct {
  const double *y;
  size_t n;
} ses_ctx;

static double ses_mse(const double *x, void *vctx) {
  const ses_ctx *c = vctx;
  double alpha = x[0], l = x[1];
  if (!(alpha >= 1e-4 && alpha <= 0.9999)) return INFINITY;
  /* running mean, as ets' C code accumulates it */
  double amse = 0;
  for (size_t i = 0; i < c->n; i++) {
    double e = c->y[i] - l;
    amse = (amse * (double)i + e * e) / (double)(i + 1);
    l += alpha * e;
  }
  return amse;
}

double fc_ses_mse(const double *y, size_t n, double *alpha_out, double *fitted) {
  if (n == 0) return 0;
  size_t maxn = n < 10 ? n : 10;
  double s = 0;
  for (size_t i = 0; i < maxn; i++) s += y[i];
  double x[2] = {1e-4 + 0.2 * (0.9999 - 1e-4), s / (double)maxn};
  ses_ctx c = {y, n};
  fc_nelder_mead(ses_mse, &c, x, 2, 1.490116119384765625e-08, 2000, NULL);
  double alpha = x[0], l = x[1];
  for (size_t i = 0; i < n; i++) {
    if (fitted) fitted[i] = l;
    l += alpha * (y[i] - l);
  }
  if (alpha_out) *alpha_out = alpha;
  return l;
}
