/* merx/replenish.h: the stock file and forecast CSV readers and the policy
 * replay behind `merx plan`, called directly (the CLI's plan tests drive the
 * same functions through the command). The replay case is the hand-computed
 * one of tests/cli/plan_turnover.sh. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "merx/replenish.h"
#include "testutil.h"

static mx_error err;

static mx_plan_defaults defaults(void) {
  mx_plan_defaults d;
  memset(&d, 0, sizeof d);
  d.service = 0.95;
  d.service_type = MX_SERVICE_CYCLE;
  d.lead_time = NAN;
  d.review = 1;
  d.dist = MX_DIST_POISSON;
  return d;
}

static void test_service_type(void **state) {
  (void)state;
  int t = -5;
  assert_int_equal(mx_service_type_parse(NULL, &t), 0);
  assert_int_equal(t, MX_SERVICE_CYCLE);
  assert_int_equal(mx_service_type_parse("type2", &t), 0);
  assert_int_equal(t, MX_SERVICE_FILL);
  assert_int_equal(mx_service_type_parse("sometimes", &t), MX_EINVAL);
}

static void test_read_stock_and_forecast(void **state) {
  (void)state;
  mx_plan_defaults d = defaults();
  d.lead_time = 2;
  const char *stock = tu_write("stock.csv", "sku,on_hand,moq,service_type\nA,3,,fill\nB,0,10,\n");
  assert_int_equal(mx_columns_set(&d.stock_columns, "id", "sku", &err), MX_OK);
  mx_plan_set ps;
  assert_int_equal(mx_plan_read_stock(stock, &d, &ps, &err), MX_OK);
  assert_int_equal(ps.n, 2);
  assert_string_equal(ps.items[0].id, "A");
  assert_int_equal(ps.items[0].line, 2);
  NEAR(ps.items[0].item.on_hand, 3, 0);
  NEAR(ps.items[0].item.lead_time, 2, 0); /* the default */
  assert_int_equal(ps.items[0].item.service_type, MX_SERVICE_FILL);
  NEAR(ps.items[1].item.moq, 10, 0);
  assert_true(isnan(ps.items[1].unit_cost));
  /* hi95 = forecast + 1.959964 sd: the sd comes back; C is not stocked */
  const char *fc = tu_write("fc.csv",
                            "id,h,forecast,lo80,hi80,lo95,hi95\n"
                            "A,1,4,,,,7.919928\nA,2,5,,,,8.919928\nC,1,1,,,,2\n"
                            "B,2,1,,,,\nB,1,1,,,,\n");
  assert_int_equal(mx_plan_read_forecast_csv(fc, &ps, &err), MX_OK);
  assert_int_equal(ps.unplanned_rows, 1);
  assert_int_equal(ps.items[0].horizon, 2);
  NEAR(ps.items[0].mean[1], 5, 0);
  NEAR(ps.items[0].sigma[0], 2, 1e-6);
  assert_int_equal(ps.items[1].horizon, 2);
  assert_null(ps.items[1].sigma); /* no interval: no sd */
  mx_plan_set_free(&ps);
}

static void test_bad_files(void **state) {
  (void)state;
  mx_plan_defaults d = defaults();
  mx_plan_set ps;
  /* no lead time anywhere: the row and the column are named */
  const char *s1 = tu_write("s1.csv", "id,on_hand,lead_time\nA,1,2\nB,1,\n");
  assert_int_equal(mx_plan_read_stock(s1, &d, &ps, &err), MX_EPARSE);
  assert_int_equal(err.line, 3);
  assert_non_null(strstr(err.message, "no lead time"));
  const char *s2 = tu_write("s2.csv", "id,on_hand,lead_time\nA,1,2\nA,4,2\n");
  assert_int_equal(mx_plan_read_stock(s2, &d, &ps, &err), MX_EPARSE);
  assert_non_null(strstr(err.message, "twice"));
  const char *s3 = tu_write("s3.csv", "id,on_hand,lead_time,service\nA,1,2,1.5\n");
  assert_int_equal(mx_plan_read_stock(s3, &d, &ps, &err), MX_EINVAL);
  assert_string_equal(err.field, "service");
  const char *s4 = tu_write("s4.csv", "id,lead_time\nA,1\n");
  assert_int_equal(mx_plan_read_stock(s4, &d, &ps, &err), MX_EPARSE);
  /* a forecast with a gap in its steps */
  const char *ok = tu_write("ok.csv", "id,on_hand,lead_time\nA,1,2\n");
  assert_int_equal(mx_plan_read_stock(ok, &d, &ps, &err), MX_OK);
  const char *gap = tu_write("gap.csv", "id,h,forecast\nA,1,3\nA,3,3\n");
  assert_int_equal(mx_plan_read_forecast_csv(gap, &ps, &err), MX_EPARSE);
  assert_non_null(strstr(err.message, "no forecast for step 2"));
  mx_plan_set_free(&ps);
}

static void test_replay(void **state) {
  (void)state;
  mx_plan_defaults d = defaults();
  const char *stock =
      tu_write("rs.csv", "id,on_hand,on_order,lead_time,review,unit_cost\nA,0,0,0,1,2\nB,10,0,0,1,5\n");
  const char *fc =
      tu_write("rf.csv", "id,h,forecast\nA,1,4\nA,2,4\nA,3,4\nB,1,5\nB,2,5\nB,3,5\n");
  const char *act = tu_write("ra.csv", "A,12,2,3\nB,1,1,1\nZ,5\n");
  mx_plan_set ps;
  assert_int_equal(mx_plan_read_stock(stock, &d, &ps, &err), MX_OK);
  assert_int_equal(mx_plan_read_forecast_csv(fc, &ps, &err), MX_OK);
  mx_plan_replay r;
  assert_int_equal(mx_plan_replay_run(act, &ps, 0, 1, &r, &err), MX_OK);
  assert_int_equal(r.n, 2);
  NEAR(r.total.shipped, 20, 1e-12);
  NEAR(r.sum_avg_on_hand, 12, 1e-12);
  NEAR(r.turnover, 20.0 / 12, 1e-12);
  NEAR(r.days_of_supply, 1.8, 1e-12);
  NEAR(r.cost_turnover, 1, 1e-12);
  NEAR(r.total.fill_rate, 16.0 / 20, 1e-12);
  NEAR(mx_plan_replay_item_turnover(&r.items[0].s), 51.0 / 11, 1e-12);
  NEAR(mx_plan_replay_item_days(&r.items[0].s, 1), 11.0 / 17, 1e-12);
  const char *out = tu_path("replay.csv");
  assert_int_equal(mx_plan_replay_write_csv(&r, &ps, out, &err), MX_OK);
  FILE *f = fopen(out, "r");
  assert_non_null(f);
  char line[512];
  assert_non_null(fgets(line, sizeof line, f));
  assert_non_null(fgets(line, sizeof line, f));
  assert_int_equal(strncmp(line, "A,3,17,17,", 10), 0);
  fclose(f);
  mx_plan_replay_free(&r);
  /* a negative demand names its field */
  const char *bad = tu_write("rb.csv", "A,1,-2\n");
  assert_int_equal(mx_plan_replay_run(bad, &ps, 0, 1, &r, &err), MX_EPARSE);
  assert_int_equal(err.column, 3);
  mx_plan_set_free(&ps);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_service_type),
      cmocka_unit_test(test_read_stock_and_forecast),
      cmocka_unit_test(test_bad_files),
      cmocka_unit_test(test_replay),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
