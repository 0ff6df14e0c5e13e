/* Scoring a model: top-K for model users and for outside vectors (fold-in),
 * score matrices for the Lua layer, and scores of (user, item) pairs. The
 * tiled engine itself is in topk.c. */
#include "core/score/internal.h"
#include "util/util.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int mx__score_check_model(const mx_model *m, mx_error *err) {
  if (!m) return mx_error_set(err, MX_EINVAL, "no model");
  if (m->kind == MX_MODEL_EASE) {
    if (!m->ease_b) return mx_error_set(err, MX_ESTATE, "EASE model without its item-item matrix");
    return MX_OK;
  }
  if (m->factors > 0 && (!m->user_factors || !m->item_factors))
    return mx_error_set(err, MX_ESTATE, "model has no factor matrices");
  return MX_OK;
}

/* Explicit models report ratings within the training range (as
 * mx_model_predict and merx eval do); ranking uses the unclipped value. */
static inline float clip(const mx_model *m, float v) {
  if (m->implicit || !(m->rating_max > m->rating_min)) return v;
  return v < m->rating_min ? m->rating_min : v > m->rating_max ? m->rating_max : v;
}

static int check_indices(const uint32_t *idx, uint64_t n, uint32_t limit, const char *what,
                         mx_error *err) {
  if (!idx) return MX_OK;
  for (uint64_t i = 0; i < n; i++)
    if (idx[i] >= limit)
      return mx_error_set(err, MX_EINVAL, "%s index %u out of range (model has %u)", what,
                          idx[i], limit);
  return MX_OK;
}

static int topk_common(const mx_model *m, const float *q_vec, const uint32_t *q_rows,
                       const float *q_bias, const mx_csr *hist, uint32_t n,
                       const mx_topk_options *opt, mx_topk_result **out, mx_error *err) {
  mx_topk_options defaults = mx_topk_defaults();
  if (!opt) opt = &defaults;
  int ease = m->kind == MX_MODEL_EASE;
  mx_targets t;
  int rc = mx__targets_build(&t, m->n_items, ease ? NULL : m->item_factors, m->factors,
                            ease ? NULL : m->item_bias, opt->candidates, opt->n_candidates,
                            opt->item_mask, err);
  if (rc) return rc;
  mx_topk_problem p = {
      .targets = &t,
      .dim = ease ? 0 : m->factors,
      .n_q = n,
      .q_vec = ease ? NULL : q_vec,
      .q_rows = q_rows,
      .q_bias = ease ? NULL : q_bias,
      .q_const = ease ? 0.0f : m->global_mean,
      .clip_lo = m->implicit ? 0.0f : m->rating_min,
      .clip_hi = m->implicit ? 0.0f : m->rating_max,
      .ease_b = ease ? m->ease_b : NULL,
      .hist = ease ? hist : NULL,
      .exclude = opt->include_seen ? NULL : hist,
      .opt = opt,
  };
  rc = mx__topk_run(&p, out, err);
  mx__targets_free(&t);
  return rc;
}

int mx_topk_batch(const mx_model *m, const uint32_t *users, uint32_t n,
                  const mx_topk_options *opt, mx_topk_result **out, mx_error *err) {
  *out = NULL;
  int rc = mx__score_check_model(m, err);
  if (rc) return rc;
  if (!users) n = m->n_users;
  if ((rc = check_indices(users, n, m->n_users, "user", err))) return rc;
  return topk_common(m, m->user_factors, users, m->user_bias, &m->seen, n, opt, out, err);
}

int mx_topk_vectors(const mx_model *m, const float *vectors, const float *user_bias,
                    const mx_csr *history, uint32_t n, const mx_topk_options *opt,
                    mx_topk_result **out, mx_error *err) {
  *out = NULL;
  int rc = mx__score_check_model(m, err);
  if (rc) return rc;
  if (m->kind == MX_MODEL_EASE) {
    if (!history) return mx_error_set(err, MX_EINVAL, "an EASE model scores from the history");
  } else if (!vectors && m->factors > 0) {
    return mx_error_set(err, MX_EINVAL, "no user vectors given");
  }
  if (history) {
    if (history->rows < n)
      return mx_error_set(err, MX_EINVAL, "history has %u rows for %u users", history->rows, n);
    if ((rc = check_indices(history->indices, history->nnz, m->n_items, "history item", err)))
      return rc;
  }
  return topk_common(m, vectors, NULL, user_bias, history, n, opt, out, err);
}

/* Σ_{j seen by u} B[j, i] */
static float ease_score(const mx_model *m, uint32_t u, uint32_t i) {
  float s = 0.0f;
  if (!m->seen.indptr) return s;
  for (uint64_t j = m->seen.indptr[u]; j < m->seen.indptr[u + 1]; j++)
    s += m->ease_b[(size_t)m->seen.indices[j] * m->n_items + i];
  return s;
}

int mx_score_pairs(const mx_model *m, const uint32_t *users, const uint32_t *items, uint64_t n,
                   float *out, mx_error *err) {
  int rc = mx__score_check_model(m, err);
  if (rc) return rc;
  if ((rc = check_indices(users, n, m->n_users, "user", err))) return rc;
  if ((rc = check_indices(items, n, m->n_items, "item", err))) return rc;
  uint32_t k = m->factors;
  for (uint64_t p = 0; p < n; p++) {
    uint32_t u = users[p], i = items[p];
    if (m->kind == MX_MODEL_EASE) {
      out[p] = ease_score(m, u, i);
      continue;
    }
    float s = k ? cblas_sdot((int)k, m->user_factors + (size_t)u * k, 1,
                             m->item_factors + (size_t)i * k, 1)
                : 0.0f;
    if (m->item_bias) s += m->item_bias[i];
    out[p] = clip(m, s + (m->global_mean + (m->user_bias ? m->user_bias[u] : 0.0f)));
  }
  return MX_OK;
}

int mx_score_matrix(const mx_model *m, const uint32_t *users, uint32_t n_users,
                    const uint32_t *items, uint32_t n_items, int threads, float *out,
                    mx_error *err) {
  int rc = mx__score_check_model(m, err);
  if (rc) return rc;
  if (!users) n_users = m->n_users;
  if (!items) n_items = m->n_items;
  if ((rc = check_indices(users, n_users, m->n_users, "user", err))) return rc;
  if ((rc = check_indices(items, n_items, m->n_items, "item", err))) return rc;
  if (n_users == 0 || n_items == 0) return MX_OK;
  if (m->kind == MX_MODEL_EASE) {
    for (uint32_t r = 0; r < n_users; r++) {
      uint32_t u = users ? users[r] : r;
      float *o = out + (size_t)r * n_items;
      memset(o, 0, (size_t)n_items * sizeof *o);
      for (uint64_t j = m->seen.indptr[u]; j < m->seen.indptr[u + 1]; j++) {
        const float *b = m->ease_b + (size_t)m->seen.indices[j] * m->n_items;
        for (uint32_t c = 0; c < n_items; c++) o[c] += b[items ? items[c] : c];
      }
    }
    return MX_OK;
  }
  uint32_t k = m->factors;
  const float *U = m->user_factors, *V = m->item_factors;
  float *ug = NULL, *ig = NULL;
  if (k && users) {
    ug = mx_alloc_aligned((size_t)n_users * k * sizeof(float), 0);
    if (!ug) return mx_error_set(err, MX_ENOMEM, "out of memory");
    for (uint32_t r = 0; r < n_users; r++)
      memcpy(ug + (size_t)r * k, U + (size_t)users[r] * k, k * sizeof(float));
    U = ug;
  }
  if (k && items) {
    ig = mx_alloc_aligned((size_t)n_items * k * sizeof(float), 0);
    if (!ig) {
      mx_free_aligned(ug);
      return mx_error_set(err, MX_ENOMEM, "out of memory");
    }
    for (uint32_t c = 0; c < n_items; c++)
      memcpy(ig + (size_t)c * k, V + (size_t)items[c] * k, k * sizeof(float));
    V = ig;
  }
  if (k) {
    mx__blas_begin(mx__threads_resolve(threads));
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n_users, (int)n_items, (int)k, 1.0f,
                U, (int)k, V, (int)k, 0.0f, out, (int)n_items);
    mx__blas_end();
  } else {
    memset(out, 0, (size_t)n_users * n_items * sizeof *out);
  }
  mx_free_aligned(ug);
  mx_free_aligned(ig);
  /* Same order of additions as the top-K path: (dot + item bias) + user terms. */
  for (uint32_t r = 0; r < n_users; r++) {
    uint32_t u = users ? users[r] : r;
    float add = m->global_mean + (m->user_bias ? m->user_bias[u] : 0.0f);
    float *o = out + (size_t)r * n_items;
    for (uint32_t c = 0; c < n_items; c++) {
      float v = o[c];
      if (m->item_bias) v += m->item_bias[items ? items[c] : c];
      o[c] = clip(m, v + add);
    }
  }
  return MX_OK;
}
