/* Training entry point: option checks, the model shell (ids, seen items,
 * fingerprint, hyper-parameters), dispatch to one file per algorithm, and
 * helpers shared by the trainers (initial factors, warm start, reporting,
 * SPD solves through OpenBLAS's LAPACK). */
#include "core/train/internal.h"
#include "util/util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* LAPACK, exported by Debian's libopenblas (no lapacke header needed). */
extern void sposv_(const char *uplo, const int *n, const int *nrhs, float *a, const int *lda,
                   float *b, const int *ldb, int *info);

int mx__spd_solve(float *A, float *b, int n) {
  int one = 1, info = 0;
  sposv_("U", &n, &one, A, &n, b, &n, &info);
  return info;
}

mx_train_options mx_train_defaults(mx_model_kind algo) {
  mx_train_options o;
  memset(&o, 0, sizeof o);
  o.algo = algo;
  o.seed = 42;
  o.threads = 0;
  o.eps = 1.0;
  o.init_std = 0.1;
  o.lr_decay = 1.0;
  o.cg_steps = 3;
  o.recent_popular_users = 5;
  switch (algo) {
  case MX_MODEL_MF:
    o.factors = 32; o.epochs = 60; o.reg = 0.1; o.reg_bias = 0.01; o.lr = 0.02;
    o.lr_decay = 0.97;
    break;
  case MX_MODEL_ALS:
    o.factors = 32; o.epochs = 15; o.reg = 0.1;
    break;
  case MX_MODEL_IALS:
    o.factors = 192; o.epochs = 8; o.reg = 30; o.alpha = 3;
    break;
  case MX_MODEL_BPR:
    o.factors = 64; o.epochs = 50; o.reg = 0.01; o.lr = 0.05; o.lr_decay = 0.97;
    break;
  case MX_MODEL_EASE:
    o.factors = 0; o.epochs = 1; o.reg = 100;
    break;
  case MX_MODEL_BPMF:
    o.factors = 8; o.epochs = 80; o.burn_in = 0; o.alpha = 2;
    break;
  default:
    o.factors = 64; o.epochs = 10; o.reg = 0.1;
    break;
  }
  return o;
}

void mx__train_init_factors(const mx_train_options *o, mx_model *m) {
  uint32_t k = m->factors;
  if (!k) return;
  mx_rng r;
  mx__rng_seed(&r, o->seed ^ 0x5eedf00dULL);
  float s = (float)(o->init_std / sqrt((double)k));
  for (size_t q = 0; q < (size_t)m->n_users * k; q++) m->user_factors[q] = s * (float)mx__rng_normal(&r);
  for (size_t q = 0; q < (size_t)m->n_items * k; q++) m->item_factors[q] = s * (float)mx__rng_normal(&r);
  const mx_model *w = o->init;
  if (!w || w->factors != k || !w->user_factors) return;
  for (uint32_t u = 0; u < m->n_users; u++) {
    const char *id = mx_idmap_name(m->users, u);
    int64_t j = mx_idmap_find(w->users, id, strlen(id));
    if (j < 0) continue;
    memcpy(m->user_factors + (size_t)u * k, w->user_factors + (size_t)j * k, k * sizeof(float));
    if (m->user_bias && w->user_bias) m->user_bias[u] = w->user_bias[j];
  }
  for (uint32_t i = 0; i < m->n_items; i++) {
    const char *id = mx_idmap_name(m->items, i);
    int64_t j = mx_idmap_find(w->items, id, strlen(id));
    if (j < 0) continue;
    memcpy(m->item_factors + (size_t)i * k, w->item_factors + (size_t)j * k, k * sizeof(float));
    if (m->item_bias && w->item_bias) m->item_bias[i] = w->item_bias[j];
  }
}

void mx_model_rmse(const mx_model *m, const mx_pairs *p, double *rmse, double *mae) {
  double se = 0, ae = 0;
  for (size_t q = 0; q < p->n; q++) {
    double e = (double)p->value[q] - mx_model_predict(m, p->user[q], p->item[q]);
    se += e * e;
    ae += fabs(e);
  }
  *rmse = p->n ? sqrt(se / (double)p->n) : NAN;
  if (mae) *mae = p->n ? ae / (double)p->n : NAN;
}

int mx__train_report(const mx_train_options *o, const mx_model *m, int epoch, double loss,
                    double started, double *test_rmse) {
  mx_epoch_report r;
  r.epoch = epoch;
  r.epochs = o->epochs;
  r.loss = loss;
  r.test_rmse = r.test_mae = NAN;
  if (o->test && !m->implicit) mx_model_rmse(m, o->test, &r.test_rmse, &r.test_mae);
  if (test_rmse) *test_rmse = r.test_rmse;
  r.seconds = mx__now_seconds() - started;
  struct timespec ts;
  r.cpu_seconds = clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) == 0 ? (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec : NAN;
  /* a cancelled run stops here; mx_model_train turns it into the error */
  if (mx_cancel_check(o->cancel, "training", NULL) != MX_OK) return 1;
  return o->on_epoch ? o->on_epoch(o->ctx, &r) : 0;
}

static int check_options(const mx_dataset *d, const mx_train_options *o, mx_error *err) {
  if (o->algo < MX_MODEL_MF || o->algo > MX_MODEL_BPMF)
    return mx_error_set(err, MX_EINVAL, "unknown algorithm %d", (int)o->algo);
  if (o->algo != MX_MODEL_EASE && o->factors == 0)
    return mx_error_set(err, MX_EINVAL, "--factors must be at least 1");
  if (o->factors > 4096) return mx_error_set(err, MX_EINVAL, "--factors must be at most 4096");
  if (o->algo != MX_MODEL_EASE && o->epochs < 1)
    return mx_error_set(err, MX_EINVAL, "--epochs must be at least 1");
  if (!(o->reg >= 0) || !isfinite(o->reg))
    return mx_error_set(err, MX_EINVAL, "--reg must be a finite number >= 0 (got %g)", o->reg);
  if (!(o->reg_bias >= 0)) return mx_error_set(err, MX_EINVAL, "bias regularisation must be >= 0");
  if ((o->algo == MX_MODEL_MF || o->algo == MX_MODEL_BPR) && !(o->lr > 0 && isfinite(o->lr)))
    return mx_error_set(err, MX_EINVAL, "--lr must be a finite number > 0 (got %g)", o->lr);
  if (!(o->alpha >= 0) || !isfinite(o->alpha))
    return mx_error_set(err, MX_EINVAL, "--alpha must be a finite number >= 0 (got %g)", o->alpha);
  if (o->log_confidence && !(o->eps > 0)) return mx_error_set(err, MX_EINVAL, "--eps must be > 0");
  if (o->cg_steps < 0) return mx_error_set(err, MX_EINVAL, "--cg-steps must be >= 0");
  if (mx_dataset_nnz(d) == 0)
    return mx_error_set(err, MX_EEMPTY, "the training data has no interactions");
  int rc = mx__recency_check(d, o, err);
  if (rc != MX_OK) return rc;
  int explicit_algo = o->algo == MX_MODEL_MF || o->algo == MX_MODEL_ALS || o->algo == MX_MODEL_BPMF;
  if (explicit_algo && !d->has_value)
    return mx_error_set(err, MX_EINVAL,
                        "--algo %s fits ratings and needs a value column (--columns value=...); "
                        "for clicks or purchases use --algo ials, bpr or ease",
                        mx_model_kind_name(o->algo));
  if (o->algo == MX_MODEL_EASE && mx_dataset_items(d) > 60000)
    return mx_error_set(err, MX_ELIMIT,
                        "--algo ease needs an items x items matrix; %u items is over the 60000 "
                        "limit (use ials)", mx_dataset_items(d));
  return MX_OK;
}

/* Every trainer's output must be finite: a step too large (bpr's --lr), an
 * extreme --alpha or --reg 0 on degenerate data can overflow, and a model of
 * NaNs would score every item the same without a word. (mf says it sooner,
 * per epoch, with the value range.) */
static int check_finite(const mx_model *m, const mx_train_options *o, mx_error *err) {
  struct { const float *x; size_t n; } parts[] = {
      {m->user_factors, (size_t)m->n_users * m->factors}, {m->item_factors, (size_t)m->n_items * m->factors},
      {m->user_bias, m->n_users}, {m->item_bias, m->n_items},
      {m->ease_b, m->ease_b ? (size_t)m->n_items * m->n_items : 0}};
  size_t bad = 0;
  for (size_t p = 0; p < sizeof parts / sizeof parts[0]; p++)
    if (parts[p].x)
      for (size_t q = 0; q < parts[p].n; q++) bad += !isfinite(parts[p].x[q]);
  if (!bad) return MX_OK;
  char hint[96];
  if (o->algo == MX_MODEL_MF || o->algo == MX_MODEL_BPR)
    snprintf(hint, sizeof hint, "lower --lr (now %g)", o->lr);
  else if (o->algo == MX_MODEL_IALS || o->algo == MX_MODEL_BPMF)
    snprintf(hint, sizeof hint, "lower --alpha (now %g) or raise --reg (now %g)", o->alpha, o->reg);
  else
    snprintf(hint, sizeof hint, "raise --reg (now %g)", o->reg);
  return mx_error_set(err, MX_EINVAL, "%s diverged: %zu model values are not finite; %s",
                      mx_model_kind_name(o->algo), bad, hint);
}

int mx_model_train(const mx_dataset *d, const mx_train_options *o, mx_model **out,
                   mx_error *err) {
  *out = NULL;
  int rc = check_options(d, o, err);
  if (rc != MX_OK) return rc;
  uint32_t k = o->algo == MX_MODEL_EASE ? 0 : o->factors;
  if (o->algo == MX_MODEL_BPMF) k *= (uint32_t)mx__bpmf_kept(o);
  int with_bias = o->algo == MX_MODEL_MF || o->algo == MX_MODEL_ALS || o->algo == MX_MODEL_BPMF ||
                  o->algo == MX_MODEL_BPR;
  mx_model *m;
  rc = mx_model_create(o->algo, mx_dataset_users(d), mx_dataset_items(d), k, with_bias, &m, err);
  if (rc != MX_OK) return rc;
  if (o->algo == MX_MODEL_BPR) {
    /* BPR learns item biases only: a user bias cancels in x_uij. */
    mx_free_aligned(m->user_bias);
    m->user_bias = NULL;
  }
  if (o->borrow_seen) {
    mx_csr_free(&m->seen);
    m->seen = d->by_user;
    m->seen.times = NULL;
    m->seen_borrowed = 1;
  }
  if ((rc = mx_model_set_ids(m, d->users, d->items, err)) != MX_OK ||
      (!o->borrow_seen && (rc = mx_model_set_seen(m, &d->by_user, err)) != MX_OK)) {
    mx_model_free(m);
    return rc;
  }
  m->data_fingerprint = mx_dataset_fingerprint(d);
  /* hyper: factors, epochs, reg, lr, alpha, reg_bias, lr_decay, cg_steps,
   * log_confidence, eps, seed, init_std; with recency also half_life_days,
   * recent_popular_days, recent_popular_users and the now used (seconds) */
  int recency = o->half_life_days > 0 || o->recent_popular_days > 0;
  double hy[] = {o->factors, o->epochs, o->reg, o->lr, o->alpha, o->reg_bias, o->lr_decay,
                 o->cg_steps, o->log_confidence, o->eps, (double)o->seed, o->init_std,
                 o->half_life_days, o->recent_popular_days, o->recent_popular_users,
                 recency ? (double)(o->now_set ? o->now_seconds : d->time_max) : 0};
  m->n_hyper = recency ? 16 : 12;
  memcpy(m->hyper, hy, sizeof hy);
  if (!m->implicit) {
    m->global_mean = (float)(d->value_sum / (double)mx_dataset_nnz(d));
    m->rating_min = (float)d->value_min;
    m->rating_max = (float)d->value_max;
  }
  mx__train_init_factors(o, m);
  /* the trainers see decayed values; the model keeps the data as read */
  mx_dataset decayed;
  const mx_dataset *fit = d;
  if (o->half_life_days > 0) {
    if ((rc = mx__recency_view(d, o, &decayed, err)) != MX_OK) {
      mx_model_free(m);
      return rc;
    }
    fit = &decayed;
  }

  /* EASE is one big factorisation: OpenBLAS uses the threads itself. The
   * others run their own workers, with BLAS single-threaded inside. */
  mx__blas_begin(o->algo == MX_MODEL_EASE ? mx__threads_resolve(o->threads) : 1);
  switch (o->algo) {
  case MX_MODEL_MF: rc = mx__mf_fit(d, o, m, err); break;
  case MX_MODEL_ALS: rc = mx__als_fit(d, o, m, err); break;
  case MX_MODEL_IALS: rc = mx__ials_fit(fit, o, m, err); break;
  case MX_MODEL_BPR: rc = mx__bpr_fit(fit, o, m, err); break;
  case MX_MODEL_EASE: rc = mx__ease_fit(fit, o, m, err); break;
  case MX_MODEL_BPMF: rc = mx__bpmf_fit(d, o, m, err); break;
  default: rc = mx_error_set(err, MX_EINVAL, "unknown algorithm"); break;
  }
  mx__blas_end();
  if (fit != d) mx__recency_view_free(&decayed);
  if (rc == MX_OK) rc = mx_cancel_check(o->cancel, "training", err);
  if (rc == MX_OK) rc = check_finite(m, o, err);
  if (rc == MX_OK && o->recent_popular_days > 0) rc = mx__recent_popular_blend(d, o, m, err);
  if (rc != MX_OK) {
    mx_model_free(m);
    return rc;
  }
  *out = m;
  return MX_OK;
}

/* ------------------------------------------------------------ pairs */

typedef struct pairs_ctx {
  const mx_idmap *users, *items;
  mx_pairs *p;
  size_t cap;
} pairs_ctx;

static int pairs_row(void *ctx, const mx_interaction_row *row, mx_error *err) {
  pairs_ctx *c = ctx;
  mx_pairs *p = c->p;
  if (p->n == c->cap) {
    size_t nc = c->cap ? c->cap * 2 : 4096;
    uint32_t *nu = realloc(p->user, nc * sizeof *nu);
    if (nu) p->user = nu;
    uint32_t *ni = realloc(p->item, nc * sizeof *ni);
    if (ni) p->item = ni;
    float *nv = realloc(p->value, nc * sizeof *nv);
    if (nv) p->value = nv;
    if (!nu || !ni || !nv) return mx_error_set(err, MX_ENOMEM, "out of memory");
    c->cap = nc;
  }
  int64_t u = mx_idmap_find(c->users, row->user, row->user_len);
  int64_t i = mx_idmap_find(c->items, row->item, row->item_len);
  p->user[p->n] = u < 0 ? UINT32_MAX : (uint32_t)u;
  p->item[p->n] = i < 0 ? UINT32_MAX : (uint32_t)i;
  p->value[p->n] = (float)row->value;
  if (u < 0 || i < 0) p->unknown++;
  p->n++;
  return 0;
}

int mx_pairs_read(const char *path, const mx_ingest_options *opt, const mx_idmap *users,
                  const mx_idmap *items, mx_pairs *out, mx_error *err) {
  memset(out, 0, sizeof *out);
  pairs_ctx c = {users, items, out, 0};
  int rc = mx_interactions_read(path, opt, pairs_row, &c, NULL, NULL, err);
  if (rc != MX_OK) mx_pairs_free(out);
  return rc;
}

void mx_pairs_free(mx_pairs *p) {
  if (!p) return;
  free(p->user);
  free(p->item);
  free(p->value);
  memset(p, 0, sizeof *p);
}
