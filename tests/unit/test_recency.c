/* Recency (src/core/train/recency.c): decay weights exact on hand-made data,
 * EASE's weighted Gram matrix by hand, BPR's weighted draws, the recently-
 * popular blend, and the errors. */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "merx/model.h"

#define DAY 86400
#define T0 1700000000 /* 2023-11-14T22:13:20Z */

static mx_dataset *make(const char **us, const char **is, const int64_t *ts, size_t n) {
  mx_dataset *d;
  mx_error err;
  assert_int_equal(mx_dataset_from_triplets(us, is, NULL, ts, n, &d, &err), MX_OK);
  return d;
}

/* age 0 -> 1, one half-life -> 1/2, two -> 1/4; events after --now -> 1; and
 * the newest event is the default now */
static void test_decay_weights_exact(void **state) {
  (void)state;
  const char *us[] = {"u", "u", "u", "v"};
  const char *is[] = {"a", "b", "c", "a"};
  int64_t ts[] = {T0, T0 - 10 * DAY, T0 - 20 * DAY, T0 - 5 * DAY};
  mx_dataset *d = make(us, is, ts, 4);
  float w[4];
  mx_error err;
  assert_int_equal(mx_train_decay_weights(d, 10, 0, 0, w, &err), MX_OK);
  /* by_user order: u's a, b, c, then v's a */
  assert_true(w[0] == 1.0f);
  assert_true(w[1] == 0.5f);
  assert_true(w[2] == 0.25f);
  assert_float_equal(w[3], (float)exp2(-0.5), 1e-7);
  /* now 10 days after the newest event; events after it count as age 0 */
  assert_int_equal(mx_train_decay_weights(d, 10, T0 + 10 * DAY, 1, w, &err), MX_OK);
  assert_true(w[0] == 0.5f && w[1] == 0.25f && w[2] == 0.125f);
  assert_int_equal(mx_train_decay_weights(d, 10, T0 - 20 * DAY, 1, w, &err), MX_OK);
  assert_true(w[0] == 1.0f && w[1] == 1.0f && w[2] == 1.0f && w[3] == 1.0f);
  assert_int_equal(mx_train_decay_weights(d, 0, 0, 0, w, &err), MX_EINVAL);
  assert_non_null(strstr(err.message, "--half-life"));
  mx_dataset_free(d);
}

/* X rows x: (1, 1), y: (1/2, 1/2), z: (1, 1/2) with reg 1: G = X'X + I =
 * [[3.25, 1.75], [1.75, 2.5]], B_ab = -P_ab / P_bb = 1.75 / 3.25, B_ba =
 * 1.75 / 2.5 (Steck eq. 8 on the weighted Gram matrix). */
static void test_ease_weighted_gram_by_hand(void **state) {
  (void)state;
  const char *us[] = {"x", "x", "y", "y", "z", "z"};
  const char *is[] = {"a", "b", "a", "b", "a", "b"};
  int64_t ts[] = {T0, T0, T0 - 7 * DAY, T0 - 7 * DAY, T0, T0 - 7 * DAY};
  mx_dataset *d = make(us, is, ts, 6);
  mx_train_options o = mx_train_defaults(MX_MODEL_EASE);
  o.reg = 1;
  o.half_life_days = 7;
  mx_model *m;
  mx_error err;
  assert_int_equal(mx_model_train(d, &o, &m, &err), MX_OK);
  assert_float_equal(m->ease_b[0 * 2 + 1], 1.75f / 3.25f, 1e-5);
  assert_float_equal(m->ease_b[1 * 2 + 0], 1.75f / 2.5f, 1e-5);
  assert_float_equal(m->hyper[12], 7, 0);
  assert_float_equal(m->hyper[15], (double)T0, 0);
  mx_model_free(m);
  mx_dataset_free(d);
}

/* iALS with a half-life: a user whose purchases are all old gets a weaker
 * vector than the same history bought today, and a half-life far longer
 * than the data changes (almost) nothing. */
static void test_ials_decays_confidence(void **state) {
  (void)state;
  enum { N = 60 };
  const char *us[N], *is[N];
  int64_t ts[N];
  static char names[N][2][16];
  for (int q = 0; q < N; q++) {
    snprintf(names[q][0], 16, "u%d", q / 6);
    snprintf(names[q][1], 16, "i%d", (q * 7 + q / 6) % 15);
    us[q] = names[q][0];
    is[q] = names[q][1];
    ts[q] = q / 6 == 0 ? T0 - 200 * DAY : T0 - (q % 5) * DAY;
  }
  mx_dataset *d = make(us, is, ts, N);
  mx_train_options o = mx_train_defaults(MX_MODEL_IALS);
  o.factors = 4;
  o.reg = 0.1;
  o.alpha = 10;
  o.threads = 1;
  mx_model *plain, *longhl, *decayed;
  mx_error err;
  assert_int_equal(mx_model_train(d, &o, &plain, &err), MX_OK);
  o.half_life_days = 1e6;
  assert_int_equal(mx_model_train(d, &o, &longhl, &err), MX_OK);
  o.half_life_days = 10;
  assert_int_equal(mx_model_train(d, &o, &decayed, &err), MX_OK);
  double diff = 0;
  for (size_t q = 0; q < (size_t)plain->n_users * 4; q++)
    diff = fmax(diff, fabs(plain->user_factors[q] - longhl->user_factors[q]));
  assert_true(diff < 1e-3);
  /* u0's items were bought 200 days ago: its seen items score lower */
  double s_plain = 0, s_dec = 0;
  for (uint64_t q = d->by_user.indptr[0]; q < d->by_user.indptr[1]; q++) {
    s_plain += mx_model_predict(plain, 0, d->by_user.indices[q]);
    s_dec += mx_model_predict(decayed, 0, d->by_user.indices[q]);
  }
  assert_true(s_dec < s_plain);
  mx_model_free(plain);
  mx_model_free(longhl);
  mx_model_free(decayed);
  mx_dataset_free(d);
}

/* The blend: with H huge every user ranks by recent popularity (item "new"
 * bought by 3 users in the last 10 days beats "old", bought by 5 users a
 * year ago); the extra user factor is beta_u x scale, beta_u = H / (H + n_u). */
static void test_recent_popular_blend(void **state) {
  (void)state;
  const char *us[] = {"a", "b", "c", "d", "e", "a", "b", "c", "f", "f", "f", "f"};
  const char *is[] = {"old", "old", "old", "old", "old", "new", "new", "new", "x", "y", "z", "w"};
  int64_t ts[12];
  for (int q = 0; q < 12; q++) ts[q] = q < 5 ? T0 - 365 * DAY : T0 - (q % 3) * DAY;
  mx_dataset *d = make(us, is, ts, 12);
  mx_train_options o = mx_train_defaults(MX_MODEL_IALS);
  o.factors = 3;
  o.threads = 1;
  o.recent_popular_days = 10;
  o.recent_popular_users = 1e9;
  mx_model *m;
  mx_error err;
  assert_int_equal(mx_model_train(d, &o, &m, &err), MX_OK);
  assert_int_equal(m->factors, 4);
  uint32_t f = (uint32_t)mx_idmap_find(d->users, "f", 1);
  uint32_t inew = (uint32_t)mx_idmap_find(d->items, "new", 3);
  uint32_t iold = (uint32_t)mx_idmap_find(d->items, "old", 3);
  assert_true(mx_model_predict(m, f, inew) > mx_model_predict(m, f, iold));
  assert_float_equal(m->item_factors[(size_t)inew * 4 + 3], 1.0f, 0);
  assert_float_equal(m->item_factors[(size_t)iold * 4 + 3], 0.0f, 0);
  mx_model_free(m);
  o.recent_popular_users = 2; /* d has 1 item, f has 4: beta 2/3 and 1/3 */
  assert_int_equal(mx_model_train(d, &o, &m, &err), MX_OK);
  uint32_t ud = (uint32_t)mx_idmap_find(d->users, "d", 1);
  assert_float_equal(m->user_factors[(size_t)ud * 4 + 3] / m->user_factors[(size_t)f * 4 + 3],
                     2.0f, 1e-5);
  mx_model_free(m);
  mx_dataset_free(d);
}

/* BPR draws positives in proportion to their weights: deterministic for a
 * seed, and an error (not a silent uniform draw) when every weight is 0. */
static void test_bpr_weighted_draws(void **state) {
  (void)state;
  const char *us[] = {"a", "a", "b", "b", "c"};
  const char *is[] = {"x", "y", "y", "z", "x"};
  int64_t ts[] = {T0, T0 - DAY, T0 - 2 * DAY, T0, T0};
  mx_dataset *d = make(us, is, ts, 5);
  mx_train_options o = mx_train_defaults(MX_MODEL_BPR);
  o.factors = 4;
  o.epochs = 5;
  o.threads = 1;
  o.half_life_days = 1;
  mx_model *m1, *m2;
  mx_error err;
  assert_int_equal(mx_model_train(d, &o, &m1, &err), MX_OK);
  assert_int_equal(mx_model_train(d, &o, &m2, &err), MX_OK);
  assert_memory_equal(m1->item_factors, m2->item_factors, (size_t)m1->n_items * 4 * sizeof(float));
  mx_model_free(m1);
  mx_model_free(m2);
  o.half_life_days = 0.001;
  o.now_seconds = T0 + 1000 * DAY;
  o.now_set = 1;
  assert_int_equal(mx_model_train(d, &o, &m1, &err), MX_EINVAL);
  assert_non_null(strstr(err.message, "weight is 0"));
  mx_dataset_free(d);
}

static void test_recency_errors(void **state) {
  (void)state;
  const char *us[] = {"a", "b"};
  const char *is[] = {"x", "y"};
  int64_t ts[] = {T0, T0};
  mx_dataset *timed = make(us, is, ts, 2), *untimed = make(us, is, NULL, 2);
  mx_model *m;
  mx_error err;
  mx_train_options o = mx_train_defaults(MX_MODEL_IALS);
  o.factors = 2;
  o.half_life_days = 30;
  assert_int_equal(mx_model_train(untimed, &o, &m, &err), MX_EINVAL);
  assert_non_null(strstr(err.message, "time column"));
  o.half_life_days = -1;
  assert_int_equal(mx_model_train(timed, &o, &m, &err), MX_EINVAL);
  o.half_life_days = 0;
  o.recent_popular_days = 10;
  o.now_seconds = T0 - 100 * DAY;
  o.now_set = 1;
  assert_int_equal(mx_model_train(timed, &o, &m, &err), MX_EINVAL);
  assert_non_null(strstr(err.message, "no interaction in the 10 days before"));
  mx_train_options e = mx_train_defaults(MX_MODEL_EASE);
  e.recent_popular_days = 10;
  assert_int_equal(mx_model_train(timed, &e, &m, &err), MX_EINVAL);
  assert_non_null(strstr(err.message, "ials and bpr"));
  mx_train_options f = mx_train_defaults(MX_MODEL_MF);
  f.half_life_days = 10;
  mx_dataset_free(timed);
  const float vals[] = {4, 5};
  assert_int_equal(mx_dataset_from_triplets(us, is, vals, ts, 2, &timed, &err), MX_OK);
  assert_int_equal(mx_model_train(timed, &f, &m, &err), MX_EINVAL);
  assert_non_null(strstr(err.message, "ials, bpr and ease"));
  mx_dataset_free(timed);
  mx_dataset_free(untimed);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_decay_weights_exact),
      cmocka_unit_test(test_ease_weighted_gram_by_hand),
      cmocka_unit_test(test_ials_decays_confidence),
      cmocka_unit_test(test_recent_popular_blend),
      cmocka_unit_test(test_bpr_weighted_draws),
      cmocka_unit_test(test_recency_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
