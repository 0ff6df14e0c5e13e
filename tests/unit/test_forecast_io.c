/* Series input (wide M4 layout, long aggregation), bad input and fallbacks,
 * metrics, the parallel batch and backtests. */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "merx/forecast.h"
#include "util/util.h"

static void test_wide_m4_layout(void **state) {
  (void)state;
  const char *p = tu_write("w.csv",
                           "\"V1\",\"V2\",\"V3\",\"V4\"\n\"A1\",\"1\",\"2\",\"3\"\n\"A2\",\"5\",\"6\",\"\"\n");
  mx_series_read_options o = mx_series_read_defaults();
  mx_series_set *s;
  mx_error err;
  assert_int_equal(mx_series_read_wide(p, &o, &s, &err), MX_OK);
  assert_int_equal((int)s->count, 2);
  assert_string_equal(s->ids[1], "A2");
  assert_int_equal((int)s->len[0], 3);
  assert_int_equal((int)s->len[1], 2); /* trailing padding dropped */
  assert_true(s->values[1][1] == 6);
  mx_series_set_free(s);
  /* no header: the first row is data */
  p = tu_write("w2.csv", "x,1,2\ny,3,4\n");
  assert_int_equal(mx_series_read_wide(p, &o, &s, &err), MX_OK);
  assert_int_equal((int)s->count, 2);
  mx_series_set_free(s);
  /* --header forces skipping a numeric-looking first line */
  o.header = 1;
  assert_int_equal(mx_series_read_wide(p, &o, &s, &err), MX_OK);
  assert_int_equal((int)s->count, 1);
  assert_string_equal(s->ids[0], "y");
  mx_series_set_free(s);
}

static void test_wide_bad_input(void **state) {
  (void)state;
  mx_series_read_options o = mx_series_read_defaults();
  mx_series_set *s;
  mx_error err;
  const char *p = tu_write("nan.csv", "a,1,2,3\nb,1,NaN,3\n");
  assert_int_equal(mx_series_read_wide(p, &o, &s, &err), MX_EPARSE);
  assert_int_equal((int)err.line, 2);
  assert_int_equal((int)err.column, 3);
  assert_string_equal(err.field, "value");
  p = tu_write("gap.csv", "a,1,,3\n");
  assert_int_equal(mx_series_read_wide(p, &o, &s, &err), MX_EPARSE);
  assert_non_null(strstr(err.message, "empty value"));
  p = tu_write("neg.csv", "a,1,-2,3\n");
  o.negative = 0;
  assert_int_equal(mx_series_read_wide(p, &o, &s, &err), MX_EPARSE);
  assert_non_null(strstr(err.message, "negative"));
  o.negative = 2; /* clamp */
  assert_int_equal(mx_series_read_wide(p, &o, &s, &err), MX_OK);
  assert_true(s->values[0][1] == 0);
  mx_series_set_free(s);
  o.negative = 1; /* keep: returns net out */
  assert_int_equal(mx_series_read_wide(p, &o, &s, &err), MX_OK);
  assert_true(s->values[0][1] == -2);
  mx_series_set_free(s);
}

static void test_long_aggregation(void **state) {
  (void)state;
  const char *p = tu_write("l.csv",
                           "sku,date,qty\n"
                           "A,2024-01-01,3\nA,2024-01-03,5\nB,2024-01-02,1\nA,2024-01-03,2\n"
                           "B,2024-01-09 10:00:00,4\nA,2024-02-01,-1\n");
  mx_series_read_options o = mx_series_read_defaults();
  mx_error err;
  assert_int_equal(mx_columns_parse("id=sku,time=date,value=qty", NULL, &o.columns, &err), MX_OK);
  mx_series_set *s;
  assert_int_equal(mx_series_read_long(p, &o, &s, &err), MX_OK);
  assert_int_equal((int)s->count, 2);
  /* days: A from Jan 1 to Feb 1 (32 days), gaps zero, same day summed */
  assert_int_equal((int)s->len[0], 32);
  assert_true(s->values[0][0] == 3 && s->values[0][1] == 0 && s->values[0][2] == 7);
  assert_true(s->values[0][31] == -1);
  assert_int_equal((int)s->len[1], 31); /* B starts Jan 2 */
  char buf[32];
  mx_format_time(mx_series_time(s, 1, (long)s->len[1]), 1, buf, sizeof buf);
  assert_string_equal(buf, "2024-02-02");
  mx_series_set_free(s);
  /* ISO weeks (Monday) and months */
  o.freq = MX_FREQ_WEEK;
  assert_int_equal(mx_series_read_long(p, &o, &s, &err), MX_OK);
  mx_format_time(mx_series_time(s, 0, 0), 1, buf, sizeof buf);
  assert_string_equal(buf, "2024-01-01"); /* a Monday */
  assert_true(s->values[0][0] == 10);     /* 3 + 5 + 2 in the week of Jan 1 */
  assert_int_equal((int)s->len[0], 5);
  mx_series_set_free(s);
  o.freq = MX_FREQ_MONTH;
  assert_int_equal(mx_series_read_long(p, &o, &s, &err), MX_OK);
  assert_int_equal((int)s->len[0], 2);
  assert_true(s->values[0][0] == 10 && s->values[0][1] == -1);
  mx_format_time(mx_series_time(s, 0, 2), 1, buf, sizeof buf);
  assert_string_equal(buf, "2024-03-01");
  mx_series_set_free(s);
  /* a bad date names line, column and field */
  p = tu_write("l2.csv", "sku,date,qty\nA,2024-13-01,3\n");
  assert_int_equal(mx_series_read_long(p, &o, &s, &err), MX_EPARSE);
  assert_int_equal((int)err.line, 2);
  assert_string_equal(err.field, "date"); /* the header name, as ingest names fields */
}

static void test_bad_series_and_fallbacks(void **state) {
  (void)state;
  mx_forecast_options o = mx_forecast_defaults();
  o.horizon = 3;
  mx_forecast_result r;
  mx_error err;
  double nan_y[] = {1, NAN, 3};
  assert_int_equal(mx_forecast_series(nan_y, 3, &o, &r, &err), MX_EINVAL);
  assert_non_null(strstr(err.message, "value 2"));
  assert_int_equal(mx_forecast_series(nan_y, 0, &o, &r, &err), MX_EEMPTY);
  int m;
  assert_int_equal(mx_forecast_method_parse("prophet", &m, &err), MX_ENOTFOUND);
  assert_non_null(strstr(err.message, "croston"));
  /* all zeros: zero forecast, said so */
  double zeros[30] = {0};
  assert_int_equal(mx_forecast_series(zeros, 30, &o, &r, &err), MX_OK);
  assert_true(r.mean[0] == 0 && r.mean[2] == 0);
  assert_non_null(strstr(r.note, "zero"));
  mx_forecast_result_free(&r);
  /* hw on a short series falls back and says so */
  double y[10] = {5, 7, 6, 8, 7, 9, 8, 10, 9, 11};
  o.method = MX_FC_HW;
  o.season = 4;
  assert_int_equal(mx_forecast_series(y, 10, &o, &r, &err), MX_OK);
  assert_int_not_equal(r.method, MX_FC_HW);
  assert_non_null(strstr(r.note, "hw needs"));
  mx_forecast_result_free(&r);
  /* a season longer than the series: snaive falls back to naive */
  o.method = MX_FC_SNAIVE;
  o.season = 24;
  assert_int_equal(mx_forecast_series(y, 10, &o, &r, &err), MX_OK);
  assert_int_equal(r.method, MX_FC_NAIVE);
  assert_true(r.mean[0] == 11);
  assert_non_null(strstr(r.note, "snaive needs"));
  mx_forecast_result_free(&r);
  /* negative values (returns) and --nonneg */
  double neg[12] = {3, -2, 1, -4, 0, -3, 1, -5, 0, -2, -1, -6};
  o.method = MX_FC_NAIVE;
  o.season = 1;
  o.nonneg = 1;
  assert_int_equal(mx_forecast_series(neg, 12, &o, &r, &err), MX_OK);
  for (int l = 0; l < r.nlevels * 3; l++) assert_true(r.lo[l] >= 0 && r.hi[l] >= 0);
  assert_true(r.mean[0] == 0);
  mx_forecast_result_free(&r);
  /* bad levels */
  o.levels[0] = 100;
  assert_int_equal(mx_forecast_series(y, 10, &o, &r, &err), MX_EINVAL);
}

static void test_metrics(void **state) {
  (void)state;
  double y[] = {10, 20, 30}, f[] = {12, 18, 30};
  /* sMAPE: 200 * (2/22 + 2/38 + 0) / 3 */
  assert_true(fabs(mx_metric_smape(y, f, 3) - 200.0 * (2.0 / 22 + 2.0 / 38) / 3) < 1e-12);
  double x[] = {1, 2, 3, 5, 8};
  /* MASE, m = 1: mean |e| = 4/3, scale = mean |diff x| = 7/4 */
  assert_true(fabs(mx_metric_mase(x, 5, 1, y, f, 3) - (4.0 / 3) / (7.0 / 4)) < 1e-12);
  /* m = 2: scale = (2 + 3 + 5) / 3 */
  assert_true(fabs(mx_metric_mase(x, 5, 2, y, f, 3) - (4.0 / 3) / (10.0 / 3)) < 1e-12);
  assert_true(fabs(mx_metric_rmsse(x, 5, 1, y, f, 3) - sqrt((8.0 / 3) / ((1 + 1 + 4 + 9) / 4.0))) < 1e-12);
  assert_true(fabs(mx_metric_wape(y, f, 3) - 4.0 / 60) < 1e-12);
  assert_true(fabs(mx_metric_bias(y, f, 3) - 0) < 1e-12);
  /* pinball at q = 0.9: y-f = -2, 2, 0 -> (0.1*2 + 0.9*2 + 0) / 3 */
  assert_true(fabs(mx_metric_pinball(y, f, 0.9, 3) - 2.0 / 3) < 1e-12);
  double lo[] = {9, 21, 29}, hi[] = {11, 25, 31};
  assert_true(fabs(mx_metric_coverage(y, lo, hi, 3) - 2.0 / 3) < 1e-12);
  assert_true(isnan(mx_metric_mase(x, 1, 1, y, f, 3)));
}

/* A seasonal series with noise: seasonal methods must beat naive, auto must
 * be close to the best, intervals must roughly cover. */
static mx_series_set *synthetic(size_t count, size_t n, int m) {
  mx_rng rng;
  mx__rng_seed(&rng, 7);
  double **v = malloc(count * sizeof *v);
  size_t *len = malloc(count * sizeof *len);
  for (size_t i = 0; i < count; i++) {
    v[i] = malloc(n * sizeof **v);
    len[i] = n;
    double level = 100 + 10 * (double)i;
    for (size_t t = 0; t < n; t++)
      v[i][t] = level * (1 + 0.3 * sin(2 * M_PI * (double)(t % (size_t)m) / m)) + 3 * mx__rng_normal(&rng);
  }
  mx_series_set *s;
  mx_error err;
  assert_int_equal(mx_series_set_from_arrays(NULL, (const double *const *)v, len, count, &s, &err), MX_OK);
  for (size_t i = 0; i < count; i++) free(v[i]);
  free(v);
  free(len);
  return s;
}

/* by_horizon: naive on 1..20 with one origin 3 steps from the end forecasts
 * 17 for 18, 19, 20: per-step WAPE 1/18, 2/19, 3/20 and sMAPE 200|e|/(y+f);
 * pooled over two identical series the ratios are the same. */
static void test_backtest_by_horizon(void **state) {
  (void)state;
  double y[20];
  for (int t = 0; t < 20; t++) y[t] = t + 1;
  const double *v[2] = {y, y};
  size_t len[2] = {20, 20};
  mx_series_set *s;
  mx_error err;
  assert_int_equal(mx_series_set_from_arrays(NULL, v, len, 2, &s, &err), MX_OK);
  mx_backtest_options bo = mx_backtest_defaults();
  bo.fc.horizon = 3;
  bo.origins = 1;
  bo.by_horizon = 1;
  int methods[] = {MX_FC_NAIVE};
  mx_backtest_metrics m;
  assert_int_equal(mx_backtest(s, &bo, methods, 1, &m, &err), MX_OK);
  assert_non_null(m.wape_h);
  assert_non_null(m.smape_h);
  for (int j = 0; j < 3; j++) {
    assert_true(fabs(m.wape_h[j] - (j + 1) / (18.0 + j)) < 1e-12);
    assert_true(fabs(m.smape_h[j] - 200.0 * (j + 1) / (35.0 + j)) < 1e-9);
  }
  assert_true(fabs(m.wape - 6.0 / 57.0) < 1e-12);
  mx_backtest_metrics_free(&m);
  assert_null(m.wape_h);
  bo.by_horizon = 0; /* without it no arrays */
  assert_int_equal(mx_backtest(s, &bo, methods, 1, &m, &err), MX_OK);
  assert_null(m.wape_h);
  assert_null(m.smape_h);
  mx_series_set_free(s);
}

static void test_backtest_and_batch(void **state) {
  (void)state;
  mx_series_set *s = synthetic(6, 120, 12);
  mx_backtest_options bo = mx_backtest_defaults();
  bo.fc.horizon = 12;
  bo.fc.season = 12;
  bo.fc.threads = 2;
  int methods[] = {MX_FC_NAIVE, MX_FC_SNAIVE, MX_FC_ETS, MX_FC_AUTO};
  mx_backtest_metrics m[4];
  mx_error err;
  assert_int_equal(mx_backtest(s, &bo, methods, 4, m, &err), MX_OK);
  assert_int_equal((int)m[0].evaluated, 18);
  assert_true(m[1].mase < m[0].mase);
  assert_true(m[2].mase < m[0].mase);
  assert_true(m[3].mase < 1.2 * fmin(m[1].mase, m[2].mase));
  assert_true(m[2].coverage[1] > 0.8); /* 95% ETS intervals on data from an ETS-like model */
  /* selection once at the earliest origin: same evaluations, naive unchanged,
   * auto and ETS still far better than naive */
  mx_backtest_metrics f[4];
  bo.refit = 0;
  assert_int_equal(mx_backtest(s, &bo, methods, 4, f, &err), MX_OK);
  assert_int_equal((int)f[3].evaluated, (int)m[3].evaluated);
  assert_true(f[0].mase == m[0].mase && f[0].smape == m[0].smape);
  assert_true(f[2].mase < m[0].mase && f[3].mase < m[0].mase);
  assert_true(fabs(f[2].mase - m[2].mase) < 0.2 * m[2].mase);
  bo.refit = 1;
  /* batch results do not depend on the thread count */
  mx_forecast_options o = mx_forecast_defaults();
  o.horizon = 6;
  o.season = 12;
  mx_forecast_result a[6], b[6];
  memset(a, 0, sizeof a);
  memset(b, 0, sizeof b);
  o.threads = 1;
  assert_int_equal(mx_forecast_batch(s, &o, a, NULL, NULL, &err), MX_OK);
  o.threads = 2;
  assert_int_equal(mx_forecast_batch(s, &o, b, NULL, NULL, &err), MX_OK);
  for (int i = 0; i < 6; i++) {
    assert_memory_equal(a[i].mean, b[i].mean, 6 * sizeof(double));
    assert_memory_equal(a[i].hi, b[i].hi, 12 * sizeof(double));
    mx_forecast_result_free(&a[i]);
    mx_forecast_result_free(&b[i]);
  }
  mx_series_set_free(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_wide_m4_layout),     cmocka_unit_test(test_wide_bad_input),
      cmocka_unit_test(test_long_aggregation),   cmocka_unit_test(test_bad_series_and_fallbacks),
      cmocka_unit_test(test_metrics),            cmocka_unit_test(test_backtest_and_batch), cmocka_unit_test(test_backtest_by_horizon),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
