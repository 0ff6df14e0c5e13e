/* The civil calendar of util/calendar.c (proleptic Gregorian, Hinnant's
 * algorithms): the one copy that time parsing and formatting, the scheduler's
 * cron and time zones, and forecast periods share. */
#include <stdint.h>
#include <string.h>

#include "merx/csv.h"
#include "testutil.h"
#include "util/util.h"

static void test_known_days(void **state) {
  (void)state;
  assert_int_equal(mx__days_from_civil(1970, 1, 1), 0);
  assert_int_equal(mx__days_from_civil(1969, 12, 31), -1);
  assert_int_equal(mx__days_from_civil(2000, 3, 1), 11017);
  assert_int_equal(mx__days_from_civil(2024, 2, 29), 19782);
  assert_int_equal(mx__days_from_civil(1600, 1, 1), -135140);
  int64_t y;
  int m, d;
  mx__civil_from_days(19782, &y, &m, &d);
  assert_true(y == 2024 && m == 2 && d == 29);
  mx__civil_from_days(-1, &y, &m, &d);
  assert_true(y == 1969 && m == 12 && d == 31);
}

static void test_round_trip(void **state) {
  (void)state;
  /* every day from 1599-12-01 to 2401-01-31: consecutive and round-tripping */
  int64_t prev = mx__days_from_civil(1599, 11, 30);
  for (int64_t yy = 1599; yy <= 2401; yy++)
    for (int mm = 1; mm <= 12; mm++)
      for (int dd = 1; dd <= mx__days_in_month(yy, mm); dd++) {
        if (yy == 1599 && mm < 12) continue;
        int64_t z = mx__days_from_civil(yy, mm, dd);
        assert_int_equal(z, prev + 1);
        prev = z;
        int64_t y;
        int m, d;
        mx__civil_from_days(z, &y, &m, &d);
        assert_true(y == yy && m == mm && d == dd);
      }
}

static void test_days_in_month_and_floor_div(void **state) {
  (void)state;
  assert_int_equal(mx__days_in_month(1900, 2), 28);
  assert_int_equal(mx__days_in_month(2000, 2), 29);
  assert_int_equal(mx__days_in_month(2023, 2), 28);
  assert_int_equal(mx__days_in_month(2024, 4), 30);
  assert_int_equal(mx__floor_div(-1, 86400), -1);
  assert_int_equal(mx__floor_div(-86400, 86400), -1);
  assert_int_equal(mx__floor_div(86399, 86400), 0);
  assert_int_equal(mx__floor_div(7, -2), -4);
  /* formatting and parsing use the same calendar */
  char buf[32];
  assert_string_equal(mx_format_time(-1, 0, buf, sizeof buf), "1969-12-31T23:59:59Z");
  int64_t t;
  assert_int_equal(mx_parse_time("2024-02-29T12:00:00Z", &t), 0);
  assert_int_equal(t, 19782LL * 86400 + 12 * 3600);
  assert_int_equal(mx_parse_time("2023-02-29", &t), MX_EPARSE);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_known_days),
      cmocka_unit_test(test_round_trip),
      cmocka_unit_test(test_days_in_month_and_floor_div),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
