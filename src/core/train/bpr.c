/* BPR-MF (Rendle et al. 2009, "BPR: Bayesian personalized ranking from
 * implicit feedback", algorithm LearnBPR): SGD on -ln sigma(x_uij) + L2,
 * x_uij = p_u.(q_i - q_j) + b_i - b_j, for an observed pair (u, i) drawn
 * uniformly (with a half-life: in proportion to its recency weight,
 * recency.c) and a negative j drawn uniformly among items u has not seen.
 * Threads update shared item rows without locks (Hogwild, Niu et al. 2011);
 * with one thread the result is fixed by the seed, with several it may vary
 * in the last bits between runs. */
#include "core/train/internal.h"
#include "util/util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct bpr_ctx {
  const mx_train_options *o;
  const mx_csr *R;
  const uint32_t *row_of; /* user of each interaction */
  const double *cdf;      /* with a half-life: cumulative recency weights (nnz) */
  mx_model *m;
  int epoch;
  float lr;
  double loss[64];
} bpr_ctx;

static int seen(const mx_csr *R, uint32_t u, uint32_t j) {
  const uint32_t *a = R->indices + R->indptr[u];
  uint64_t lo = 0, hi = R->indptr[u + 1] - R->indptr[u];
  while (lo < hi) {
    uint64_t mid = (lo + hi) / 2;
    if (a[mid] < j) lo = mid + 1;
    else hi = mid;
  }
  return lo < R->indptr[u + 1] - R->indptr[u] && a[lo] == j;
}

/* The first q with cdf[q] > x: pair q drawn with probability w_q / sum w. */
static uint64_t draw_weighted(const double *cdf, uint64_t n, double x) {
  uint64_t lo = 0, hi = n - 1;
  while (lo < hi) {
    uint64_t mid = (lo + hi) / 2;
    if (cdf[mid] > x) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

MX_HOT static int bpr_run(void *vctx, int t, int nthreads) {
  bpr_ctx *c = vctx;
  const mx_csr *R = c->R;
  mx_model *m = c->m;
  uint32_t k = m->factors, ni = m->n_items;
  uint64_t nnz = R->nnz, n = nnz / (uint64_t)nthreads + (t < (int)(nnz % (uint64_t)nthreads));
  mx_rng g;
  mx__rng_seed(&g, c->o->seed * 0x2545f4914f6cdd1dULL + (uint64_t)c->epoch * 7919ULL + (uint64_t)t);
  const float lr = c->lr, reg = (float)c->o->reg;
  float *P = m->user_factors, *Q = m->item_factors, *bi = m->item_bias;
  double loss = 0;
  for (uint64_t s = 0; s < n; s++) {
    uint64_t q = c->cdf ? draw_weighted(c->cdf, nnz, mx__rng_uniform(&g) * c->cdf[nnz - 1])
                        : mx__rng_next(&g) % nnz;
    uint32_t u = c->row_of[q], i = R->indices[q], j = 0;
    uint64_t nu = R->indptr[u + 1] - R->indptr[u];
    if (nu >= ni) continue; /* user saw everything: no negative */
    int tries = 0;
    do j = mx__rng_below(&g, ni);
    while (seen(R, u, j) && ++tries < 32);
    if (tries == 32) continue;
    float *p = P + (size_t)u * k, *qi = Q + (size_t)i * k, *qj = Q + (size_t)j * k;
    float x = bi[i] - bi[j] + mx_dotf(p, qi, k) - mx_dotf(p, qj, k);
    float z = 1.0f / (1.0f + expf(x)); /* sigma(-x) = d(-ln sigma(x))/d(-x) */
    loss += log1p(exp(-(double)x));
    bi[i] += lr * (z - reg * bi[i]);
    bi[j] += lr * (-z - reg * bi[j]);
    for (uint32_t f = 0; f < k; f++) {
      float pf = p[f], a = qi[f], b = qj[f];
      p[f] = pf + lr * (z * (a - b) - reg * pf);
      qi[f] = a + lr * (z * pf - reg * a);
      qj[f] = b + lr * (-z * pf - reg * b);
    }
  }
  c->loss[t] = loss;
  return 0;
}

int mx__bpr_fit(const mx_dataset *d, const mx_train_options *o, mx_model *m, mx_error *err) {
  const mx_csr *R = &d->by_user;
  uint32_t *row_of = malloc((R->nnz ? R->nnz : 1) * sizeof *row_of);
  if (!row_of) return mx_error_set(err, MX_ENOMEM, "out of memory");
  for (uint32_t u = 0; u < R->rows; u++)
    for (uint64_t q = R->indptr[u]; q < R->indptr[u + 1]; q++) row_of[q] = u;
  double *cdf = NULL;
  if (o->half_life_days > 0) {
    /* recency (recency.c): the stored values are the pairs' decay weights */
    cdf = malloc((R->nnz ? R->nnz : 1) * sizeof *cdf);
    if (!cdf) {
      free(row_of);
      return mx_error_set(err, MX_ENOMEM, "out of memory");
    }
    double acc = 0;
    for (uint64_t q = 0; q < R->nnz; q++) cdf[q] = acc += R->values[q];
    if (!(acc > 0)) {
      free(cdf);
      free(row_of);
      return mx_error_set(err, MX_EINVAL, "--half-life %g: every interaction's weight is 0 "
                          "(all are far older than the half-life); use a longer half-life",
                          o->half_life_days);
    }
  }
  memset(m->item_bias, 0, m->n_items * sizeof(float));
  int T = mx__threads_resolve(o->threads);
  if (T > 64) T = 64;
  bpr_ctx c;
  memset(&c, 0, sizeof c);
  c.o = o;
  c.R = R;
  c.row_of = row_of;
  c.cdf = cdf;
  c.m = m;
  c.lr = (float)o->lr;
  double started = mx__now_seconds();
  for (int e = 1; e <= o->epochs; e++) {
    c.epoch = e;
    mx__parallel_run(T, bpr_run, &c);
    double loss = 0;
    for (int t = 0; t < T; t++) loss += c.loss[t];
    if (mx__train_report(o, m, e, loss, started, NULL)) break;
    c.lr *= (float)o->lr_decay;
  }
  free(row_of);
  free(cdf);
  return MX_OK;
}
