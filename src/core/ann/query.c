/* HNSW queries: K-NN-SEARCH (Malkov & Yashunin 2018, Algorithm 5) for one
 * vector, for a batch of vectors on several threads, and similar items /
 * users of a model in the result layout of merx/score.h. */
#include "core/ann/internal.h"
#include "util/util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* One query: q is either a row of the index (row < n) or a vector. */
static int search_one(const mx_ann *ix, const float *vec, uint32_t row, uint32_t k, uint32_t ef,
                      const uint64_t *mask, uint32_t exclude, mx__ann_scratch *s, uint32_t *ids,
                      float *scores, uint32_t *count) {
  mx__ann_query q = {vec ? vec : ix->vec + (size_t)row * ix->dim, 0.0f};
  double nn = 0;
  for (uint32_t j = 0; j < ix->dim; j++) nn += (double)q.v[j] * q.v[j];
  q.scale = nn > 0 ? (float)(1.0 / sqrt(nn)) : 0.0f;
  if (ef < k) ef = k;
  uint32_t ep = ix->entry;
  float ep_sim = mx__ann_sim(ix, &q, ep);
  for (int l = ix->max_level; l > 0; l--) mx__ann_greedy(ix, &q, l, &ep, &ep_sim);
  mx__ann_pair first = {ep_sim, ep};
  if (mx__ann_search_layer(ix, &q, &first, 1, ef, 0, mask, exclude, s) != MX_OK) return MX_ENOMEM;
  mx__ann_pair *r = s->res;
  uint32_t nr = s->n_res;
  /* Scores in the index's metric: the walk's similarity is the cosine for
   * cosine indexes; inner-product indexes report <q, x> itself. */
  for (uint32_t i = 0; i < nr; i++) {
    if (ix->metric == MX_ANN_DOT)
      r[i].sim = mx__ann_dot(q.v, ix->vec + (size_t)r[i].id * ix->dim, ix->dim);
  }
  mx__ann_sort_pairs(r, nr);
  uint32_t c = nr < k ? nr : k;
  for (uint32_t i = 0; i < c; i++) {
    ids[i] = r[i].id;
    scores[i] = r[i].sim;
  }
  for (uint32_t i = c; i < k; i++) {
    ids[i] = MX_TOPK_NONE;
    scores[i] = NAN;
  }
  *count = c;
  return MX_OK;
}

int mx_ann_search(const mx_ann *ix, const float *query, uint32_t k, uint32_t ef,
                  const uint64_t *item_mask, uint32_t exclude, uint32_t *ids, float *scores,
                  uint32_t *count, mx_error *err) {
  *count = 0;
  if (k == 0) return mx_error_set(err, MX_EINVAL, "k must be at least 1");
  if (!query) return mx_error_set(err, MX_EINVAL, "no query vector");
  if (!ix->vec) return mx_error_set(err, MX_ESTATE, "the index was loaded without its vectors");
  mx__ann_scratch s;
  memset(&s, 0, sizeof s);
  int rc = search_one(ix, query, 0, k, ef, item_mask, exclude, &s, ids, scores, count);
  mx__ann_scratch_free(&s);
  if (rc != MX_OK) return mx_error_set(err, MX_ENOMEM, "out of memory");
  return MX_OK;
}

typedef struct batch_ctx {
  const mx_ann *ix;
  const float *vec;       /* n x dim queries, or NULL: rows */
  const uint32_t *rows;   /* query rows when vec is NULL */
  const uint32_t *exclude;
  const uint64_t *mask;
  uint32_t ef;
  mx_topk_result *res;
  const mx_cancel *cancel;
  int failed;             /* MX_ENOMEM or a cancel code */
} batch_ctx;

static int batch_share(void *ctx, int t, int nthreads) {
  batch_ctx *c = ctx;
  mx_topk_result *r = c->res;
  mx__ann_scratch s;
  memset(&s, 0, sizeof s);
  for (uint32_t i = (uint32_t)t; i < r->n && !c->failed; i += (uint32_t)nthreads) {
    if ((i / (uint32_t)nthreads) % 256 == 0) {
      int cc = mx_cancel_check(c->cancel, "nearest-neighbour search", NULL);
      if (cc != MX_OK) {
        c->failed = cc;
        break;
      }
    }
    const float *v = c->vec ? c->vec + (size_t)i * c->ix->dim : NULL;
    uint32_t row = c->rows ? c->rows[i] : 0;
    uint32_t ex = c->exclude ? c->exclude[i] : UINT32_MAX;
    if (search_one(c->ix, v, row, r->k, c->ef, c->mask, ex, &s, r->ids + (size_t)i * r->k,
                   r->scores + (size_t)i * r->k, &r->count[i]) != MX_OK)
      c->failed = MX_ENOMEM;
  }
  mx__ann_scratch_free(&s);
  return MX_OK;
}

/* The eligibility mask of opt (candidates intersected with item_mask), or
 * NULL when everything is eligible; *eligible counts the rows. */
static int eligibility(const mx_ann *ix, const mx_topk_options *opt, uint64_t **mask_out,
                       uint32_t *eligible, mx_error *err) {
  *mask_out = NULL;
  *eligible = ix->n;
  if (!opt->candidates && !opt->item_mask) return MX_OK;
  if (opt->candidates && opt->n_candidates == 0)
    return mx_error_set(err, MX_EEMPTY, "the candidate set is empty");
  uint64_t words = mx_bitset_words(ix->n);
  uint64_t *m = calloc((size_t)words, sizeof *m);
  if (!m) return mx_error_set(err, MX_ENOMEM, "out of memory");
  if (opt->candidates) {
    for (uint32_t c = 0; c < opt->n_candidates; c++) {
      if (opt->candidates[c] >= ix->n) {
        free(m);
        return mx_error_set(err, MX_EINVAL, "candidate index %u out of range (%u items)",
                            opt->candidates[c], ix->n);
      }
      mx_bitset_set(m, opt->candidates[c]);
    }
  } else {
    memset(m, 0xff, (size_t)words * sizeof *m);
  }
  uint32_t cnt = 0;
  for (uint64_t w = 0; w < words; w++) {
    if (opt->item_mask) m[w] &= opt->item_mask[w];
    if (w == words - 1 && ix->n % 64) m[w] &= ((uint64_t)1 << (ix->n % 64)) - 1;
    cnt += (uint32_t)__builtin_popcountll(m[w]);
  }
  if (cnt == 0) {
    free(m);
    return mx_error_set(err, MX_EEMPTY, "no item is eligible after the candidate set and filters");
  }
  *mask_out = m;
  *eligible = cnt;
  return MX_OK;
}

static int run_batch(const mx_ann *ix, const float *vec, const uint32_t *rows, uint32_t n,
                     uint32_t ef, const uint32_t *exclude, const mx_topk_options *opt,
                     mx_topk_result **out, mx_error *err) {
  *out = NULL;
  mx_topk_options defaults = mx_topk_defaults();
  if (!opt) opt = &defaults;
  if (opt->k == 0) return mx_error_set(err, MX_EINVAL, "k must be at least 1");
  if (!ix->vec) return mx_error_set(err, MX_ESTATE, "the index was loaded without its vectors");
  uint64_t *mask;
  uint32_t eligible;
  int rc = eligibility(ix, opt, &mask, &eligible, err);
  if (rc) return rc;
  uint32_t k = opt->k < eligible ? opt->k : eligible;
  mx_topk_result *res = calloc(1, sizeof *res);
  size_t cells = (size_t)n * k;
  if (res) {
    res->n = n;
    res->k = k;
    res->eligible = eligible;
    res->ids = malloc((cells ? cells : 1) * sizeof *res->ids);
    res->scores = malloc((cells ? cells : 1) * sizeof *res->scores);
    res->count = calloc(n ? n : 1, sizeof *res->count);
  }
  if (!res || !res->ids || !res->scores || !res->count) {
    free(mask);
    mx_topk_result_free(res);
    return mx_error_set(err, MX_ENOMEM, "out of memory for %u top-%u lists", n, k);
  }
  batch_ctx c = {ix, vec, rows, exclude, mask, ef, res, opt->cancel, 0};
  int threads = mx__threads_resolve(opt->threads);
  if (threads > (int)n) threads = n ? (int)n : 1;
  mx__parallel_run(threads, batch_share, &c);
  free(mask);
  if (c.failed) {
    mx_topk_result_free(res);
    if (c.failed == MX_ENOMEM) return mx_error_set(err, MX_ENOMEM, "out of memory");
    return mx_cancel_check(opt->cancel, "nearest-neighbour search", err);
  }
  *out = res;
  return MX_OK;
}

int mx_ann_search_batch(const mx_ann *ix, const float *queries, uint32_t n, uint32_t ef,
                        const uint32_t *exclude, const mx_topk_options *opt,
                        mx_topk_result **out, mx_error *err) {
  *out = NULL;
  if (!queries && n) return mx_error_set(err, MX_EINVAL, "no query vectors");
  return run_batch(ix, queries, NULL, n, ef, exclude, opt, out, err);
}

int mx_ann_similar(const mx_model *m, const mx_ann *ix, int of_users, const uint32_t *queries,
                   uint32_t n, mx_similarity metric, uint32_t ef, const mx_topk_options *opt,
                   mx_topk_result **out, mx_error *err) {
  *out = NULL;
  const float *vec = of_users ? m->user_factors : m->item_factors;
  uint32_t n_all = of_users ? m->n_users : m->n_items;
  const char *what = of_users ? "user" : "item";
  if (!vec || ix->vec != vec || ix->n != n_all || ix->dim != m->factors)
    return mx_error_set(err, MX_EINVAL, "the index is not bound to this model's %s vectors", what);
  mx_ann_metric want = metric == MX_SIM_DOT ? MX_ANN_DOT : MX_ANN_COSINE;
  if (ix->metric != want)
    return mx_error_set(err, MX_EINVAL, "the index was built for %s similarity, not %s",
                        mx_ann_metric_name(ix->metric), mx_ann_metric_name(want));
  if (!queries && n) return mx_error_set(err, MX_EINVAL, "no query %ss", what);
  for (uint32_t r = 0; r < n; r++)
    if (queries[r] >= n_all)
      return mx_error_set(err, MX_EINVAL, "%s index %u out of range (model has %u)", what,
                          queries[r], n_all);
  return run_batch(ix, NULL, queries, n, ef, queries, opt, out, err);
}
