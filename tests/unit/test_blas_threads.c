/* OpenBLAS's thread count is process-wide: a library call must leave it as
 * the program set it (issue #15.10: mx_forecast_batch's workers each saved
 * and restored it, racing, and left it at 1 in 14 of 20 trials). Every
 * library call that brackets its parallel region with mx__blas_begin/end is
 * run several times with worker threads, and the count checked after each.
 * No timing assertions. */
#include "testutil.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "merx/data.h"
#include "merx/forecast.h"
#include "merx/model.h"
#include "merx/score.h"
#include "util/util.h"

enum { TRIALS = 20, SET = 3 };

static mx_series_set *series(size_t count, size_t len) {
  double **v = calloc(count, sizeof *v);
  size_t *lens = calloc(count, sizeof *lens);
  for (size_t i = 0; i < count; i++) {
    v[i] = malloc(len * sizeof **v);
    lens[i] = len;
    for (size_t t = 0; t < len; t++)
      v[i][t] = 50 + 10 * sin(2 * M_PI * (double)t / 12) + (double)((i * 7 + t * 13) % 5);
  }
  mx_series_set *s;
  mx_error err;
  assert_int_equal(mx_series_set_from_arrays(NULL, (const double *const *)v, lens, count, &s, &err),
                   MX_OK);
  for (size_t i = 0; i < count; i++) free(v[i]);
  free(v);
  free(lens);
  return s;
}

static void test_forecast_batch_keeps_blas_threads(void **state) {
  (void)state;
  mx_series_set *s = series(48, 60);
  mx_forecast_options o = mx_forecast_defaults();
  o.horizon = 6;
  o.season = 12;
  o.threads = 4;
  int kept = 0;
  for (int trial = 0; trial < TRIALS; trial++) {
    openblas_set_num_threads(SET);
    mx_forecast_result *r = calloc(s->count, sizeof *r);
    mx_error err;
    assert_int_equal(mx_forecast_batch(s, &o, r, NULL, NULL, &err), MX_OK);
    kept += openblas_get_num_threads() == SET;
    for (size_t i = 0; i < s->count; i++) mx_forecast_result_free(&r[i]);
    free(r);
  }
  assert_int_equal(kept, TRIALS);
  mx_series_set_free(s);
}

static void test_backtest_keeps_blas_threads(void **state) {
  (void)state;
  mx_series_set *s = series(16, 60);
  mx_backtest_options bo = mx_backtest_defaults();
  bo.fc.horizon = 6;
  bo.fc.season = 12;
  bo.fc.threads = 4;
  int methods[] = {MX_FC_NAIVE, MX_FC_SES};
  int kept = 0;
  for (int trial = 0; trial < TRIALS; trial++) {
    openblas_set_num_threads(SET);
    mx_backtest_metrics m[2];
    mx_error err;
    assert_int_equal(mx_backtest(s, &bo, methods, 2, m, &err), MX_OK);
    kept += openblas_get_num_threads() == SET;
  }
  assert_int_equal(kept, TRIALS);
  mx_series_set_free(s);
}

/* Training, top-K and scoring bracket their regions on the calling thread. */
static void test_train_topk_score_keep_blas_threads(void **state) {
  (void)state;
  enum { NU = 60, NI = 40, PER = 8 };
  size_t n = (size_t)NU * PER;
  char **us = malloc(n * sizeof *us), **is = malloc(n * sizeof *is);
  for (size_t k = 0; k < n; k++) {
    char b[32];
    snprintf(b, sizeof b, "u%zu", k / PER);
    us[k] = mx__strdup(b);
    snprintf(b, sizeof b, "i%zu", ((k / PER) * 31 + (k % PER) * 7) % NI);
    is[k] = mx__strdup(b);
  }
  mx_dataset *d;
  mx_error err;
  assert_int_equal(mx_dataset_from_triplets((const char *const *)us, (const char *const *)is, NULL,
                                            NULL, n, &d, &err), MX_OK);
  for (size_t k = 0; k < n; k++) {
    free(us[k]);
    free(is[k]);
  }
  free(us);
  free(is);
  int algos[] = {MX_MODEL_IALS, MX_MODEL_EASE};
  for (int a = 0; a < 2; a++)
    for (int trial = 0; trial < 3; trial++) {
      mx_train_options o = mx_train_defaults(algos[a]);
      o.factors = 4;
      o.epochs = 2;
      o.threads = 4;
      openblas_set_num_threads(SET);
      mx_model *m;
      assert_int_equal(mx_model_train(d, &o, &m, &err), MX_OK);
      assert_int_equal(openblas_get_num_threads(), SET);
      mx_topk_options to = mx_topk_defaults();
      to.k = 5;
      to.threads = 4;
      mx_topk_result *r;
      assert_int_equal(mx_topk_batch(m, NULL, 0, &to, &r, &err), MX_OK);
      assert_int_equal(openblas_get_num_threads(), SET);
      mx_topk_result_free(r);
      if (algos[a] == MX_MODEL_IALS) {
        float *out = malloc((size_t)m->n_users * m->n_items * sizeof *out);
        assert_int_equal(mx_score_matrix(m, NULL, 0, NULL, 0, 4, out, &err), MX_OK);
        assert_int_equal(openblas_get_num_threads(), SET);
        free(out);
      }
      mx_model_free(m);
    }
  mx_dataset_free(d);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_forecast_batch_keeps_blas_threads),
      cmocka_unit_test(test_backtest_keeps_blas_threads),
      cmocka_unit_test(test_train_topk_score_keep_blas_threads),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
