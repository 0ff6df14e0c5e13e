/* Model object: creation and destruction. Training lives in one file per
 * algorithm; the file format in model_io.c. */
#include "merx/model.h"
#include "util/util.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

const char *mx_model_kind_name(mx_model_kind kind) {
  switch (kind) {
  case MX_MODEL_MF: return "mf";
  case MX_MODEL_ALS: return "als";
  case MX_MODEL_IALS: return "ials";
  case MX_MODEL_BPR: return "bpr";
  case MX_MODEL_EASE: return "ease";
  case MX_MODEL_BPMF: return "bpmf";
  case MX_MODEL_IMPORTED: return "imported";
  }
  return "unknown";
}

int mx_model_create(mx_model_kind kind, uint32_t n_users, uint32_t n_items, uint32_t factors,
                    int with_bias, mx_model **out, mx_error *err) {
  *out = NULL;
  mx_model *m = calloc(1, sizeof *m);
  if (!m) return mx_error_set(err, MX_ENOMEM, "out of memory");
  m->kind = kind;
  m->implicit = !(kind == MX_MODEL_MF || kind == MX_MODEL_ALS || kind == MX_MODEL_BPMF);
  m->n_users = n_users;
  m->n_items = n_items;
  m->factors = factors;
  m->owns_arrays = 1;
  m->users = mx_idmap_create();
  m->items = mx_idmap_create();
  m->seen.rows = n_users;
  m->seen.indptr = calloc((size_t)n_users + 1, sizeof *m->seen.indptr);
  int ok = m->users && m->items && m->seen.indptr;
  if (ok && factors > 0) {
    m->user_factors = mx_alloc_aligned((size_t)n_users * factors * sizeof(float), 1);
    m->item_factors = mx_alloc_aligned((size_t)n_items * factors * sizeof(float), 1);
    ok = m->user_factors && m->item_factors;
  }
  if (ok && with_bias) {
    m->user_bias = mx_alloc_aligned((size_t)n_users * sizeof(float), 1);
    m->item_bias = mx_alloc_aligned((size_t)n_items * sizeof(float), 1);
    ok = m->user_bias && m->item_bias;
  }
  if (ok && kind == MX_MODEL_EASE) {
    m->ease_b = mx_alloc_aligned((size_t)n_items * n_items * sizeof(float), 1);
    ok = m->ease_b != NULL;
  }
  if (!ok) {
    mx_model_free(m);
    return mx_error_set(err, MX_ENOMEM, "out of memory for a %u x %u model with %u factors",
                        n_users, n_items, factors);
  }
  *out = m;
  return MX_OK;
}

void mx_model_free(mx_model *m) {
  if (!m) return;
  if (m->owns_arrays) {
    mx_free_aligned(m->user_factors);
    mx_free_aligned(m->item_factors);
    mx_free_aligned(m->user_bias);
    mx_free_aligned(m->item_bias);
    mx_free_aligned(m->ease_b);
    if (!m->seen_borrowed) mx_csr_free(&m->seen);
  } else {
    /* arrays point into the mapping; seen.indptr etc. too */
  }
  if (m->mapping) munmap(m->mapping, m->mapping_size);
  mx_idmap_free(m->users);
  mx_idmap_free(m->items);
  free(m);
}

int mx_model_kind_parse(const char *name) {
  for (int k = MX_MODEL_MF; k <= MX_MODEL_IMPORTED; k++)
    if (strcmp(name, mx_model_kind_name((mx_model_kind)k)) == 0) return k;
  return -1;
}

int mx_model_set_ids(mx_model *m, const mx_idmap *users, const mx_idmap *items, mx_error *err) {
  mx_idmap *nu = mx_idmap_create(), *ni = mx_idmap_create();
  int ok = nu && ni;
  for (uint32_t u = 0; ok && u < mx_idmap_size(users); u++) {
    const char *s = mx_idmap_name(users, u);
    ok = mx_idmap_intern(nu, s, strlen(s)) == (int64_t)u;
  }
  for (uint32_t i = 0; ok && i < mx_idmap_size(items); i++) {
    const char *s = mx_idmap_name(items, i);
    ok = mx_idmap_intern(ni, s, strlen(s)) == (int64_t)i;
  }
  if (!ok) {
    mx_idmap_free(nu);
    mx_idmap_free(ni);
    return mx_error_set(err, MX_ENOMEM, "out of memory copying id tables");
  }
  mx_idmap_free(m->users);
  mx_idmap_free(m->items);
  m->users = nu;
  m->items = ni;
  return MX_OK;
}

int mx_model_set_seen(mx_model *m, const mx_csr *src, mx_error *err) {
  mx_csr c;
  memset(&c, 0, sizeof c);
  c.rows = src->rows;
  c.nnz = src->nnz;
  c.indptr = malloc(((size_t)c.rows + 1) * sizeof *c.indptr);
  c.indices = malloc((c.nnz ? c.nnz : 1) * sizeof *c.indices);
  c.values = malloc((c.nnz ? c.nnz : 1) * sizeof *c.values);
  if (!c.indptr || !c.indices || !c.values) {
    mx_csr_free(&c);
    return mx_error_set(err, MX_ENOMEM, "out of memory copying training items");
  }
  memcpy(c.indptr, src->indptr, ((size_t)c.rows + 1) * sizeof *c.indptr);
  if (c.nnz) {
    memcpy(c.indices, src->indices, c.nnz * sizeof *c.indices);
    if (src->values)
      memcpy(c.values, src->values, c.nnz * sizeof *c.values);
    else
      for (uint64_t k = 0; k < c.nnz; k++) c.values[k] = 1.0f;
  }
  if (m->owns_arrays && !m->seen_borrowed) mx_csr_free(&m->seen);
  m->seen = c;
  m->seen_borrowed = 0;
  return MX_OK;
}

static float *dup_floats(const float *src, size_t n, int *ok) {
  if (!src || !*ok) return NULL;
  float *p = mx_alloc_aligned(n * sizeof(float), 0);
  if (!p) {
    *ok = 0;
    return NULL;
  }
  memcpy(p, src, n * sizeof(float));
  return p;
}

int mx_model_clone(const mx_model *src, mx_model **out, mx_error *err) {
  *out = NULL;
  mx_model *m = calloc(1, sizeof *m);
  if (!m) return mx_error_set(err, MX_ENOMEM, "out of memory");
  *m = *src;
  m->mapping = NULL;
  m->mapping_size = 0;
  m->owns_arrays = 1;
  m->seen_borrowed = 0;
  m->users = m->items = NULL;
  memset(&m->seen, 0, sizeof m->seen);
  int ok = 1;
  size_t k = src->factors;
  m->user_factors = dup_floats(src->user_factors, (size_t)src->n_users * k, &ok);
  m->item_factors = dup_floats(src->item_factors, (size_t)src->n_items * k, &ok);
  m->user_bias = dup_floats(src->user_bias, src->n_users, &ok);
  m->item_bias = dup_floats(src->item_bias, src->n_items, &ok);
  m->ease_b = dup_floats(src->ease_b, (size_t)src->n_items * src->n_items, &ok);
  if (!ok) {
    mx_model_free(m);
    return mx_error_set(err, MX_ENOMEM, "out of memory copying a model");
  }
  int rc = mx_model_set_ids(m, src->users, src->items, err);
  if (rc == MX_OK) rc = mx_model_set_seen(m, &src->seen, err);
  if (rc != MX_OK) {
    mx_model_free(m);
    return rc;
  }
  *out = m;
  return MX_OK;
}

float mx_model_predict(const mx_model *m, uint32_t u, uint32_t i) {
  int ku = u < m->n_users, ki = i < m->n_items;
  if (m->kind == MX_MODEL_EASE) {
    if (!ku || !ki) return 0.0f;
    double s = 0;
    for (uint64_t p = m->seen.indptr[u]; p < m->seen.indptr[u + 1]; p++)
      s += m->ease_b[(size_t)m->seen.indices[p] * m->n_items + i];
    return (float)s;
  }
  double s = m->global_mean;
  if (ku && m->user_bias) s += m->user_bias[u];
  if (ki && m->item_bias) s += m->item_bias[i];
  if (ku && ki && m->factors) {
    const float *p = m->user_factors + (size_t)u * m->factors;
    const float *q = m->item_factors + (size_t)i * m->factors;
    float d = 0;
    for (uint32_t f = 0; f < m->factors; f++) d += p[f] * q[f];
    s += d;
  }
  if (m->rating_max > m->rating_min) s = s < m->rating_min ? m->rating_min : s > m->rating_max ? m->rating_max : s;
  return (float)s;
}
