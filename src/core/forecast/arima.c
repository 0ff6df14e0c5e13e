/* Seasonal ARIMA(p,d,q)(P,D,Q)m, optionally with regressors (regression with
 * ARIMA errors, R's arima(xreg =)), and automatic order selection in the
 * Hyndman & Khandakar (2008) stepwise way of forecast::auto.arima:
 *   D: seasonal strength of a decomposition > 0.64 (auto.arima's default
 *      "seas" test; a classical moving-average decomposition in place of STL),
 *      only when the series is longer than two seasons,
 *   d: KPSS level-stationarity tests at 5% with lag trunc(3 sqrt(n) / 13)
 *      (ndiffs' default), at most 2 differences,
 *   p,q,P,Q: auto.arima's four starting models, the null model without a
 *      constant, then its stepwise moves in its order (seasonal moves first,
 *      back to the first move after each improvement, at most 94 models), by
 *      AICc, with a constant (mean, or drift when d + D = 1) allowed only
 *      when d + D <= 1. A model whose AR or MA polynomial has a root of
 *      modulus < 1.01 is rejected, as myarima().
 * Estimation as R's arima(method = "CSS-ML"): conditional sum of squares
 * first, then the exact Gaussian likelihood of the differenced series,
 * concentrated in sigma2, from a Kalman filter on the ARMA state space (the
 * state holds w_t and its 1..r-1 step predictions; the initial covariance is
 * the stationary one, from the ARMA autocovariances). As auto.arima, series
 * longer than 150 values or with a season above 12 are searched by CSS (AICc
 * from n log sigma2) and only the chosen model is refitted by exact ML (the
 * next best when it fails). Parameters are minimised by the Nelder-Mead of
 * optim.c; mean and regression coefficients move in units of 10 standard
 * errors of their least-squares start (R's parscale).
 * Forecasts: the filtered state propagated forward, regressor effects added,
 * then integrated; h-step variances sigma2 * sum psi_j^2 of the full
 * (integrated) model, exact once the filter has converged. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/forecast/internal.h"

#define FC_BIG 1.0e35

typedef struct actx {
  const double *w;  /* differenced series [n] */
  size_t n;
  const double *xd; /* differenced regressors, column-major [nx][n] */
  int nx;
  int p, q, P, Q, m, constant;
  int np, nq, r, k; /* expanded orders, state size, parameter count */
  double base[1 + FC_ARIMA_MAXX], scale[1 + FC_ARIMA_MAXX];
  double *u, *e, *ar, *ma, *psi, *gam, *A, *rhs, *Pm, *a, *b;
} actx;

static int narma(const actx *c) { return c->p + c->q + c->P + c->Q; }

/* The filter's buffers for a series of len values and a state of r (big:
 * the longest recursion); with_ml adds the exact likelihood's A and P.
 * 0, or -1 with whatever was allocated left for actx_release. */
static int actx_alloc(actx *c, size_t len, size_t big, int with_ml) {
  size_t r = (size_t)c->r, np1 = (size_t)c->np + 1;
  c->u = malloc(len * sizeof *c->u);
  c->e = malloc(len * sizeof *c->e);
  c->ar = calloc(np1, sizeof *c->ar);
  c->ma = calloc((size_t)c->nq + 1, sizeof *c->ma);
  c->psi = calloc(big, sizeof *c->psi);
  c->gam = calloc(big, sizeof *c->gam);
  c->rhs = calloc(big, sizeof *c->rhs);
  c->b = calloc(2 * big, sizeof *c->b);
  c->a = calloc(r, sizeof *c->a);
  c->A = with_ml ? malloc(np1 * np1 * sizeof *c->A) : NULL;
  c->Pm = with_ml ? malloc(r * r * sizeof *c->Pm) : NULL;
  return c->u && c->e && c->ar && c->ma && c->psi && c->gam && c->rhs && c->b && c->a &&
                 (!with_ml || (c->A && c->Pm))
             ? 0
             : -1;
}

static void actx_release(actx *c) {
  free(c->u), free(c->e), free(c->ar), free(c->ma), free(c->psi), free(c->gam), free(c->rhs);
  free(c->b), free(c->a), free(c->A), free(c->Pm);
}

/* Regression part (mean, then betas) from the optimiser's scaled values. */
static void reg_coefs(const actx *c, const double *x, double *out) {
  int o = narma(c), nr = c->constant + c->nx;
  for (int i = 0; i < nr; i++) out[i] = c->base[i] + c->scale[i] * x[o + i];
}

/* u_t = w_t - mu - sum beta_k xd_k(t). */
static void make_u(actx *c, const double *x) {
  double reg[1 + FC_ARIMA_MAXX];
  reg_coefs(c, x, reg);
  double mu = c->constant ? reg[0] : 0;
  const double *beta = reg + c->constant;
  for (size_t t = 0; t < c->n; t++) {
    double v = c->w[t] - mu;
    for (int k = 0; k < c->nx; k++) v -= beta[k] * c->xd[(size_t)k * c->n + t];
    c->u[t] = v;
  }
}

/* phi(B) Phi(B^m) = 1 - sum ar_k B^k; (1 + theta(B))(1 + Theta(B^m)) = 1 + sum ma_k B^k. */
static void expand(const actx *c, const double *x) {
  const double *phi = x, *theta = x + c->p, *Phi = x + c->p + c->q, *Th = Phi + c->P;
  int m = c->m;
  for (int k = 0; k < c->np; k++) c->ar[k] = 0;
  for (int i = 0; i < c->p; i++) c->ar[i] += phi[i];
  for (int j = 0; j < c->P; j++) {
    c->ar[(j + 1) * m - 1] += Phi[j];
    for (int i = 0; i < c->p; i++) c->ar[(j + 1) * m + i] -= Phi[j] * phi[i];
  }
  for (int k = 0; k < c->nq; k++) c->ma[k] = 0;
  for (int i = 0; i < c->q; i++) c->ma[i] += theta[i];
  for (int j = 0; j < c->Q; j++) {
    c->ma[(j + 1) * m - 1] += Th[j];
    for (int i = 0; i < c->q; i++) c->ma[(j + 1) * m + i] += Th[j] * theta[i];
  }
}

/* Every root of 1 - sum a_k B^k (k = 1..p) has modulus > rho: the Schur-Cohn
 * step-down on a_k rho^-k (all reflection coefficients inside the unit circle). */
static int roots_outside(const double *a, int p, double rho, double *work) {
  double *c = work, *t = work + p;
  double s = 1;
  int last = 0;
  for (int i = 0; i < p; i++) {
    s /= rho;
    c[i] = a[i] * s;
    if (fabs(a[i]) > 1e-8) last = i + 1; /* trailing zeros add no roots */
  }
  for (int k = last; k > 0; k--) {
    double r = c[k - 1];
    if (!(fabs(r) < 1)) return 0;
    double den = 1 - r * r;
    for (int i = 0; i < k - 1; i++) t[i] = (c[i] + r * c[k - 2 - i]) / den;
    memcpy(c, t, (size_t)(k - 1) * sizeof *c);
  }
  return 1;
}

static int ar_ok(actx *c, double rho) { return roots_outside(c->ar, c->np, rho, c->b); }

static int ma_ok(actx *c, double rho) {
  for (int i = 0; i < c->nq; i++) c->gam[i] = -c->ma[i];
  return roots_outside(c->gam, c->nq, rho, c->b);
}

/* Conditional sum of squares of u from t = np (R's CSS); residuals in c->e. */
static double css_ss(actx *c, size_t *used) {
  double ss = 0;
  size_t cnt = 0;
  for (size_t t = 0; t < c->n; t++) {
    if (t < (size_t)c->np) {
      c->e[t] = 0;
      continue;
    }
    double v = c->u[t];
    for (int i = 0; i < c->np; i++) v -= c->ar[i] * c->u[t - 1 - (size_t)i];
    for (int j = 0; j < c->nq && (size_t)j < t; j++) v -= c->ma[j] * c->e[t - 1 - (size_t)j];
    c->e[t] = v;
    ss += v * v;
    cnt++;
  }
  *used = cnt;
  return ss;
}

static double css_objective(const double *x, void *ctx) {
  actx *c = ctx;
  expand(c, x);
  make_u(c, x);
  size_t cnt;
  double ss = css_ss(c, &cnt);
  if (cnt == 0 || !(ss > 0) || !isfinite(ss)) return FC_BIG;
  return 0.5 * log(ss / (double)cnt);
}

/* psi weights psi[0..len) of the ARMA part (psi_0 = 1). */
static void arma_psi(const double *ar, int np, const double *ma, int nq, double *psi, int len) {
  for (int j = 0; j < len; j++) {
    double v = j == 0 ? 1 : (j <= nq ? ma[j - 1] : 0);
    for (int i = 1; i <= j && i <= np; i++) v += ar[i - 1] * psi[j - i];
    psi[j] = v;
  }
}

/* Autocovariances gam[0..r) of the ARMA with unit innovation variance:
 * gamma(k) - sum ar_j gamma(|k - j|) = sum_{j >= k} ma_j psi_{j-k} (ma_0 = 1),
 * solved for k = 0..np, then the recursion. Returns -1 if singular. */
static int arma_acov(actx *c) {
  int np = c->np, nq = c->nq, r = c->r;
  int kmax = np > nq ? np : nq;
  arma_psi(c->ar, np, c->ma, nq, c->psi, r + nq + 1);
  /* rhs[k] = sum_{j=k}^{nq} ma_j psi_{j-k} */
  for (int k = 0; k <= kmax; k++) {
    double s = 0;
    for (int j = k; j <= nq; j++) s += (j == 0 ? 1 : c->ma[j - 1]) * c->psi[j - k];
    c->rhs[k] = s;
  }
  int N = np + 1;
  double *A = c->A;
  memset(A, 0, (size_t)N * (size_t)N * sizeof *A);
  double *g = c->b; /* solution gamma(0..np) */
  for (int k = 0; k < N; k++) {
    A[(size_t)k * (size_t)N + (size_t)k] += 1;
    for (int j = 1; j <= np; j++) A[(size_t)k * (size_t)N + (size_t)abs(k - j)] -= c->ar[j - 1];
    g[k] = c->rhs[k];
  }
  /* Gaussian elimination with partial pivoting */
  for (int col = 0; col < N; col++) {
    int piv = col;
    for (int i = col + 1; i < N; i++)
      if (fabs(A[(size_t)i * N + col]) > fabs(A[(size_t)piv * N + col])) piv = i;
    if (!(fabs(A[(size_t)piv * N + col]) > 1e-300)) return -1;
    if (piv != col) {
      for (int j = 0; j < N; j++) {
        double t = A[(size_t)col * N + j];
        A[(size_t)col * N + j] = A[(size_t)piv * N + j];
        A[(size_t)piv * N + j] = t;
      }
      double t = g[col];
      g[col] = g[piv];
      g[piv] = t;
    }
    double d = A[(size_t)col * N + col];
    for (int i = col + 1; i < N; i++) {
      double f = A[(size_t)i * N + col] / d;
      if (f == 0) continue;
      for (int j = col; j < N; j++) A[(size_t)i * N + j] -= f * A[(size_t)col * N + j];
      g[i] -= f * g[col];
    }
  }
  for (int i = N - 1; i >= 0; i--) {
    double s = g[i];
    for (int j = i + 1; j < N; j++) s -= A[(size_t)i * N + j] * g[j];
    g[i] = s / A[(size_t)i * N + i];
  }
  for (int k = 0; k < r; k++) {
    if (k < N) {
      c->gam[k] = g[k];
      continue;
    }
    double s = k <= kmax ? c->rhs[k] : 0;
    for (int j = 1; j <= np; j++) s += c->ar[j - 1] * c->gam[k - j];
    c->gam[k] = s;
  }
  return 0;
}

/* Kalman filter over u with the state (w_t, w_{t+1|t}, ..., w_{t+r-1|t}).
 * Sums ssq = sum v^2 / F and sumlog = sum log F; std residuals into c->e;
 * on return c->a holds the predicted state a_{n|n-1}. -1 when degenerate. */
static int kalman(actx *c, double *ssq_out, double *sumlog_out) {
  int r = c->r, np = c->np;
  if (arma_acov(c) != 0) return -1;
  double *P = c->Pm, *a = c->a, *b = c->b, *psi = c->psi;
  for (int i = 0; i < r; i++) {
    a[i] = 0;
    for (int j = 0; j <= i; j++) {
      double s = c->gam[i - j];
      for (int l = 1; l <= j; l++) s -= psi[i - l] * psi[j - l];
      P[(size_t)i * r + j] = P[(size_t)j * r + i] = s;
    }
  }
  double ssq = 0, sumlog = 0;
  int fast = 0;
  for (size_t t = 0; t < c->n; t++) {
    double v = c->u[t] - a[0];
    if (fast) {
      ssq += v * v;
      c->e[t] = v;
      for (int i = 0; i < r; i++) a[i] += psi[i] * v;
    } else {
      double F = P[0];
      if (!(F > 1e-12) || !isfinite(F)) return -1;
      ssq += v * v / F;
      sumlog += log(F);
      c->e[t] = v / sqrt(F);
      /* update: a += P[:,0] v / F; P -= P[:,0] P[0,:] / F */
      for (int i = 0; i < r; i++) b[i] = P[(size_t)i * r];
      double maxdiag = 0;
      for (int i = 0; i < r; i++) {
        a[i] += b[i] * v / F;
        double bi = b[i] / F;
        for (int j = 0; j < r; j++) P[(size_t)i * r + j] -= bi * b[j];
        if (P[(size_t)i * r + i] > maxdiag) maxdiag = P[(size_t)i * r + i];
      }
      if (maxdiag < 1e-10) fast = 1; /* the state is known: P stays psi psi' */
    }
    /* predict: a = T a */
    double last = 0;
    for (int j = 1; j <= np; j++) last += c->ar[j - 1] * a[r - j];
    memmove(a, a + 1, (size_t)(r - 1) * sizeof *a);
    a[r - 1] = last;
    if (!fast) {
      /* P = T P T' + psi psi': b[i] = sum_j ar_j P[i][r-j] */
      for (int i = 0; i < r; i++) {
        double s = 0;
        for (int j = 1; j <= np; j++) s += c->ar[j - 1] * P[(size_t)i * r + (size_t)(r - j)];
        b[i] = s;
      }
      double corner = 0;
      for (int j = 1; j <= np; j++) corner += c->ar[j - 1] * b[r - j];
      for (int i = 0; i + 1 < r; i++)
        for (int j = 0; j + 1 < r; j++) P[(size_t)i * r + j] = P[(size_t)(i + 1) * r + j + 1];
      for (int i = 0; i + 1 < r; i++) P[(size_t)i * r + (r - 1)] = P[(size_t)(r - 1) * r + i] = b[i + 1];
      P[(size_t)(r - 1) * r + (r - 1)] = corner;
      for (int i = 0; i < r; i++)
        for (int j = 0; j < r; j++) P[(size_t)i * r + j] += psi[i] * psi[j];
    }
  }
  *ssq_out = ssq;
  *sumlog_out = sumlog;
  return 0;
}

static double ml_objective(const double *x, void *ctx) {
  actx *c = ctx;
  expand(c, x);
  if (!ar_ok(c, 1.0) || !ma_ok(c, 1.0)) return FC_BIG;
  make_u(c, x);
  double ssq, sumlog;
  if (kalman(c, &ssq, &sumlog) != 0 || !(ssq > 0)) return FC_BIG;
  double nu = (double)c->n;
  return 0.5 * log(ssq / nu) + 0.5 * sumlog / nu;
}

/* Least squares of w on [1 if constant, xd]: start values and scales
 * (10 standard errors) of the regression part. -1 when collinear. */
static int reg_start(actx *c) {
  int nr = c->constant + c->nx;
  if (nr == 0) return 0;
  double XtX[(1 + FC_ARIMA_MAXX) * (1 + FC_ARIMA_MAXX)] = {0}, Xty[1 + FC_ARIMA_MAXX] = {0};
  double row[1 + FC_ARIMA_MAXX];
  for (size_t t = 0; t < c->n; t++) {
    int i = 0;
    if (c->constant) row[i++] = 1;
    for (int k = 0; k < c->nx; k++) row[i++] = c->xd[(size_t)k * c->n + t];
    for (int a = 0; a < nr; a++) {
      Xty[a] += row[a] * c->w[t];
      for (int b = 0; b < nr; b++) XtX[a * nr + b] += row[a] * row[b];
    }
  }
  /* Cholesky, then the inverse's diagonal for the standard errors */
  double L[(1 + FC_ARIMA_MAXX) * (1 + FC_ARIMA_MAXX)] = {0};
  for (int i = 0; i < nr; i++)
    for (int j = 0; j <= i; j++) {
      double s = XtX[i * nr + j];
      for (int k = 0; k < j; k++) s -= L[i * nr + k] * L[j * nr + k];
      if (i == j) {
        if (!(s > 1e-10 * (XtX[i * nr + i] + 1e-300))) return -1;
        L[i * nr + i] = sqrt(s);
      } else {
        L[i * nr + j] = s / L[j * nr + j];
      }
    }
  double z[1 + FC_ARIMA_MAXX], beta[1 + FC_ARIMA_MAXX];
  for (int i = 0; i < nr; i++) {
    double s = Xty[i];
    for (int k = 0; k < i; k++) s -= L[i * nr + k] * z[k];
    z[i] = s / L[i * nr + i];
  }
  for (int i = nr - 1; i >= 0; i--) {
    double s = z[i];
    for (int k = i + 1; k < nr; k++) s -= L[k * nr + i] * beta[k];
    beta[i] = s / L[i * nr + i];
  }
  double rss = 0;
  for (size_t t = 0; t < c->n; t++) {
    int i = 0;
    double fit = 0;
    if (c->constant) fit += beta[i++];
    for (int k = 0; k < c->nx; k++) fit += beta[i++] * c->xd[(size_t)k * c->n + t];
    rss += (c->w[t] - fit) * (c->w[t] - fit);
  }
  double s2 = c->n > (size_t)nr ? rss / (double)(c->n - (size_t)nr) : 0;
  for (int j = 0; j < nr; j++) {
    /* (X'X)^-1_jj = || L^-1 e_j ||^2 */
    double col[1 + FC_ARIMA_MAXX], ss = 0;
    for (int i = 0; i < nr; i++) {
      double s = i == j ? 1 : 0;
      for (int k = 0; k < i; k++) s -= L[i * nr + k] * col[k];
      col[i] = s / L[i * nr + i];
      ss += col[i] * col[i];
    }
    double se = sqrt(s2 * ss);
    c->base[j] = beta[j];
    c->scale[j] = se > 0 && isfinite(se) ? 10 * se : (fabs(beta[j]) > 0 ? fabs(beta[j]) : 1);
  }
  return 0;
}

static size_t difference(const double *y, size_t n, int d, int D, int m, double *w) {
  memcpy(w, y, n * sizeof *w);
  size_t len = n;
  for (int k = 0; k < D; k++) {
    if (len <= (size_t)m) return 0;
    for (size_t t = 0; t + (size_t)m < len; t++) w[t] = w[t + (size_t)m] - w[t];
    len -= (size_t)m;
  }
  for (int k = 0; k < d; k++) {
    if (len <= 1) return 0;
    for (size_t t = 0; t + 1 < len; t++) w[t] = w[t + 1] - w[t];
    len -= 1;
  }
  return len;
}

/* Fit one order to the differenced series (w, xd of length len). ml: 0 = CSS
 * only, 1 = CSS then exact ML, 2 = the same with looser tolerances (the ML
 * refit after a CSS search). Returns 0 with fit->aicc finite, or -1. */
static int fit_orders(const double *w, size_t len, const double *xd, int nx, int p, int q, int P,
                      int Q, int m, int constant, int ml, fc_arima_fit *fit) {
  actx c;
  memset(&c, 0, sizeof c);
  c.w = w, c.n = len, c.xd = xd, c.nx = nx;
  c.p = p, c.q = q, c.P = P, c.Q = Q, c.m = m, c.constant = constant;
  c.np = p + P * m, c.nq = q + Q * m;
  c.r = c.np > c.nq + 1 ? c.np : c.nq + 1;
  c.k = p + q + P + Q + constant + nx;
  int npar = c.k + 1;
  if (c.k > 31 || (size_t)c.np + (size_t)npar + 2 > len) return -1;
  size_t r = (size_t)c.r, big = r + (size_t)c.nq + (size_t)c.np + 2;
  int rc = -1;
  if (actx_alloc(&c, len, big, ml != 0) != 0) goto done;
  if (reg_start(&c) != 0) goto done;
  double x[32] = {0};
  int evals = 0;
  /* the CSS search of a long series (ml 0) and the start of its ML refit
   * (ml 2) only rank or seed: a looser tolerance */
  if (c.k > 0)
    fc_nelder_mead(css_objective, &c, x, c.k, ml == 1 ? 1e-8 : 1e-6, 500 * (c.k + 2), &evals);
  expand(&c, x);
  make_u(&c, x);
  size_t used;
  double ss = css_ss(&c, &used);
  if (used == 0 || !(ss > 0) || !isfinite(ss)) goto done;
  double nstar = (double)len, sigma2 = ss / (double)used, aic;
  double loglik = 0;
  if (ml) {
    /* R: the CSS estimates must be stationary to start ML */
    if (!roots_outside(x, p, 1.0, c.b) || !roots_outside(x + p + q, P, 1.0, c.b)) goto done;
    if (!ar_ok(&c, 1.0) || !ma_ok(&c, 1.0)) {
      /* an MA root inside: start ML from zero MA terms */
      for (int i = 0; i < q; i++) x[p + i] = 0;
      for (int i = 0; i < Q; i++) x[p + q + P + i] = 0;
    }
    /* recentre the regression part at the CSS values */
    double reg[1 + FC_ARIMA_MAXX];
    reg_coefs(&c, x, reg);
    for (int i = 0; i < constant + nx; i++) {
      c.base[i] = reg[i];
      x[narma(&c) + i] = 0;
    }
    double val = ml_objective(x, &c);
    if (c.k > 0) {
      /* a restart from the optimum: the simplex collapses early on ridges.
       * ml == 2 (the refit after a CSS search of a long series, where one
       * likelihood costs O(n r^2)): a looser tolerance and no restart, from
       * CSS estimates that are already close */
      double tol = ml == 2 ? 1e-6 : 1e-8;
      val = fc_nelder_mead(ml_objective, &c, x, c.k, tol, (ml == 2 ? 60 : 500) * (c.k + 2), &evals);
      for (int rs = 0; rs < (ml == 2 ? 0 : 2) && val < FC_BIG; rs++) {
        double v2 = fc_nelder_mead(ml_objective, &c, x, c.k, 1e-8, 100 * (c.k + 2) * 5, &evals);
        int better = v2 < val - 1e-7;
        val = v2 < val ? v2 : val;
        if (!better) break;
      }
    }
    if (!(val < FC_BIG)) goto done;
    expand(&c, x);
    make_u(&c, x);
    double ssq, sumlog;
    if (kalman(&c, &ssq, &sumlog) != 0) goto done;
    sigma2 = ssq / nstar;
    loglik = -0.5 * (2 * nstar * val + nstar + nstar * log(2 * M_PI));
    aic = -2 * loglik + 2 * npar;
    /* myarima: sigma2 from the residuals with npar - 1 degrees of freedom */
    double rs = 0;
    for (size_t t = 0; t < len; t++) rs += c.e[t] * c.e[t];
    if (nstar - npar + 1 > 0) sigma2 = rs / (nstar - npar + 1);
  } else {
    aic = nstar * log(sigma2) + 2 * npar;
    loglik = NAN;
  }
  /* myarima: reject roots of modulus < 1.01 */
  expand(&c, x);
  if (!ar_ok(&c, 1.01) || !ma_ok(&c, 1.01)) goto done;
  if (!(nstar - npar - 1 > 0) || !isfinite(aic)) goto done;
  memset(fit, 0, sizeof *fit);
  fit->p = p, fit->q = q, fit->P = P, fit->Q = Q, fit->m = m, fit->constant = constant;
  fit->nx = nx, fit->ml = ml;
  memcpy(fit->coef, x, (size_t)narma(&c) * sizeof *x);
  reg_coefs(&c, x, fit->coef + narma(&c));
  fit->sigma2 = sigma2;
  fit->loglik = loglik;
  fit->aicc = aic + 2.0 * npar * (npar + 1) / (nstar - npar - 1);
  rc = 0;
done:
  actx_release(&c);
  return rc;
}

/* KPSS level statistic with Newey-West lag trunc(3 sqrt(n) / 13) (ndiffs). */
static double kpss_stat(const double *y, size_t n) {
  double mean = 0;
  for (size_t t = 0; t < n; t++) mean += y[t];
  mean /= (double)n;
  double s = 0, eta = 0, s0 = 0;
  for (size_t t = 0; t < n; t++) {
    double e = y[t] - mean;
    s += e;
    eta += s * s;
    s0 += e * e;
  }
  int l = (int)(3 * sqrt((double)n) / 13);
  double lrv = s0;
  for (int k = 1; k <= l && (size_t)k < n; k++) {
    double g = 0;
    for (size_t t = (size_t)k; t < n; t++) g += (y[t] - mean) * (y[t - (size_t)k] - mean);
    lrv += 2 * (1 - k / (l + 1.0)) * g;
  }
  lrv /= (double)n;
  if (lrv <= 0) return 0;
  return eta / ((double)n * (double)n * lrv);
}

static int is_constant(const double *y, size_t n) {
  for (size_t t = 1; t < n; t++)
    if (y[t] != y[0]) return 0;
  return 1;
}

int fc_arima_ndiffs(const double *y, size_t n) {
  if (n < 2 || is_constant(y, n)) return 0;
  double *w = malloc(n * sizeof *w);
  if (!w) return 0;
  int d = 0;
  size_t len = n;
  memcpy(w, y, n * sizeof *w);
  while (d < 2 && len > 2 && kpss_stat(w, len) > 0.463) {
    for (size_t t = 0; t + 1 < len; t++) w[t] = w[t + 1] - w[t];
    len--;
    d++;
    if (is_constant(w, len)) break;
  }
  free(w);
  return d;
}

/* Seasonal strength max(0, 1 - var(R) / var(S + R)) of a classical
 * decomposition; 1 seasonal difference when > 0.64 (nsdiffs "seas"). */
int fc_arima_nsdiffs(const double *y, size_t n, int m) {
  if (m <= 1 || n <= 2 * (size_t)m || m > 400 || is_constant(y, n)) return 0;
  double fig[400];
  if (fc_decompose(y, n, m, 0, fig) != 0) return 0;
  size_t half = (size_t)m / 2;
  double sr = 0, sr2 = 0, ss = 0, ss2 = 0;
  size_t cnt = 0;
  for (size_t t = half; t + half < n; t++) {
    double tr = 0;
    if (m % 2 == 0) {
      tr = 0.5 * (y[t - half] + y[t + half]);
      for (size_t k = t - half + 1; k < t + half; k++) tr += y[k];
    } else {
      for (size_t k = t - half; k <= t + half; k++) tr += y[k];
    }
    tr /= m;
    double detr = y[t] - tr, r = detr - fig[t % (size_t)m];
    sr += r, sr2 += r * r, ss += detr, ss2 += detr * detr;
    cnt++;
  }
  if (cnt < 2) return 0;
  double vr = sr2 / cnt - (sr / cnt) * (sr / cnt), vs = ss2 / cnt - (ss / cnt) * (ss / cnt);
  if (vs <= 0) return 0;
  return 1 - vr / vs > 0.64;
}

/* Differenced copies of the history part (t < n) of the used regressor columns. */
static double *diff_xreg(const fc_arima_xreg *xr, const int *cols, int nx, size_t n, int d, int D,
                         int m, size_t len) {
  if (nx == 0) return NULL;
  double *xd = malloc((size_t)nx * n * sizeof *xd);
  if (!xd) return NULL;
  double *tmp = malloc(n * sizeof *tmp);
  if (!tmp) {
    free(xd);
    return NULL;
  }
  for (int k = 0; k < nx; k++) {
    difference(xr->x + (size_t)cols[k] * xr->stride, n, d, D, m, tmp);
    memcpy(xd + (size_t)k * len, tmp, len * sizeof *tmp);
  }
  free(tmp);
  return xd;
}

typedef struct cand {
  int p, q, P, Q, c;
  double ic;
} cand;

static int same(const cand *a, int p, int q, int P, int Q, int c) {
  return a->p == p && a->q == q && a->P == P && a->Q == Q && a->c == c;
}

int fc_arima_auto(const double *y, size_t n, int m, const fc_arima_xreg *xr, fc_arima_fit *best,
                  char *note, size_t note_size) {
  if (m <= 1) m = 1;
  if (n < 4) return -1;
  int nx = 0, cols[FC_ARIMA_MAXX];
  double *xx = NULL; /* y less the regression on the regressors, for the tests */
  if (xr && xr->nx > 0) {
    if (xr->nx > FC_ARIMA_MAXX) return -1;
    int dropped = 0;
    for (int k = 0; k < xr->nx; k++) {
      if (is_constant(xr->x + (size_t)k * xr->stride, n))
        dropped++;
      else
        cols[nx++] = k;
    }
    if (dropped && note && note_size)
      snprintf(note, note_size, "%d regressor%s constant over the history: not used", dropped,
               dropped > 1 ? "s" : "");
    if (nx > 0) {
      double *xd = diff_xreg(xr, cols, nx, n, 0, 0, 1, n);
      xx = malloc(n * sizeof *xx);
      if (!xd || !xx) {
        free(xd), free(xx);
        return -1;
      }
      actx c;
      memset(&c, 0, sizeof c);
      c.w = y, c.n = n, c.xd = xd, c.nx = nx, c.constant = 1;
      if (reg_start(&c) != 0) {
        free(xd), free(xx);
        if (note && note_size) snprintf(note, note_size, "regressors are collinear");
        return -2;
      }
      for (size_t t = 0; t < n; t++) {
        double v = y[t] - c.base[0];
        for (int k = 0; k < nx; k++) v -= c.base[1 + k] * xd[(size_t)k * n + t];
        xx[t] = v;
      }
      free(xd);
    }
  }
  const double *ys = xx ? xx : y;
  int rc = -1;
  double *w = malloc(n * sizeof *w), *xd = NULL;
  if (!w) goto out;
  int maxp = 5, maxq = 5, maxP = 2, maxQ = 2;
  if ((int)(n / 3) < maxp) maxp = maxq = (int)(n / 3);
  if ((int)(n / 3 / (size_t)m) < maxP) maxP = maxQ = (int)(n / 3 / (size_t)m);
  int D = 0;
  if (m == 1)
    maxP = maxQ = 0;
  else if (n > 2 * (size_t)m)
    D = fc_arima_nsdiffs(ys, n, m);
  size_t len = difference(ys, n, 0, D, m, w);
  int d = len > 2 ? fc_arima_ndiffs(w, len) : 0;
  /* as auto.arima: no difference that leaves a regressor constant */
  for (int k = 0; k < nx && d + D > 0; k++) {
    size_t l2 = difference(xr->x + (size_t)cols[k] * xr->stride, n, d, D, m, w);
    if (l2 > 0 && is_constant(w, l2)) {
      if (d > 0)
        d--;
      else
        D--;
      k = -1;
    }
  }
  len = difference(y, n, d, D, m, w);
  if (len < 3) goto out;
  xd = diff_xreg(xr, cols, nx, n, d, D, m, len);
  if (nx > 0 && !xd) goto out;
  int approx = n > 150 || m > 12;
  int allow_c = d + D <= 1;
  if (is_constant(w, len) && nx == 0) {
    /* a polynomial: (0,d,0)(0,D,0), with the constant when d + D <= 1 */
    memset(best, 0, sizeof *best);
    best->d = d, best->D = D, best->m = m, best->constant = allow_c && !(D > 0 && d > 0);
    best->coef[0] = best->constant ? w[0] : 0;
    best->sigma2 = 0, best->ml = 1;
    rc = 0;
    goto out;
  }
  if (m > 1) {
    if (maxP > 0 && maxp > m - 1) maxp = m - 1;
    if (maxQ > 0 && maxq > m - 1) maxq = m - 1;
  }
  int sp = 2, sq = 2, sP = 1, sQ = 1;
  if (n < 10) sp = sq = 1, sP = sQ = 0;
  if (sp > maxp) sp = maxp;
  if (sq > maxq) sq = maxq;
  if (sP > maxP) sP = maxP;
  if (sQ > maxQ) sQ = maxQ;
  enum { NMODELS = 94 };
  cand res[NMODELS + 1];
  int k = 0;
  fc_arima_fit cur, f;
  double curic = INFINITY;
  int have = 0;
  int p = sp, q = sq, P = sP, Q = sQ, con = allow_c;
  int ml = !approx;
#define TRY(P_, Q_, SP_, SQ_, C_)                                                             \
  (res[k] = (cand){(P_), (Q_), (SP_), (SQ_), (C_), INFINITY},                                  \
   (fit_orders(w, len, xd, nx, (P_), (Q_), (SP_), (SQ_), m, (C_), ml, &f) == 0                 \
        ? (void)(res[k].ic = f.aicc)                                                           \
        : (void)0),                                                                            \
   k++, res[k - 1].ic < curic ? (cur = f, curic = res[k - 1].ic, have = 1, 1) : 0)
  TRY(p, q, P, Q, con);
  if (TRY(0, 0, 0, 0, con)) p = q = P = Q = 0;
  if (maxp > 0 || maxP > 0) {
    if (TRY(maxp > 0, 0, (m > 1) && maxP > 0, 0, con))
      p = maxp > 0, P = (m > 1) && maxP > 0, q = Q = 0;
  }
  if (maxq > 0 || maxQ > 0) {
    if (TRY(0, maxq > 0, 0, (m > 1) && maxQ > 0, con))
      p = P = 0, Q = (m > 1) && maxQ > 0, q = maxq > 0;
  }
  if (con) {
    if (TRY(0, 0, 0, 0, 0)) p = q = P = Q = 0, con = 0;
  }
  int startk = 0;
  while (startk < k && k < NMODELS) {
    startk = k;
    static const int mv[16][4] = {{0, 0, -1, 0}, {0, 0, 0, -1}, {0, 0, 1, 0},  {0, 0, 0, 1},
                                  {0, 0, -1, -1}, {0, 0, -1, 1}, {0, 0, 1, -1}, {0, 0, 1, 1},
                                  {-1, 0, 0, 0}, {0, -1, 0, 0}, {1, 0, 0, 0},  {0, 1, 0, 0},
                                  {-1, -1, 0, 0}, {-1, 1, 0, 0}, {1, -1, 0, 0}, {1, 1, 0, 0}};
    int moved = 0;
    for (int i = 0; i < 17 && !moved && k < NMODELS; i++) {
      int np_ = p, nq_ = q, nP = P, nQ = Q, nc = con;
      if (i < 16) {
        np_ += mv[i][0], nq_ += mv[i][1], nP += mv[i][2], nQ += mv[i][3];
        if (np_ < 0 || nq_ < 0 || nP < 0 || nQ < 0 || np_ > maxp || nq_ > maxq || nP > maxP ||
            nQ > maxQ)
          continue;
      } else {
        if (!allow_c) continue;
        nc = !con;
      }
      int seen = 0;
      for (int j = 0; j < k; j++) seen |= same(&res[j], np_, nq_, nP, nQ, nc);
      if (seen) continue;
      if (TRY(np_, nq_, nP, nQ, nc)) {
        p = np_, q = nq_, P = nP, Q = nQ, con = nc;
        moved = 1;
      }
    }
  }
#undef TRY
  if (approx) {
    /* refit by exact ML in the order of the CSS criterion until one passes */
    have = 0;
    int order[NMODELS + 1];
    for (int i = 0; i < k; i++) order[i] = i;
    for (int i = 1; i < k; i++)
      for (int j = i; j > 0 && res[order[j]].ic < res[order[j - 1]].ic; j--) {
        int t = order[j];
        order[j] = order[j - 1];
        order[j - 1] = t;
      }
    for (int i = 0; i < k && !have; i++) {
      const cand *cd = &res[order[i]];
      if (!isfinite(cd->ic)) break;
      if (fit_orders(w, len, xd, nx, cd->p, cd->q, cd->P, cd->Q, m, cd->c, 2, &cur) == 0) have = 1;
    }
  }
  if (!have) goto out;
  cur.d = d, cur.D = D;
  for (int i = 0; i < nx; i++) cur.xcol[i] = cols[i];
  *best = cur;
  rc = 0;
out:
  free(w), free(xd), free(xx);
  return rc;
}

int fc_arima_fit_orders(const double *y, size_t n, int p, int d, int q, int P, int D, int Q, int m,
                        int constant, fc_arima_fit *fit) {
  if (m <= 1) m = 1, P = Q = D = 0;
  double *w = malloc(n * sizeof *w);
  if (!w) return -1;
  size_t len = difference(y, n, d, D, m, w);
  int rc = len >= 4 ? fit_orders(w, len, NULL, 0, p, q, P, Q, m, constant, 1, fit) : -1;
  if (rc == 0) fit->d = d, fit->D = D;
  free(w);
  return rc;
}

int fc_arima_forecast(const fc_arima_fit *fit, const double *y, size_t n, const fc_arima_xreg *xr,
                      int h, double *f, double *sigma, double *cum_sigma) {
  int m = fit->m, nx = fit->nx;
  if (nx > 0 && (!xr || xr->stride < n + (size_t)h)) return -1;
  int nd = fit->d + fit->D * m;
  if ((size_t)nd >= n) return -1;
  size_t len = n - (size_t)nd, tot = n + (size_t)h;
  actx c;
  memset(&c, 0, sizeof c);
  c.p = fit->p, c.q = fit->q, c.P = fit->P, c.Q = fit->Q, c.m = m;
  c.constant = fit->constant, c.nx = nx;
  c.np = c.p + c.P * m, c.nq = c.q + c.Q * m;
  c.r = c.np > c.nq + 1 ? c.np : c.nq + 1;
  size_t r = (size_t)c.r, big = r + (size_t)c.nq + (size_t)c.np + 2 + (size_t)h;
  double *w = malloc(tot * sizeof *w), *xd = nx ? malloc((size_t)nx * tot * sizeof *xd) : NULL;
  double *dp = calloc((size_t)nd + 1, sizeof *dp), *yy = malloc(tot * sizeof *yy);
  double *arf = calloc((size_t)(c.np + nd) + 1, sizeof *arf);
  int rc = -1;
  if (actx_alloc(&c, len, big, 1) != 0 || !w || (nx && !xd) || !dp || !yy || !arf) goto done;
  /* differenced series and regressors over history and horizon (y's future
   * part is unknown: only its differenced history is used) */
  difference(y, n, fit->d, fit->D, m, w);
  double *tmp = yy;
  for (int k = 0; k < nx; k++) {
    difference(xr->x + (size_t)fit->xcol[k] * xr->stride, tot, fit->d, fit->D, m, tmp);
    memcpy(xd + (size_t)k * (tot - (size_t)nd), tmp, (tot - (size_t)nd) * sizeof *tmp);
  }
  /* the filter runs on the history with the fitted coefficients (stored unscaled) */
  int na = narma(&c);
  double x[32];
  memcpy(x, fit->coef, (size_t)na * sizeof *x);
  for (int i = 0; i < c.constant + nx; i++) {
    c.base[i] = fit->coef[na + i];
    c.scale[i] = 1;
    x[na + i] = 0;
  }
  c.w = w, c.n = len, c.xd = xd;
  /* xd columns have stride tot - nd; make_u reads stride c.n: copy compactly */
  double *xdh = NULL;
  if (nx) {
    xdh = malloc((size_t)nx * len * sizeof *xdh);
    if (!xdh) goto done;
    for (int k = 0; k < nx; k++)
      memcpy(xdh + (size_t)k * len, xd + (size_t)k * (tot - (size_t)nd), len * sizeof *xdh);
    c.xd = xdh;
  }
  expand(&c, x);
  make_u(&c, x);
  double ssq, sumlog;
  int kal = fit->sigma2 > 0 ? kalman(&c, &ssq, &sumlog) : -1;
  free(xdh);
  if (kal != 0) {
    /* degenerate (a polynomial fit): future u = 0 */
    memset(c.a, 0, r * sizeof *c.a);
  }
  /* future differenced values: u forecasts + mean + regression */
  double mu = c.constant ? fit->coef[na] : 0;
  const double *beta = fit->coef + na + c.constant;
  for (int j = 0; j < h; j++) {
    double v = c.a[0] + mu;
    for (int k = 0; k < nx; k++) v += beta[k] * xd[(size_t)k * (tot - (size_t)nd) + len + (size_t)j];
    w[len + (size_t)j] = v;
    double last = 0;
    for (int i = 1; i <= c.np; i++) last += c.ar[i - 1] * c.a[r - (size_t)i];
    memmove(c.a, c.a + 1, (r - 1) * sizeof *c.a);
    c.a[r - 1] = last;
  }
  /* integrate: (1-B)^d (1-B^m)^D = 1 + sum dp_i B^i */
  dp[0] = 1;
  int deg = 0;
  for (int k = 0; k < fit->D; k++) {
    for (int i = deg; i >= 0; i--) dp[i + m] -= dp[i];
    deg += m;
  }
  for (int k = 0; k < fit->d; k++) {
    for (int i = deg; i >= 0; i--) dp[i + 1] -= dp[i];
    deg += 1;
  }
  memcpy(yy, y, n * sizeof *yy);
  for (int j = 0; j < h; j++) {
    size_t t = n + (size_t)j;
    double v = w[len + (size_t)j];
    for (int i = 1; i <= nd; i++) v -= dp[i] * yy[t - (size_t)i];
    yy[t] = v;
    f[j] = v;
  }
  if (sigma) {
    /* full AR: (1 - sum ar B^k) dp(B) = 1 - sum arf_k B^k */
    for (int i = 0; i <= nd; i++) {
      if (i > 0) arf[i] -= dp[i];
      for (int k = 0; k < c.np; k++) arf[i + k + 1] += c.ar[k] * dp[i];
    }
    double *psi = c.gam; /* reuse: >= h entries */
    arma_psi(arf + 1, c.np + nd, c.ma, c.nq, psi, h);
    double acc = 0, part = 0, cum = 0;
    for (int j = 0; j < h; j++) {
      acc += psi[j] * psi[j];
      sigma[j] = sqrt(fit->sigma2 * acc);
      /* Var(sum_{k<=j} e_{n+k}) = sigma2 sum_i (sum_{l<=i} psi_l)^2 */
      part += psi[j];
      cum += part * part;
      if (cum_sigma) cum_sigma[j] = sqrt(fit->sigma2 * cum);
    }
  }
  rc = 0;
done:
  free(w), free(xd), free(dp), free(yy), free(arf);
  actx_release(&c);
  return rc;
}

void fc_arima_name(const fc_arima_fit *fit, char *buf, size_t size) {
  const char *c = fit->constant ? (fit->d + fit->D ? " with drift" : " with mean") : "";
  const char *x = fit->nx ? "xreg+" : "";
  if (fit->m > 1 && (fit->P || fit->D || fit->Q))
    snprintf(buf, size, "%sARIMA(%d,%d,%d)(%d,%d,%d)[%d]%s", x, fit->p, fit->d, fit->q, fit->P,
             fit->D, fit->Q, fit->m, c);
  else
    snprintf(buf, size, "%sARIMA(%d,%d,%d)%s", x, fit->p, fit->d, fit->q, c);
}
