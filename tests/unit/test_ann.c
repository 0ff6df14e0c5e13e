/* HNSW index (src/core/ann): exact answers on tiny sets, recall against the
 * exact scan on a few thousand vectors (cosine and inner product), filters,
 * the file round trip and its refusals (stale, truncated, corrupt, foreign),
 * byte-identical builds for 1 and 2 threads, similar items through a model,
 * cancellation. */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "merx/ann.h"
#include "merx/score.h"
#include "testutil.h"
#include "util/util.h"

/* Clustered Gaussian vectors: c centres, each row a centre plus noise. */
static float *clustered(uint32_t n, uint32_t d, uint32_t c, double noise, uint64_t seed,
                        int vary_norm) {
  mx_rng r;
  mx__rng_seed(&r, seed);
  float *cent = malloc((size_t)c * d * sizeof *cent);
  float *v = malloc((size_t)n * d * sizeof *v);
  for (size_t i = 0; i < (size_t)c * d; i++) cent[i] = (float)mx__rng_normal(&r);
  for (uint32_t i = 0; i < n; i++) {
    uint32_t k = mx__rng_below(&r, c);
    double s = vary_norm ? 0.2 + 2.0 * mx__rng_uniform(&r) : 1.0;
    for (uint32_t j = 0; j < d; j++)
      v[(size_t)i * d + j] = (float)(s * (cent[(size_t)k * d + j] + noise * mx__rng_normal(&r)));
  }
  free(cent);
  return v;
}

/* Exact top-k by brute force (double), ties by smaller index. */
static void exact_topk(const float *v, uint32_t n, uint32_t d, const float *q, int cosine,
                       uint32_t k, uint32_t exclude, uint32_t *out) {
  double *best = malloc(k * sizeof *best);
  uint32_t got = 0;
  double qn = 0;
  for (uint32_t j = 0; j < d; j++) qn += (double)q[j] * q[j];
  for (uint32_t i = 0; i < n; i++) {
    if (i == exclude) continue;
    double dot = 0, xn = 0;
    for (uint32_t j = 0; j < d; j++) {
      dot += (double)q[j] * v[(size_t)i * d + j];
      xn += (double)v[(size_t)i * d + j] * v[(size_t)i * d + j];
    }
    double s = cosine ? (xn > 0 && qn > 0 ? dot / sqrt(xn * qn) : 0) : dot;
    if (got == k && !(s > best[k - 1])) continue;
    uint32_t p = got < k ? got++ : k - 1;
    while (p > 0 && s > best[p - 1]) {
      best[p] = best[p - 1];
      out[p] = out[p - 1];
      p--;
    }
    best[p] = s;
    out[p] = i;
  }
  free(best);
}

static double recall_of(const mx_ann *ix, const float *v, const float *queries, uint32_t nq,
                        uint32_t n, uint32_t d, int cosine, uint32_t k, uint32_t ef) {
  uint32_t *truth = malloc(k * sizeof *truth), *ids = malloc(k * sizeof *ids), cnt;
  float *sc = malloc(k * sizeof *sc);
  uint64_t hit = 0;
  mx_error err;
  for (uint32_t q = 0; q < nq; q++) {
    const float *qv = queries + (size_t)q * d;
    exact_topk(v, n, d, qv, cosine, k, UINT32_MAX, truth);
    assert_int_equal(mx_ann_search(ix, qv, k, ef, NULL, UINT32_MAX, ids, sc, &cnt, &err), MX_OK);
    assert_int_equal(cnt, k);
    for (uint32_t a = 0; a < k; a++)
      for (uint32_t b = 0; b < k; b++) hit += ids[a] == truth[b];
    for (uint32_t a = 1; a < k; a++) assert_true(sc[a] <= sc[a - 1]);
  }
  free(truth);
  free(ids);
  free(sc);
  return (double)hit / ((double)nq * k);
}

static void test_tiny_exact(void **state) {
  (void)state;
  /* Points on the unit circle at 0, 10, 20, ..., 350 degrees: the cosine
   * neighbours of angle a are a +- 10, a +- 20, ... */
  enum { N = 36 };
  float v[N * 2];
  for (int i = 0; i < N; i++) {
    v[2 * i] = (float)cos(i * M_PI / 18);
    v[2 * i + 1] = (float)sin(i * M_PI / 18);
  }
  mx_ann_options o = mx_ann_defaults();
  o.M = 4;
  o.ef_construction = 16;
  o.threads = 1;
  mx_ann *ix;
  mx_error err;
  assert_int_equal(mx_ann_build(v, N, 2, &o, &ix, &err), MX_OK);
  float q[2] = {(float)cos(0.01), (float)sin(0.01)}; /* just past item 0 towards item 1 */
  uint32_t ids[3], cnt;
  float sc[3];
  assert_int_equal(mx_ann_search(ix, q, 3, 10, NULL, UINT32_MAX, ids, sc, &cnt, &err), MX_OK);
  assert_int_equal(cnt, 3);
  assert_int_equal(ids[0], 0);
  assert_int_equal(ids[1], 1);
  assert_int_equal(ids[2], 35);
  assert_true(fabsf(sc[0] - (float)cos(0.01)) < 1e-5f);
  /* exclude and mask: never item 0; only odd items */
  uint64_t mask[1] = {0};
  for (int i = 1; i < N; i += 2) mask[0] |= (uint64_t)1 << i;
  assert_int_equal(mx_ann_search(ix, q, 3, 10, mask, 1, ids, sc, &cnt, &err), MX_OK);
  assert_int_equal(cnt, 3);
  assert_int_equal(ids[0], 35);
  assert_int_equal(ids[1], 3);
  assert_int_equal(ids[2], 33);
  /* k larger than the catalogue: every item once */
  uint32_t all[40];
  float asc[40];
  assert_int_equal(mx_ann_search(ix, q, 40, 40, NULL, UINT32_MAX, all, asc, &cnt, &err), MX_OK);
  assert_int_equal(cnt, N);
  assert_int_equal(all[36], MX_TOPK_NONE);
  mx_ann_free(ix);

  /* Inner product ranks by length too: the long vector wins though the
   * short one points the same way as the query. */
  float w[6] = {1, 0, 0.6f, 0.6f, 3, 3};
  o.metric = MX_ANN_DOT;
  assert_int_equal(mx_ann_build(w, 3, 2, &o, &ix, &err), MX_OK);
  float q2[2] = {1, 0.05f};
  assert_int_equal(mx_ann_search(ix, q2, 3, 10, NULL, UINT32_MAX, ids, sc, &cnt, &err), MX_OK);
  assert_int_equal(ids[0], 2);
  assert_int_equal(ids[1], 0);
  assert_int_equal(ids[2], 1);
  assert_true(fabsf(sc[0] - 3.15f) < 1e-5f);
  mx_ann_free(ix);
}

static void test_recall_cosine_and_dot(void **state) {
  (void)state;
  const uint32_t n = 3000, d = 24, nq = 100;
  for (int dot = 0; dot <= 1; dot++) {
    float *v = clustered(n, d, 30, 0.6, 7 + dot, dot);
    float *q = clustered(nq, d, 30, 0.6, 99 + dot, dot);
    mx_ann_options o = mx_ann_defaults();
    o.M = 12;
    o.ef_construction = 100;
    o.metric = dot ? MX_ANN_DOT : MX_ANN_COSINE;
    o.threads = 2;
    mx_ann *ix;
    mx_error err;
    assert_int_equal(mx_ann_build(v, n, d, &o, &ix, &err), MX_OK);
    uint32_t ef = 200;
    double r = recall_of(ix, v, q, nq, n, d, !dot, 10, ef);
    fprintf(stderr, "recall@10 (%s, ef %u): %.4f\n", dot ? "dot" : "cosine", ef, r);
    assert_true(r >= 0.99);
    mx_ann_free(ix);
    free(v);
    free(q);
  }
  /* uniform noise, the hard case, still fine with a generous ef */
  float *v = clustered(n, 16, 1, 1.0, 5, 0), *q = clustered(nq, 16, 1, 1.0, 6, 0);
  mx_ann_options o = mx_ann_defaults();
  mx_ann *ix;
  mx_error err;
  assert_int_equal(mx_ann_build(v, n, 16, &o, &ix, &err), MX_OK);
  double r = recall_of(ix, v, q, nq, n, 16, 1, 10, 300);
  fprintf(stderr, "recall@10 (uniform, ef 300): %.4f\n", r);
  assert_true(r >= 0.99);
  mx_ann_free(ix);
  free(v);
  free(q);
}

static int file_equal(const char *a, const char *b) {
  char *x, *y;
  size_t nx, ny;
  mx_error err;
  assert_int_equal(mx__read_file(a, &x, &nx, &err), MX_OK);
  assert_int_equal(mx__read_file(b, &y, &ny, &err), MX_OK);
  int eq = nx == ny && memcmp(x, y, nx) == 0;
  free(x);
  free(y);
  return eq;
}

static void test_threads_same_bytes_and_round_trip(void **state) {
  (void)state;
  const uint32_t n = 2500, d = 16;
  float *v = clustered(n, d, 20, 0.5, 3, 0);
  mx_ann_options o = mx_ann_defaults();
  o.M = 8;
  o.ef_construction = 64;
  o.source = "test vectors";
  mx_ann *a, *b;
  mx_error err;
  o.threads = 1;
  assert_int_equal(mx_ann_build(v, n, d, &o, &a, &err), MX_OK);
  o.threads = 2;
  assert_int_equal(mx_ann_build(v, n, d, &o, &b, &err), MX_OK);
  const char *pa = tu_path("a.hnsw"), *pb = tu_path("b.hnsw");
  assert_int_equal(mx_ann_save(a, pa, &err), MX_OK);
  assert_int_equal(mx_ann_save(b, pb, &err), MX_OK);
  assert_true(file_equal(pa, pb));
  /* another seed gives another graph */
  o.seed = 2;
  mx_ann *c;
  assert_int_equal(mx_ann_build(v, n, d, &o, &c, &err), MX_OK);
  const char *pc = tu_path("c.hnsw");
  assert_int_equal(mx_ann_save(c, pc, &err), MX_OK);
  assert_false(file_equal(pa, pc));
  mx_ann_free(c);

  mx_ann *l;
  assert_int_equal(mx_ann_load(pa, v, n, d, "v", &l, &err), MX_OK);
  mx_ann_info ia, il;
  mx_ann_get_info(a, &ia);
  mx_ann_get_info(l, &il);
  assert_int_equal(ia.n, il.n);
  assert_int_equal(ia.links, il.links);
  assert_int_equal(ia.max_level, il.max_level);
  assert_int_equal(il.bytes, 0 + il.bytes);
  assert_string_equal(il.source, "test vectors");
  for (uint32_t qi = 0; qi < 50; qi++) {
    uint32_t x[10], y[10], cx, cy;
    float sx[10], sy[10];
    const float *qv = v + (size_t)(qi * 37) * d;
    assert_int_equal(mx_ann_search(a, qv, 10, 50, NULL, UINT32_MAX, x, sx, &cx, &err), MX_OK);
    assert_int_equal(mx_ann_search(l, qv, 10, 50, NULL, UINT32_MAX, y, sy, &cy, &err), MX_OK);
    assert_int_equal(cx, cy);
    assert_memory_equal(x, y, sizeof x);
    assert_memory_equal(sx, sy, sizeof sx);
  }
  mx_ann_free(l);

  /* stale: one changed vector, or another count */
  v[5] += 0.25f;
  assert_int_equal(mx_ann_load(pa, v, n, d, "new.mxm (items)", &l, &err), MX_EFORMAT);
  assert_non_null(strstr(err.message, "stale index"));
  assert_non_null(strstr(err.message, "new.mxm (items)"));
  assert_non_null(strstr(err.message, "test vectors"));
  assert_non_null(strstr(err.file, "a.hnsw"));
  v[5] -= 0.25f;
  assert_int_equal(mx_ann_load(pa, v, n - 1, d, "fewer", &l, &err), MX_EFORMAT);
  assert_non_null(strstr(err.message, "stale index"));

  /* truncated, corrupt, foreign, missing */
  char *buf;
  size_t len;
  assert_int_equal(mx__read_file(pa, &buf, &len, &err), MX_OK);
  const char *pt = tu_path("t.hnsw");
  assert_int_equal(mx__atomic_write(pt, buf, len - 64, &err), MX_OK);
  assert_int_equal(mx_ann_load(pt, v, n, d, "v", &l, &err), MX_EFORMAT);
  assert_non_null(strstr(err.message, "truncated"));
  assert_int_equal(mx__atomic_write(pt, buf, 100, &err), MX_OK);
  assert_int_equal(mx_ann_load(pt, v, n, d, "v", &l, &err), MX_EFORMAT);
  assert_non_null(strstr(err.message, "truncated"));
  buf[len / 2] ^= 0x10;
  assert_int_equal(mx__atomic_write(pt, buf, len, &err), MX_OK);
  assert_int_equal(mx_ann_load(pt, v, n, d, "v", &l, &err), MX_EFORMAT);
  assert_non_null(strstr(err.message, "checksum"));
  buf[len / 2] ^= 0x10;
  buf[40] ^= 1; /* inside the header */
  assert_int_equal(mx__atomic_write(pt, buf, len, &err), MX_OK);
  assert_int_equal(mx_ann_load(pt, v, n, d, "v", &l, &err), MX_EFORMAT);
  assert_non_null(strstr(err.message, "header checksum"));
  free(buf);
  const char *pf = tu_write("f.hnsw", "user,item\n1,2\n");
  assert_int_equal(mx_ann_load(pf, v, n, d, "v", &l, &err), MX_EFORMAT);
  assert_non_null(strstr(err.message, "wrong magic"));
  assert_int_equal(mx_ann_load(tu_path("none.hnsw"), v, n, d, "v", &l, &err), MX_EIO);
  assert_int_equal(mx_ann_load(tu_tmpdir(), v, n, d, "v", &l, &err), MX_EIO);
  mx_ann_free(a);
  mx_ann_free(b);
  free(v);
}

static void test_similar_through_model(void **state) {
  (void)state;
  const uint32_t n = 2000, k = 12;
  mx_model *m;
  mx_error err;
  assert_int_equal(mx_model_create(MX_MODEL_IMPORTED, 3, n, k, 0, &m, &err), MX_OK);
  float *v = clustered(n, k, 25, 0.5, 11, 1);
  memcpy(m->item_factors, v, (size_t)n * k * sizeof *v);
  free(v);
  for (int metric = 0; metric <= 1; metric++) {
    mx_ann_options o = mx_ann_defaults();
    o.metric = metric ? MX_ANN_DOT : MX_ANN_COSINE;
    mx_ann *ix;
    assert_int_equal(mx_ann_build(m->item_factors, n, k, &o, &ix, &err), MX_OK);
    uint32_t q[100];
    for (uint32_t i = 0; i < 100; i++) q[i] = i * 19;
    mx_topk_options t = mx_topk_defaults();
    t.k = 10;
    mx_topk_result *ex, *ap;
    mx_similarity sim = metric ? MX_SIM_DOT : MX_SIM_COSINE;
    assert_int_equal(mx_similar_items(m, q, 100, sim, &t, &ex, &err), MX_OK);
    assert_int_equal(mx_ann_similar(m, ix, 0, q, 100, sim, 200, &t, &ap, &err), MX_OK);
    uint64_t hit = 0;
    for (uint32_t r = 0; r < 100; r++) {
      assert_int_equal(ap->count[r], 10);
      for (uint32_t a = 0; a < 10; a++) {
        assert_int_not_equal(ap->ids[r * 10 + a], q[r]); /* the query is left out */
        for (uint32_t b = 0; b < 10; b++) hit += ap->ids[r * 10 + a] == ex->ids[r * 10 + b];
      }
      /* the scores are the metric's own */
      assert_true(fabsf(ap->scores[r * 10] - ex->scores[r * 10]) < 1e-3f * (1 + fabsf(ex->scores[r * 10])));
    }
    assert_true(hit >= 990);
    /* the wrong metric, the wrong side */
    mx_topk_result *bad;
    assert_int_equal(mx_ann_similar(m, ix, 0, q, 1, metric ? MX_SIM_COSINE : MX_SIM_DOT, 50, &t,
                                    &bad, &err), MX_EINVAL);
    assert_int_equal(mx_ann_similar(m, ix, 1, q, 1, sim, 50, &t, &bad, &err), MX_EINVAL);
    /* candidates filter the results */
    uint32_t cand[50];
    for (uint32_t i = 0; i < 50; i++) cand[i] = i * 40;
    t.candidates = cand;
    t.n_candidates = 50;
    mx_topk_result *f;
    assert_int_equal(mx_ann_similar(m, ix, 0, q, 100, sim, 100, &t, &f, &err), MX_OK);
    assert_int_equal(f->eligible, 50);
    for (uint32_t c = 0; c < 100 * f->k; c++)
      assert_true(f->ids[c] == MX_TOPK_NONE || f->ids[c] % 40 == 0);
    mx_topk_result_free(f);
    mx_topk_result_free(ex);
    mx_topk_result_free(ap);
    mx_ann_free(ix);
  }
  mx_model_free(m);
}

static volatile sig_atomic_t g_flag;

static void test_cancel_and_bad_options(void **state) {
  (void)state;
  float *v = clustered(500, 8, 5, 0.5, 1, 0);
  mx_cancel c = {0, &g_flag};
  g_flag = 1;
  mx_ann_options o = mx_ann_defaults();
  o.cancel = &c;
  mx_ann *ix = NULL;
  mx_error err;
  assert_int_equal(mx_ann_build(v, 500, 8, &o, &ix, &err), MX_EINTERRUPTED);
  assert_null(ix);
  assert_string_equal(err.message, "index build interrupted by a signal");
  o = mx_ann_defaults();
  o.M = 1;
  assert_int_equal(mx_ann_build(v, 500, 8, &o, &ix, &err), MX_EINVAL);
  o.M = 16;
  assert_int_equal(mx_ann_build(v, 0, 8, &o, &ix, &err), MX_EINVAL);
  v[3] = NAN;
  assert_int_equal(mx_ann_build(v, 500, 8, &o, &ix, &err), MX_EINVAL);
  assert_non_null(strstr(err.message, "vector 1"));
  v[3] = 0;
  /* a single vector is an index too */
  assert_int_equal(mx_ann_build(v, 1, 8, &o, &ix, &err), MX_OK);
  uint32_t id, cnt;
  float s;
  assert_int_equal(mx_ann_search(ix, v, 1, 10, NULL, UINT32_MAX, &id, &s, &cnt, &err), MX_OK);
  assert_int_equal(cnt, 1);
  assert_int_equal(id, 0);
  assert_int_equal(mx_ann_search(ix, v, 1, 10, NULL, 0, &id, &s, &cnt, &err), MX_OK);
  assert_int_equal(cnt, 0);
  assert_int_equal(mx_ann_search(ix, v, 0, 10, NULL, 0, &id, &s, &cnt, &err), MX_EINVAL);
  mx_ann_free(ix);
  free(v);
}

int main(void) {
  tu_filters();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_tiny_exact),
      cmocka_unit_test(test_recall_cosine_and_dot),
      cmocka_unit_test(test_threads_same_bytes_and_round_trip),
      cmocka_unit_test(test_similar_through_model),
      cmocka_unit_test(test_cancel_and_bad_options),
  };
  return tu_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
