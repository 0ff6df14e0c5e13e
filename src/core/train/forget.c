/* Erasure in a model (`merx forget`, PRIVACY.md): drop users' factor rows,
 * biases, ids and stored interactions, and retrain a model from what it keeps
 * (its stored interactions and hyper-parameters), since the item side and
 * every other user's factors were learnt with the erased person's data. */
#include <stdlib.h>
#include <string.h>

#include "merx/dataset.h"
#include "merx/model.h"

int mx_model_remove_users(mx_model *m, const unsigned char *drop, mx_error *err) {
  if (!m->owns_arrays || m->seen_borrowed)
    return mx_error_set(err, MX_EINVAL, "remove users: the model must own its arrays (clone it)");
  mx_idmap *ids = mx_idmap_create();
  if (!ids) return mx_error_set(err, MX_ENOMEM, "out of memory");
  uint32_t k = m->factors, n = 0;
  uint64_t w = 0;
  mx_csr *s = &m->seen;
  int have_seen = s->indptr && s->rows == m->n_users;
  for (uint32_t u = 0; u < m->n_users; u++) {
    if (drop[u]) continue;
    const char *name = mx_idmap_name(m->users, u);
    if (mx_idmap_intern(ids, name, strlen(name)) < 0) {
      mx_idmap_free(ids);
      return mx_error_set(err, MX_ENOMEM, "out of memory");
    }
    /* rows move down in place: n <= u */
    if (m->user_factors && n != u)
      memmove(m->user_factors + (size_t)n * k, m->user_factors + (size_t)u * k, k * sizeof(float));
    if (m->user_bias) m->user_bias[n] = m->user_bias[u];
    if (have_seen) {
      uint64_t a = s->indptr[u], b = s->indptr[u + 1];
      if (w != a) {
        memmove(s->indices + w, s->indices + a, (size_t)(b - a) * sizeof *s->indices);
        if (s->values) memmove(s->values + w, s->values + a, (size_t)(b - a) * sizeof *s->values);
        if (s->times) memmove(s->times + w, s->times + a, (size_t)(b - a) * sizeof *s->times);
      }
      s->indptr[n] = w;
      w += b - a;
    }
    n++;
  }
  if (have_seen) {
    s->indptr[n] = w;
    s->rows = n;
    s->nnz = w;
  }
  /* the dropped rows' bytes past the new end are not written by mx_model_save */
  mx_idmap_free(m->users);
  m->users = ids;
  m->n_users = n;
  return MX_OK;
}

int mx_model_retrain(const mx_model *m, int threads, mx_model **out, mx_error *err) {
  *out = NULL;
  if (m->kind == MX_MODEL_IMPORTED || m->n_hyper < 12 || !m->seen.indptr)
    return mx_error_set(err, MX_EINVAL,
                        "a %s model cannot be retrained from the model file (no stored "
                        "interactions or hyper-parameters): train it again from the data",
                        mx_model_kind_name(m->kind));
  mx_dataset_builder *b = mx_dataset_builder_create();
  if (!b) return mx_error_set(err, MX_ENOMEM, "out of memory");
  for (uint32_t u = 0; u < m->n_users; u++) {
    const char *un = mx_idmap_name(m->users, u);
    for (uint64_t p = m->seen.indptr[u]; p < m->seen.indptr[u + 1]; p++) {
      const char *in = mx_idmap_name(m->items, m->seen.indices[p]);
      float v = m->seen.values ? m->seen.values[p] : 1.0f;
      if (mx_dataset_builder_add(b, un, strlen(un), in, strlen(in), v, 0) != 0) {
        mx_dataset_builder_free(b);
        return mx_error_set(err, MX_ENOMEM, "out of memory");
      }
    }
  }
  mx_dataset *d = NULL;
  int rc = mx_dataset_builder_finish(b, m->seen.values != NULL, 0, &d, err);
  if (rc != MX_OK) return rc;
  mx_train_options o = mx_train_defaults(m->kind);
  const double *h = m->hyper; /* the order of train.c */
  o.factors = (uint32_t)h[0];
  o.epochs = (int)h[1];
  o.reg = h[2];
  o.lr = h[3];
  o.alpha = h[4];
  o.reg_bias = h[5];
  o.lr_decay = h[6];
  o.cg_steps = (int)h[7];
  o.log_confidence = (int)h[8];
  o.eps = h[9];
  o.seed = (uint64_t)h[10];
  o.init_std = h[11];
  o.threads = threads;
  rc = mx_model_train(d, &o, out, err);
  if (rc == MX_OK) (*out)->pseudonym_key = m->pseudonym_key; /* the same ids */
  mx_dataset_free(d);
  return rc;
}
