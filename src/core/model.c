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
    mx_csr_free(&m->seen);
  } else {
    /* arrays point into the mapping; seen.indptr etc. too */
  }
  if (m->mapping) munmap(m->mapping, m->mapping_size);
  mx_idmap_free(m->users);
  mx_idmap_free(m->items);
  free(m);
}
