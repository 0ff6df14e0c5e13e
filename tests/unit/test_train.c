/* Training: objectives, solvers, determinism, fold-in, bad options, and
 * evaluation metrics on hand-checkable cases. Data is generated here. */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "merx/model.h"
#include "merx/score.h"
#include "util/util.h"

/* Ratings from a planted rank-3 model plus noise: nu users x ni items,
 * each user rates `per` random items; values clipped to [1, 5]. */
/* Builds a dataset from n triplets and frees them (strings and arrays). */
static mx_dataset *take_triplets(char **us, char **is, float *vals, size_t n) {
  mx_dataset *d;
  mx_error err;
  assert_int_equal(mx_dataset_from_triplets((const char *const *)us, (const char *const *)is,
                                            vals, NULL, n, &d, &err), MX_OK);
  for (size_t k = 0; k < n; k++) {
    free(us[k]);
    free(is[k]);
  }
  free(us);
  free(is);
  free(vals);
  return d;
}

static mx_dataset *planted(uint32_t nu, uint32_t ni, uint32_t per, int with_values, uint64_t seed) {
  mx_rng r;
  mx__rng_seed(&r, seed);
  float U[400][3], V[400][3];
  for (uint32_t u = 0; u < nu; u++)
    for (int f = 0; f < 3; f++) U[u][f] = (float)mx__rng_normal(&r);
  for (uint32_t i = 0; i < ni; i++)
    for (int f = 0; f < 3; f++) V[i][f] = (float)mx__rng_normal(&r);
  size_t n = (size_t)nu * per;
  char **us = malloc(n * sizeof *us), **is = malloc(n * sizeof *is);
  float *vals = malloc(n * sizeof *vals);
  for (uint32_t u = 0; u < nu; u++)
    for (uint32_t q = 0; q < per; q++) {
      size_t k = (size_t)u * per + q;
      /* distinct items per user (7 is prime to every ni used here): no
       * repeated pair, which ingest would sum */
      uint32_t i = (uint32_t)((u * 31u + q * 7u) % ni);
      char b[32];
      snprintf(b, sizeof b, "u%u", u);
      us[k] = mx__strdup(b);
      snprintf(b, sizeof b, "i%u", i);
      is[k] = mx__strdup(b);
      float v = 3.0f + 0.6f * (U[u][0] * V[i][0] + U[u][1] * V[i][1] + U[u][2] * V[i][2]) +
                0.3f * (float)mx__rng_normal(&r);
      vals[k] = v < 1 ? 1 : v > 5 ? 5 : v;
    }
  mx_dataset *d = take_triplets(us, is, vals, n);
  d->has_value = with_values;
  return d;
}

typedef struct losses {
  int n;
  double v[64];
} losses;

static int record(void *ctx, const mx_epoch_report *r) {
  losses *l = ctx;
  if (l->n < 64) l->v[l->n++] = r->loss;
  return 0;
}

static void assert_monotone(const losses *l) {
  assert_true(l->n >= 2);
  for (int e = 1; e < l->n; e++) {
    if (!(l->v[e] <= l->v[e - 1] * (1 + 1e-5)))
      fail_msg("objective rose at epoch %d: %.9g -> %.9g", e + 1, l->v[e - 1], l->v[e]);
  }
  assert_true(l->v[l->n - 1] < l->v[0]);
}

static void test_als_objective_monotone(void **state) {
  mx_dataset *d = planted(120, 80, 20, 1, 1);
  mx_train_options o = mx_train_defaults(MX_MODEL_ALS);
  o.factors = 6;
  o.epochs = 8;
  o.threads = 2;
  losses l = {0};
  o.on_epoch = record;
  o.report_loss = 1;
  o.ctx = &l;
  mx_model *m;
  mx_error err;
  assert_int_equal(mx_model_train(d, &o, &m, &err), MX_OK);
  assert_monotone(&l);
  mx_model_free(m);
  mx_dataset_free(d);
}

static void test_ials_objective_monotone(void **state) {
  mx_dataset *d = planted(120, 80, 15, 0, 2);
  for (int cg = 0; cg <= 3; cg += 3) {
    mx_train_options o = mx_train_defaults(MX_MODEL_IALS);
    o.factors = 8;
    o.epochs = 8;
    o.cg_steps = cg;
    o.alpha = 5;
    losses l = {0};
    o.on_epoch = record;
    o.report_loss = 1;
    o.ctx = &l;
    mx_model *m;
    mx_error err;
    assert_int_equal(mx_model_train(d, &o, &m, &err), MX_OK);
    assert_monotone(&l);
    mx_model_free(m);
  }
  mx_dataset_free(d);
}

/* With k = 8, conjugate gradient solves an 8 x 8 SPD system exactly in 8
 * steps (in exact arithmetic): CG with many steps must agree with Cholesky. */
static void test_ials_cg_matches_exact(void **state) {
  mx_dataset *d = planted(100, 60, 12, 0, 3);
  mx_train_options o = mx_train_defaults(MX_MODEL_IALS);
  o.factors = 8;
  o.epochs = 4;
  o.threads = 1;
  mx_model *exact, *cg;
  mx_error err;
  o.cg_steps = 0;
  assert_int_equal(mx_model_train(d, &o, &exact, &err), MX_OK);
  o.cg_steps = 30;
  assert_int_equal(mx_model_train(d, &o, &cg, &err), MX_OK);
  double num = 0, den = 0;
  for (size_t q = 0; q < (size_t)exact->n_users * 8; q++) {
    double e = exact->user_factors[q] - cg->user_factors[q];
    num += e * e;
    den += (double)exact->user_factors[q] * exact->user_factors[q];
  }
  assert_true(sqrt(num / den) < 1e-3);
  mx_model_free(exact);
  mx_model_free(cg);
  mx_dataset_free(d);
}

static void assert_models_identical(const mx_model *a, const mx_model *b) {
  assert_int_equal(a->factors, b->factors);
  assert_memory_equal(a->user_factors, b->user_factors, (size_t)a->n_users * a->factors * 4);
  assert_memory_equal(a->item_factors, b->item_factors, (size_t)a->n_items * a->factors * 4);
  if (a->item_bias) assert_memory_equal(a->item_bias, b->item_bias, a->n_items * 4);
}

static void test_deterministic(void **state) {
  mx_dataset *d = planted(150, 90, 20, 1, 4);
  mx_model_kind kinds[] = {MX_MODEL_MF, MX_MODEL_ALS, MX_MODEL_BPMF, MX_MODEL_IALS, MX_MODEL_BPR};
  for (size_t q = 0; q < sizeof kinds / sizeof kinds[0]; q++) {
    mx_train_options o = mx_train_defaults(kinds[q]);
    o.factors = 5;
    o.epochs = kinds[q] == MX_MODEL_BPMF ? 12 : 5;
    o.burn_in = 4;
    o.threads = kinds[q] == MX_MODEL_BPR ? 1 : 2; /* bpr is Hogwild with > 1 thread */
    o.seed = 99;
    mx_model *a, *b;
    mx_error err;
    assert_int_equal(mx_model_train(d, &o, &a, &err), MX_OK);
    assert_int_equal(mx_model_train(d, &o, &b, &err), MX_OK);
    assert_models_identical(a, b);
    /* a different seed gives a different model */
    o.seed = 100;
    mx_model *c;
    assert_int_equal(mx_model_train(d, &o, &c, &err), MX_OK);
    assert_memory_not_equal(a->user_factors, c->user_factors, (size_t)a->n_users * a->factors * 4);
    mx_model_free(a);
    mx_model_free(b);
    mx_model_free(c);
  }
  /* bpmf does not depend on the thread count (one random stream per row) */
  mx_train_options o = mx_train_defaults(MX_MODEL_BPMF);
  o.factors = 4;
  o.epochs = 8;
  o.burn_in = 3;
  mx_model *t1, *t2;
  mx_error err;
  o.threads = 1;
  assert_int_equal(mx_model_train(d, &o, &t1, &err), MX_OK);
  o.threads = 2;
  assert_int_equal(mx_model_train(d, &o, &t2, &err), MX_OK);
  assert_models_identical(t1, t2);
  mx_model_free(t1);
  mx_model_free(t2);
  mx_dataset_free(d);
}

/* Explicit models learn the planted structure: test RMSE well below the
 * spread of the ratings and below the global-mean baseline. */
static void test_explicit_models_learn(void **state) {
  mx_dataset *d = planted(300, 150, 40, 1, 5);
  mx_model_kind kinds[] = {MX_MODEL_MF, MX_MODEL_ALS, MX_MODEL_BPMF};
  for (size_t q = 0; q < 3; q++) {
    mx_train_options o = mx_train_defaults(kinds[q]);
    o.factors = kinds[q] == MX_MODEL_BPMF ? 4 : 8;
    o.epochs = kinds[q] == MX_MODEL_BPMF ? 40 : kinds[q] == MX_MODEL_ALS ? 10 : 40;
    o.burn_in = 10;
    if (kinds[q] == MX_MODEL_MF) o.reg = 0.02; /* small data: less shrinkage than the default */
    mx_model *m;
    mx_error err;
    assert_int_equal(mx_model_train(d, &o, &m, &err), MX_OK);
    double se = 0, base = 0;
    size_t n = 0;
    for (uint32_t u = 0; u < d->by_user.rows; u++)
      for (uint64_t p = d->by_user.indptr[u]; p < d->by_user.indptr[u + 1]; p++) {
        double e = d->by_user.values[p] - mx_model_predict(m, u, d->by_user.indices[p]);
        double b = d->by_user.values[p] - m->global_mean;
        se += e * e;
        base += b * b;
        n++;
      }
    double rmse = sqrt(se / n), brmse = sqrt(base / n);
    if (!(rmse < 0.6 * brmse))
      fail_msg("%s: train RMSE %.3f vs baseline %.3f", mx_model_kind_name(kinds[q]), rmse, brmse);
    mx_model_free(m);
  }
  mx_dataset_free(d);
}

/* bpmf samples user and item biases: on ratings made of planted biases and
 * noise only, the stored biases (the average of the kept samples) recover
 * them. Without sampled biases they would all be zero. */
static void test_bpmf_recovers_biases(void **state) {
  (void)state;
  enum { NU = 120, NI = 60, PER = 30 };
  mx_rng r;
  mx__rng_seed(&r, 17);
  double bu[NU], bi[NI];
  for (int u = 0; u < NU; u++) bu[u] = 0.8 * mx__rng_normal(&r);
  for (int i = 0; i < NI; i++) bi[i] = 0.6 * mx__rng_normal(&r);
  size_t n = (size_t)NU * PER;
  char **us = malloc(n * sizeof *us), **is = malloc(n * sizeof *is);
  float *vals = malloc(n * sizeof *vals);
  for (int u = 0; u < NU; u++)
    for (int q = 0; q < PER; q++) {
      size_t k = (size_t)u * PER + q;
      int i = (u * 13 + q * 7) % NI;
      char b[32];
      snprintf(b, sizeof b, "u%d", u);
      us[k] = mx__strdup(b);
      snprintf(b, sizeof b, "i%d", i);
      is[k] = mx__strdup(b);
      vals[k] = (float)(3.0 + bu[u] + bi[i] + 0.3 * mx__rng_normal(&r));
    }
  mx_dataset *d = take_triplets(us, is, vals, n);
  d->has_value = 1;
  mx_error err;
  mx_train_options o = mx_train_defaults(MX_MODEL_BPMF);
  o.factors = 2;
  o.epochs = 60;
  mx_model *m;
  assert_int_equal(mx_model_train(d, &o, &m, &err), MX_OK);
  /* Pearson correlation of the model's biases with the planted ones, by
   * the ids' names (the model numbers users in order of appearance). */
  for (int side = 0; side < 2; side++) {
    int n_rows = side ? NI : NU;
    double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
    for (int j = 0; j < n_rows; j++) {
      char b[32];
      snprintf(b, sizeof b, side ? "i%d" : "u%d", j);
      int64_t id = mx_idmap_find(side ? m->items : m->users, b, strlen(b));
      assert_true(id >= 0);
      double x = side ? m->item_bias[id] : m->user_bias[id], y = side ? bi[j] : bu[j];
      sx += x; sy += y; sxx += x * x; syy += y * y; sxy += x * y;
    }
    double cov = sxy - sx * sy / n_rows, vx = sxx - sx * sx / n_rows, vy = syy - sy * sy / n_rows;
    double corr = cov / sqrt(vx * vy);
    if (!(corr > 0.9)) fail_msg("bpmf %s biases: correlation %.3f with the planted ones", side ? "item" : "user", corr);
  }
  mx_model_free(m);
  mx_dataset_free(d);
}

static void test_fold_in_reproduces_training_users(void **state) {
  mx_dataset *d = planted(80, 50, 10, 1, 6);
  mx_model_kind kinds[] = {MX_MODEL_ALS, MX_MODEL_IALS};
  for (int q = 0; q < 2; q++) {
    mx_train_options o = mx_train_defaults(kinds[q]);
    o.factors = 6;
    o.epochs = 5;
    o.cg_steps = 0; /* exact solves: fold-in must match to rounding */
    if (kinds[q] == MX_MODEL_IALS) d->has_value = 0;
    mx_model *m;
    mx_error err;
    assert_int_equal(mx_model_train(d, &o, &m, &err), MX_OK);
    for (uint32_t u = 0; u < m->n_users; u += 7) {
      uint64_t s = d->by_user.indptr[u], n = d->by_user.indptr[u + 1] - s;
      float x[6], b;
      assert_int_equal(mx_model_fold_in(m, d->by_user.indices + s, d->by_user.values + s, n, x,
                                        &b, &err), MX_OK);
      for (int f = 0; f < 6; f++)
        assert_float_equal(x[f], m->user_factors[(size_t)u * 6 + f],
                           1e-3 * (1 + fabsf(x[f])));
      if (m->user_bias) assert_float_equal(b, m->user_bias[u], 1e-3);
    }
    mx_model_free(m);
    d->has_value = 1;
  }
  mx_dataset_free(d);
}

/* A service keeps the item Gram matrix: the same lists as computing it per call. */
static void test_topk_history_with_gram(void **state) {
  mx_dataset *d = planted(60, 40, 8, 0, 9);
  mx_train_options o = mx_train_defaults(MX_MODEL_IALS);
  o.factors = 5;
  o.epochs = 3;
  mx_model *m;
  mx_error err;
  assert_int_equal(mx_model_train(d, &o, &m, &err), MX_OK);
  float *gram;
  assert_int_equal(mx_model_item_gram(m, &gram, &err), MX_OK);
  uint32_t items[] = {3, 17, 3, 25};
  mx_topk_options to = mx_topk_defaults();
  to.k = 6;
  to.threads = 1;
  mx_topk_result *a, *b;
  assert_int_equal(mx_topk_history(m, items, NULL, 4, NULL, &to, &a, &err), MX_OK);
  assert_int_equal(mx_topk_history(m, items, NULL, 4, gram, &to, &b, &err), MX_OK);
  assert_int_equal(a->count[0], 6);
  assert_int_equal(b->count[0], 6);
  for (uint32_t j = 0; j < 6; j++) {
    assert_int_equal(a->ids[j], b->ids[j]);
    assert_float_equal(a->scores[j], b->scores[j], 1e-5);
    assert_true(a->ids[j] != 3 && a->ids[j] != 17 && a->ids[j] != 25); /* history excluded */
  }
  mx_topk_result_free(a);
  mx_topk_result_free(b);
  free(gram);
  mx_model_free(m);
  mx_dataset_free(d);
}

static void test_bad_options(void **state) {
  mx_dataset *d = planted(20, 10, 5, 0, 7);
  mx_model *m = (mx_model *)1;
  mx_error err;
  mx_train_options o = mx_train_defaults(MX_MODEL_IALS);
  o.factors = 0;
  assert_int_equal(mx_model_train(d, &o, &m, &err), MX_EINVAL);
  assert_null(m);
  assert_non_null(strstr(err.message, "factors"));
  o = mx_train_defaults(MX_MODEL_IALS);
  o.reg = -1;
  assert_int_equal(mx_model_train(d, &o, &m, &err), MX_EINVAL);
  assert_non_null(strstr(err.message, "reg"));
  o = mx_train_defaults(MX_MODEL_MF);
  o.lr = -0.1;
  d->has_value = 1;
  assert_int_equal(mx_model_train(d, &o, &m, &err), MX_EINVAL);
  assert_non_null(strstr(err.message, "lr"));
  o.lr = NAN;
  assert_int_equal(mx_model_train(d, &o, &m, &err), MX_EINVAL);
  /* an explicit algorithm on data without a value column */
  d->has_value = 0;
  o = mx_train_defaults(MX_MODEL_MF);
  assert_int_equal(mx_model_train(d, &o, &m, &err), MX_EINVAL);
  assert_non_null(strstr(err.message, "value column"));
  mx_dataset_free(d);
  /* empty training data */
  mx_dataset *e;
  assert_int_equal(mx_dataset_from_triplets(NULL, NULL, NULL, NULL, 0, &e, &err), MX_OK);
  o = mx_train_defaults(MX_MODEL_IALS);
  assert_int_equal(mx_model_train(e, &o, &m, &err), MX_EEMPTY);
  mx_dataset_free(e);
}

/* EASE by hand: 3 users who all have items a and b, lambda = 1:
 * G = [[4, 3], [3, 4]], P = G^-1 = [[4, -3], [-3, 4]] / 7,
 * B_ab = -P_ab / P_bb = 3/4. */
static void test_ease_by_hand(void **state) {
  const char *us[] = {"x", "x", "y", "y", "z", "z"};
  const char *is[] = {"a", "b", "a", "b", "a", "b"};
  mx_dataset *d;
  mx_error err;
  assert_int_equal(mx_dataset_from_triplets(us, is, NULL, NULL, 6, &d, &err), MX_OK);
  mx_train_options o = mx_train_defaults(MX_MODEL_EASE);
  o.reg = 1;
  mx_model *m;
  assert_int_equal(mx_model_train(d, &o, &m, &err), MX_OK);
  assert_float_equal(m->ease_b[0 * 2 + 1], 0.75f, 1e-5);
  assert_float_equal(m->ease_b[1 * 2 + 0], 0.75f, 1e-5);
  assert_float_equal(m->ease_b[0], 0.0f, 0);
  assert_float_equal(mx_model_predict(m, 0, 1), 0.75f + 0.0f, 1e-5);
  mx_model_free(m);
  mx_dataset_free(d);
}

/* Ranking metrics on a hand-made model: 1 factor, item scores 5,4,3,2,1 for
 * items 0..4; the user saw item 0; test items 1 and 4. Top-2 after excluding
 * item 0 is (1, 2): one hit at rank 1. */
static void test_ranking_metrics_by_hand(void **state) {
  mx_model *m;
  mx_error err;
  assert_int_equal(mx_model_create(MX_MODEL_IALS, 1, 5, 1, 0, &m, &err), MX_OK);
  mx_idmap_intern(m->users, "u", 1);
  const char *names[] = {"i0", "i1", "i2", "i3", "i4"};
  for (int i = 0; i < 5; i++) {
    mx_idmap_intern(m->items, names[i], 2);
    m->item_factors[i] = (float)(5 - i);
  }
  m->user_factors[0] = 1;
  uint64_t ip[2] = {0, 1};
  uint32_t ix[1] = {0};
  float vv[1] = {1};
  mx_csr seen = {1, 1, ip, ix, vv, NULL};
  assert_int_equal(mx_model_set_seen(m, &seen, &err), MX_OK);
  uint32_t tu[3] = {0, 0, 0}, ti[3] = {1, 4, UINT32_MAX};
  float tv[3] = {1, 1, 1};
  mx_pairs p = {3, tu, ti, tv, 1};
  mx_eval_result r;
  assert_int_equal(mx_model_evaluate(m, &p, 2, 1, &r, &err), MX_OK);
  assert_int_equal(r.users, 1);
  assert_int_equal(r.unknown, 1);
  assert_float_equal(r.precision, 0.5, 1e-12);
  assert_float_equal(r.recall, 0.5, 1e-12);
  assert_float_equal(r.hit_rate, 1.0, 1e-12);
  /* DCG = 1/log2(2) = 1; IDCG = 1 + 1/log2(3) */
  assert_float_equal(r.ndcg, 1.0 / (1.0 + 1.0 / log2(3.0)), 1e-9);
  /* AP@2 = (1/1) / min(2, 2) */
  assert_float_equal(r.map, 0.5, 1e-12);
  /* negatives {2, 3}: item 1 beats both, item 4 beats none -> AUC 2/4 */
  assert_float_equal(r.auc, 0.5, 1e-12);
  mx_model_free(m);
}

/* mf (ridge) and bpr (SGD steps) fold-in: the folded vector explains the
 * user's ratings about as well as the trained one / ranks the user's items
 * above the others. ease has no user vectors. */
static void test_fold_in_mf_bpr(void **state) {
  mx_dataset *d = planted(200, 100, 30, 1, 8);
  mx_error err;
  mx_train_options o = mx_train_defaults(MX_MODEL_MF);
  o.factors = 6;
  o.reg = 0.02;
  o.epochs = 40;
  mx_model *m;
  assert_int_equal(mx_model_train(d, &o, &m, &err), MX_OK);
  double se_fold = 0, se_train = 0;
  for (uint32_t u = 0; u < m->n_users; u += 5) {
    uint64_t s = d->by_user.indptr[u], n = d->by_user.indptr[u + 1] - s;
    float x[6], b;
    assert_int_equal(mx_model_fold_in(m, d->by_user.indices + s, d->by_user.values + s, n, x, &b,
                                      &err), MX_OK);
    for (uint64_t q = 0; q < n; q++) {
      uint32_t i = d->by_user.indices[s + q];
      float pred = m->global_mean + b + m->item_bias[i];
      for (int f = 0; f < 6; f++) pred += x[f] * m->item_factors[(size_t)i * 6 + f];
      double e1 = d->by_user.values[s + q] - pred, e2 = d->by_user.values[s + q] - mx_model_predict(m, u, i);
      se_fold += e1 * e1;
      se_train += e2 * e2;
    }
  }
  assert_true(se_fold < 1.5 * se_train);
  mx_model_free(m);
  d->has_value = 0;
  o = mx_train_defaults(MX_MODEL_BPR);
  o.factors = 8;
  o.epochs = 30;
  o.threads = 1;
  assert_int_equal(mx_model_train(d, &o, &m, &err), MX_OK);
  int better = 0, users = 0;
  for (uint32_t u = 0; u < m->n_users; u += 5) {
    uint64_t s = d->by_user.indptr[u], n = d->by_user.indptr[u + 1] - s;
    float x[8];
    assert_int_equal(mx_model_fold_in(m, d->by_user.indices + s, NULL, n, x, NULL, &err), MX_OK);
    double in = 0, all = 0;
    for (uint32_t i = 0; i < m->n_items; i++) {
      double sc = m->item_bias[i];
      for (int f = 0; f < 8; f++) sc += x[f] * m->item_factors[(size_t)i * 8 + f];
      all += sc;
    }
    for (uint64_t q = 0; q < n; q++) {
      uint32_t i = d->by_user.indices[s + q];
      double sc = m->item_bias[i];
      for (int f = 0; f < 8; f++) sc += x[f] * m->item_factors[(size_t)i * 8 + f];
      in += sc;
    }
    better += in / n > all / m->n_items;
    users++;
  }
  assert_true(better >= users * 9 / 10);
  mx_model_free(m);
  mx_dataset_free(d);
}

static void test_fold_in_refuses_ease(void **state) {
  mx_dataset *d = planted(20, 10, 5, 0, 9);
  mx_train_options o = mx_train_defaults(MX_MODEL_EASE);
  mx_model *m;
  mx_error err;
  assert_int_equal(mx_model_train(d, &o, &m, &err), MX_OK);
  uint32_t items[1] = {0};
  float x[1];
  assert_int_equal(mx_model_fold_in(m, items, NULL, 1, x, NULL, &err), MX_EINVAL);
  assert_non_null(strstr(err.message, "ease"));
  mx_model_free(m);
  mx_dataset_free(d);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_als_objective_monotone),
      cmocka_unit_test(test_ials_objective_monotone),
      cmocka_unit_test(test_ials_cg_matches_exact),
      cmocka_unit_test(test_deterministic),
      cmocka_unit_test(test_explicit_models_learn),
      cmocka_unit_test(test_bpmf_recovers_biases),
      cmocka_unit_test(test_fold_in_reproduces_training_users),
      cmocka_unit_test(test_fold_in_mf_bpr),
      cmocka_unit_test(test_fold_in_refuses_ease),
      cmocka_unit_test(test_topk_history_with_gram),
      cmocka_unit_test(test_bad_options),
      cmocka_unit_test(test_ease_by_hand),
      cmocka_unit_test(test_ranking_metrics_by_hand),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
