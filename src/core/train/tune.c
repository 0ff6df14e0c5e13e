/* Hyper-parameter choice on a validation slice carved from the training
 * data (never the test set): hold out a hashed share of the pairs, train a
 * small grid around the current values, keep the best. */
#include "merx/model.h"
#include "util/util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct slice {
  mx_dataset *train;
  /* held-out pairs as strings' indices in the full dataset */
  uint32_t *vu, *vi;
  float *vv;
  size_t nv;
} slice;

static void slice_free(slice *s) {
  mx_dataset_free(s->train);
  free(s->vu);
  free(s->vi);
  free(s->vv);
}

static int carve(const mx_dataset *d, double holdout, uint64_t seed, slice *s, mx_error *err) {
  memset(s, 0, sizeof *s);
  const mx_csr *R = &d->by_user;
  mx_dataset_builder *b = mx_dataset_builder_create();
  s->vu = malloc((R->nnz ? R->nnz : 1) * sizeof *s->vu);
  s->vi = malloc((R->nnz ? R->nnz : 1) * sizeof *s->vi);
  s->vv = malloc((R->nnz ? R->nnz : 1) * sizeof *s->vv);
  if (!b || !s->vu || !s->vi || !s->vv) {
    mx_dataset_builder_free(b);
    slice_free(s);
    return mx_error_set(err, MX_ENOMEM, "out of memory");
  }
  for (uint32_t u = 0; u < R->rows; u++) {
    const char *us = mx_idmap_name(d->users, u);
    size_t ul = strlen(us);
    uint64_t n = R->indptr[u + 1] - R->indptr[u];
    for (uint64_t q = R->indptr[u]; q < R->indptr[u + 1]; q++) {
      uint32_t i = R->indices[q];
      const char *is = mx_idmap_name(d->items, i);
      uint64_t h = mx_hash64(is, strlen(is), mx_hash64(us, ul, seed ^ 0x7475ULL));
      /* users with a single pair stay whole: nothing to learn them from */
      if (n > 1 && (double)(h >> 11) * 0x1.0p-53 < holdout) {
        s->vu[s->nv] = u;
        s->vi[s->nv] = i;
        s->vv[s->nv++] = R->values[q];
      } else if (mx_dataset_builder_add(b, us, ul, is, strlen(is), R->values[q],
                                        R->times ? R->times[q] : 0) != MX_OK) {
        mx_dataset_builder_free(b);
        slice_free(s);
        return mx_error_set(err, MX_ENOMEM, "out of memory");
      }
    }
  }
  /* times go along for --half-life and --recent-popular */
  int rc = mx_dataset_builder_finish(b, d->has_value, d->has_time && R->times, &s->train, err);
  if (rc != MX_OK) slice_free(s);
  return rc;
}

/* Validation score of one setting: lower is better (RMSE, or -NDCG@10). */
static int score(const slice *s, const mx_dataset *full, const mx_train_options *o, double *out,
                 mx_error *err) {
  mx_model *m;
  mx_train_options t = *o;
  t.on_epoch = NULL;
  t.test = NULL;
  t.init = NULL;
  if (!t.now_set && full->has_time) { /* ages from the whole data's newest event */
    t.now_seconds = full->time_max;
    t.now_set = 1;
  }
  int rc = mx_model_train(s->train, &t, &m, err);
  if (rc != MX_OK) return rc;
  mx_pairs p = {0};
  p.user = malloc((s->nv ? s->nv : 1) * sizeof *p.user);
  p.item = malloc((s->nv ? s->nv : 1) * sizeof *p.item);
  p.value = s->vv;
  if (!p.user || !p.item) {
    free(p.user);
    free(p.item);
    mx_model_free(m);
    return mx_error_set(err, MX_ENOMEM, "out of memory");
  }
  for (size_t q = 0; q < s->nv; q++) {
    const char *us = mx_idmap_name(full->users, s->vu[q]), *is = mx_idmap_name(full->items, s->vi[q]);
    int64_t u = mx_idmap_find(m->users, us, strlen(us)), i = mx_idmap_find(m->items, is, strlen(is));
    p.user[q] = u < 0 ? UINT32_MAX : (uint32_t)u;
    p.item[q] = i < 0 ? UINT32_MAX : (uint32_t)i;
    if (u < 0 || i < 0) p.unknown++;
  }
  p.n = s->nv;
  mx_eval_result r;
  rc = mx_model_evaluate(m, &p, 10, o->threads, &r, err);
  if (rc == MX_OK) *out = m->implicit ? -r.ndcg : r.rmse;
  free(p.user);
  free(p.item);
  mx_model_free(m);
  return rc;
}

int mx_train_tune(const mx_dataset *d, mx_train_options *o, double holdout, double *best,
                  mx_error *err) {
  if (!(holdout > 0 && holdout < 1))
    return mx_error_set(err, MX_EINVAL, "tuning holdout must be in (0, 1)");
  slice s;
  int rc = carve(d, holdout, o->seed, &s, err);
  if (rc != MX_OK) return rc;
  if (s.nv == 0) {
    slice_free(&s);
    return mx_error_set(err, MX_EEMPTY, "too little data to hold out a validation slice");
  }
  /* Two axes of multiplicative steps around the current values. */
  double *a = NULL, *b = NULL;
  double f1[] = {1.0 / 3, 1, 3}, f2[] = {0.5, 1, 2}, f5[] = {0.25, 0.5, 1, 2, 4};
  const double *fa = f1, *fb = f2;
  int na = 3, nb = 1;
  switch (o->algo) {
  case MX_MODEL_IALS: a = &o->reg; b = &o->alpha; nb = 3; break;
  case MX_MODEL_MF:
  case MX_MODEL_BPR: a = &o->reg; b = &o->lr; nb = 3; break;
  case MX_MODEL_ALS: a = &o->reg; fa = f2; break;
  case MX_MODEL_BPMF: a = &o->alpha; fa = f2; break;
  case MX_MODEL_EASE: a = &o->reg; fa = f5; na = 5; break;
  default: break;
  }
  double a0 = a ? *a : 0, b0 = b ? *b : 0, best_a = a0, best_b = b0;
  *best = INFINITY;
  for (int x = 0; x < na && rc == MX_OK; x++)
    for (int y = 0; y < nb && rc == MX_OK; y++) {
      if (a) *a = a0 * fa[x];
      if (b) *b = b0 * fb[y];
      double v = INFINITY;
      rc = score(&s, d, o, &v, err);
      if (rc == MX_OK && v < *best) {
        *best = v;
        best_a = a ? *a : 0;
        best_b = b ? *b : 0;
      }
    }
  if (a) *a = best_a;
  if (b) *b = best_b;
  if (*best < 0) *best = -*best;
  slice_free(&s);
  return rc;
}
