/* RFM scoring (merx/rfm.h), the engine of merx.data.rfm: the figures of a
 * hand-worked example, quintiles with ties, frequency by rows or by
 * distinct orders, every segment, and an empty input. */
#include "testutil.h"

#include <stdio.h>
#include <string.h>

#include "merx/rfm.h"

#define DAY 86400.0

static void add(mx_rfm *r, const char *u, double day, double value, const char *order) {
  mx_error err;
  assert_int_equal(mx_rfm_add(r, u, strlen(u), day * DAY, value, order, order ? strlen(order) : 0,
                              &err),
                   MX_OK);
}

/* Five customers, one per quintile on every score. */
static void test_hand_example(void **state) {
  (void)state;
  mx_rfm *r;
  mx_error err;
  assert_int_equal(mx_rfm_create(1, &r, &err), MX_OK);
  add(r, "a", 1, 10, "o1");   /* a: last day 1, 1 order, 10 */
  add(r, "b", 5, 20, "o2");   /* b: last day 8, 2 orders, 50 */
  add(r, "b", 8, 30, "o3");
  add(r, "c", 9, 1, "o4");    /* c: last day 9, 3 orders (o4 twice), 4 */
  add(r, "c", 2, 1, "o4");
  add(r, "c", 3, 1, "o5");
  add(r, "c", 4, 1, "o6");
  add(r, "d", 10, 100, "o7"); /* d: last day 10, 4 orders, 400 */
  add(r, "d", 10, 100, "o8");
  add(r, "d", 10, 100, "o9");
  add(r, "d", 10, 100, "o10");
  add(r, "e", 3, 5, "o11");   /* e: last day 3, 5 orders, 25 */
  for (int k = 12; k < 16; k++) {
    char o[16];
    snprintf(o, sizeof o, "o%d", k);
    add(r, "e", 2, 5, o);
  }
  const mx_rfm_row *row;
  uint32_t n;
  assert_int_equal(mx_rfm_score(r, (int64_t)(12.5 * DAY), &row, &n, &err), MX_OK);
  assert_int_equal(n, 5);
  static const char *user[] = {"a", "b", "c", "d", "e"};
  static const double rec[] = {11, 4, 3, 2, 9};
  static const uint64_t freq[] = {1, 2, 3, 4, 5};
  static const double money[] = {10, 50, 4, 400, 25};
  static const int rs[] = {1, 3, 4, 5, 2}, fs[] = {1, 2, 3, 4, 5}, ms[] = {2, 4, 1, 5, 3};
  static const char *seg[] = {"hibernating", "needs_attention", "loyal", "champions", "at_risk"};
  for (uint32_t i = 0; i < n; i++) {
    assert_string_equal(row[i].user, user[i]);
    NEAR(row[i].recency, rec[i], 0);
    assert_int_equal(row[i].frequency, freq[i]);
    NEAR(row[i].monetary, money[i], 0);
    assert_int_equal(row[i].r, rs[i]);
    assert_int_equal(row[i].f, fs[i]);
    assert_int_equal(row[i].m, ms[i]);
    assert_string_equal(row[i].segment, seg[i]);
  }
  mx_rfm_free(r);
}

/* Ties share the score of their first rank; without orders every row
 * counts; recency is floored (a purchase half a day ago is 0 days). */
static void test_ties_and_rows(void **state) {
  (void)state;
  mx_rfm *r;
  mx_error err;
  assert_int_equal(mx_rfm_create(0, &r, &err), MX_OK);
  const char *u[] = {"w", "x", "y", "z"};
  for (int i = 0; i < 4; i++) add(r, u[i], 1, 7, NULL);
  add(r, "z", 1, 0, NULL);
  const mx_rfm_row *row;
  uint32_t n;
  assert_int_equal(mx_rfm_score(r, (int64_t)(1.5 * DAY), &row, &n, &err), MX_OK);
  assert_int_equal(n, 4);
  for (uint32_t i = 0; i < 4; i++) {
    NEAR(row[i].recency, 0, 0);
    assert_int_equal(row[i].r, 1); /* all tied at rank 1 */
    assert_int_equal(row[i].m, 1);
    assert_int_equal(row[i].frequency, i == 3 ? 2 : 1);
    assert_int_equal(row[i].f, i == 3 ? 4 : 1); /* 1 + floor(3 * 5 / 4) */
  }
  mx_rfm_free(r);

  assert_int_equal(mx_rfm_create(1, &r, &err), MX_OK);
  assert_int_equal(mx_rfm_score(r, 0, &row, &n, &err), MX_OK);
  assert_int_equal(n, 0);
  mx_rfm_free(r);
  mx_rfm_free(NULL);
}

static void test_segments(void **state) {
  (void)state;
  assert_string_equal(mx_rfm_segment(5, 5), "champions");
  assert_string_equal(mx_rfm_segment(3, 4), "loyal");
  assert_string_equal(mx_rfm_segment(4, 1), "new");
  assert_string_equal(mx_rfm_segment(1, 5), "at_risk");
  assert_string_equal(mx_rfm_segment(2, 2), "hibernating");
  assert_string_equal(mx_rfm_segment(3, 1), "needs_attention");
  assert_string_equal(mx_rfm_segment(1, 3), "needs_attention");
}

int main(void) {
  tu_filters();
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_hand_example),
                                     cmocka_unit_test(test_ties_and_rows),
                                     cmocka_unit_test(test_segments)};
  return tu_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
