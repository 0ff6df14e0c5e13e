/* Biased matrix factorisation trained by SGD (Koren, Bell, Volinsky 2009,
 * "Matrix factorization techniques for recommender systems", eq. 5):
 *   min sum (r_ui - mu - b_u - b_i - p_u.q_i)^2 + reg (|p_u|^2 + |q_i|^2)
 *                                             + reg_bias (b_u^2 + b_i^2)
 *
 * Parallel without locks and deterministic: users and items are split into
 * B = threads groups (u mod B, i mod B), ratings into the B x B blocks they
 * fall in; in sub-epoch s thread t updates block (t, (t + s) mod B). No two
 * threads touch the same user or item row at once (the schedule of FPSG,
 * Chin et al. 2015, LIBMF). Each block is shuffled once, from (seed, block);
 * an epoch then visits the block's chunks of MF_CHUNK ratings in an order
 * drawn from (seed, epoch, block), each chunk front to back. Shuffling every
 * rating every epoch cost a cache miss per rating (a third of the epoch on
 * 1M ratings); the chunk order keeps the visiting order varied across
 * epochs at the cost of a shuffle of n / MF_CHUNK numbers. A seed and a
 * thread count fix the result bit for bit. */
#include "core/train/internal.h"
#include "util/util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct rating {
  uint32_t u, i;
  float r;
} rating;

typedef struct mf_ctx {
  const mx_train_options *o;
  mx_model *m;
  int B;
  rating **block;   /* B*B blocks */
  size_t *count;
  int sub;          /* sub-epoch */
  int epoch;
  float lr;
  double *sse;      /* per block, this epoch */
  uint32_t **order; /* per thread: the chunk order of its block this sub-epoch */
} mf_ctx;

static void shuffle(rating *r, size_t n, mx_rng *g) {
  for (size_t q = n; q > 1; q--) {
    size_t j = (size_t)(mx__rng_uniform(g) * (double)q);
    if (j >= q) j = q - 1;
    rating t = r[q - 1];
    r[q - 1] = r[j];
    r[j] = t;
  }
}

/* Ratings per chunk: 12 bytes each, 48 KB a chunk. */
#ifndef MF_CHUNK
#define MF_CHUNK 4096
#endif

#if defined(__GNUC__)
/* mx_dotf's sum (eight lanes, the same pairwise reduction, so the same
 * result bit for bit) written with vector types: GCC left mx_dotf's
 * accumulator array scalar in this loop. */
typedef float mf_v8 __attribute__((vector_size(32)));
static inline float mf_dot(const float *a, const float *b, uint32_t k) {
  mf_v8 s = {0, 0, 0, 0, 0, 0, 0, 0};
  uint32_t f = 0;
  for (; f + 8 <= k; f += 8) {
    mf_v8 x, y;
    memcpy(&x, a + f, sizeof x);
    memcpy(&y, b + f, sizeof y);
    s += x * y;
  }
  float t = 0;
  for (; f < k; f++) t += a[f] * b[f];
  return t + ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}
#else
#define mf_dot mx_dotf
#endif

MX_HOT static int mf_block(void *vctx, int t, int nthreads) {
  (void)nthreads;
  mf_ctx *c = vctx;
  int B = c->B;
  int b = t * B + (t + c->sub) % B;
  mx_model *m = c->m;
  uint32_t k = m->factors;
  const rating *rs = c->block[b];
  size_t n = c->count[b], nch = (n + MF_CHUNK - 1) / MF_CHUNK;
  uint32_t *order = c->order[t];
  mx_rng g;
  mx__rng_seed(&g, c->o->seed * 0x9e3779b97f4a7c15ULL + (uint64_t)c->epoch * 1000003ULL + (uint64_t)b);
  for (size_t q = 0; q < nch; q++) order[q] = (uint32_t)q;
  for (size_t q = nch; q > 1; q--) {
    size_t j = (size_t)(mx__rng_uniform(&g) * (double)q);
    if (j >= q) j = q - 1;
    uint32_t x = order[q - 1];
    order[q - 1] = order[j];
    order[j] = x;
  }
  const float lr = c->lr, reg = (float)c->o->reg, rb = (float)c->o->reg_bias, mu = m->global_mean;
  float *P = m->user_factors, *Q = m->item_factors, *bu = m->user_bias, *bi = m->item_bias;
  double sse = 0;
  for (size_t ch = 0; ch < nch; ch++) {
    size_t lo = (size_t)order[ch] * MF_CHUNK, hi = lo + MF_CHUNK < n ? lo + MF_CHUNK : n;
    for (size_t q = lo; q < hi; q++) {
      uint32_t u = rs[q].u, i = rs[q].i;
      float *p = P + (size_t)u * k, *qi = Q + (size_t)i * k;
      float e = rs[q].r - (mu + bu[u] + bi[i] + mf_dot(p, qi, k));
      sse += (double)e * e;
      bu[u] += lr * (e - rb * bu[u]);
      bi[i] += lr * (e - rb * bi[i]);
      for (uint32_t f = 0; f < k; f++) {
        float pf = p[f], qf = qi[f];
        p[f] = pf + lr * (e * qf - reg * pf);
        qi[f] = qf + lr * (e * pf - reg * qf);
      }
    }
  }
  c->sse[b] += sse;
  return 0;
}

static double sumsq(const float *a, size_t n) {
  double s = 0;
  for (size_t q = 0; q < n; q++) s += (double)a[q] * a[q];
  return s;
}

int mx__mf_fit(const mx_dataset *d, const mx_train_options *o, mx_model *m, mx_error *err) {
  int B = mx__threads_resolve(o->threads);
  if (B > 64) B = 64;
  mf_ctx c;
  memset(&c, 0, sizeof c);
  c.o = o;
  c.m = m;
  c.B = B;
  c.block = calloc((size_t)B * B, sizeof *c.block);
  c.count = calloc((size_t)B * B, sizeof *c.count);
  c.sse = calloc((size_t)B * B, sizeof *c.sse);
  size_t *fill = calloc((size_t)B * B, sizeof *fill);
  float *snap = NULL; /* declared before the first goto oom: done frees it */
  int rc = MX_OK;
  c.order = calloc((size_t)B, sizeof *c.order);
  if (!c.block || !c.count || !c.sse || !fill || !c.order) goto oom;
  const mx_csr *R = &d->by_user;
  for (uint32_t u = 0; u < R->rows; u++)
    for (uint64_t q = R->indptr[u]; q < R->indptr[u + 1]; q++)
      c.count[(u % B) * B + R->indices[q] % B]++;
  for (int b = 0; b < B * B; b++) {
    c.block[b] = malloc((c.count[b] ? c.count[b] : 1) * sizeof(rating));
    if (!c.block[b]) goto oom;
  }
  for (uint32_t u = 0; u < R->rows; u++)
    for (uint64_t q = R->indptr[u]; q < R->indptr[u + 1]; q++) {
      int b = (int)((u % B) * B + R->indices[q] % B);
      c.block[b][fill[b]++] = (rating){u, R->indices[q], R->values[q]};
    }
  size_t maxch = 1;
  for (int b = 0; b < B * B; b++) {
    mx_rng g;
    mx__rng_seed(&g, o->seed * 0x9e3779b97f4a7c15ULL + (uint64_t)b);
    shuffle(c.block[b], c.count[b], &g);
    size_t nch = (c.count[b] + MF_CHUNK - 1) / MF_CHUNK;
    if (nch > maxch) maxch = nch;
  }
  for (int t = 0; t < B; t++)
    if (!(c.order[t] = malloc(maxch * sizeof **c.order))) goto oom;
  /* Biases start from zero; the global mean carries the level. */
  memset(m->user_bias, 0, m->n_users * sizeof(float));
  memset(m->item_bias, 0, m->n_items * sizeof(float));
  if (o->init && o->init->user_bias) mx__train_init_factors(o, m);

  double started = mx__now_seconds(), best = INFINITY;
  size_t nu = (size_t)m->n_users, ni = (size_t)m->n_items, k = m->factors;
  c.lr = (float)o->lr;
  for (int e = 1; e <= o->epochs; e++) {
    c.epoch = e;
    memset(c.sse, 0, (size_t)B * B * sizeof *c.sse);
    for (c.sub = 0; c.sub < B; c.sub++) mx__parallel_run(B, mf_block, &c);
    double sse = 0;
    for (int b = 0; b < B * B; b++) sse += c.sse[b];
    double loss = sse + o->reg * (sumsq(m->user_factors, nu * k) + sumsq(m->item_factors, ni * k)) +
                  o->reg_bias * (sumsq(m->user_bias, nu) + sumsq(m->item_bias, ni));
    if (!isfinite(loss)) {
      /* SGD with a step too large for the scale of the values blows up;
       * saying so beats writing a model whose every score is NaN. */
      rc = mx_error_set(err, MX_EINVAL,
                        "mf diverged in epoch %d (the training loss is no longer finite): the values "
                        "range from %g to %g; lower --lr (now %g) or rescale the value column",
                        e, d->value_min, d->value_max, o->lr);
      goto done;
    }
    double test = NAN;
    if (mx__train_report(o, m, e, loss, started, &test)) break;
    c.lr *= (float)o->lr_decay;
    if (o->early_stop && o->test && isfinite(test)) {
      if (test < best) {
        best = test;
        if (!snap) snap = malloc(((nu + ni) * (k + 1)) * sizeof(float));
        if (!snap) goto oom;
        memcpy(snap, m->user_factors, nu * k * 4);
        memcpy(snap + nu * k, m->item_factors, ni * k * 4);
        memcpy(snap + (nu + ni) * k, m->user_bias, nu * 4);
        memcpy(snap + (nu + ni) * k + nu, m->item_bias, ni * 4);
      } else {
        break; /* test error rose: restore the best epoch below */
      }
    }
  }
  if (snap) {
    memcpy(m->user_factors, snap, nu * k * 4);
    memcpy(m->item_factors, snap + nu * k, ni * k * 4);
    memcpy(m->user_bias, snap + (nu + ni) * k, nu * 4);
    memcpy(m->item_bias, snap + (nu + ni) * k + nu, ni * 4);
  }
  goto done;
oom:
  rc = mx_error_set(err, MX_ENOMEM, "out of memory");
done:
  free(snap);
  if (c.block)
    for (int b = 0; b < B * B; b++) free(c.block[b]);
  free(c.block);
  if (c.order)
    for (int t = 0; t < B; t++) free(c.order[t]);
  free(c.order);
  free(c.count);
  free(c.sse);
  free(fill);
  return rc;
}
