/* Similar items and similar users: the same tiled top-K engine, with the
 * model's item (or user) vectors as both queries and targets. Cosine
 * similarity runs on a normalised copy of the vectors, so it costs one sgemm
 * like the dot product; the query itself is excluded. */
#include "core/score/internal.h"
#include "util/util.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

float *mx_unit_rows(const float *v, uint32_t n, uint32_t k) {
  float *c = mx_alloc_aligned((size_t)n * k * sizeof(float) + 64, 0);
  if (!c) return NULL;
  for (uint32_t r = 0; r < n; r++) {
    const float *x = v + (size_t)r * k;
    float *y = c + (size_t)r * k;
    double s = 0;
    for (uint32_t j = 0; j < k; j++) s += (double)x[j] * x[j];
    float inv = s > 0 ? (float)(1.0 / sqrt(s)) : 0.0f;
    for (uint32_t j = 0; j < k; j++) y[j] = x[j] * inv;
  }
  return c;
}

void mx_unit_rows_free(float *rows) { mx_free_aligned(rows); }

static int similar_factors(const mx_model *m, int of_users, const uint32_t *q, uint32_t n,
                           mx_similarity metric, const mx_topk_options *opt,
                           mx_topk_result **out, mx_error *err) {
  uint32_t n_all = of_users ? m->n_users : m->n_items, k = m->factors;
  const float *vec = of_users ? m->user_factors : m->item_factors;
  float *norm = NULL;
  if (metric == MX_SIM_COSINE && k) {
    norm = mx_unit_rows(vec, n_all, k);
    if (!norm) return mx_error_set(err, MX_ENOMEM, "out of memory");
    vec = norm;
  }
  mx_targets t;
  int rc = mx__targets_build(&t, n_all, vec, k, NULL, opt->candidates, opt->n_candidates,
                            opt->item_mask, err);
  if (rc == MX_OK) {
    mx_topk_problem p = {.targets = &t, .dim = k, .n_q = n, .q_vec = vec, .q_rows = q,
                         .exclude_self = 1, .opt = opt};
    rc = mx__topk_run(&p, out, err);
    mx__targets_free(&t);
  }
  mx_free_aligned(norm);
  return rc;
}

static int check_queries(const uint32_t *q, uint32_t n, uint32_t limit, const char *what,
                         mx_error *err) {
  for (uint32_t r = 0; r < n; r++)
    if (q[r] >= limit)
      return mx_error_set(err, MX_EINVAL, "%s index %u out of range (model has %u)", what, q[r],
                          limit);
  return MX_OK;
}

int mx_similar_items(const mx_model *m, const uint32_t *items, uint32_t n, mx_similarity metric,
                     const mx_topk_options *opt, mx_topk_result **out, mx_error *err) {
  *out = NULL;
  mx_topk_options defaults = mx_topk_defaults();
  if (!opt) opt = &defaults;
  int rc = mx__score_check_model(m, err);
  if (rc) return rc;
  if (!items) return mx_error_set(err, MX_EINVAL, "no query items");
  if ((rc = check_queries(items, n, m->n_items, "item", err))) return rc;
  if (m->kind != MX_MODEL_EASE) return similar_factors(m, 0, items, n, metric, opt, out, err);
  /* EASE: the similarity of q and i is the learned weight B[q, i], i.e. the
   * scores of a history made of q alone. */
  mx_csr self = {.rows = m->n_items, .nnz = m->n_items};
  self.indptr = malloc(((size_t)m->n_items + 1) * sizeof *self.indptr);
  self.indices = malloc(((size_t)m->n_items + 1) * sizeof *self.indices);
  if (!self.indptr || !self.indices) {
    free(self.indptr);
    free(self.indices);
    return mx_error_set(err, MX_ENOMEM, "out of memory");
  }
  for (uint32_t i = 0; i <= m->n_items; i++) self.indptr[i] = i;
  for (uint32_t i = 0; i < m->n_items; i++) self.indices[i] = i;
  mx_targets t;
  rc = mx__targets_build(&t, m->n_items, NULL, 0, NULL, opt->candidates, opt->n_candidates,
                        opt->item_mask, err);
  if (rc == MX_OK) {
    mx_topk_problem p = {.targets = &t, .n_q = n, .q_rows = items, .ease_b = m->ease_b,
                         .hist = &self, .exclude_self = 1, .opt = opt};
    rc = mx__topk_run(&p, out, err);
    mx__targets_free(&t);
  }
  free(self.indptr);
  free(self.indices);
  return rc;
}

int mx_similar_users(const mx_model *m, const uint32_t *users, uint32_t n, mx_similarity metric,
                     const mx_topk_options *opt, mx_topk_result **out, mx_error *err) {
  *out = NULL;
  mx_topk_options defaults = mx_topk_defaults();
  if (!opt) opt = &defaults;
  int rc = mx__score_check_model(m, err);
  if (rc) return rc;
  if (m->kind == MX_MODEL_EASE)
    return mx_error_set(err, MX_EINVAL, "similar users needs user vectors; EASE has none");
  if (!users) return mx_error_set(err, MX_EINVAL, "no query users");
  if ((rc = check_queries(users, n, m->n_users, "user", err))) return rc;
  return similar_factors(m, 1, users, n, metric, opt, out, err);
}

int mx_similarity_pairs(const mx_model *m, int of_users, const uint32_t *a, const uint32_t *b,
                        uint64_t n, mx_similarity metric, float *out, mx_error *err) {
  int rc = mx__score_check_model(m, err);
  if (rc) return rc;
  uint32_t n_all = of_users ? m->n_users : m->n_items, k = m->factors;
  if (m->kind == MX_MODEL_EASE && of_users)
    return mx_error_set(err, MX_EINVAL, "similar users needs user vectors; EASE has none");
  for (uint64_t p = 0; p < n; p++) {
    if (a[p] >= n_all || b[p] >= n_all)
      return mx_error_set(err, MX_EINVAL, "%s index out of range in pair %llu",
                          of_users ? "user" : "item", (unsigned long long)p + 1);
  }
  const float *v = of_users ? m->user_factors : m->item_factors;
  for (uint64_t p = 0; p < n; p++) {
    if (m->kind == MX_MODEL_EASE) {
      out[p] = m->ease_b[(size_t)a[p] * m->n_items + b[p]];
      continue;
    }
    const float *x = v + (size_t)a[p] * k, *y = v + (size_t)b[p] * k;
    double d = 0, nx = 0, ny = 0;
    for (uint32_t j = 0; j < k; j++) {
      d += (double)x[j] * y[j];
      nx += (double)x[j] * x[j];
      ny += (double)y[j] * y[j];
    }
    if (metric == MX_SIM_DOT) out[p] = (float)d;
    else out[p] = (nx > 0 && ny > 0) ? (float)(d / sqrt(nx * ny)) : 0.0f;
  }
  return MX_OK;
}
