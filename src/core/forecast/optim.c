/* Nelder-Mead simplex minimisation in the variant of Nash (1990), Compact
 * Numerical Methods for Computers, Algorithm 19 — the one R's optim() and the
 * forecast package's ets() use. Reproducing its exact sequence of steps
 * matters: the M4 SES benchmark was fitted with it, and a different simplex
 * path stops at a different point of a flat objective (forecasts differ in
 * the 4th digit). Steps: reflection (1), expansion (2), contraction (0.5),
 * shrink towards the best vertex; stop when the simplex' function values
 * span less than reltol * (|f0| + reltol). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/forecast/internal.h"

#define FC_BIG 1.0e35
#define FC_NM_MAXK 32

static double eval(fc_objective fn, void *ctx, const double *x) {
  double f = fn(x, ctx);
  return isfinite(f) ? f : FC_BIG;
}

double fc_nelder_mead(fc_objective fn, void *ctx, double *x, int k, double reltol, int maxit,
                      int *evals) {
  /* v[j][i]: vertex j (0..k), coordinate i; fv[j] its value; c the centroid. */
  double v[FC_NM_MAXK + 1][FC_NM_MAXK], fv[FC_NM_MAXK + 1], c[FC_NM_MAXK], t[FC_NM_MAXK];
  const double alpha = 1.0, beta = 0.5, gamma = 2.0;
  if (k > FC_NM_MAXK) k = FC_NM_MAXK;
  int count = 0;
  double f0 = eval(fn, ctx, x);
  count++;
  if (!(f0 < FC_BIG)) {
    if (evals) *evals = count;
    return f0;
  }
  double convtol = reltol * (fabs(f0) + reltol);
  double step = 0;
  for (int i = 0; i < k; i++)
    if (0.1 * fabs(x[i]) > step) step = 0.1 * fabs(x[i]);
  if (step == 0) step = 0.1;
  memcpy(v[0], x, (size_t)k * sizeof(double));
  fv[0] = f0;
  double size = 0;
  for (int j = 1; j <= k; j++) {
    memcpy(v[j], x, (size_t)k * sizeof(double));
    double trystep = step;
    while (v[j][j - 1] == x[j - 1]) {
      v[j][j - 1] = x[j - 1] + trystep;
      trystep *= 10;
    }
    size += trystep;
  }
  double oldsize = size;
  int best = 0, recompute = 1;
  for (;;) {
    if (recompute) {
      for (int j = 0; j <= k; j++)
        if (j != best) {
          fv[j] = eval(fn, ctx, v[j]);
          count++;
        }
      recompute = 0;
    }
    double vl = fv[best], vh = vl;
    int worst = best;
    for (int j = 0; j <= k; j++) {
      if (j == best) continue;
      if (fv[j] < vl) { best = j; vl = fv[j]; }
      if (fv[j] > vh) { worst = j; vh = fv[j]; }
    }
    if (vh <= vl + convtol) break;
    for (int i = 0; i < k; i++) {
      double s = -v[worst][i];
      for (int j = 0; j <= k; j++) s += v[j][i];
      c[i] = s / k;
    }
    for (int i = 0; i < k; i++) t[i] = (1 + alpha) * c[i] - alpha * v[worst][i];
    double fr = eval(fn, ctx, t);
    count++;
    if (fr < vl) {
      /* expansion: try further along the same direction */
      double e[FC_NM_MAXK];
      for (int i = 0; i < k; i++) e[i] = gamma * t[i] + (1 - gamma) * c[i];
      double fe = eval(fn, ctx, e);
      count++;
      if (fe < fr) {
        memcpy(v[worst], e, (size_t)k * sizeof(double));
        fv[worst] = fe;
      } else {
        memcpy(v[worst], t, (size_t)k * sizeof(double));
        fv[worst] = fr;
      }
    } else {
      if (fr < vh) {
        memcpy(v[worst], t, (size_t)k * sizeof(double));
        fv[worst] = fr;
      }
      for (int i = 0; i < k; i++) t[i] = (1 - beta) * v[worst][i] + beta * c[i];
      double fc = eval(fn, ctx, t);
      count++;
      if (fc < fv[worst]) {
        memcpy(v[worst], t, (size_t)k * sizeof(double));
        fv[worst] = fc;
      } else if (fr >= vh) {
        /* shrink towards the best vertex; stop when the simplex no longer shrinks */
        recompute = 1;
        size = 0;
        for (int j = 0; j <= k; j++) {
          if (j == best) continue;
          for (int i = 0; i < k; i++) {
            v[j][i] = beta * (v[j][i] - v[best][i]) + v[best][i];
            size += fabs(v[j][i] - v[best][i]);
          }
        }
        if (size < oldsize) oldsize = size;
        else break;
      }
    }
    if (count > maxit) break;
  }
  memcpy(x, v[best], (size_t)k * sizeof(double));
  if (evals) *evals = count;
  return fv[best];
}
