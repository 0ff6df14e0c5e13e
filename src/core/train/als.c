/* Explicit ALS with biases and weighted-lambda regularisation (Zhou et al.
 * 2008, "Large-scale parallel collaborative filtering for the Netflix
 * prize", section 3.1):
 *   min sum (r_ui - mu - b_u - b_i - p_u.q_i)^2
 *       + reg (sum_u n_u (|p_u|^2 + b_u^2) + sum_i n_i (|q_i|^2 + b_i^2))
 * A user step solves for (p_u, b_u) jointly: with y~_i = (q_i, 1) and
 * t_i = r_ui - mu - b_i,  (sum y~ y~' + reg n_u I) x = sum t_i y~_i, a
 * (k+1) x (k+1) SPD system built with ssyrk and solved with LAPACK sposv.
 * Each step minimises the objective exactly in its block of variables, so
 * the objective never rises (tested). */
#include "core/train/internal.h"
#include "util/util.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct half {
  const mx_csr *R;     /* rows to solve for */
  float *X, *xb;       /* factors and biases being solved */
  const float *Y, *yb; /* fixed side */
  uint32_t k;
  float mu, reg;
  int failed;
} half;

static int half_run(void *vctx, int t, int nthreads) {
  half *h = vctx;
  const mx_csr *R = h->R;
  uint32_t k1 = h->k + 1, k = h->k;
  uint32_t lo = (uint32_t)((uint64_t)R->rows * t / nthreads);
  uint32_t hi = (uint32_t)((uint64_t)R->rows * (t + 1) / nthreads);
  uint64_t maxn = 0;
  for (uint32_t r = lo; r < hi; r++)
    if (R->indptr[r + 1] - R->indptr[r] > maxn) maxn = R->indptr[r + 1] - R->indptr[r];
  float *G = malloc((maxn ? maxn : 1) * k1 * sizeof(float));
  float *A = malloc((size_t)k1 * k1 * sizeof(float));
  float *b = malloc(k1 * sizeof(float));
  float *tg = malloc((maxn ? maxn : 1) * sizeof(float));
  if (!G || !A || !b || !tg) {
    free(G); free(A); free(b); free(tg);
    h->failed = MX_ENOMEM;
    return 0;
  }
  for (uint32_t r = lo; r < hi; r++) {
    uint64_t s = R->indptr[r], n = R->indptr[r + 1] - s;
    float *x = h->X + (size_t)r * k;
    if (n == 0) {
      memset(x, 0, k * sizeof(float));
      h->xb[r] = 0;
      continue;
    }
    for (uint64_t q = 0; q < n; q++) {
      uint32_t j = R->indices[s + q];
      memcpy(G + q * k1, h->Y + (size_t)j * k, k * sizeof(float));
      G[q * k1 + k] = 1.0f;
      tg[q] = R->values[s + q] - h->mu - h->yb[j];
    }
    /* Column-major view: G is k1 x n with leading dimension k1. */
    cblas_ssyrk(CblasColMajor, CblasUpper, CblasNoTrans, (int)k1, (int)n, 1.0f, G, (int)k1, 0.0f,
                A, (int)k1);
    cblas_sgemv(CblasColMajor, CblasNoTrans, (int)k1, (int)n, 1.0f, G, (int)k1, tg, 1, 0.0f, b, 1);
    float lam = h->reg * (float)n;
    for (uint32_t f = 0; f < k1; f++) A[(size_t)f * k1 + f] += lam > 0 ? lam : 1e-6f;
    if (mx__spd_solve(A, b, (int)k1) != 0) {
      h->failed = MX_EINVAL;
      continue;
    }
    memcpy(x, b, k * sizeof(float));
    h->xb[r] = b[k];
  }
  free(G); free(A); free(b); free(tg);
  return 0;
}

/* The weighted-lambda objective above (double accumulation). */
static double als_loss(const mx_dataset *d, const mx_model *m, double reg) {
  const mx_csr *R = &d->by_user;
  uint32_t k = m->factors;
  double sse = 0, pen = 0;
  for (uint32_t u = 0; u < R->rows; u++) {
    uint64_t n = R->indptr[u + 1] - R->indptr[u];
    for (uint64_t q = R->indptr[u]; q < R->indptr[u + 1]; q++) {
      uint32_t i = R->indices[q];
      double e = R->values[q] - m->global_mean - m->user_bias[u] - m->item_bias[i] -
                 mx_dotf(m->user_factors + (size_t)u * k, m->item_factors + (size_t)i * k, k);
      sse += e * e;
    }
    double s = (double)m->user_bias[u] * m->user_bias[u];
    for (uint32_t f = 0; f < k; f++) s += (double)m->user_factors[(size_t)u * k + f] * m->user_factors[(size_t)u * k + f];
    pen += (double)n * s;
  }
  const mx_csr *C = &d->by_item;
  for (uint32_t i = 0; i < C->rows; i++) {
    uint64_t n = C->indptr[i + 1] - C->indptr[i];
    double s = (double)m->item_bias[i] * m->item_bias[i];
    for (uint32_t f = 0; f < k; f++) s += (double)m->item_factors[(size_t)i * k + f] * m->item_factors[(size_t)i * k + f];
    pen += (double)n * s;
  }
  return sse + reg * pen;
}

int mx__als_fit(const mx_dataset *d, const mx_train_options *o, mx_model *m, mx_error *err) {
  int T = mx__threads_resolve(o->threads);
  double started = mx__now_seconds();
  for (int e = 1; e <= o->epochs; e++) {
    /* Items first, users last: the stored user vectors are then the exact
     * solutions against the stored items, which is what fold-in computes. */
    half hi = {&d->by_item, m->item_factors, m->item_bias, m->user_factors, m->user_bias,
               m->factors, m->global_mean, (float)o->reg, 0};
    mx__parallel_run(T, half_run, &hi);
    half hu = {&d->by_user, m->user_factors, m->user_bias, m->item_factors, m->item_bias,
               m->factors, m->global_mean, (float)o->reg, 0};
    if (!hi.failed) mx__parallel_run(T, half_run, &hu);
    if (hu.failed == MX_ENOMEM || hi.failed == MX_ENOMEM)
      return mx_error_set(err, MX_ENOMEM, "out of memory");
    if (hu.failed || hi.failed)
      return mx_error_set(err, MX_EINVAL, "ALS normal equations are not positive definite "
                          "(try a larger --reg)");
    double loss = o->on_epoch && o->report_loss ? als_loss(d, m, o->reg) : NAN;
    if (mx__train_report(o, m, e, loss, started, NULL)) break;
  }
  return MX_OK;
}
