/* New-item support for models: appending mapped items and evaluating a
 * ranking restricted to candidate items (see merx/embed.h). */
#include "merx/embed.h"
#include "util/util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int mx_model_add_items(const mx_model *base, const char *const *ids, const float *nf,
                       size_t n_new, mx_model **out, mx_error *err) {
  *out = NULL;
  uint32_t k = base->factors;
  if (k == 0 || !base->item_factors)
    return mx_error_set(err, MX_EINVAL, "a %s model has no item factors to extend",
                        mx_model_kind_name(base->kind));
  for (size_t i = 0; i < n_new; i++)
    if (mx_idmap_find(base->items, ids[i], strlen(ids[i])) >= 0)
      return mx_error_set(err, MX_EINVAL, "item '%s' is already in the model", ids[i]);
  uint32_t ni = base->n_items + (uint32_t)n_new;
  mx_model *m;
  int rc = mx_model_create(base->kind, base->n_users, ni, k, base->item_bias != NULL, &m, err);
  if (rc) return rc;
  m->implicit = base->implicit;
  m->global_mean = base->global_mean;
  m->data_fingerprint = base->data_fingerprint;
  m->pseudonym_key = base->pseudonym_key;
  m->n_hyper = base->n_hyper;
  memcpy(m->hyper, base->hyper, sizeof m->hyper);
  memcpy(m->user_factors, base->user_factors, (size_t)base->n_users * k * sizeof(float));
  memcpy(m->item_factors, base->item_factors, (size_t)base->n_items * k * sizeof(float));
  memcpy(m->item_factors + (size_t)base->n_items * k, nf, n_new * k * sizeof(float));
  if (base->user_bias && m->user_bias)
    memcpy(m->user_bias, base->user_bias, (size_t)base->n_users * sizeof(float));
  if (base->item_bias && m->item_bias)
    memcpy(m->item_bias, base->item_bias, (size_t)base->n_items * sizeof(float));
  mx_idmap *items = mx_idmap_create();
  int ok = items != NULL;
  for (uint32_t i = 0; ok && i < base->n_items; i++) {
    const char *s = mx_idmap_name(base->items, i);
    ok = mx_idmap_intern(items, s, strlen(s)) == (int64_t)i;
  }
  for (size_t i = 0; ok && i < n_new; i++)
    ok = mx_idmap_intern(items, ids[i], strlen(ids[i])) == (int64_t)(base->n_items + i);
  if (!ok) {
    mx_idmap_free(items);
    mx_model_free(m);
    return mx_error_set(err, MX_EINVAL, "repeated new item id or out of memory");
  }
  rc = mx_model_set_ids(m, base->users, items, err);
  mx_idmap_free(items);
  if (rc == MX_OK) rc = mx_model_set_seen(m, &base->seen, err);
  if (rc) {
    mx_model_free(m);
    return rc;
  }
  *out = m;
  return MX_OK;
}

static int by_user(const void *a, const void *b, void *ctx) {
  const mx_pairs *p = ctx;
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  if (p->user[x] != p->user[y]) return p->user[x] < p->user[y] ? -1 : 1;
  return x < y ? -1 : x > y;
}

int mx_rank_candidates_eval(const mx_model *m, const uint32_t *cand, size_t nc,
                            const mx_pairs *test, size_t k, mx_rank_metrics *out, mx_error *err) {
  memset(out, 0, sizeof *out);
  if (k == 0 || nc == 0) return mx_error_set(err, MX_EINVAL, "need K >= 1 and candidates");
  /* Position of each item in the candidate list (or -1). */
  int64_t *pos = malloc((size_t)m->n_items * sizeof *pos);
  uint32_t *order = malloc((test->n ? test->n : 1) * sizeof *order);
  float *score = malloc(nc * sizeof *score);
  unsigned char *is_test = calloc(nc, 1);
  uint32_t *top = malloc(k * sizeof *top);
  float *tops = malloc(k * sizeof *tops);
  if (!pos || !order || !score || !is_test || !top || !tops) {
    free(pos), free(order), free(score), free(is_test), free(top), free(tops);
    return mx_error_set(err, MX_ENOMEM, "out of memory");
  }
  for (uint32_t i = 0; i < m->n_items; i++) pos[i] = -1;
  for (size_t c = 0; c < nc; c++)
    if (cand[c] < m->n_items) pos[cand[c]] = (int64_t)c;
  size_t n = 0;
  for (size_t t = 0; t < test->n; t++)
    if (test->user[t] < m->n_users && test->item[t] < m->n_items && pos[test->item[t]] >= 0)
      order[n++] = (uint32_t)t;
  qsort_r(order, n, sizeof *order, by_user, (void *)test);
  double sp = 0, sr = 0, sn = 0, sh = 0;
  for (size_t s = 0; s < n;) {
    uint32_t u = test->user[order[s]];
    size_t e = s;
    memset(is_test, 0, nc);
    size_t nt = 0;
    for (; e < n && test->user[order[e]] == u; e++) {
      size_t c = (size_t)pos[test->item[order[e]]];
      if (!is_test[c]) nt++;
      is_test[c] = 1;
    }
    for (size_t c = 0; c < nc; c++) score[c] = mx_model_predict(m, u, cand[c]);
    /* Training items are not recommended again. */
    for (uint64_t q = m->seen.indptr[u]; q < m->seen.indptr[u + 1]; q++) {
      int64_t c = pos[m->seen.indices[q]];
      if (c >= 0) score[c] = -INFINITY;
    }
    size_t got = 0;
    for (size_t c = 0; c < nc; c++) {
      float v = score[c];
      if (v == -INFINITY) continue;
      if (got == k && !(v > tops[k - 1])) continue;
      size_t p = got < k ? got++ : k - 1;
      while (p > 0 && v > tops[p - 1]) {
        tops[p] = tops[p - 1];
        top[p] = top[p - 1];
        p--;
      }
      tops[p] = v;
      top[p] = (uint32_t)c;
    }
    double dcg = 0, idcg = 0;
    size_t hits = 0;
    for (size_t r = 0; r < got; r++)
      if (is_test[top[r]]) {
        hits++;
        dcg += 1.0 / log2((double)r + 2);
      }
    for (size_t r = 0; r < nt && r < k; r++) idcg += 1.0 / log2((double)r + 2);
    sp += (double)hits / (double)k;
    sr += (double)hits / (double)nt;
    sn += idcg > 0 ? dcg / idcg : 0;
    sh += hits > 0;
    out->users++;
    out->pairs += nt;
    s = e;
  }
  if (out->users) {
    out->precision = sp / (double)out->users;
    out->recall = sr / (double)out->users;
    out->ndcg = sn / (double)out->users;
    out->hit_rate = sh / (double)out->users;
  }
  free(pos), free(order), free(score), free(is_test), free(top), free(tops);
  return MX_OK;
}
