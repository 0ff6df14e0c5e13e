/* The ETS state-space family of exponential smoothing (Hyndman, Koehler,
 * Ord & Snyder 2008, "Forecasting with Exponential Smoothing", Table 2.2 and
 * ch. 5-7): error A|M, trend N|A|Ad, season N|A|M, fitted by maximum
 * likelihood and compared by AICc.
 *
 * Estimation: alpha, beta, gamma, phi, the initial level and the initial
 * trend are optimised by Nelder-Mead on a bounded transform (so the "usual"
 * region 0 < beta < alpha < 1, 0 < gamma < 1 - alpha, 0.8 <= phi <= 0.98
 * always holds). The m initial seasonal states start from a classical
 * decomposition of the first three seasons (R's initstate()) and are then
 * optimised too, as R's ets() does, but not by the simplex (m = 24 would
 * give it 29 dimensions): simplex runs alternate with Levenberg-Marquardt
 * steps on all initial states at fixed smoothing parameters, whose Jacobian
 * comes from carrying d(state)/d(initial states) through the recursions.
 * Seasonal states are kept normalised to mean 0 (additive) or 1
 * (multiplicative); m - 1 of them count as parameters in the AICc.
 *
 * -2 log L (up to a constant, eq. 5.3 / 5.4):
 *   additive error:        n log(sum e_t^2)
 *   multiplicative error:  n log(sum e_t^2) + 2 sum log |yhat_t|, e_t relative. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/forecast/internal.h"

#define ETS_LO 1e-4
#define ETS_HI 0.9999
#define PHI_LO 0.8
#define PHI_HI 0.98
/* model selection compares candidates fitted to a loose tolerance (one
 * Nelder-Mead run, 1e-4); the AICc winner is then refitted to 1e-7. On M4
 * Hourly this halves the time of auto at an OWA cost of 0.002. */
#define CAND_TOL 1e-4
/* A fit is "stuck" when its last max(STUCK_K, m) one-step fitted values all
 * miss the data on one side by more than a factor 2 (fc_ets_fit.stuck). */
#define STUCK_K 4
/* Effort of a candidate fit (model selection) and of the final fit:
 * alternation rounds of simplex and Levenberg-Marquardt on the initial
 * states, accepted LM steps per round, and starting points. On M4 Hourly
 * (every 4th series) more candidate effort changed OWA by less than its
 * run-to-run spread between optimisers (0.002-0.01) at up to 3x the time. */
#define CAND_ROUNDS 1
#define CAND_LM 3
#define CAND_STARTS 1
#define FINAL_ROUNDS 4
#define FINAL_LM 5
#define FINAL_STARTS 2

typedef struct {
  const double *y;
  size_t n;
  int error, trend, season, m;
  double scale;          /* typical |y|: the level parameters are optimised in units of it */
  const double *s_init;  /* [m] initial seasonal states (s_init[0] is used at t = 0) */
  int k;                 /* number of optimised coordinates */
} ets_ctx;

static double sigmoid(double u) { return 1.0 / (1.0 + exp(-u)); }
static double logit(double p) { return log(p / (1 - p)); }

/* Map optimiser coordinates to parameters within the usual bounds. */
static void unpack(const ets_ctx *c, const double *x, double *alpha, double *beta, double *gamma,
                   double *phi, double *l0, double *b0) {
  int i = 0;
  *alpha = ETS_LO + (ETS_HI - ETS_LO) * sigmoid(x[i++]);
  *beta = *gamma = 0;
  *phi = 1;
  if (c->trend != FC_T_N) *beta = ETS_LO + (*alpha - ETS_LO) * sigmoid(x[i++]);
  if (c->season != FC_S_N) *gamma = ETS_LO + (1 - *alpha - ETS_LO) * sigmoid(x[i++]);
  if (c->trend == FC_T_AD) *phi = PHI_LO + (PHI_HI - PHI_LO) * sigmoid(x[i++]);
  *l0 = x[i++] * c->scale;
  *b0 = c->trend != FC_T_N ? x[i++] * c->scale * 0.1 : 0;
}

/* Run the recursions. Returns -2 log L (or INFINITY when a multiplicative
 * model leaves the positive region). Final states go to out when not NULL. */
static double ets_run(const ets_ctx *c, double alpha, double beta, double gamma, double phi,
                      double l, double b, double *sse_out, fc_ets_fit *out) {
  int m = c->season != FC_S_N ? c->m : 1;
  double s[400];
  if (c->season != FC_S_N) memcpy(s, c->s_init, (size_t)m * sizeof(double));
  double sse = 0, sumlog = 0, prod = 1;
  long sumexp = 0;
  int mult_e = c->error == FC_E_M;
  int si = -1; /* position in the seasonal cycle, a counter (no division per step) */
  /* the last STUCK_K one-step errors: sums of actuals and fitted values, and
   * whether they all have one sign (for fc_ets_fit.stuck) */
  size_t stuck_k = m > STUCK_K ? (size_t)m : STUCK_K; /* a whole cycle when seasonal */
  size_t tail = c->n > stuck_k ? c->n - stuck_k : 0;
  double tail_y = 0, tail_fit = 0;
  int tail_pos = 0, tail_neg = 0;
  for (size_t t = 0; t < c->n; t++) {
    double pb = c->trend == FC_T_N ? 0 : phi * b; /* damped (or plain) trend term */
    double lp = l + pb;                           /* level forecast */
    if (++si == m) si = 0;
    double st = c->season != FC_S_N ? s[si] : 0;
    double yhat = c->season == FC_S_A ? lp + st : c->season == FC_S_M ? lp * st : lp;
    double e;
    if (mult_e) {
      if (!(yhat > 0)) return INFINITY;
      e = (c->y[t] - yhat) / yhat;
      /* sum log yhat as the log of a running product, renormalised by
       * frexp so it never overflows: one log per 32 steps instead of 32 */
      prod *= yhat;
      if ((t & 31) == 31) {
        int ex;
        prod = frexp(prod, &ex);
        sumexp += ex;
      }
    } else {
      e = c->y[t] - yhat;
    }
    if (out && t >= tail) {
      tail_y += c->y[t], tail_fit += yhat;
      tail_pos += c->y[t] > yhat, tail_neg += c->y[t] < yhat;
    }
    sse += e * e;
    /* state updates in error-correction form (fpp2 Table 7.8) */
    if (!mult_e) {
      if (c->season == FC_S_M) {
        if (!(st > 0) || !(lp > 0)) return INFINITY;
        l = lp + alpha * e / st;
        b = pb + beta * e / st;
        s[si] = st + gamma * e / lp;
      } else {
        l = lp + alpha * e;
        b = pb + beta * e;
        if (c->season == FC_S_A) s[si] = st + gamma * e;
      }
    } else {
      if (c->season == FC_S_A) {
        l = lp + alpha * yhat * e;
        b = pb + beta * yhat * e;
        s[si] = st + gamma * yhat * e;
      } else if (c->season == FC_S_M) {
        l = lp * (1 + alpha * e);
        b = pb + beta * lp * e;
        s[si] = st * (1 + gamma * e);
      } else {
        l = lp * (1 + alpha * e);
        b = pb + beta * lp * e;
      }
      if (!(l > 0)) return INFINITY;
    }
    if (!isfinite(l)) return INFINITY;
  }
  if (mult_e) sumlog = log(prod) + (double)sumexp * 0.69314718055994530942;
  if (sse_out) *sse_out = sse;
  if (out) {
    out->l = l;
    out->b = b;
    /* stuck: every one of the last max(STUCK_K, m) fitted values misses on the same
     * side by more than a factor 2 in total, i.e. the fit did not follow a
     * level shift */
    size_t k = c->n - tail;
    out->stuck = k == stuck_k && ((tail_pos == (int)k && tail_y > 2 * fabs(tail_fit)) ||
                                  (tail_neg == (int)k && tail_fit > 2 * fabs(tail_y)));
    /* rotate so s[0] is the state used at time n */
    for (int j = 0; j < m && c->season != FC_S_N; j++) out->s[j] = s[(c->n + (size_t)j) % (size_t)m];
  }
  if (!(sse > 0)) sse = 1e-300;
  return (double)c->n * log(sse) + 2 * sumlog;
}

static double ets_objective(const double *x, void *vctx) {
  const ets_ctx *c = vctx;
  double alpha, beta, gamma, phi, l0, b0;
  unpack(c, x, &alpha, &beta, &gamma, &phi, &l0, &b0);
  return ets_run(c, alpha, beta, gamma, phi, l0, b0, NULL, NULL);
}

/* Cholesky solve of (A + lambda diag(A)) x = -g in place of x (A: p x p,
 * upper triangle used). Returns -1 when not positive definite. */
static int damped_solve(const double *A, const double *g, int p, double lambda, double *L,
                        double *x) {
  for (int i = 0; i < p; i++)
    for (int j = i; j < p; j++) {
      double v = A[i * p + j];
      if (i == j) v += lambda * A[i * p + i] + 1e-12 * (A[i * p + i] + 1e-300);
      L[j * p + i] = v; /* lower triangle of the damped matrix */
    }
  for (int j = 0; j < p; j++) {
    double d = L[j * p + j];
    for (int k = 0; k < j; k++) d -= L[j * p + k] * L[j * p + k];
    if (!(d > 0)) return -1;
    d = sqrt(d);
    L[j * p + j] = d;
    for (int i = j + 1; i < p; i++) {
      double v = L[i * p + j];
      for (int k = 0; k < j; k++) v -= L[i * p + k] * L[j * p + k];
      L[i * p + j] = v / d;
    }
  }
  for (int i = 0; i < p; i++) {
    double v = -g[i];
    for (int k = 0; k < i; k++) v -= L[i * p + k] * x[k];
    x[i] = v / L[i * p + i];
  }
  for (int i = p - 1; i >= 0; i--) {
    double v = x[i];
    for (int k = i + 1; k < p; k++) v -= L[k * p + i] * x[k];
    x[i] = v / L[i * p + i];
  }
  return 0;
}

/* The normal equations of -2 log L in the initial states x0 = (l0[, b0],
 * s_0..s_{m-1}) at fixed smoothing parameters: one pass of the recursions
 * that carries d(state)/d(x0) alongside the states (forward mode), and
 * accumulates the Gauss-Newton matrix A = J'J of the one-step errors e_t
 * (relative for multiplicative error) and the half gradient g. For additive
 * error -2 log L = n log(sum e^2), so g = J'e; for multiplicative error the
 * 2 sum log yhat term adds (sum e^2 / n) sum d(yhat)/d(x0) / yhat. With
 * additive components the errors are linear in x0 and one step is exact.
 * Returns -1 outside the model's region. */
static int state_normal_eqs(const ets_ctx *c, double alpha, double beta, double gamma, double phi,
                            double l, double b, const double *s0, int p, double *work, double *A,
                            double *g) {
  int m = c->m, hasb = c->trend != FC_T_N, off = 1 + hasb;
  int mult_e = c->error == FC_E_M, seas = c->season;
  double s[400];
  memcpy(s, s0, (size_t)m * sizeof(double));
  double *dl = work, *db = dl + p, *dlp = db + p, *de = dlp + p, *dy = de + p, *sdy = dy + p,
         *ds = sdy + p; /* ds: m x p */
  memset(work, 0, (size_t)p * (6 + (size_t)m) * sizeof(double));
  memset(A, 0, (size_t)p * (size_t)p * sizeof(double));
  memset(g, 0, (size_t)p * sizeof(double));
  dl[0] = 1;
  if (hasb) db[1] = 1;
  for (int j = 0; j < m; j++) ds[j * p + off + j] = 1;
  double sse = 0;
  int si = -1;
  for (size_t t = 0; t < c->n; t++) {
    double pb = hasb ? phi * b : 0, lp = l + pb;
    if (++si == m) si = 0;
    double st = s[si], *dst = ds + si * p;
    double yhat = seas == FC_S_A ? lp + st : lp * st;
    for (int i = 0; i < p; i++) dlp[i] = dl[i] + (hasb ? phi * db[i] : 0);
    if (seas == FC_S_A)
      for (int i = 0; i < p; i++) dy[i] = dlp[i] + dst[i];
    else
      for (int i = 0; i < p; i++) dy[i] = st * dlp[i] + lp * dst[i];
    double e, dedy;
    if (mult_e) {
      if (!(yhat > 0)) return -1;
      e = (c->y[t] - yhat) / yhat;
      dedy = -c->y[t] / (yhat * yhat);
      for (int i = 0; i < p; i++) sdy[i] += dy[i] / yhat;
    } else {
      e = c->y[t] - yhat;
      dedy = -1;
    }
    for (int i = 0; i < p; i++) de[i] = dedy * dy[i];
    sse += e * e;
    for (int i = 0; i < p; i++) {
      double di = de[i];
      if (di == 0) continue;
      g[i] += e * di;
      double *Ai = A + i * p;
      for (int j = i; j < p; j++) Ai[j] += di * de[j];
    }
    /* derivatives of the updates (fpp2 Table 7.8), then the updates */
    if (!mult_e && seas == FC_S_M) {
      if (!(st > 0) || !(lp > 0)) return -1;
      for (int i = 0; i < p; i++) {
        double q = de[i] / st - e * dst[i] / (st * st);
        double dsn = dst[i] + gamma * (de[i] / lp - e * dlp[i] / (lp * lp));
        dl[i] = dlp[i] + alpha * q;
        if (hasb) db[i] = phi * db[i] + beta * q;
        dst[i] = dsn;
      }
      l = lp + alpha * e / st;
      b = pb + beta * e / st;
      s[si] = st + gamma * e / lp;
    } else if (!mult_e || seas == FC_S_A) {
      /* additive season (either error) or additive error: updates linear in y - yhat */
      double *dd = mult_e ? dy : de;
      double sg = mult_e ? -1 : 1, u = mult_e ? c->y[t] - yhat : e;
      for (int i = 0; i < p; i++) {
        double q = sg * dd[i];
        dl[i] = dlp[i] + alpha * q;
        if (hasb) db[i] = phi * db[i] + beta * q;
        dst[i] += gamma * q;
      }
      l = lp + alpha * u;
      b = pb + beta * u;
      s[si] = st + gamma * u;
    } else {
      for (int i = 0; i < p; i++) {
        double dln = dlp[i] * (1 + alpha * e) + lp * alpha * de[i];
        if (hasb) db[i] = phi * db[i] + beta * (dlp[i] * e + lp * de[i]);
        dst[i] = dst[i] * (1 + gamma * e) + st * gamma * de[i];
        dl[i] = dln;
      }
      b = pb + beta * lp * e;
      l = lp * (1 + alpha * e);
      s[si] = st * (1 + gamma * e);
      if (!(l > 0)) return -1;
    }
    if (!isfinite(l)) return -1;
  }
  if (mult_e)
    for (int i = 0; i < p; i++) g[i] += sse / (double)c->n * sdy[i];
  return 0;
}

/* Put the seasonal states back on their normalisation (mean 0 additive,
 * mean 1 multiplicative, as R's ets()), moving the level to compensate. */
static void normalise_states(int season, double *l0, double *b0, double *s, int m) {
  double mean = 0;
  for (int j = 0; j < m; j++) mean += s[j];
  mean /= m;
  if (season == FC_S_A) {
    for (int j = 0; j < m; j++) s[j] -= mean;
    *l0 += mean;
  } else if (mean > 0) {
    for (int j = 0; j < m; j++) s[j] /= mean;
    *l0 *= mean, *b0 *= mean;
  }
}

/* Levenberg-Marquardt on the initial states at fixed smoothing parameters:
 * at most iters accepted steps. c->s_init must point at s (updated in
 * place), *l0 / *b0 too. Returns the new -2 log L (lik when nothing better). */
static double refine_states(ets_ctx *c, double alpha, double beta, double gamma, double phi,
                            double *l0, double *b0, double *s, double lik, int iters) {
  int m = c->m, hasb = c->trend != FC_T_N, off = 1 + hasb, p = off + m;
  double *mem = malloc(((size_t)p * (6 + (size_t)m) + 2 * (size_t)p * (size_t)p + 3 * (size_t)p +
                        (size_t)m) * sizeof(double));
  if (!mem) return lik;
  double *work = mem, *A = work + (size_t)p * (6 + (size_t)m), *L = A + (size_t)p * (size_t)p,
         *g = L + (size_t)p * (size_t)p, *dx = g + p, *trial = dx + p;
  double lambda = 1e-4;
  const double *keep = c->s_init;
  for (int it = 0; it < iters; it++) {
    if (state_normal_eqs(c, alpha, beta, gamma, phi, *l0, *b0, s, p, work, A, g) != 0) break;
    int accepted = 0;
    for (int tries = 0; tries < 6 && !accepted; tries++, lambda *= 10) {
      if (damped_solve(A, g, p, lambda, L, dx) != 0) continue;
      double nl0 = *l0 + dx[0], nb0 = hasb ? *b0 + dx[1] : 0;
      for (int j = 0; j < m; j++) trial[j] = s[j] + dx[off + j];
      normalise_states(c->season, &nl0, &nb0, trial, m);
      c->s_init = trial;
      double nlik = ets_run(c, alpha, beta, gamma, phi, nl0, nb0, NULL, NULL);
      c->s_init = keep;
      if (nlik < lik) {
        accepted = 1;
        double gain = lik - nlik;
        lik = nlik, *l0 = nl0, *b0 = nb0;
        memcpy(s, trial, (size_t)m * sizeof(double));
        lambda = fmax(lambda / 100, 1e-8);
        if (gain < 1e-6 * fabs(lik)) it = iters; /* converged */
      }
    }
    if (!accepted) break;
  }
  free(mem);
  return lik;
}

static int fit_model(const double *y, size_t n, int error, int trend, int season, int m,
                     int restarts, double tol, int rounds, int lm_iters, int nstarts,
                     fc_ets_fit *fit) {
  memset(fit, 0, sizeof *fit);
  if (season == FC_S_N) m = 1;
  if (m > 400 || n < 4) return -1;
  int positive = 1;
  double scale = 0;
  for (size_t t = 0; t < n; t++) {
    if (!(y[t] > 0)) positive = 0;
    scale += fabs(y[t]);
  }
  scale /= (double)n;
  if (!(scale > 0)) scale = 1;
  if ((error == FC_E_M || season == FC_S_M) && !positive) return -1;
  /* free parameters: smoothing + l0 (+ b0) + phi; the m-1 seasonal states count too */
  int k = 2 + (trend != FC_T_N) * 2 + (season != FC_S_N) + (trend == FC_T_AD);
  int np = k + 1 + (season != FC_S_N ? m - 1 : 0);
  if ((size_t)np + 2 >= n) return -1;

  double s_init[400];
  double *ysa = malloc(n * sizeof *ysa);
  if (!ysa) return -1;
  if (season != FC_S_N) {
    /* R's initstate(): decompose the first three seasons only (all of them
     * when shorter); multiplicative indexes floored at 0.01 */
    size_t nd = n >= 3 * (size_t)m ? 3 * (size_t)m : n;
    if (lm_iters <= 0) nd = n; /* fixed seasonal states: the whole series' average pattern */
    if (n < 2 * (size_t)m + 2 || fc_decompose(y, nd, m, season == FC_S_M, s_init) != 0) {
      free(ysa);
      return -1;
    }
    if (season == FC_S_M)
      for (int j = 0; j < m; j++) s_init[j] = fmax(s_init[j], 1e-2);
    for (size_t t = 0; t < n; t++)
      ysa[t] = season == FC_S_M ? y[t] / s_init[t % (size_t)m] : y[t] - s_init[t % (size_t)m];
  } else {
    memcpy(ysa, y, n * sizeof *ysa);
  }
  /* initial level (and trend): least squares line through the first values
   * of the adjusted series, as R's initstate() */
  size_t maxn = (size_t)(2 * m > 10 ? 2 * m : 10);
  if (maxn > n) maxn = n;
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (size_t t = 0; t < maxn; t++) {
    double xt = (double)(t + 1);
    sx += xt, sy += ysa[t], sxx += xt * xt, sxy += xt * ysa[t];
  }
  double slope = (maxn * sxy - sx * sy) / (maxn * sxx - sx * sx);
  double icpt = (sy - slope * sx) / (double)maxn;
  double l0 = trend == FC_T_N ? sy / (double)maxn : icpt, b0 = trend == FC_T_N ? 0 : slope;
  free(ysa);
  if ((error == FC_E_M || season == FC_S_M) && !(l0 > 0)) l0 = scale;

  ets_ctx c = {y, n, error, trend, season, m, scale, s_init, k};
  /* starting points of the smoothing parameters: alpha = 0.1 + 0.1 / m, and
   * R's initparam() (alpha = 0.2 / m, phi 0.978) for a second start where
   * the likelihood has several optima (AirPassengers' damped ETS(M,Ad,M)) */
  double x[8] = {0}, bx[8] = {0}, bs[400], best = INFINITY;
  for (int st = 0; st < nstarts; st++) {
    double sl0 = l0, sb0 = b0, ss[400];
    memcpy(ss, s_init, (size_t)(season != FC_S_N ? m : 0) * sizeof(double));
    c.s_init = ss;
    int i = 0;
    double a0 = st == 0 ? 0.1 + 0.1 / m : ETS_LO + 0.2 * (ETS_HI - ETS_LO) / m;
    x[i++] = logit((a0 - ETS_LO) / (ETS_HI - ETS_LO));
    if (trend != FC_T_N) x[i++] = logit(0.1);
    if (season != FC_S_N) x[i++] = logit(0.05);
    if (trend == FC_T_AD) x[i++] = logit(st == 0 ? 0.9 : 0.99);
    int il = i;
    x[i++] = sl0 / scale;
    if (trend != FC_T_N) x[i++] = sb0 / (scale * 0.1);
    double cur = ets_objective(x, &c);
    if (!isfinite(cur)) {
      /* start at the data mean when the regression start is infeasible */
      x[il] = 1.0;
      if (trend != FC_T_N) x[il + 1] = 0;
      cur = ets_objective(x, &c);
    }
    if (isfinite(cur) && season != FC_S_N && lm_iters > 0 && st == 1) {
      /* fit the initial states to the starting smoothing parameters first:
       * otherwise the simplex raises gamma to mend poor seasonal states and
       * stays in that basin */
      double alpha, beta, gamma, phi;
      unpack(&c, x, &alpha, &beta, &gamma, &phi, &sl0, &sb0);
      cur = refine_states(&c, alpha, beta, gamma, phi, &sl0, &sb0, ss, cur, lm_iters);
      x[il] = sl0 / scale;
      if (trend != FC_T_N) x[il + 1] = sb0 / (scale * 0.1);
    }
    /* restarts from the optimum: Nelder-Mead stalls on ridges otherwise.
     * Seasonal models alternate the simplex over the smoothing parameters,
     * l0 and b0 with Levenberg-Marquardt steps on all initial states (the m
     * seasonal ones included), until a round gains less than 10 tol. */
    for (int round = 0; round < rounds; round++) {
      double before = cur;
      for (int r = 0; r < restarts; r++)
        cur = fc_nelder_mead(ets_objective, &c, x, k, tol, 300 * k, NULL);
      if (!isfinite(cur) || season == FC_S_N || lm_iters <= 0) break;
      double alpha, beta, gamma, phi;
      unpack(&c, x, &alpha, &beta, &gamma, &phi, &sl0, &sb0);
      double nb = refine_states(&c, alpha, beta, gamma, phi, &sl0, &sb0, ss, cur, lm_iters);
      if (!(nb < cur)) break;
      x[il] = sl0 / scale;
      if (trend != FC_T_N) x[il + 1] = sb0 / (scale * 0.1);
      cur = nb;
      if (round > 0 && before - cur < tol * 10 * fabs(cur)) break;
    }
    if (cur < best) {
      best = cur;
      memcpy(bx, x, sizeof x);
      memcpy(bs, ss, (size_t)(season != FC_S_N ? m : 0) * sizeof(double));
    }
    if (season == FC_S_N) break; /* one start: the non-seasonal fits match R already */
  }
  memcpy(x, bx, sizeof x);
  memcpy(s_init, bs, (size_t)(season != FC_S_N ? m : 0) * sizeof(double));
  c.s_init = s_init;
  if (!isfinite(best)) return -1;

  double alpha, beta, gamma, phi;
  unpack(&c, x, &alpha, &beta, &gamma, &phi, &l0, &b0);
  fit->error = error, fit->trend = trend, fit->season = season, fit->m = m;
  fit->alpha = alpha, fit->beta = beta, fit->gamma = gamma, fit->phi = phi;
  double sse = 0;
  fit->lik = ets_run(&c, alpha, beta, gamma, phi, l0, b0, &sse, fit);
  fit->nparams = np;
  fit->sigma2 = sse / (double)((size_t)n - (size_t)k);
  fit->aicc = fit->lik + 2.0 * np + 2.0 * np * (np + 1) / (double)((long)n - np - 1);
  return 0;
}

int fc_ets_fit_model(const double *y, size_t n, int error, int trend, int season, int m,
                     fc_ets_fit *fit) {
  return fit_model(y, n, error, trend, season, m, 2, 1e-7, FINAL_ROUNDS, FINAL_LM, FINAL_STARTS,
                   fit);
}

int fc_ets_auto(const double *y, size_t n, int m, int only_trend, int only_season, int flags,
                fc_ets_fit *best) {
  int found = 0, found_stuck = 0;
  fc_ets_fit f, best_stuck;
  int fixed = (flags & FC_ETS_FIXED_SEASON) != 0;
  for (int season = FC_S_N; season <= FC_S_M; season++) {
    if (only_season >= 0 && season != only_season) continue;
    if (season != FC_S_N && m <= 1) continue;
    for (int trend = FC_T_N; trend <= FC_T_AD; trend++) {
      if (only_trend >= 0 && trend != only_trend) continue;
      /* no undamped trend (FC_ETS_DAMPED): a linear trend fitted by maximum
       * likelihood wins AICc on many hourly series and runs away over a
       * long horizon (see fc_ets_auto in internal.h) */
      if ((flags & FC_ETS_DAMPED) && trend == FC_T_A && only_trend < 0) continue;
      for (int error = FC_E_A; error <= FC_E_M; error++) {
        /* additive error with multiplicative season is numerically unstable
         * (Hyndman et al. 2008, sec. 15.4); R's ets() leaves it out too */
        if (error == FC_E_A && season == FC_S_M) continue;
        /* one Nelder-Mead run per candidate; the winner gets the full fit below */
        if (fit_model(y, n, error, trend, season, m, 1, CAND_TOL, CAND_ROUNDS, fixed ? 0 : CAND_LM,
                      CAND_STARTS, &f) != 0)
          continue;
        /* a fit that never reached the recent level loses to any that did,
         * whatever its AICc: the multiplicative-error likelihood can prefer
         * a few huge relative errors to following a level shift (a product
         * jumping from ~14 to thousands a week kept forecasting ~14) */
        if (f.stuck) {
          if (!found_stuck || f.aicc < best_stuck.aicc) best_stuck = f;
          found_stuck = 1;
          continue;
        }
        if (!found || f.aicc < best->aicc) {
          *best = f;
          found = 1;
        }
      }
    }
  }
  if (!found && !found_stuck) return -1;
  if (!found) *best = best_stuck;
  if (fit_model(y, n, best->error, best->trend, best->season, m, 2, 1e-7, fixed ? 1 : FINAL_ROUNDS,
                fixed ? 0 : FINAL_LM, fixed ? 1 : FINAL_STARTS, &f) == 0 &&
      f.aicc <= best->aicc && (!f.stuck || !found))
    *best = f;
  return 0;
}

void fc_ets_forecast(const fc_ets_fit *fit, int h, double *f, double *sigma, double *cum_sigma) {
  int m = fit->m > 0 ? fit->m : 1;
  double phi_h = 0, phik = 1;
  /* c_j of Hyndman et al. (2008) Table 6.1, class 1: c_j = alpha + beta phi_j + gamma d_{j,m} */
  double sum_c2 = 0;
  double *cj = cum_sigma ? malloc((size_t)h * sizeof *cj) : NULL;
  for (int j = 1; j <= h; j++) {
    if (fit->trend == FC_T_AD) {
      phik *= fit->phi;
      phi_h += phik;
    } else if (fit->trend == FC_T_A) {
      phi_h += 1;
    }
    double lp = fit->l + phi_h * fit->b;
    double st = fit->season != FC_S_N ? fit->s[(j - 1) % m] : 0;
    f[j - 1] = fit->season == FC_S_A ? lp + st : fit->season == FC_S_M ? lp * st : lp;
    if (sigma) {
      double sd = sqrt(fit->sigma2 * (1 + sum_c2));
      /* relative errors scale with the forecast (first-order approximation) */
      if (fit->error == FC_E_M) sd *= fabs(f[j - 1]);
      sigma[j - 1] = sd;
      double c = fit->alpha + fit->beta * phi_h + (fit->season != FC_S_N && j % m == 0 ? fit->gamma : 0);
      sum_c2 += c * c;
      if (cj) cj[j - 1] = c;
    }
  }
  if (cum_sigma && sigma && cj) {
    /* error of the sum of the first H forecasts: coefficient of the
     * innovation at step i is 1 + sum_{j=1}^{H-i} c_j */
    for (int H = 1; H <= h; H++) {
      double cum_c = 0, cum_var = 0;
      for (int i = H; i >= 1; i--) {
        double coef = 1 + cum_c;
        double scale = fit->error == FC_E_M ? fabs(f[i - 1]) : 1;
        cum_var += coef * coef * scale * scale;
        if (H - i + 1 <= h) cum_c += cj[H - i];
      }
      cum_sigma[H - 1] = sqrt(fit->sigma2 * cum_var);
    }
  }
  free(cj);
}

void fc_ets_name(const fc_ets_fit *fit, char *buf, size_t size) {
  static const char *tr[] = {"N", "A", "Ad"}, *se[] = {"N", "A", "M"};
  snprintf(buf, size, "ETS(%s,%s,%s)", fit->error == FC_E_M ? "M" : "A", tr[fit->trend],
           se[fit->season]);
}
