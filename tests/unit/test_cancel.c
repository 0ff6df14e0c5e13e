/* mx_cancel (merx/error.h): long core calls given a cancellation that has
 * fired stop with MX_ELIMIT (deadline) or MX_EINTERRUPTED (flag), say what
 * stopped, and produce nothing; a cancellation that has not fired changes
 * nothing. */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "testutil.h"
#include "merx/data.h"
#include "merx/forecast.h"
#include "merx/model.h"
#include "merx/score.h"
#include "util/util.h"

static volatile sig_atomic_t g_flag;

static void test_cancel_check_codes(void **state) {
  (void)state;
  mx_error err;
  assert_int_equal(mx_cancel_check(NULL, "x", &err), MX_OK);
  mx_cancel c = {0, NULL};
  assert_int_equal(mx_cancel_check(&c, "x", &err), MX_OK);
  c.deadline = mx__now_seconds() + 3600;
  c.interrupt = &g_flag;
  g_flag = 0;
  assert_int_equal(mx_cancel_check(&c, "x", &err), MX_OK);
  c.deadline = mx__now_seconds() - 1;
  assert_int_equal(mx_cancel_check(&c, "training", &err), MX_ELIMIT);
  assert_string_equal(err.message, "training stopped: time limit reached");
  g_flag = 1;
  assert_int_equal(mx_cancel_check(&c, "training", NULL), MX_EINTERRUPTED);
  assert_int_equal(mx_cancel_check(&c, "training", &err), MX_EINTERRUPTED);
  assert_string_equal(err.message, "training interrupted by a signal");
  g_flag = 0;
}

static mx_dataset *small_dataset(void) {
  static const char *u[] = {"a", "a", "b", "b", "c", "c", "d"};
  static const char *i[] = {"x", "y", "y", "z", "x", "z", "w"};
  mx_dataset *d;
  mx_error err;
  assert_int_equal(mx_dataset_from_triplets(u, i, NULL, NULL, 7, &d, &err), MX_OK);
  return d;
}

static void test_train_cancelled_returns_no_model(void **state) {
  (void)state;
  mx_dataset *d = small_dataset();
  mx_train_options o = mx_train_defaults(MX_MODEL_IALS);
  o.factors = 2;
  o.epochs = 3;
  o.threads = 1;
  mx_cancel c = {mx__now_seconds() - 1, NULL};
  o.cancel = &c;
  mx_model *m = (mx_model *)&c;
  mx_error err;
  assert_int_equal(mx_model_train(d, &o, &m, &err), MX_ELIMIT);
  assert_null(m);
  assert_non_null(strstr(err.message, "training"));
  c.deadline = 0;
  c.interrupt = &g_flag;
  g_flag = 1;
  assert_int_equal(mx_model_train(d, &o, &m, &err), MX_EINTERRUPTED);
  assert_null(m);
  g_flag = 0; /* not fired: trains as usual */
  assert_int_equal(mx_model_train(d, &o, &m, &err), MX_OK);
  assert_non_null(m);
  /* top-K on the model, cancelled and not */
  mx_topk_options t = mx_topk_defaults();
  t.k = 2;
  t.threads = 1;
  t.cancel = &c;
  mx_topk_result *r = NULL;
  g_flag = 1;
  assert_int_equal(mx_topk_batch(m, NULL, 0, &t, &r, &err), MX_EINTERRUPTED);
  assert_null(r);
  assert_string_equal(err.message, "top-K interrupted by a signal");
  g_flag = 0;
  assert_int_equal(mx_topk_batch(m, NULL, 0, &t, &r, &err), MX_OK);
  assert_non_null(r);
  mx_topk_result_free(r);
  mx_model_free(m);
  mx_dataset_free(d);
}

static void test_forecast_batch_cancelled(void **state) {
  (void)state;
  double y[24];
  for (int t = 0; t < 24; t++) y[t] = 10 + sin(t);
  const char *ids[] = {"s1", "s2", "s3"};
  const double *values[] = {y, y, y};
  size_t len[] = {24, 24, 24};
  mx_series_set *s;
  mx_error err;
  assert_int_equal(mx_series_set_from_arrays(ids, values, len, 3, &s, &err), MX_OK);
  mx_forecast_options o = mx_forecast_defaults();
  o.horizon = 3;
  o.threads = 1;
  mx_cancel c = {mx__now_seconds() - 1, NULL};
  o.cancel = &c;
  mx_forecast_result res[3];
  memset(res, 0, sizeof res);
  assert_int_equal(mx_forecast_batch(s, &o, res, NULL, NULL, &err), MX_ELIMIT);
  assert_string_equal(err.message, "forecast stopped: time limit reached");
  for (int i = 0; i < 3; i++) assert_null(res[i].mean);
  c.deadline = mx__now_seconds() + 3600;
  assert_int_equal(mx_forecast_batch(s, &o, res, NULL, NULL, &err), MX_OK);
  for (int i = 0; i < 3; i++) {
    assert_non_null(res[i].mean);
    mx_forecast_result_free(&res[i]);
  }
  mx_series_set_free(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_cancel_check_codes),
      cmocka_unit_test(test_train_cancelled_returns_no_model),
      cmocka_unit_test(test_forecast_batch_cancelled),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
