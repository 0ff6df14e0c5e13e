/* Top-K against a naive reference (every score, one full sort) on random
 * models of many shapes. Factors are multiples of 1/4 and biases multiples of
 * 1/2, so every dot product is exact in float whatever the summation order of
 * the BLAS kernel: the results must agree exactly, and the many equal scores
 * exercise the tie rule (smaller item index first). */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "merx/score.h"
#include "util/util.h"

typedef struct {
  float raw; /* ranking score */
  uint32_t id;
} ref_entry;

static int ref_cmp(const void *a, const void *b) {
  const ref_entry *x = a, *y = b;
  if (x->raw != y->raw) return x->raw > y->raw ? -1 : 1;
  return x->id < y->id ? -1 : x->id > y->id;
}

static float dyadic(mx_rng *r, int range, float step) {
  return (float)((int)mx__rng_below(r, (uint32_t)(2 * range + 1)) - range) * step;
}

/* A random model; seen density d; user 0 has seen every item (when
 * n_users > 1), user 1 none. */
static mx_model *random_model(mx_model_kind kind, uint32_t nu, uint32_t ni, uint32_t k, int bias,
                              double d, uint64_t seed) {
  mx_model *m;
  mx_error err;
  assert_int_equal(mx_model_create(kind, nu, ni, kind == MX_MODEL_EASE ? 0 : k, bias, &m, &err),
                   MX_OK);
  mx_rng r;
  mx__rng_seed(&r, seed);
  if (kind == MX_MODEL_EASE) {
    for (size_t x = 0; x < (size_t)ni * ni; x++) m->ease_b[x] = dyadic(&r, 3, 0.25f);
    for (uint32_t i = 0; i < ni; i++) m->ease_b[(size_t)i * ni + i] = 0;
  } else {
    for (size_t x = 0; x < (size_t)nu * k; x++) m->user_factors[x] = dyadic(&r, 4, 0.25f);
    for (size_t x = 0; x < (size_t)ni * k; x++) m->item_factors[x] = dyadic(&r, 4, 0.25f);
  }
  if (bias) {
    for (uint32_t u = 0; u < nu; u++) m->user_bias[u] = dyadic(&r, 2, 0.5f);
    for (uint32_t i = 0; i < ni; i++) m->item_bias[i] = dyadic(&r, 2, 0.5f);
    m->global_mean = 3.5f;
  }
  uint64_t cap = (uint64_t)nu * ni + 1;
  m->seen.indices = malloc(cap * sizeof *m->seen.indices);
  m->seen.values = malloc(cap * sizeof *m->seen.values);
  uint64_t nnz = 0;
  for (uint32_t u = 0; u < nu; u++) {
    m->seen.indptr[u] = nnz;
    for (uint32_t i = 0; i < ni; i++) {
      int s = (nu > 1 && u == 0) || (u != 1 && mx__rng_uniform(&r) < d);
      if (s) {
        m->seen.indices[nnz] = i;
        m->seen.values[nnz++] = 1.0f + (float)mx__rng_below(&r, 3);
      }
    }
  }
  m->seen.indptr[nu] = nnz;
  m->seen.nnz = nnz;
  return m;
}

static float naive_raw(const mx_model *m, uint32_t u, uint32_t i) {
  if (m->kind == MX_MODEL_EASE) {
    float s = 0;
    for (uint64_t j = m->seen.indptr[u]; j < m->seen.indptr[u + 1]; j++)
      s += m->ease_b[(size_t)m->seen.indices[j] * m->n_items + i];
    return s;
  }
  float s = 0;
  for (uint32_t f = 0; f < m->factors; f++)
    s += m->user_factors[(size_t)u * m->factors + f] * m->item_factors[(size_t)i * m->factors + f];
  if (m->item_bias) s += m->item_bias[i];
  return s;
}

static float user_add(const mx_model *m, uint32_t u) {
  return m->global_mean + (m->user_bias ? m->user_bias[u] : 0.0f);
}

static int is_seen(const mx_model *m, uint32_t u, uint32_t i) {
  uint64_t lo = m->seen.indptr[u], hi = m->seen.indptr[u + 1];
  while (lo < hi) {
    uint64_t mid = lo + (hi - lo) / 2;
    if (m->seen.indices[mid] == i) return 1;
    if (m->seen.indices[mid] < i) lo = mid + 1;
    else hi = mid;
  }
  return 0;
}

/* Compare res (for users[r], or all users) with the naive top-K. */
static void check_against_naive(const mx_model *m, const uint32_t *users, uint32_t n,
                                const mx_topk_options *o, const mx_topk_result *res) {
  uint32_t ni = m->n_items;
  char *allowed = calloc(ni, 1);
  uint32_t eligible = 0;
  for (uint32_t i = 0; i < ni; i++) {
    int ok = 1;
    if (o->candidates) {
      ok = 0;
      for (uint32_t c = 0; c < o->n_candidates; c++)
        if (o->candidates[c] == i) ok = 1;
    }
    if (o->item_mask && !mx_bitset_test(o->item_mask, i)) ok = 0;
    allowed[i] = (char)ok;
    eligible += (uint32_t)ok;
  }
  uint32_t k = o->k < eligible ? o->k : eligible;
  assert_int_equal(res->k, k);
  assert_int_equal(res->eligible, eligible);
  assert_int_equal(res->n, n);
  ref_entry *all = malloc((ni + 1) * sizeof *all);
  char *seen = malloc(ni + 1);
  for (uint32_t r = 0; r < n; r++) {
    uint32_t u = users ? users[r] : r, cnt = 0;
    for (uint32_t i = 0; i < ni; i++) seen[i] = (char)is_seen(m, u, i);
    for (uint32_t i = 0; i < ni; i++) {
      if (!allowed[i] || (!o->include_seen && seen[i])) continue;
      all[cnt].raw = naive_raw(m, u, i);
      all[cnt++].id = i;
    }
    qsort(all, cnt, sizeof *all, ref_cmp);
    uint32_t want = cnt < k ? cnt : k;
    assert_int_equal(res->count[r], want);
    for (uint32_t j = 0; j < want; j++) {
      if (res->ids[(size_t)r * k + j] != all[j].id)
        fail_msg("user %u rank %u: got item %u (%g), want %u (%g)", u, j,
                 res->ids[(size_t)r * k + j], res->scores[(size_t)r * k + j], all[j].id,
                 all[j].raw + user_add(m, u));
      assert_true(res->scores[(size_t)r * k + j] == all[j].raw + user_add(m, u));
    }
    for (uint32_t j = want; j < k; j++) {
      assert_int_equal(res->ids[(size_t)r * k + j], MX_TOPK_NONE);
      assert_true(isnan(res->scores[(size_t)r * k + j]));
    }
  }
  free(all);
  free(seen);
  free(allowed);
}

typedef struct {
  uint32_t nu, ni, k, tu, ti;
} shape;

static void run_shapes(mx_model_kind kind, int bias) {
  static const shape shapes[] = {
      {1, 1, 1, 0, 0},     {2, 1, 3, 0, 0},      {3, 5, 2, 0, 0},       {37, 53, 4, 0, 0},
      {130, 1100, 8, 0, 0}, {64, 300, 16, 7, 13}, {200, 257, 3, 33, 100}, {5, 70, 5, 1, 9},
      {129, 513, 6, 128, 512}, {300, 40, 7, 0, 0},
  };
  static const uint32_t ks[] = {1, 3, 10, 40, 1000};
  mx_error err;
  for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) {
    const shape *sh = &shapes[s];
    if (kind == MX_MODEL_EASE && sh->ni > 600) continue;
    mx_model *m = random_model(kind, sh->nu, sh->ni, sh->k, bias, 0.2, 1000 + s);
    for (size_t kk = 0; kk < sizeof ks / sizeof *ks; kk++) {
      for (int threads = 1; threads <= 2; threads++) {
        for (int incl = 0; incl <= 1; incl++) {
          mx_topk_options o = mx_topk_defaults();
          o.k = ks[kk];
          o.threads = threads;
          o.include_seen = incl;
          o.tile_users = sh->tu;
          o.tile_items = sh->ti;
          mx_topk_result *res;
          assert_int_equal(mx_topk_batch(m, NULL, 0, &o, &res, &err), MX_OK);
          check_against_naive(m, NULL, sh->nu, &o, res);
          mx_topk_result_free(res);
        }
      }
    }
    mx_model_free(m);
  }
}

static void test_factor_implicit(void **state) { run_shapes(MX_MODEL_IALS, 0); }
static void test_factor_explicit_bias(void **state) { run_shapes(MX_MODEL_MF, 1); }
static void test_ease(void **state) { run_shapes(MX_MODEL_EASE, 0); }

/* Candidate subsets, bitset filters, a subset of users in any order (with
 * repeats), odd tiles, 1 and 2 threads. */
static void test_filters_and_user_lists(void **state) {
  mx_error err;
  mx_model_kind kinds[] = {MX_MODEL_ALS, MX_MODEL_BPR, MX_MODEL_EASE};
  for (int kind = 0; kind < 3; kind++) {
    mx_model *m = random_model(kinds[kind], 90, 211, 5, kind != 2, 0.3, 77 + kind);
    mx_rng r;
    mx__rng_seed(&r, 5);
    uint32_t users[50];
    for (int x = 0; x < 50; x++) users[x] = mx__rng_below(&r, 90);
    users[3] = 0; /* has seen everything */
    users[4] = 1; /* nothing */
    uint32_t cand[120];
    for (int x = 0; x < 120; x++) cand[x] = mx__rng_below(&r, 211); /* duplicates likely */
    uint64_t mask[4] = {0};
    for (uint32_t i = 0; i < 211; i++)
      if (mx__rng_uniform(&r) < 0.6) mx_bitset_set(mask, i);
    for (int variant = 0; variant < 3; variant++) {
      for (int threads = 1; threads <= 2; threads++) {
        mx_topk_options o = mx_topk_defaults();
        o.k = 7;
        o.threads = threads;
        o.tile_users = 6;
        o.tile_items = 17;
        if (variant != 1) {
          o.candidates = cand;
          o.n_candidates = 120;
        }
        if (variant != 0) o.item_mask = mask;
        mx_topk_result *res;
        assert_int_equal(mx_topk_batch(m, users, 50, &o, &res, &err), MX_OK);
        check_against_naive(m, users, 50, &o, res);
        assert_int_equal(res->count[3], 0);
        mx_topk_result_free(res);
      }
    }
    mx_model_free(m);
  }
}

/* Fold-in path: the model's own vectors, biases and seen lists given as
 * outside vectors return exactly what mx_topk_batch returns. */
static void test_vectors_match_batch(void **state) {
  mx_error err;
  mx_model *m = random_model(MX_MODEL_MF, 70, 150, 6, 1, 0.25, 9);
  mx_topk_options o = mx_topk_defaults();
  o.k = 12;
  mx_topk_result *a, *b;
  assert_int_equal(mx_topk_batch(m, NULL, 0, &o, &a, &err), MX_OK);
  assert_int_equal(mx_topk_vectors(m, m->user_factors, m->user_bias, &m->seen, 70, &o, &b, &err),
                   MX_OK);
  assert_memory_equal(a->ids, b->ids, (size_t)70 * 12 * sizeof *a->ids);
  assert_memory_equal(a->count, b->count, 70 * sizeof *a->count);
  mx_topk_result_free(a);
  mx_topk_result_free(b);
  mx_model_free(m);
  m = random_model(MX_MODEL_EASE, 20, 60, 0, 0, 0.2, 10);
  assert_int_equal(mx_topk_batch(m, NULL, 0, &o, &a, &err), MX_OK);
  assert_int_equal(mx_topk_vectors(m, NULL, NULL, &m->seen, 20, &o, &b, &err), MX_OK);
  assert_memory_equal(a->ids, b->ids, (size_t)20 * 12 * sizeof *a->ids);
  mx_topk_result_free(a);
  mx_topk_result_free(b);
  mx_model_free(m);
}

static void test_score_matrix_and_pairs(void **state) {
  mx_error err;
  mx_model_kind kinds[] = {MX_MODEL_MF, MX_MODEL_IALS, MX_MODEL_EASE};
  for (int kind = 0; kind < 3; kind++) {
    mx_model *m = random_model(kinds[kind], 40, 90, 9, kind == 0, 0.2, 31 + kind);
    uint32_t users[5] = {3, 0, 39, 3, 17}, items[4] = {89, 0, 45, 45};
    float mat[5 * 4], full[40 * 90], pairs[5];
    assert_int_equal(mx_score_matrix(m, users, 5, items, 4, 2, mat, &err), MX_OK);
    assert_int_equal(mx_score_matrix(m, NULL, 0, NULL, 0, 1, full, &err), MX_OK);
    for (int r = 0; r < 5; r++)
      for (int c = 0; c < 4; c++) {
        float want = naive_raw(m, users[r], items[c]) + user_add(m, users[r]);
        assert_true(mat[r * 4 + c] == want);
        assert_true(full[users[r] * 90 + items[c]] == want);
      }
    uint32_t pu[5] = {3, 0, 39, 3, 17}, pi[5] = {89, 0, 45, 1, 2};
    assert_int_equal(mx_score_pairs(m, pu, pi, 5, pairs, &err), MX_OK);
    for (int p = 0; p < 5; p++)
      assert_true(pairs[p] == naive_raw(m, pu[p], pi[p]) + user_add(m, pu[p]));
    uint32_t bad = 40;
    assert_int_equal(mx_score_pairs(m, &bad, pi, 1, pairs, &err), MX_EINVAL);
    mx_model_free(m);
  }
}

static double cosine(const float *x, const float *y, uint32_t k) {
  double d = 0, a = 0, b = 0;
  for (uint32_t j = 0; j < k; j++) {
    d += (double)x[j] * y[j];
    a += (double)x[j] * x[j];
    b += (double)y[j] * y[j];
  }
  return a > 0 && b > 0 ? d / sqrt(a * b) : 0;
}

/* Similar items / users: dot agrees exactly with the naive order; cosine
 * agrees within float rounding (every returned score is the true cosine, the
 * list is sorted, and no excluded-by-rank item beats the last one). */
static void test_similar(void **state) {
  mx_error err;
  mx_model *m = random_model(MX_MODEL_IALS, 60, 120, 8, 0, 0.1, 55);
  for (int of_users = 0; of_users <= 1; of_users++) {
    uint32_t n_all = of_users ? 60 : 120;
    const float *v = of_users ? m->user_factors : m->item_factors;
    uint32_t q[6] = {0, 5, 7, 59, 5, 33};
    for (int metric = 0; metric <= 1; metric++) {
      mx_topk_options o = mx_topk_defaults();
      o.k = 9;
      o.threads = 2;
      o.tile_items = 31;
      mx_topk_result *res;
      int rc = of_users ? mx_similar_users(m, q, 6, (mx_similarity)metric, &o, &res, &err)
                        : mx_similar_items(m, q, 6, (mx_similarity)metric, &o, &res, &err);
      assert_int_equal(rc, MX_OK);
      assert_int_equal(res->k, 9);
      for (int r = 0; r < 6; r++) {
        assert_int_equal(res->count[r], 9);
        ref_entry all[120];
        uint32_t cnt = 0;
        for (uint32_t i = 0; i < n_all; i++) {
          if (i == q[r]) continue;
          double s = metric == MX_SIM_DOT ? 0 : cosine(v + (size_t)q[r] * 8, v + (size_t)i * 8, 8);
          if (metric == MX_SIM_DOT)
            for (int f = 0; f < 8; f++) s += v[(size_t)q[r] * 8 + f] * v[(size_t)i * 8 + f];
          all[cnt].raw = (float)s;
          all[cnt++].id = i;
        }
        qsort(all, cnt, sizeof *all, ref_cmp);
        for (int j = 0; j < 9; j++) {
          uint32_t got = res->ids[r * 9 + j];
          assert_int_not_equal(got, q[r]);
          if (metric == MX_SIM_DOT) {
            assert_int_equal(got, all[j].id);
            assert_true(res->scores[r * 9 + j] == all[j].raw);
          } else {
            double truth = cosine(v + (size_t)q[r] * 8, v + (size_t)got * 8, 8);
            assert_true(fabs(res->scores[r * 9 + j] - truth) < 1e-5);
            assert_true(fabs(all[j].raw - truth) < 1e-5); /* same rank, same value */
          }
        }
      }
      mx_topk_result_free(res);
    }
    /* pair API agrees with the naive cosine */
    uint32_t a[2] = {1, 2}, b[2] = {3, 2};
    float out[2];
    assert_int_equal(mx_similarity_pairs(m, of_users, a, b, 2, MX_SIM_COSINE, out, &err), MX_OK);
    assert_true(fabs(out[0] - cosine(v + 8, v + 24, 8)) < 1e-6);
  }
  mx_model_free(m);
  /* EASE: the largest B[q, i] */
  m = random_model(MX_MODEL_EASE, 5, 50, 0, 0, 0.1, 56);
  uint32_t q = 7;
  mx_topk_result *res;
  mx_topk_options o = mx_topk_defaults();
  o.k = 49;
  assert_int_equal(mx_similar_items(m, &q, 1, MX_SIM_COSINE, &o, &res, &err), MX_OK);
  assert_int_equal(res->count[0], 49);
  for (int j = 1; j < 49; j++) {
    float prev = m->ease_b[7 * 50 + res->ids[j - 1]], cur = m->ease_b[7 * 50 + res->ids[j]];
    assert_true(prev > cur || (prev == cur && res->ids[j - 1] < res->ids[j]));
    assert_true(res->scores[j] == cur);
  }
  mx_topk_result_free(res);
  assert_int_equal(mx_similar_users(m, &q, 1, MX_SIM_COSINE, &o, &res, &err), MX_EINVAL);
  mx_model_free(m);
}

/* Explicit models report ratings clipped to the training range, like
 * mx_model_predict; the order is the unclipped one. */
static void test_explicit_clipping(void **state) {
  mx_error err;
  mx_model *m = random_model(MX_MODEL_MF, 30, 80, 6, 1, 0.1, 21);
  mx_topk_options o = mx_topk_defaults();
  o.k = 20;
  mx_topk_result *a, *b;
  assert_int_equal(mx_topk_batch(m, NULL, 0, &o, &a, &err), MX_OK);
  m->rating_min = 1.0f;
  m->rating_max = 5.0f;
  assert_int_equal(mx_topk_batch(m, NULL, 0, &o, &b, &err), MX_OK);
  assert_memory_equal(a->ids, b->ids, (size_t)30 * 20 * sizeof *a->ids);
  int clipped = 0;
  for (size_t x = 0; x < (size_t)30 * 20; x++) {
    if (isnan(a->scores[x])) continue;
    float want = a->scores[x] < 1 ? 1 : a->scores[x] > 5 ? 5 : a->scores[x];
    assert_true(b->scores[x] == want);
    clipped += want != a->scores[x];
  }
  assert_true(clipped > 0);
  uint32_t u[3] = {2, 7, 29}, i[3] = {0, 40, 79};
  float s[3];
  assert_int_equal(mx_score_pairs(m, u, i, 3, s, &err), MX_OK);
  for (int p = 0; p < 3; p++) assert_true(s[p] == mx_model_predict(m, u[p], i[p]));
  mx_topk_result_free(a);
  mx_topk_result_free(b);
  mx_model_free(m);
}

static void test_bad_input(void **state) {
  mx_error err;
  mx_model *m = random_model(MX_MODEL_IALS, 10, 20, 4, 0, 0.2, 3);
  mx_topk_options o = mx_topk_defaults();
  mx_topk_result *res = (mx_topk_result *)1;
  uint32_t u = 10;
  assert_int_equal(mx_topk_batch(m, &u, 1, &o, &res, &err), MX_EINVAL);
  assert_null(res);
  uint32_t cand[1] = {0};
  o.candidates = cand;
  o.n_candidates = 0;
  assert_int_equal(mx_topk_batch(m, NULL, 0, &o, &res, &err), MX_EEMPTY);
  cand[0] = 20;
  o.n_candidates = 1;
  assert_int_equal(mx_topk_batch(m, NULL, 0, &o, &res, &err), MX_EINVAL);
  o = mx_topk_defaults();
  uint64_t mask[1] = {0};
  o.item_mask = mask;
  assert_int_equal(mx_topk_batch(m, NULL, 0, &o, &res, &err), MX_EEMPTY);
  o = mx_topk_defaults();
  o.k = 0;
  assert_int_equal(mx_topk_batch(m, NULL, 0, &o, &res, &err), MX_EINVAL);
  /* no users: an empty result, not an error */
  o.k = 3;
  assert_int_equal(mx_topk_batch(m, &u, 0, &o, &res, &err), MX_OK);
  assert_int_equal(res->n, 0);
  mx_topk_result_free(res);
  mx_model_free(m);
}

/* The bf16 first pass (opt.approx) returns the exact scan's lists and
 * exact scores: dyadic factors are exact in bf16, so the bound proves the
 * rows; a catalogue of identical items ties every score, so the bound
 * cannot, and every row must come from the exact rescan. Odd factor count
 * and tiles that are not whole panels exercise the padding. */
static void test_bf16_first_pass(void **state) {
  (void)state;
  mx_error err;
  mx_model *m = random_model(MX_MODEL_MF, 60, 500, 21, 1, 0.05, 11);
  mx_item_bf16 *ap = mx_item_bf16_build(m);
  assert_non_null(ap);
  /* k = 20 keeps 80 candidates: a heap rather than a sorted array */
  uint32_t tiles[4][3] = {{0, 0, 7}, {7, 40, 7}, {1, 0, 7}, {0, 0, 20}};
  for (int t = 0; t < 4; t++) {
    mx_topk_options o = mx_topk_defaults();
    uint32_t k = tiles[t][2];
    o.k = k;
    o.threads = 2;
    o.tile_users = tiles[t][0];
    o.tile_items = tiles[t][1];
    mx_topk_result *ex, *aq;
    assert_int_equal(mx_topk_batch(m, NULL, 0, &o, &ex, &err), MX_OK);
    assert_int_equal(ex->approx_rows, 0);
    o.approx = ap;
    assert_int_equal(mx_topk_batch(m, NULL, 0, &o, &aq, &err), MX_OK);
    assert_int_equal(aq->approx_rows + aq->exact_rows, 60);
    assert_true(aq->approx_rows > 0);
    for (uint32_t u = 0; u < 60; u++) {
      assert_int_equal(aq->count[u], ex->count[u]);
      for (uint32_t j = 0; j < ex->count[u]; j++) {
        assert_int_equal(aq->ids[u * k + j], ex->ids[u * k + j]);
        assert_true(aq->scores[u * k + j] == ex->scores[u * k + j]);
      }
    }
    mx_topk_result_free(ex);
    mx_topk_result_free(aq);
  }
  /* a filter gathers the targets: the first pass steps aside */
  mx_topk_options o = mx_topk_defaults();
  uint32_t cand[3] = {4, 9, 300};
  o.candidates = cand;
  o.n_candidates = 3;
  o.approx = ap;
  mx_topk_result *r;
  assert_int_equal(mx_topk_batch(m, NULL, 0, &o, &r, &err), MX_OK);
  assert_int_equal(r->approx_rows, 0);
  mx_topk_result_free(r);
  /* identical items: every score ties, nothing can be proven */
  for (uint32_t i = 1; i < m->n_items; i++)
    memcpy(m->item_factors + (size_t)i * 21, m->item_factors, 21 * sizeof(float));
  for (uint32_t i = 0; i < m->n_items; i++) m->item_bias[i] = 0;
  mx_item_bf16_free(ap);
  assert_non_null(ap = mx_item_bf16_build(m));
  o = mx_topk_defaults();
  o.k = 5;
  mx_topk_result *ex;
  assert_int_equal(mx_topk_batch(m, NULL, 0, &o, &ex, &err), MX_OK);
  o.approx = ap;
  assert_int_equal(mx_topk_batch(m, NULL, 0, &o, &r, &err), MX_OK);
  assert_true(r->exact_rows >= 59); /* user 0 has seen every item: an empty row is proven */
  for (uint32_t x = 0; x < 60 * 5; x++) assert_int_equal(r->ids[x], ex->ids[x]);
  mx_topk_result_free(ex);
  mx_topk_result_free(r);
  mx_item_bf16_free(ap);
  mx_model_free(m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_factor_implicit),
      cmocka_unit_test(test_factor_explicit_bias),
      cmocka_unit_test(test_ease),
      cmocka_unit_test(test_filters_and_user_lists),
      cmocka_unit_test(test_vectors_match_batch),
      cmocka_unit_test(test_score_matrix_and_pairs),
      cmocka_unit_test(test_similar),
      cmocka_unit_test(test_explicit_clipping),
      cmocka_unit_test(test_bad_input),
      cmocka_unit_test(test_bf16_first_pass),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
