/* Uplift models: GLM fits at their optimum, Qini/uplift curve areas on
 * hand-computed examples (ties included), seeded bootstrap, learners that
 * rank planted persuadables first, model files (round trip, refusals),
 * table reading errors. */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "merx/glm.h"
#include "merx/uplift.h"
#include "util/util.h"

/* ------------------------------------------------------------------ GLM */

static void test_logistic_gradient_is_zero(void **state) {
  (void)state;
  /* n rows, intercept + 2 features; the penalised score equations
   * X'(y - p) - reg * beta (no penalty on the intercept) hold at the fit. */
  enum { N = 400, P = 3 };
  static double X[N * P], y[N];
  mx_rng r;
  mx__rng_seed(&r, 7);
  for (int i = 0; i < N; i++) {
    X[i * P] = 1;
    X[i * P + 1] = mx__rng_normal(&r);
    X[i * P + 2] = mx__rng_normal(&r);
    double eta = -0.5 + 1.2 * X[i * P + 1] - 0.7 * X[i * P + 2];
    y[i] = mx__rng_uniform(&r) < 1 / (1 + exp(-eta));
  }
  double beta[P];
  int it;
  mx_error err;
  assert_int_equal(mx_glm_logistic_fit(X, y, N, P, 2.0, 50, beta, &it, &err), MX_OK);
  assert_true(it > 1 && it < 20);
  double p[N];
  mx_glm_predict(X, N, P, beta, 1, p);
  for (int j = 0; j < P; j++) {
    double g = 0;
    for (int i = 0; i < N; i++) g += X[i * P + j] * (y[i] - p[i]);
    if (j > 0) g -= 2.0 * beta[j];
    assert_true(fabs(g) < 1e-7);
  }
  /* the planted signs are recovered */
  assert_true(beta[1] > 0.6 && beta[2] < -0.3);
  /* an outcome that never varies has no finite intercept */
  for (int i = 0; i < N; i++) y[i] = 0;
  assert_int_equal(mx_glm_logistic_fit(X, y, N, P, 1.0, 50, beta, &it, &err), MX_EEMPTY);
  assert_non_null(strstr(err.message, "both 0 and 1"));
  y[3] = 0.5;
  assert_int_equal(mx_glm_logistic_fit(X, y, N, P, 1.0, 50, beta, &it, &err), MX_EINVAL);
}

static void test_ridge_closed_form(void **state) {
  (void)state;
  /* one centred feature: slope = sum(x y) / (sum(x^2) + reg), intercept = mean(y) */
  double X[] = {1, -1, 1, 0, 1, 1, 1, 2, 1, -2};
  double y[] = {1, 2, 2, 5, 0};
  double beta[2];
  mx_error err;
  assert_int_equal(mx_glm_ridge_fit(X, y, 5, 2, 3.0, beta, &err), MX_OK);
  double sxy = -1 * 1 + 0 + 1 * 2 + 2 * 5 + -2 * 0, sxx = 1 + 0 + 1 + 4 + 4;
  assert_true(fabs(beta[1] - sxy / (sxx + 3.0)) < 1e-12);
  assert_true(fabs(beta[0] - 2.0) < 1e-12);
}

/* ------------------------------------------------------------- curves */

/* Six rows; the expected areas are worked out by hand in the comment. */
static const double s6[] = {0.9, 0.8, 0.7, 0.6, 0.5, 0.4};
static const unsigned char t6[] = {1, 0, 1, 0, 1, 0};
static const double y6[] = {1, 0, 0, 1, 1, 0};

static void test_qini_hand_example(void **state) {
  (void)state;
  /* k:      1    2    3    4    5     6
   * Q(k):  1/3  1/3  1/3   0   1/6   1/3   ((Yt - Yc Nt/Nc) / 3)
   * U(k):   0   1/3  1/4   0   5/36  1/3   ((Yt/Nt - Yc/Nc) k / 6)
   * trapezoids at x = k/6: area(Q) = 2/9, area(U) = 4/27; ate = 1/3,
   * random = 1/6, so qini = 2/9 - 1/6 = 1/18. */
  mx_uplift_eval e;
  mx_error err;
  assert_int_equal(mx_uplift_evaluate(s6, t6, y6, 6, 0, 1, &e, &err), MX_OK);
  assert_true(fabs(e.ate - 1.0 / 3) < 1e-12);
  assert_true(fabs(e.qini - 1.0 / 18) < 1e-12);
  assert_true(fabs(e.auuc - 4.0 / 27) < 1e-12);
  assert_true(fabs(e.random_area - 1.0 / 6) < 1e-12);
  assert_true(isnan(e.qini_lo));
  /* the sampled curve: 0 at x = 0, the ate at x = 1, interpolated between */
  assert_true(e.qini_curve[0] == 0 && fabs(e.qini_curve[100] - 1.0 / 3) < 1e-12);
  assert_true(fabs(e.uplift_curve[100] - 1.0 / 3) < 1e-12);
  assert_true(fabs(e.qini_curve[50] - 1.0 / 3) < 1e-12); /* x = 1/2 is k = 3 */
  /* reversing the ranking is worse than random */
  double rev[6];
  for (int i = 0; i < 6; i++) rev[i] = -s6[i];
  assert_int_equal(mx_uplift_evaluate(rev, t6, y6, 6, 0, 1, &e, &err), MX_OK);
  assert_true(e.qini < 0);
}

static void test_qini_ties_enter_together(void **state) {
  (void)state;
  /* rows 2 and 3 tied: the curve goes straight from k = 1 to k = 3, so
   * area(U) loses 5/144 against the untied order; area(Q) is unchanged
   * (Q is 1/3 at k = 1, 2, 3). The order of tied rows does not matter. */
  double s[] = {0.9, 0.8, 0.8, 0.6, 0.5, 0.4};
  mx_uplift_eval a, b;
  mx_error err;
  assert_int_equal(mx_uplift_evaluate(s, t6, y6, 6, 0, 1, &a, &err), MX_OK);
  assert_true(fabs(a.qini - 1.0 / 18) < 1e-12);
  assert_true(fabs(a.auuc - (4.0 / 27 - 5.0 / 144)) < 1e-12);
  unsigned char t2[] = {1, 1, 0, 0, 1, 0};
  double y2[] = {1, 0, 0, 1, 1, 0};
  assert_int_equal(mx_uplift_evaluate(s, t2, y2, 6, 0, 1, &b, &err), MX_OK);
  assert_true(a.qini == b.qini && a.auuc == b.auuc);
  /* one arm only */
  unsigned char all[] = {1, 1, 1, 1, 1, 1};
  assert_int_equal(mx_uplift_evaluate(s, all, y6, 6, 0, 1, &a, &err), MX_EEMPTY);
}

static void test_bootstrap_seeded(void **state) {
  (void)state;
  enum { N = 600 };
  static double s[N], y[N];
  static unsigned char t[N];
  mx_rng r;
  mx__rng_seed(&r, 11);
  for (int i = 0; i < N; i++) {
    s[i] = mx__rng_uniform(&r);
    t[i] = mx__rng_uniform(&r) < 0.5;
    y[i] = mx__rng_uniform(&r) < 0.1 + (t[i] ? 0.4 * s[i] : 0);
  }
  mx_uplift_eval a, b, c;
  mx_error err;
  assert_int_equal(mx_uplift_evaluate(s, t, y, N, 200, 5, &a, &err), MX_OK);
  assert_int_equal(mx_uplift_evaluate(s, t, y, N, 200, 5, &b, &err), MX_OK);
  assert_int_equal(mx_uplift_evaluate(s, t, y, N, 200, 6, &c, &err), MX_OK);
  assert_true(a.qini_lo == b.qini_lo && a.qini_hi == b.qini_hi && a.gain_lo == b.gain_lo);
  assert_true(a.qini_lo != c.qini_lo);
  assert_int_equal(a.bootstrap, 200);
  assert_true(a.qini_lo < a.qini && a.qini < a.qini_hi);
  assert_true(a.auuc_lo < a.auuc && a.auuc < a.auuc_hi);
  /* planted: uplift grows with the score, so the interval is above zero */
  assert_true(a.qini_lo > 0 && a.gain_lo > 0);
}

/* ------------------------------------------------------------ learners */

/* Four planted segments (Radcliffe's quadrants): persuadables respond only
 * when treated, sure things always, lost causes never, sleeping dogs less
 * when treated. Features: the segment (categorical) and a noise number. */
static mx_uplift_table *synthetic(size_t n, uint64_t seed, double *true_uplift) {
  static const char *seg_names[] = {"persuadable", "sure_thing", "lost_cause", "sleeping_dog"};
  static const double base[] = {0.05, 0.7, 0.02, 0.4}, lift[] = {0.35, 0.0, 0.0, -0.2};
  const char **seg = malloc(n * sizeof *seg), **arm = malloc(n * sizeof *arm);
  double *y = malloc(n * sizeof *y), *noise = malloc(n * sizeof *noise);
  mx_rng r;
  mx__rng_seed(&r, seed);
  for (size_t i = 0; i < n; i++) {
    int g = (int)mx__rng_below(&r, 4);
    int treated = mx__rng_uniform(&r) < 0.5;
    seg[i] = seg_names[g];
    arm[i] = treated ? "email" : "none";
    noise[i] = mx__rng_normal(&r);
    y[i] = mx__rng_uniform(&r) < base[g] + (treated ? lift[g] : 0);
    if (true_uplift) true_uplift[i] = lift[g];
  }
  mx_uplift_table *t;
  mx_error err;
  assert_int_equal(mx_uplift_table_create(n, &t, &err), MX_OK);
  assert_int_equal(mx_uplift_table_add_strings(t, "segment", seg, NULL, &err), MX_OK);
  assert_int_equal(mx_uplift_table_add_strings(t, "arm", arm, NULL, &err), MX_OK);
  assert_int_equal(mx_uplift_table_add_numbers(t, "noise", noise, &err), MX_OK);
  assert_int_equal(mx_uplift_table_add_numbers(t, "bought", y, &err), MX_OK);
  free(seg);
  free(arm);
  free(y);
  free(noise);
  return t;
}

static void check_learner(mx_uplift_learner learner) {
  enum { N = 8000 };
  static double truth[N], up[N], p1[N], p0[N];
  mx_uplift_table *t = synthetic(N, 42, truth);
  mx_uplift_options o = mx_uplift_defaults();
  o.learner = learner;
  o.treatment = "arm";
  o.outcome = "bought";
  o.control_arm = "none";
  o.bootstrap = 100;
  mx_uplift_model *m;
  mx_uplift_report rep;
  mx_error err;
  assert_int_equal(mx_uplift_train(t, &o, &m, &rep, &err), MX_OK);
  assert_string_equal(m->treated_arm, "email");
  assert_int_equal(m->binary, 1);
  assert_int_equal(rep.rows, N);
  assert_true(rep.evaluated && rep.test.qini_lo > 0);
  assert_int_equal(rep.test_treated + rep.test_control + rep.train_treated + rep.train_control, N);
  assert_int_equal(mx_uplift_score(m, t, NULL, up, p1, p0, NULL, &err), MX_OK);
  /* the top quarter by predicted uplift is persuadables */
  size_t top = 0, persuadable = 0;
  double cut = 0.2;
  for (size_t i = 0; i < N; i++)
    if (up[i] > cut) {
      top++;
      persuadable += truth[i] > 0.3;
    }
  assert_true(top > N / 5 && (double)persuadable / (double)top > 0.95);
  /* sure things rank below persuadables although they convert most */
  double mean_by[2] = {0, 0};
  size_t cnt[2] = {0, 0};
  for (size_t i = 0; i < N; i++) {
    int g = truth[i] > 0.3 ? 0 : truth[i] == 0 ? 1 : -1;
    if (g < 0) continue;
    mean_by[g] += up[i];
    cnt[g]++;
  }
  assert_true(mean_by[0] / (double)cnt[0] > 0.25 && mean_by[1] / (double)cnt[1] < 0.1);
  if (learner == MX_UPLIFT_T_LEARNER) assert_true(p1[0] >= 0 && p1[0] <= 1 && fabs(up[0] - (p1[0] - p0[0])) < 1e-12);
  else assert_true(isnan(p1[0]));
  /* same seed, same model */
  mx_uplift_model *m2;
  assert_int_equal(mx_uplift_train(t, &o, &m2, NULL, &err), MX_OK);
  assert_memory_equal(m->coef[0], m2->coef[0], m->width * sizeof(double));
  mx_uplift_free(m2);
  mx_uplift_free(m);
  mx_uplift_table_free(t);
}

static void test_t_learner_ranks_persuadables(void **state) {
  (void)state;
  check_learner(MX_UPLIFT_T_LEARNER);
}

static void test_transformed_ranks_persuadables(void **state) {
  (void)state;
  check_learner(MX_UPLIFT_TRANSFORMED);
}

static void test_arm_choice_and_errors(void **state) {
  (void)state;
  mx_uplift_table *t = synthetic(400, 3, NULL);
  mx_uplift_options o = mx_uplift_defaults();
  o.treatment = "arm";
  o.outcome = "bought";
  mx_uplift_model *m;
  mx_error err;
  /* two arms but neither named: which is control is ambiguous */
  assert_int_equal(mx_uplift_train(t, &o, &m, NULL, &err), MX_EINVAL);
  assert_non_null(strstr(err.message, "name the treatment and control arms"));
  o.control_arm = "nobody";
  assert_int_equal(mx_uplift_train(t, &o, &m, NULL, &err), MX_ENOTFOUND);
  assert_non_null(strstr(err.message, "arms: "));
  o.control_arm = "none";
  o.treated_arm = "none";
  assert_int_equal(mx_uplift_train(t, &o, &m, NULL, &err), MX_EINVAL);
  o.treated_arm = NULL;
  const char *leak[] = {"segment", "bought"};
  o.features = leak;
  o.n_features = 2;
  assert_int_equal(mx_uplift_train(t, &o, &m, NULL, &err), MX_EINVAL);
  assert_non_null(strstr(err.message, "feature 'bought' is the outcome column"));
  o.features = NULL;
  o.test_share = 1;
  assert_int_equal(mx_uplift_train(t, &o, &m, NULL, &err), MX_EINVAL);
  mx_uplift_table_free(t);
}

/* --------------------------------------------------------- model files */

static void test_model_file(void **state) {
  (void)state;
  mx_uplift_table *t = synthetic(2000, 9, NULL);
  mx_uplift_options o = mx_uplift_defaults();
  o.treatment = "arm";
  o.outcome = "bought";
  o.control_arm = "none";
  o.bootstrap = 0;
  mx_uplift_model *m, *back;
  mx_error err;
  assert_int_equal(mx_uplift_train(t, &o, &m, NULL, &err), MX_OK);
  const char *p = tu_path("m.mxu");
  assert_int_equal(mx_uplift_save(m, p, &err), MX_OK);
  assert_int_equal(mx_uplift_load(p, &back, &err), MX_OK);
  assert_int_equal(back->width, m->width);
  assert_memory_equal(back->coef[1], m->coef[1], m->width * sizeof(double));
  assert_string_equal(back->features[0].levels[1], m->features[0].levels[1]);
  double a[2000], b[2000];
  assert_int_equal(mx_uplift_score(m, t, NULL, a, NULL, NULL, NULL, &err), MX_OK);
  assert_int_equal(mx_uplift_score(back, t, NULL, b, NULL, NULL, NULL, &err), MX_OK);
  assert_memory_equal(a, b, sizeof a);
  mx_uplift_free(back);
  /* truncated, corrupt, foreign, other version */
  char *data;
  size_t len;
  assert_int_equal(mx__read_file(p, &data, &len, &err), MX_OK);
  const char *q = tu_path("bad.mxu");
  assert_int_equal(mx__atomic_write(q, data, len - 9, &err), MX_OK);
  assert_int_equal(mx_uplift_load(q, &back, &err), MX_EFORMAT);
  assert_non_null(strstr(err.message, "truncated"));
  data[40] ^= 1;
  assert_int_equal(mx__atomic_write(q, data, len, &err), MX_OK);
  assert_int_equal(mx_uplift_load(q, &back, &err), MX_EFORMAT);
  assert_non_null(strstr(err.message, "checksum"));
  data[40] ^= 1;
  data[8] = 9;
  assert_int_equal(mx__atomic_write(q, data, len, &err), MX_OK);
  assert_int_equal(mx_uplift_load(q, &back, &err), MX_EFORMAT);
  assert_non_null(strstr(err.message, "version 9"));
  memcpy(data, "MERXMDL", 8);
  assert_int_equal(mx__atomic_write(q, data, len, &err), MX_OK);
  assert_int_equal(mx_uplift_load(q, &back, &err), MX_EFORMAT);
  assert_non_null(strstr(err.message, "embedding model"));
  free(data);
  q = tu_write("text.mxu", "user,uplift\n");
  assert_int_equal(mx_uplift_load(q, &back, &err), MX_EFORMAT);
  assert_non_null(strstr(err.message, "bad magic"));
  /* scoring data that lacks a feature column names it */
  mx_uplift_table *t2;
  assert_int_equal(mx_uplift_table_create(1, &t2, &err), MX_OK);
  double one = 1;
  assert_int_equal(mx_uplift_table_add_numbers(t2, "noise", &one, &err), MX_OK);
  assert_int_equal(mx_uplift_score(m, t2, NULL, a, NULL, NULL, NULL, &err), MX_ENOTFOUND);
  assert_non_null(strstr(err.message, "'segment'"));
  mx_uplift_table_free(t2);
  mx_uplift_free(m);
  mx_uplift_table_free(t);
}

static void test_table_csv(void **state) {
  (void)state;
  const char *p = tu_write("d.csv", "id,arm,x,zip,y\n"
                                    "a,t,1.5,123,1\n"
                                    "b,c,2,456,0\n"
                                    "c,t,oops,789,1\n");
  mx_uplift_read_options ro;
  memset(&ro, 0, sizeof ro);
  ro.csv = mx_csv_defaults();
  mx_uplift_table *t;
  mx_error err;
  assert_int_equal(mx_uplift_table_read_csv(p, &ro, &t, &err), MX_EPARSE);
  assert_int_equal(err.line, 4);
  assert_int_equal(err.column, 3);
  assert_string_equal(err.field, "x");
  const char *cols[] = {"arm", "zip", "y"}, *cat[] = {"zip"};
  ro.columns = cols;
  ro.n_columns = 3;
  ro.categorical = cat;
  ro.n_categorical = 1;
  assert_int_equal(mx_uplift_table_read_csv(p, &ro, &t, &err), MX_OK);
  assert_int_equal(mx_uplift_table_rows(t), 3);
  assert_true(mx_uplift_table_is_categorical(t, mx_uplift_table_find(t, "zip")));
  assert_false(mx_uplift_table_is_categorical(t, mx_uplift_table_find(t, "y")));
  assert_int_equal(mx_uplift_table_find(t, "x"), -1);
  mx_uplift_table_free(t);
  cols[1] = "nope";
  assert_int_equal(mx_uplift_table_read_csv(p, &ro, &t, &err), MX_ENOTFOUND);
  assert_non_null(strstr(err.message, "columns: id, arm, x, zip, y"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_logistic_gradient_is_zero),
      cmocka_unit_test(test_ridge_closed_form),
      cmocka_unit_test(test_qini_hand_example),
      cmocka_unit_test(test_qini_ties_enter_together),
      cmocka_unit_test(test_bootstrap_seeded),
      cmocka_unit_test(test_t_learner_ranks_persuadables),
      cmocka_unit_test(test_transformed_ranks_persuadables),
      cmocka_unit_test(test_arm_choice_and_errors),
      cmocka_unit_test(test_model_file),
      cmocka_unit_test(test_table_csv),
  };
  return tu_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
