/* Built-in embedder, the ridge cold-start map, and cold-start
 * ranking on the example data (items held out of training). */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "merx/embed.h"
#include "merx/model.h"
#include "util/util.h"

static double dot(const float *a, const float *b, uint32_t d) {
  double s = 0;
  for (uint32_t j = 0; j < d; j++) s += (double)a[j] * b[j];
  return s;
}

static void test_builtin_embedder(void **state) {
  (void)state;
  const char *t[] = {"red metal lantern", "RED  Metal-LANTERN!", "white metal lantern",
                     "jumbo bag red retrospot", "", "  ,;  ", "lanterns"};
  mx_builtin_embed_options o = mx_builtin_embed_defaults();
  float v[7 * 256];
  mx_error err;
  assert_int_equal(mx_builtin_embed(t, 7, &o, 1, v, &err), MX_OK);
  uint32_t d = o.dim;
  assert_true(fabs(dot(v, v, d) - 1) < 1e-5);
  assert_true(fabs(dot(v, v + d, d) - 1) < 1e-5); /* case and punctuation ignored */
  double near = dot(v, v + 2 * d, d), far = dot(v, v + 3 * d, d);
  assert_true(near > 0.5);
  assert_true(far < near - 0.3);
  assert_true(dot(v + 4 * d, v + 4 * d, d) == 0); /* no word: zero vector */
  assert_true(dot(v + 5 * d, v + 5 * d, d) == 0);
  /* Subwords relate a plural to its singular; without them they are unrelated. */
  assert_true(dot(v + 6 * d, v, d) > 0.15);
  mx_builtin_embed_options w = o;
  w.char_min = w.char_max = 0;
  w.subword_weight = 0;
  float u[7 * 256];
  assert_int_equal(mx_builtin_embed(t, 7, &w, 1, u, &err), MX_OK);
  assert_true(fabs(dot(u + 6 * d, u, d)) < 0.15);
  /* Deterministic whatever the thread count. */
  enum { N = 1000 };
  const char **many = malloc(N * sizeof *many);
  char (*buf)[48] = malloc(N * sizeof *buf);
  for (int i = 0; i < N; i++) {
    snprintf(buf[i], sizeof buf[i], "item %d colour %d size %d", i, i % 7, i % 13);
    many[i] = buf[i];
  }
  float *a = malloc((size_t)N * d * sizeof *a), *b = malloc((size_t)N * d * sizeof *b);
  assert_int_equal(mx_builtin_embed(many, N, &o, 1, a, &err), MX_OK);
  assert_int_equal(mx_builtin_embed(many, N, &o, 2, b, &err), MX_OK);
  assert_memory_equal(a, b, (size_t)N * d * sizeof *a);
  free(a), free(b), free(many), free(buf);
  /* Names round-trip; bad options are refused. */
  char name[128];
  mx_builtin_embed_name(&o, name, sizeof name);
  assert_string_equal(name, "builtin:d256:c3-5:b1:s0.50:h0");
  mx_builtin_embed_options p;
  assert_int_equal(mx_builtin_embed_parse(name, &p, &err), MX_OK);
  assert_int_equal(p.dim, 256);
  assert_int_equal(mx_builtin_embed_parse("builtin:d1:c3-5:b1:s0.50:h0", &p, &err), MX_EINVAL);
  assert_int_equal(mx_builtin_embed_parse("openai", &p, &err), MX_EINVAL);
  /* Cosine top-K puts the identical text first, then the near one. */
  uint32_t idx[3];
  float sc[3];
  assert_int_equal(mx_cosine_topk(v, 7, d, v, 3, idx, sc), 3);
  assert_true(idx[0] == 0 || idx[0] == 1);
  assert_int_equal(idx[2], 2);
}

static void test_ridge_recovers_linear_map(void **state) {
  (void)state;
  enum { N = 400, D = 20, K = 6 };
  mx_rng g;
  mx__rng_seed(&g, 7);
  float *x = malloc(N * D * sizeof *x), *q = malloc(N * K * sizeof *q), w[D * K], c[K];
  for (int i = 0; i < D * K; i++) w[i] = (float)mx__rng_normal(&g);
  for (int j = 0; j < K; j++) c[j] = (float)(3 * mx__rng_normal(&g));
  for (int i = 0; i < N * D; i++) x[i] = (float)mx__rng_normal(&g);
  for (int i = 0; i < N; i++)
    for (int j = 0; j < K; j++) {
      double s = c[j] + 0.01 * mx__rng_normal(&g);
      for (int t = 0; t < D; t++) s += x[i * D + t] * w[t * K + j];
      q[i * K + j] = (float)s;
    }
  mx_coldstart *m;
  mx_error err;
  assert_int_equal(mx_coldstart_fit(x, q, 300, D, K, 1e-3, &m, &err), MX_OK);
  assert_true(m->r2_train > 0.999);
  float out[100 * K];
  mx_coldstart_apply(m, x + 300 * D, 100, out);
  double se = 0, ss = 0;
  for (int i = 0; i < 100 * K; i++) {
    se += (out[i] - q[300 * K + i]) * (out[i] - q[300 * K + i]);
    ss += q[300 * K + i] * q[300 * K + i];
  }
  assert_true(se / ss < 1e-3); /* held-out rows, intercept included */
  mx_coldstart_free(m);
  /* A huge penalty shrinks W to zero: predictions become the mean factors. */
  assert_int_equal(mx_coldstart_fit(x, q, 300, D, K, 1e9, &m, &err), MX_OK);
  assert_true(m->r2_train < 0.01);
  mx_coldstart_free(m);
  assert_int_equal(mx_coldstart_fit(x, q, 1, D, K, 1, &m, &err), MX_EEMPTY);
  assert_int_equal(mx_coldstart_fit(x, q, 10, D, K, 0, &m, &err), MX_EINVAL);
  free(x), free(q);
}

/* Products of the example data: StockCode -> Description. */
static int load_products(mx_idmap *ids, char ***texts) {
  mx_csv *csv;
  mx_error err;
  mx_csv_options o = mx_csv_defaults();
  if (mx_csv_open(tu_examples("products.csv"), &o, &csv, &err) != MX_OK) return -1;
  size_t cap = 8192;
  *texts = calloc(cap, sizeof **texts);
  char **f;
  size_t *lens, nf;
  while (mx_csv_next(csv, &f, &lens, &nf, &err) == 1) {
    int64_t i = mx_idmap_intern(ids, f[0], lens[0]);
    if (i >= 0 && (size_t)i < cap && !(*texts)[i]) (*texts)[i] = mx__strdup(f[1]);
  }
  mx_csv_close(csv);
  return 0;
}

/* The check: hold 10% of the example items out of training, map
 * their descriptions into the factor space, and rank them for the users who
 * bought them. The mapped vectors must beat chance clearly. */
static void test_coldstart_on_example_data(void **state) {
  (void)state;
  mx_error err;
  mx_ingest_options io = mx_ingest_defaults();
  assert_int_equal(mx_columns_parse("user=CustomerID,item=StockCode", NULL, &io.columns, &err), MX_OK);
  mx_dataset *all;
  assert_int_equal(mx_dataset_load_csv(tu_examples("purchases.csv.gz"), &io, &all, &err), MX_OK);
  uint32_t ni = mx_dataset_items(all), nu = mx_dataset_users(all);
  unsigned char *cold = calloc(ni, 1);
  for (uint32_t i = 0; i < ni; i++) {
    const char *id = mx_idmap_name(all->items, i);
    cold[i] = mx_hash64(id, strlen(id), 42) % 10 == 0;
  }
  mx_dataset_builder *b = mx_dataset_builder_create();
  for (uint32_t u = 0; u < nu; u++)
    for (uint64_t k = all->by_user.indptr[u]; k < all->by_user.indptr[u + 1]; k++) {
      uint32_t i = all->by_user.indices[k];
      if (cold[i]) continue;
      const char *us = mx_idmap_name(all->users, u), *is = mx_idmap_name(all->items, i);
      assert_int_equal(mx_dataset_builder_add(b, us, strlen(us), is, strlen(is),
                                              all->by_user.values[k], 0), MX_OK);
    }
  mx_dataset *warm;
  assert_int_equal(mx_dataset_builder_finish(b, 0, 0, &warm, &err), MX_OK);
  mx_train_options to = mx_train_defaults(MX_MODEL_IALS);
  to.threads = 2;
  to.factors = 16; /* small and quick, also under the sanitizers */
  to.epochs = 8;
  mx_model *base;
  if (mx_model_train(warm, &to, &base, &err) != MX_OK) fail_msg("%s", err.message);

  mx_idmap *pids = mx_idmap_create();
  char **texts = NULL;
  assert_int_equal(load_products(pids, &texts), 0);
  uint32_t np = mx_idmap_size(pids);
  for (uint32_t i = 0; i < np; i++)
    if (!texts[i]) texts[i] = mx__strdup("");
  mx_builtin_embed_options eo = mx_builtin_embed_defaults();
  uint32_t d = eo.dim, k = base->factors;
  float *x = malloc((size_t)np * d * sizeof *x);
  assert_int_equal(mx_builtin_embed((const char *const *)texts, np, &eo, 2, x, &err), MX_OK);
  /* Fit on warm items with text; map the held-out items that have text. */
  float *xf = malloc((size_t)np * d * sizeof *xf), *qf = malloc((size_t)np * k * sizeof *qf);
  float *xn = malloc((size_t)np * d * sizeof *xn);
  const char **new_ids = malloc(np * sizeof *new_ids);
  size_t nfit = 0, nnew = 0;
  for (uint32_t p = 0; p < np; p++) {
    const char *id = mx_idmap_name(pids, p);
    int64_t bi = mx_idmap_find(base->items, id, strlen(id));
    int64_t ai = mx_idmap_find(all->items, id, strlen(id));
    if (bi >= 0) {
      memcpy(xf + nfit * d, x + (size_t)p * d, d * sizeof *x);
      memcpy(qf + nfit * k, base->item_factors + (size_t)bi * k, k * sizeof *qf);
      nfit++;
    } else if (ai >= 0 && cold[ai]) {
      memcpy(xn + nnew * d, x + (size_t)p * d, d * sizeof *x);
      new_ids[nnew++] = id;
    }
  }
  assert_true(nnew > 50);
  mx_coldstart *cs;
  assert_int_equal(mx_coldstart_fit(xf, qf, nfit, d, k, 1.0, &cs, &err), MX_OK);
  float *qn = malloc(nnew * k * sizeof *qn);
  mx_coldstart_apply(cs, xn, nnew, qn);
  mx_model *mapped;
  assert_int_equal(mx_model_add_items(base, new_ids, qn, nnew, &mapped, &err), MX_OK);
  assert_int_equal(mapped->n_items, base->n_items + nnew);
  const char *known = mx_idmap_name(base->items, 0);
  mx_model *bad;
  assert_int_equal(mx_model_add_items(base, &known, qn, 1, &bad, &err), MX_EINVAL);

  /* Test pairs: every purchase of a held-out item by a user the base knows. */
  mx_pairs test;
  memset(&test, 0, sizeof test);
  test.user = malloc(all->by_user.nnz * sizeof *test.user);
  test.item = malloc(all->by_user.nnz * sizeof *test.item);
  test.value = malloc(all->by_user.nnz * sizeof *test.value);
  for (uint32_t u = 0; u < nu; u++) {
    const char *us = mx_idmap_name(all->users, u);
    int64_t mu = mx_idmap_find(mapped->users, us, strlen(us));
    if (mu < 0) continue;
    for (uint64_t q = all->by_user.indptr[u]; q < all->by_user.indptr[u + 1]; q++) {
      uint32_t i = all->by_user.indices[q];
      if (!cold[i]) continue;
      const char *is = mx_idmap_name(all->items, i);
      int64_t mi = mx_idmap_find(mapped->items, is, strlen(is));
      if (mi < 0) continue;
      test.user[test.n] = (uint32_t)mu;
      test.item[test.n] = (uint32_t)mi;
      test.value[test.n++] = 1;
    }
  }
  uint32_t *cand = malloc(nnew * sizeof *cand);
  for (size_t i = 0; i < nnew; i++) cand[i] = base->n_items + (uint32_t)i;
  mx_rank_metrics r;
  assert_int_equal(mx_rank_candidates_eval(mapped, cand, nnew, &test, 10, &r, &err), MX_OK);
  double chance = 10.0 / (double)nnew; /* expected recall@10 of a random order */
  print_message("cold start on example data: %zu new items, %zu users, recall@10 %.3f "
                "(chance %.3f), ndcg@10 %.3f\n", nnew, r.users, r.recall, chance, r.ndcg);
  assert_true(r.users > 100);
  assert_true(r.recall > 2.5 * chance);
  assert_true(r.ndcg > 0 && r.ndcg <= 1);

  mx_pairs_free(&test);
  free(cand), free(qn), free(new_ids), free(xn), free(xf), free(qf), free(x);
  for (uint32_t i = 0; i < np; i++) free(texts[i]);
  free(texts);
  mx_idmap_free(pids);
  mx_coldstart_free(cs);
  mx_model_free(mapped);
  mx_model_free(base);
  mx_dataset_free(warm);
  mx_dataset_free(all);
  free(cold);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_builtin_embedder),
      cmocka_unit_test(test_ridge_recovers_linear_map),
      cmocka_unit_test(test_coldstart_on_example_data),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
