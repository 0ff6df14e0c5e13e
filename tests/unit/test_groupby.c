/* Group-by (merx/groupby.h), the engine of merx.data.group: groups in order
 * of first appearance, every aggregation against a hand count, NaN in
 * min/max, count_distinct per group, first/last rows, growth past the first
 * allocation, and the names of the aggregations. */
#include "testutil.h"

#include <stdio.h>
#include <string.h>

#include "merx/groupby.h"

static void test_every_aggregation(void **state) {
  (void)state;
  /* customer, order, amount */
  static const char *user[] = {"c1", "c2", "c1", "c3", "c1", "c2"};
  static const char *order[] = {"o1", "o2", "o1", "o3", "o4", "o5"};
  static const double amount[] = {10, 2, 5.5, 16.5, 9, 0};
  mx_group_agg ops[] = {MX_GROUP_SUM,   MX_GROUP_MEAN,           MX_GROUP_MIN,   MX_GROUP_MAX,
                  MX_GROUP_COUNT, MX_GROUP_COUNT_DISTINCT, MX_GROUP_FIRST, MX_GROUP_LAST};
  mx_group *g;
  mx_error err;
  assert_int_equal(mx_group_create(ops, 8, &g, &err), MX_OK);
  for (int r = 0; r < 6; r++) {
    double num[8];
    const char *str[8];
    size_t len[8];
    for (int a = 0; a < 8; a++) {
      num[a] = amount[r];
      str[a] = order[r];
      len[a] = strlen(order[r]);
    }
    uint32_t gi;
    assert_int_equal(mx_group_add(g, user[r], 2, num, str, len, &gi, &err), MX_OK);
    assert_int_equal(gi, r == 0 || r == 2 || r == 4 ? 0 : r == 3 ? 2 : 1);
  }
  assert_int_equal(mx_group_count(g), 3);
  assert_string_equal(mx_group_key(g, 0), "c1");
  assert_string_equal(mx_group_key(g, 1), "c2");
  assert_string_equal(mx_group_key(g, 2), "c3");
  /* c1: rows 0, 2, 4 */
  NEAR(mx_group_value(g, 0, 0), 24.5, 0);
  NEAR(mx_group_value(g, 1, 0), 24.5 / 3, 1e-15);
  NEAR(mx_group_value(g, 2, 0), 5.5, 0);
  NEAR(mx_group_value(g, 3, 0), 10, 0);
  NEAR(mx_group_value(g, 4, 0), 3, 0);
  NEAR(mx_group_value(g, 5, 0), 2, 0); /* o1 twice, o4 */
  NEAR(mx_group_value(g, 6, 0), 0, 0);
  NEAR(mx_group_value(g, 7, 0), 4, 0);
  assert_int_equal(mx_group_first_row(g, 1), 1);
  assert_int_equal(mx_group_last_row(g, 1), 5);
  /* c2: 2 and 0 */
  NEAR(mx_group_value(g, 2, 1), 0, 0);
  NEAR(mx_group_value(g, 5, 1), 2, 0);
  /* c3: one row */
  NEAR(mx_group_value(g, 1, 2), 16.5, 0);
  assert_int_equal(mx_group_first_row(g, 2), 3);
  assert_int_equal(mx_group_last_row(g, 2), 3);
  mx_group_free(g);
}

/* A NaN first in its group stays (every comparison with it is false); a
 * NaN later is passed over. Count needs no input arrays at all. */
static void test_nan_and_count_only(void **state) {
  (void)state;
  mx_group_agg ops[] = {MX_GROUP_MIN, MX_GROUP_MAX};
  mx_group *g;
  mx_error err;
  assert_int_equal(mx_group_create(ops, 2, &g, &err), MX_OK);
  double rows[][2] = {{NAN, NAN}, {1, 1}, {3, 3}, {NAN, NAN}, {2, 2}};
  const char *key[] = {"a", "a", "b", "b", "b"};
  for (int r = 0; r < 5; r++)
    assert_int_equal(mx_group_add(g, key[r], 1, rows[r], NULL, NULL, NULL, &err), MX_OK);
  assert_true(isnan(mx_group_value(g, 0, 0)));
  assert_true(isnan(mx_group_value(g, 1, 0)));
  NEAR(mx_group_value(g, 0, 1), 2, 0);
  NEAR(mx_group_value(g, 1, 1), 3, 0);
  mx_group_free(g);

  mx_group_agg count = MX_GROUP_COUNT;
  assert_int_equal(mx_group_create(&count, 1, &g, &err), MX_OK);
  for (int r = 0; r < 7; r++)
    assert_int_equal(mx_group_add(g, r % 2 ? "odd" : "even", r % 2 ? 3 : 4, NULL, NULL, NULL,
                                  NULL, &err),
                     MX_OK);
  NEAR(mx_group_value(g, 0, 0), 4, 0);
  NEAR(mx_group_value(g, 0, 1), 3, 0);
  mx_group_free(g);
}

/* Past the first allocation of 1024 groups: counts of new groups start at
 * zero and earlier groups keep theirs. Keys are byte strings (a NUL inside). */
static void test_many_groups(void **state) {
  (void)state;
  mx_group_agg ops[] = {MX_GROUP_SUM, MX_GROUP_COUNT_DISTINCT};
  mx_group *g;
  mx_error err;
  assert_int_equal(mx_group_create(ops, 2, &g, &err), MX_OK);
  for (int pass = 0; pass < 2; pass++)
    for (int i = 0; i < 5000; i++) {
      char key[16];
      int kl = snprintf(key, sizeof key, "k%d", i);
      key[0] = 0;
      double num[2] = {(double)i, 0};
      const char *str[2] = {NULL, pass ? "b" : "a"};
      size_t len[2] = {0, 1};
      assert_int_equal(mx_group_add(g, key, (size_t)kl, num, str, len, NULL, &err), MX_OK);
    }
  assert_int_equal(mx_group_count(g), 5000);
  for (uint32_t i = 0; i < 5000; i += 499) {
    NEAR(mx_group_value(g, 0, i), 2.0 * i, 0);
    NEAR(mx_group_value(g, 1, i), 2, 0);
    assert_int_equal(mx_group_first_row(g, i), i);
    assert_int_equal(mx_group_last_row(g, i), 5000 + i);
  }
  mx_group_free(g);
  mx_group_free(NULL);
}

static void test_names(void **state) {
  (void)state;
  static const char *names[] = {"sum", "mean", "min", "max", "count", "count_distinct", "first", "last"};
  mx_error err;
  for (int k = 0; k < 8; k++) {
    mx_group_agg op;
    assert_int_equal(mx_group_agg_parse(names[k], &op, &err), MX_OK);
    assert_int_equal(op, k);
    assert_int_equal(mx_group_agg_numeric(op), k < 4);
  }
  mx_group_agg op;
  assert_int_equal(mx_group_agg_parse("median", &op, &err), MX_EINVAL);
  assert_non_null(strstr(err.message, "unknown aggregation 'median'"));
  assert_non_null(strstr(err.message, "count_distinct"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_every_aggregation), cmocka_unit_test(test_nan_and_count_only),
      cmocka_unit_test(test_many_groups), cmocka_unit_test(test_names)};
  tu_filters();
  return tu_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
