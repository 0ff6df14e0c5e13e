/* Bayesian probabilistic matrix factorisation by Gibbs sampling
 * (Salakhutdinov & Mnih 2008, "Bayesian probabilistic matrix factorization
 * using Markov chain Monte Carlo", section 3.3), with two additions that
 * each validated better on MovieLens (validation splits carved from
 * u1.base, never u1.test):
 *  - sampled user and item biases b_u, c_i with N(0, 1/lambda) priors and
 *    Gamma(1, 1) hyperpriors on lambda (as libFM's MCMC does);
 *  - heteroscedastic noise: r_ui ~ N(mean + b_u + c_i + u.v,
 *    1 / (alpha s_u t_i)) with per-user and per-item scales s_u, t_i drawn
 *    from their Gamma(a0 + n/2, a0 + alpha sum(w e^2)/2) posteriors, a
 *    Gamma(30, 30) prior (mean 1) — the "robust BPMF" of Lakshminarayanan,
 *    Bouchard & Archambeau 2011. Noisy users and items weigh less.
 * alpha = 2 by default (--alpha). User and item vectors have Gaussian
 * priors whose mean and precision get Gaussian-Wishart hyperpriors
 * (mu0 = 0, beta0 = 2, W0 = I, nu0 = k). Each sweep samples the
 * hyper-parameters (eq. 14), then every user's vector (eq. 11-13), bias
 * and scale, then every item's.
 *
 * The chain starts from the factors and biases of a 60-epoch SGD fit (mf.c)
 * rather than random ones, so it is near the posterior's bulk from the first
 * sweep. On validation splits of MovieLens u1.base, 60 sweeps from random
 * factors gave RMSE 0.9053 and 60 from the SGD fit 0.8972; K 8 with 80
 * sweeps gives 0.8957 (300 random-start sweeps: 0.8933) for about a fifth
 * of the CPU (docs/benchmarks.md).
 *
 * The prediction is the average over the samples after burn-in (eq. 10).
 * To keep that exact in an ordinary dot-product model, S retained samples
 * (48 by default, evenly spaced) are stored side by side and scaled by
 * 1/sqrt(S): the stored model has k*S factors and its dot product is the
 * sample average; the stored biases are the bias samples' average. Every
 * row draws from its own stream seeded by (seed, sweep, side, row), so the
 * result does not depend on the thread count. */
#include "core/train/internal.h"
#include "util/util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define BPMF_BETA0 2.0
/* Gamma(a0, a0) prior of the per-user and per-item noise scales (mean 1). */
#define BPMF_SCALE_A0 30.0
#ifndef BPMF_MAX_KEPT
#define BPMF_MAX_KEPT 48
#endif

int mx__bpmf_kept(const mx_train_options *o) {
  int after = o->epochs - o->burn_in, cap = o->samples > 0 ? o->samples : BPMF_MAX_KEPT;
  if (after < 1) after = 1;
  return after < cap ? after : cap;
}

/* In-place lower Cholesky of a k x k row-major SPD matrix; -1 if not SPD. */
static int chol(double *A, int k) {
  for (int j = 0; j < k; j++) {
    double s = A[j * k + j];
    for (int p = 0; p < j; p++) s -= A[j * k + p] * A[j * k + p];
    if (!(s > 0)) return -1;
    double d = sqrt(s);
    A[j * k + j] = d;
    for (int i = j + 1; i < k; i++) {
      double t = A[i * k + j];
      for (int p = 0; p < j; p++) t -= A[i * k + p] * A[j * k + p];
      A[i * k + j] = t / d;
    }
  }
  return 0;
}

static void solve_lower(const double *L, double *b, int k) { /* L y = b */
  for (int i = 0; i < k; i++) {
    double s = b[i];
    for (int p = 0; p < i; p++) s -= L[i * k + p] * b[p];
    b[i] = s / L[i * k + i];
  }
}

static void solve_upper_t(const double *L, double *b, int k) { /* L' x = b */
  for (int i = k - 1; i >= 0; i--) {
    double s = b[i];
    for (int p = i + 1; p < k; p++) s -= L[p * k + i] * b[p];
    b[i] = s / L[i * k + i];
  }
}

/* Gamma(a, 1) for a >= 1 (Marsaglia & Tsang 2000). */
static double gamma_draw(mx_rng *g, double a) {
  double d = a - 1.0 / 3.0, c = 1.0 / sqrt(9.0 * d);
  for (;;) {
    double x = mx__rng_normal(g), v = 1.0 + c * x;
    if (v <= 0) continue;
    v = v * v * v;
    double u = mx__rng_uniform(g);
    if (u <= 0) continue;
    if (log(u) < 0.5 * x * x + d - d * v + d * log(v)) return d * v;
  }
}

/* Draw (mu, Lambda) given the rows X (n x k floats): eq. 14. Returns 0, -1
 * when a matrix is not positive definite, -2 when out of memory. */
static int sample_hyper(const float *X, uint32_t n, int k, mx_rng *g, double *mu, double *Lam,
                        double *w1, double *w2) {
  double *mean = w1, *W = w2;       /* k, k*k */
  double *S = Lam;                  /* reuse as scratch */
  memset(mean, 0, k * sizeof(double));
  for (uint32_t r = 0; r < n; r++)
    for (int f = 0; f < k; f++) mean[f] += X[(size_t)r * k + f];
  for (int f = 0; f < k; f++) mean[f] /= n ? n : 1;
  memset(S, 0, (size_t)k * k * sizeof(double));
  for (uint32_t r = 0; r < n; r++) {
    const float *x = X + (size_t)r * k;
    for (int a = 0; a < k; a++) {
      double da = x[a] - mean[a];
      for (int b = 0; b <= a; b++) S[a * k + b] += da * (x[b] - mean[b]);
    }
  }
  double bstar = BPMF_BETA0 + n, nustar = k + (double)n;
  /* W*^-1 = W0^-1 + n S + beta0 n / beta* mean mean' (mu0 = 0, W0 = I). */
  for (int a = 0; a < k; a++)
    for (int b = 0; b <= a; b++) {
      double v = S[a * k + b] + BPMF_BETA0 * n / bstar * mean[a] * mean[b] + (a == b);
      W[a * k + b] = W[b * k + a] = v;
    }
  /* Bartlett: Lambda = L A A' L' with W* = L L'. Get L from W*^-1 = C C':
   * W* = C'^-1 C^-1, so with M = C'^-1 (upper), Lambda = M A A' M'. */
  if (chol(W, k)) return -1;
  double *A = S; /* lower triangular Bartlett factor */
  memset(A, 0, (size_t)k * k * sizeof(double));
  for (int i = 0; i < k; i++) {
    A[i * k + i] = sqrt(2.0 * gamma_draw(g, (nustar - i) / 2.0));
    for (int j = 0; j < i; j++) A[i * k + j] = mx__rng_normal(g);
  }
  /* B = M A, column by column: solve C' b = a_col. */
  double *B = malloc((size_t)k * k * sizeof(double)), *col = malloc(k * sizeof(double));
  if (!B || !col) {
    free(B);
    free(col);
    return -2; /* out of memory, not degenerate data */
  }
  for (int j = 0; j < k; j++) {
    for (int i = 0; i < k; i++) col[i] = A[i * k + j];
    solve_upper_t(W, col, k);
    for (int i = 0; i < k; i++) B[i * k + j] = col[i];
  }
  for (int a = 0; a < k; a++)
    for (int b = 0; b < k; b++) {
      double s = 0;
      for (int p = 0; p < k; p++) s += B[a * k + p] * B[b * k + p];
      Lam[a * k + b] = s;
    }
  /* mu ~ N(mu*, (beta* Lambda)^-1), mu* = n mean / beta*. */
  for (int a = 0; a < k * k; a++) B[a] = bstar * Lam[a];
  int bad = chol(B, k);
  if (!bad) {
    for (int f = 0; f < k; f++) col[f] = mx__rng_normal(g);
    solve_upper_t(B, col, k);
    for (int f = 0; f < k; f++) mu[f] = n * mean[f] / bstar + col[f];
  }
  free(B);
  free(col);
  return bad ? -1 : 0;
}

typedef struct side {
  const mx_csr *R;
  float *X;
  const float *Y;
  const double *mu, *Lam;
  int k;
  float mean;
  float *xb;            /* this side's biases: read, then resampled */
  const float *yb;      /* the other side's biases */
  double alpha, lam_b;  /* noise precision; bias prior precision */
  float *xs;            /* this side's noise-precision scales: read, then resampled */
  const float *ys;      /* the other side's */
  uint64_t seed;
  int failed;
} side;

/* Ratings of one row are gathered this many at a time, transposed, so the
 * k x k precision update runs as dot products over contiguous memory. */
#ifndef BPMF_CHUNK
#define BPMF_CHUNK 512
#endif

/* sum_j x[j] y[j] in four partial sums, so the compiler can use vector
 * lanes without reassociating one sum. */
static inline double dot4(const double *x, const double *y, int n) {
  double acc[4] = {0, 0, 0, 0};
  int j = 0;
  for (; j + 4 <= n; j += 4)
    for (int l = 0; l < 4; l++) acc[l] += x[j + l] * y[j + l];
  for (; j < n; j++) acc[0] += x[j] * y[j];
  return (acc[0] + acc[1]) + (acc[2] + acc[3]);
}

/* P[a][c] += sum_j W[a][j] Y[c][j] for c <= a (the triangle chol reads) and
 * b[a] += sum_j W[a][j] e[j], over n gathered ratings (rows BPMF_CHUNK apart). */
MX_HOT static void accumulate(double *P, double *b, const double *W, const double *Y,
                              const double *e, int k, int n) {
  for (int a = 0; a < k; a++) {
    const double *wa = W + (size_t)a * BPMF_CHUNK;
    for (int c = 0; c <= a; c++) P[(size_t)a * k + c] += dot4(wa, Y + (size_t)c * BPMF_CHUNK, n);
    b[a] += dot4(wa, e, n);
  }
}

/* Gathers ratings q0 .. q0+n-1 of row r, whose bias and noise scale are
 * xbr and xsr: Yt[a][j] = y_j[a], Wt[a][j] = w_j y_j[a], the residual before
 * the dot product e[j] = r_j - mean - xbr - c_j, ay[j] = alpha t_j and the
 * rating's precision w[j] = ay[j] xsr. */
typedef struct gathered {
  double *Yt, *Wt, *e, *ay, *w, *dot;
} gathered;

MX_HOT static void gather(const side *s, uint64_t q0, int n, double xbr, double xsr, const gathered *G) {
  /* Locals (restrict) so the stores below are not assumed to alias s. */
  const int k = s->k;
  const uint32_t *restrict idx = s->R->indices + q0;
  const float *restrict val = s->R->values + q0;
  const float *restrict Y = s->Y, *restrict ys = s->ys, *restrict yb = s->yb;
  double *restrict Yt = G->Yt, *restrict Wt = G->Wt, *restrict e = G->e, *restrict ay = G->ay,
                   *restrict wv = G->w;
  const double alpha = s->alpha, base = s->mean + xbr;
  for (int j = 0; j < n; j++) {
    uint32_t i = idx[j];
    ay[j] = alpha * ys[i];
    wv[j] = ay[j] * xsr;
    e[j] = val[j] - base - yb[i];
  }
  /* Factor-major: contiguous stores, one strided load each. */
  for (int a = 0; a < k; a++) {
    double *restrict yt = Yt + (size_t)a * BPMF_CHUNK, *restrict wt = Wt + (size_t)a * BPMF_CHUNK;
    const float *restrict Ya = Y + a;
    for (int j = 0; j < n; j++) {
      double ya = Ya[(size_t)idx[j] * k];
      yt[j] = ya;
      wt[j] = wv[j] * ya;
    }
  }
}

/* dot[j] = x . y_j over the gathered ratings (vectorised over j). */
MX_HOT static void gathered_dots(const float *x, int k, int n, const gathered *G) {
  for (int j = 0; j < n; j++) G->dot[j] = 0;
  for (int a = 0; a < k; a++) {
    double xa = x[a];
    const double *row = G->Yt + (size_t)a * BPMF_CHUNK;
    for (int j = 0; j < n; j++) G->dot[j] += xa * row[j];
  }
}

MX_HOT static int side_run(void *vctx, int t, int nthreads) {
  side *s = vctx;
  int k = s->k;
  const mx_csr *R = s->R;
  uint32_t lo = (uint32_t)((uint64_t)R->rows * t / nthreads);
  uint32_t hi = (uint32_t)((uint64_t)R->rows * (t + 1) / nthreads);
  double *P = malloc(((size_t)k * k + 2 * (size_t)k + (2 * (size_t)k + 4) * BPMF_CHUNK) * sizeof(double));
  if (!P) return MX_ENOMEM; /* reported by mx__parallel_run, not as failed */
  double *b = P + (size_t)k * k, *z = b + k;
  gathered G;
  G.Yt = z + k;
  G.Wt = G.Yt + (size_t)k * BPMF_CHUNK;
  G.e = G.Wt + (size_t)k * BPMF_CHUNK;
  G.ay = G.e + BPMF_CHUNK;
  G.w = G.ay + BPMF_CHUNK;
  G.dot = G.w + BPMF_CHUNK;
  for (uint32_t r = lo; r < hi; r++) {
    uint64_t q_lo = R->indptr[r], q_hi = R->indptr[r + 1];
    /* A row of one chunk is gathered once and reused after the solve. */
    int single = q_hi - q_lo <= BPMF_CHUNK;
    double xb_old = s->xb[r], xs_r = s->xs[r];
    memcpy(P, s->Lam, (size_t)k * k * sizeof(double));
    for (int a = 0; a < k; a++) {
      double v = 0;
      for (int c = 0; c < k; c++) v += s->Lam[a * k + c] * s->mu[c];
      b[a] = v;
    }
    for (uint64_t q0 = q_lo; q0 < q_hi; q0 += BPMF_CHUNK) {
      int n = q_hi - q0 < BPMF_CHUNK ? (int)(q_hi - q0) : BPMF_CHUNK;
      gather(s, q0, n, xb_old, xs_r, &G);
      accumulate(P, b, G.Wt, G.Yt, G.e, k, n);
    }
    if (chol(P, k)) {
      s->failed = 1;
      continue;
    }
    /* mean = P^-1 b; sample = mean + L'^-1 z */
    solve_lower(P, b, k);
    mx_rng g;
    mx__rng_seed(&g, s->seed + (uint64_t)r * 0x9e3779b97f4a7c15ULL);
    for (int f = 0; f < k; f++) z[f] = mx__rng_normal(&g);
    for (int f = 0; f < k; f++) b[f] += z[f];
    solve_upper_t(P, b, k);
    float *x = s->X + (size_t)r * k;
    for (int f = 0; f < k; f++) x[f] = (float)b[f];
    /* b_r | x_r, rest ~ N(sum(w res) / prec, 1 / prec) with
     * prec = lam_b + sum(w): the conjugate update of a Gaussian mean. */
    double sum = 0, prec = s->lam_b;
    for (uint64_t q0 = q_lo; q0 < q_hi; q0 += BPMF_CHUNK) {
      int n = q_hi - q0 < BPMF_CHUNK ? (int)(q_hi - q0) : BPMF_CHUNK;
      if (!single) gather(s, q0, n, xb_old, xs_r, &G);
      gathered_dots(x, k, n, &G);
      for (int j = 0; j < n; j++) {
        sum += G.w[j] * (G.e[j] + xb_old - G.dot[j]);
        prec += G.w[j];
      }
    }
    double xb_new = sum / prec + mx__rng_normal(&g) / sqrt(prec);
    s->xb[r] = (float)xb_new;
    /* s_r | rest ~ Gamma(a0 + n/2, a0 + sum(alpha t_j res^2) / 2). */
    double ss = 0, shift = xb_old - (double)s->xb[r];
    for (uint64_t q0 = q_lo; q0 < q_hi; q0 += BPMF_CHUNK) {
      int n = q_hi - q0 < BPMF_CHUNK ? (int)(q_hi - q0) : BPMF_CHUNK;
      if (!single) {
        gather(s, q0, n, xb_old, xs_r, &G);
        gathered_dots(x, k, n, &G);
      }
      for (int j = 0; j < n; j++) {
        double res = G.e[j] + shift - G.dot[j];
        ss += G.ay[j] * res * res;
      }
    }
    double n = (double)(q_hi - q_lo);
    s->xs[r] = (float)(gamma_draw(&g, BPMF_SCALE_A0 + 0.5 * n) / (BPMF_SCALE_A0 + 0.5 * ss));
  }
  free(P);
  return 0;
}

/* Precision of the Gaussian prior on one side's biases, drawn from its
 * Gamma(1 + n/2, 1 + sum b^2 / 2) posterior (a Gamma(1, 1) hyperprior). */
static double bias_precision(const float *b, uint32_t n, mx_rng *g) {
  double ss = 0;
  for (uint32_t r = 0; r < n; r++) ss += (double)b[r] * b[r];
  return gamma_draw(g, 1.0 + 0.5 * n) / (1.0 + 0.5 * ss);
}

/* SGD epochs of the mf fit the chain starts from (see mx__bpmf_fit). */
#ifndef BPMF_WARM_EPOCHS
#define BPMF_WARM_EPOCHS 60
#endif

static int warm_start(const mx_dataset *d, const mx_train_options *o, const mx_model *m, float *U,
                      float *V, float *bu, float *bi, mx_error *err) {
  uint32_t nu = m->n_users, ni = m->n_items, k = o->factors;
  mx_train_options mo = mx_train_defaults(MX_MODEL_MF);
  mo.factors = k;
  /* mf's defaults when this was tuned, pinned so a change there does not move bpmf */
  mo.epochs = BPMF_WARM_EPOCHS;
  mo.reg = 0.1;
  mo.reg_bias = 0.01;
  mo.lr = 0.02;
  mo.lr_decay = 0.97;
  mo.init_std = 0.1;
  mo.seed = o->seed;
  mo.threads = 1;
  mo.cancel = o->cancel;
  mx_model *w = NULL;
  int rc = mx_model_create(MX_MODEL_MF, nu, ni, k, 1, &w, err);
  if (rc != MX_OK) return rc;
  w->global_mean = m->global_mean;
  w->rating_min = m->rating_min;
  w->rating_max = m->rating_max;
  mx__train_init_factors(&mo, w);
  rc = mx__mf_fit(d, &mo, w, err);
  if (rc == MX_EINVAL) {
    /* SGD's fixed step diverged on values of an unusual scale: the
     * sampler does not need it, so start from small random factors. */
    mx_error_clear(err);
    mx_rng g;
    mx__rng_seed(&g, o->seed ^ 0xb9f3ULL);
    for (size_t q = 0; q < (size_t)nu * k; q++) U[q] = (float)(0.1 * mx__rng_normal(&g));
    for (size_t q = 0; q < (size_t)ni * k; q++) V[q] = (float)(0.1 * mx__rng_normal(&g));
    memset(bu, 0, nu * sizeof(float));
    memset(bi, 0, ni * sizeof(float));
    rc = MX_OK;
  } else if (rc == MX_OK) {
    memcpy(U, w->user_factors, (size_t)nu * k * sizeof(float));
    memcpy(V, w->item_factors, (size_t)ni * k * sizeof(float));
    memcpy(bu, w->user_bias, nu * sizeof(float));
    memcpy(bi, w->item_bias, ni * sizeof(float));
  }
  mx_model_free(w);
  return rc;
}

int mx__bpmf_fit(const mx_dataset *d, const mx_train_options *o, mx_model *m, mx_error *err) {
  int k = (int)o->factors, kept = mx__bpmf_kept(o), T = mx__threads_resolve(o->threads);
  uint32_t nu = m->n_users, ni = m->n_items;
  int rc = MX_OK;
  float *U = malloc((size_t)nu * k * sizeof(float)), *V = malloc((size_t)ni * k * sizeof(float));
  double *hyp = malloc((4 * (size_t)k * k + 4 * (size_t)k) * sizeof(double));
  float *bu = calloc(nu ? nu : 1, sizeof(float)), *bi = calloc(ni ? ni : 1, sizeof(float));
  float *su_ = malloc((nu ? nu : 1) * sizeof(float)), *si_ = malloc((ni ? ni : 1) * sizeof(float));
  if (!U || !V || !hyp || !bu || !bi || !su_ || !si_) {
    free(U); free(V); free(hyp); free(bu); free(bi); free(su_); free(si_);
    return mx_error_set(err, MX_ENOMEM, "out of memory");
  }
  double *muU = hyp, *muV = muU + k, *w1 = muV + k, *LamU = w1 + 2 * k, *LamV = LamU + (size_t)k * k,
         *w2 = LamV + (size_t)k * k;
  mx_rng g;
  mx__rng_seed(&g, o->seed ^ 0xb9f3ULL);
  /* The chain starts from a short SGD fit (mf.c, same k, one thread so the
   * result still does not depend on --threads) instead of random factors:
   * on MovieLens it then needs 80 sweeps where it needed 300. */
  if ((rc = warm_start(d, o, m, U, V, bu, bi, err)) != MX_OK) {
    free(U); free(V); free(hyp); free(bu); free(bi); free(su_); free(si_);
    return rc;
  }
  memset(m->user_factors, 0, (size_t)nu * m->factors * sizeof(float));
  memset(m->item_factors, 0, (size_t)ni * m->factors * sizeof(float));
  /* The model's biases are the running mean of the kept bias samples. */
  memset(m->user_bias, 0, nu * sizeof(float));
  memset(m->item_bias, 0, ni * sizeof(float));
  double alpha = o->alpha > 0 ? o->alpha : 2.0;
  for (uint32_t r = 0; r < nu; r++) su_[r] = 1.0f;
  for (uint32_t r = 0; r < ni; r++) si_[r] = 1.0f;
  int post = o->epochs - o->burn_in, stored = 0;
  float scale = 1.0f / sqrtf((float)kept);
  mx_train_options quiet = *o;
  quiet.test = NULL;
  double started = mx__now_seconds();
  for (int e = 1; e <= o->epochs; e++) {
    int h = sample_hyper(U, nu, k, &g, muU, LamU, w1, w2);
    if (!h) h = sample_hyper(V, ni, k, &g, muV, LamV, w1, w2);
    if (h) {
      rc = h == -2 ? mx_error_set(err, MX_ENOMEM, "out of memory")
                   : mx_error_set(err, MX_EINVAL, "BPMF hyper-parameter draw failed (degenerate data)");
      break;
    }
    uint64_t base = o->seed * 0x100000001b3ULL + (uint64_t)e * 0x51ed27ULL;
    double lbu = bias_precision(bu, nu, &g), lbi = bias_precision(bi, ni, &g);
    side su = {&d->by_user, U, V, muU, LamU, k, m->global_mean, bu, bi, alpha, lbu, su_, si_, base, 0};
    int oom = mx__parallel_run(T, side_run, &su) != 0;
    side sv = {&d->by_item, V, U, muV, LamV, k, m->global_mean, bi, bu, alpha, lbi, si_, su_, base ^ 0xabcdef12345ULL, 0};
    if (!oom) oom = mx__parallel_run(T, side_run, &sv) != 0;
    if (oom) {
      rc = mx_error_set(err, MX_ENOMEM, "out of memory");
      break;
    }
    if (su.failed || sv.failed) {
      rc = mx_error_set(err, MX_EINVAL, "BPMF posterior precision not positive definite");
      break;
    }
    /* Keep `kept` samples evenly spaced over the post-burn-in sweeps. */
    int idx = e - (o->epochs - post);
    if (idx >= 1 && stored < kept && (long)idx * kept >= (long)(stored + 1) * (post > 0 ? post : 1)) {
      for (uint32_t r = 0; r < nu; r++)
        for (int f = 0; f < k; f++)
          m->user_factors[(size_t)r * m->factors + (size_t)stored * k + f] = scale * U[(size_t)r * k + f];
      for (uint32_t r = 0; r < ni; r++)
        for (int f = 0; f < k; f++)
          m->item_factors[(size_t)r * m->factors + (size_t)stored * k + f] = scale * V[(size_t)r * k + f];
      stored++;
      for (uint32_t r = 0; r < nu; r++) m->user_bias[r] += (bu[r] - m->user_bias[r]) / (float)stored;
      for (uint32_t r = 0; r < ni; r++) m->item_bias[r] += (bi[r] - m->item_bias[r]) / (float)stored;
    }
    /* The model is the posterior mean only once every sample is stored:
     * score --test then, not on the partial sums of earlier sweeps. */
    if (mx__train_report(stored == kept ? o : &quiet, m, e, NAN, started, NULL)) break;
  }
  if (rc == MX_OK && stored < kept) {
    /* Stopped early: rescale what was stored so it is still an average. */
    float fix = stored ? sqrtf((float)kept / (float)stored) : 0.0f;
    for (size_t q = 0; q < (size_t)nu * m->factors; q++) m->user_factors[q] *= fix;
    for (size_t q = 0; q < (size_t)ni * m->factors; q++) m->item_factors[q] *= fix;
  }
  free(bu);
  free(bi);
  free(su_);
  free(si_);
  free(U);
  free(V);
  free(hyp);
  return rc;
}
