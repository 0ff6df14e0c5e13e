/* Biased matrix factorisation trained by SGD (Koren, Bell, Volinsky 2009,
 * "Matrix factorization techniques for recommender systems", eq. 5):
 *   min sum (r_ui - mu - b_u - b_i - p_u.q_i)^2 + reg (|p_u|^2 + |q_i|^2)
 *                                             + reg_bias (b_u^2 + b_i^2)
 *
 * Parallel without locks and deterministic: users and items are split into
 * B = threads groups (u mod B, i mod B), ratings into the B x B blocks they
 * fall in; in sub-epoch s thread t updates block (t, (t + s) mod B). No two
 * threads touch the same user or item row at once (the schedule of FPSG,
 * Chin et al. 2015, LIBMF), and each block's visiting order is a shuffle
 * drawn from (seed, epoch, block), so a seed and a thread count fix the
 * result bit for bit. */
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
} mf_ctx;

static void shuffle(rating *r, size_t n, mx_rng *g) {
  for (size_t q = n; q > 1; q--) {
    size_t j = (size_t)(mx_rng_uniform(g) * (double)q);
    if (j >= q) j = q - 1;
    rating t = r[q - 1];
    r[q - 1] = r[j];
    r[j] = t;
  }
}

MX_HOT static int mf_block(void *vctx, int t, int nthreads) {
  mf_ctx *c = vctx;
  int B = c->B;
  int b = t * B + (t + c->sub) % B;
  mx_model *m = c->m;
  uint32_t k = m->factors;
  rating *rs = c->block[b];
  size_t n = c->count[b];
  mx_rng g;
  mx_rng_seed(&g, c->o->seed * 0x9e3779b97f4a7c15ULL + (uint64_t)c->epoch * 1000003ULL + (uint64_t)b);
  shuffle(rs, n, &g);
  const float lr = c->lr, reg = (float)c->o->reg, rb = (float)c->o->reg_bias, mu = m->global_mean;
  float *P = m->user_factors, *Q = m->item_factors, *bu = m->user_bias, *bi = m->item_bias;
  double sse = 0;
  for (size_t q = 0; q < n; q++) {
    uint32_t u = rs[q].u, i = rs[q].i;
    float *p = P + (size_t)u * k, *qi = Q + (size_t)i * k;
    float e = rs[q].r - (mu + bu[u] + bi[i] + mx_dotf(p, qi, k));
    sse += (double)e * e;
    bu[u] += lr * (e - rb * bu[u]);
    bi[i] += lr * (e - rb * bi[i]);
    for (uint32_t f = 0; f < k; f++) {
      float pf = p[f], qf = qi[f];
      p[f] = pf + lr * (e * qf - reg * pf);
      qi[f] = qf + lr * (e * pf - reg * qf);
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

int mx_mf_fit(const mx_dataset *d, const mx_train_options *o, mx_model *m, mx_error *err) {
  int B = mx_threads_resolve(o->threads);
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
  if (!c.block || !c.count || !c.sse || !fill) goto oom;
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
  /* Biases start from zero; the global mean carries the level. */
  memset(m->user_bias, 0, m->n_users * sizeof(float));
  memset(m->item_bias, 0, m->n_items * sizeof(float));
  if (o->init && o->init->user_bias) mx_train_init_factors(o, m);

  double started = mx_now_seconds(), best = INFINITY;
  size_t nu = (size_t)m->n_users, ni = (size_t)m->n_items, k = m->factors;
  c.lr = (float)o->lr;
  for (int e = 1; e <= o->epochs; e++) {
    c.epoch = e;
    memset(c.sse, 0, (size_t)B * B * sizeof *c.sse);
    for (c.sub = 0; c.sub < B; c.sub++) mx_parallel_run(B, mf_block, &c);
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
    if (mx_train_report(o, m, e, loss, started, &test)) break;
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
  free(c.count);
  free(c.sse);
  free(fill);
  return rc;
}
