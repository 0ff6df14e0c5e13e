/* Holiday calendars as regressors (holidays.c): weekly and daily buckets,
 * the country filter, repeated days, days before/after, bad rows naming
 * file:line:field, the calendar's span, and appending to other regressors. */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "merx/forecast.h"

static const char *calendar =
    "country,date,name\n"
    "GB,2011-12-26,Boxing Day\n"
    "GB,2011-12-27,Christmas Day (substitute day)\n"
    "FR,2011-12-25,Noel\n"
    "GB,2011-12-26,Boxing Day\n"     /* listed twice: one holiday day */
    "gb,2011-12-27,Christmas again\n" /* same day under a second name, country in lower case */
    "GB,2012-01-02,New Year's Day (substitute day)\n"
    "GB,2011-04-29,Royal wedding\n";

/* One series "A" of `days` days from 2011-12-19 (a Monday), bucketed by freq. */
static mx_series_set *series(int freq, int days) {
  char text[8192] = "id,date,q\n";
  size_t n = strlen(text);
  for (int d = 0; d < days; d++) {
    int day = 19 + d, month = 12, year = 2011;
    if (day > 31) day -= 31, month = 1, year = 2012;
    n += (size_t)snprintf(text + n, sizeof text - n, "A,%04d-%02d-%02d,%d\n", year, month, day, d + 1);
  }
  const char *p = tu_write("s.csv", text);
  mx_series_read_options o = mx_series_read_defaults();
  o.freq = freq;
  mx_series_set *s;
  mx_error err;
  assert_int_equal(mx_series_read_long(p, &o, &s, &err), MX_OK);
  return s;
}

static void test_weekly_buckets_and_duplicates(void **state) {
  (void)state;
  const char *cal = tu_write("cal.csv", calendar);
  mx_holidays *h;
  mx_error err;
  assert_int_equal(mx_holidays_read(cal, "GB", &h, &err), MX_OK);
  assert_int_equal((int)h->count, 4); /* 26 and 27 Dec once each, 2 Jan, 29 Apr */
  mx_series_set *s = series(MX_FREQ_WEEK, 14); /* weeks of 19 Dec and 26 Dec 2011 */
  assert_int_equal((int)s->len[0], 2);
  mx_regressors *r;
  assert_int_equal(mx_holidays_regressors(h, s, 2, 0, 0, &r, &err), MX_OK);
  assert_int_equal(r->nx, 1);
  assert_string_equal(r->names[0], "holiday");
  assert_int_equal((int)r->len[0], 4);
  /* 19-25 Dec: none; 26 Dec-1 Jan: two; 2-8 Jan: one; 9-15 Jan: none */
  assert_true(r->values[0][0] == 0 && r->values[0][1] == 2);
  assert_true(r->values[0][2] == 1 && r->values[0][3] == 0);
  mx_regressors_free(r);
  mx_series_set_free(s);
  mx_holidays_free(h);
}

static void test_daily_window(void **state) {
  (void)state;
  const char *cal = tu_write("cal.csv", calendar);
  mx_holidays *h;
  mx_error err;
  assert_int_equal(mx_holidays_read(cal, "gb", &h, &err), MX_OK);
  mx_series_set *s = series(MX_FREQ_DAY, 10); /* 19..28 Dec */
  mx_regressors *r;
  assert_int_equal(mx_holidays_regressors(h, s, 7, 2, 1, &r, &err), MX_OK);
  assert_int_equal(r->nx, 3);
  assert_string_equal(r->names[1], "holiday_before");
  assert_string_equal(r->names[2], "holiday_after");
  size_t len = r->len[0];
  assert_int_equal((int)len, 17);
  const double *hol = r->values[0], *bef = hol + len, *aft = bef + len;
  /* day t = 19 Dec + t: holidays 26, 27 Dec (t 7, 8) and 2 Jan (t 14) */
  for (size_t t = 0; t < len; t++) {
    assert_true(hol[t] == (t == 7 || t == 8 || t == 14));
    /* two days before: 24, 25 Dec (t 5, 6) and 31 Dec, 1 Jan (t 12, 13); not the holidays */
    assert_true(bef[t] == (t == 5 || t == 6 || t == 12 || t == 13));
    /* the day after: 28 Dec (t 9) and 3 Jan (t 15) */
    assert_true(aft[t] == (t == 9 || t == 15));
  }
  mx_regressors_free(r);
  mx_series_set_free(s);
  mx_holidays_free(h);
}

static void test_country_filter(void **state) {
  (void)state;
  const char *cal = tu_write("cal.csv", calendar);
  mx_holidays *h;
  mx_error err;
  /* several countries and none chosen: an error naming them */
  assert_int_equal(mx_holidays_read(cal, NULL, &h, &err), MX_EINVAL);
  assert_non_null(strstr(err.message, "several countries"));
  assert_int_equal(mx_holidays_read(cal, "FR", &h, &err), MX_OK);
  assert_int_equal((int)h->count, 1);
  mx_holidays_free(h);
  assert_int_equal(mx_holidays_read(cal, "DE", &h, &err), MX_EEMPTY);
  assert_non_null(strstr(err.message, "no holidays of country 'DE'"));
  /* one country: no choice needed */
  cal = tu_write("one.csv", "GB,2011-12-26,Boxing Day\n");
  assert_int_equal(mx_holidays_read(cal, NULL, &h, &err), MX_OK);
  assert_int_equal((int)h->count, 1);
  mx_holidays_free(h);
}

static void test_bad_rows(void **state) {
  (void)state;
  mx_holidays *h;
  mx_error err;
  char msg[512];
  const char *p = tu_write("bad.csv", "country,date,name\nGB,2011-12-26,Boxing Day\nGB,2011-13-01,Nope\n");
  assert_int_equal(mx_holidays_read(p, "GB", &h, &err), MX_EPARSE);
  mx_error_format(&err, msg, sizeof msg);
  assert_non_null(strstr(msg, "bad.csv:3"));
  assert_non_null(strstr(msg, "date"));
  assert_non_null(strstr(msg, "2011-13-01"));
  p = tu_write("bad2.csv", "GB,2011-12-26,Boxing Day\nGB,26/12/2011,Boxing Day\n");
  assert_int_equal(mx_holidays_read(p, "GB", &h, &err), MX_EPARSE);
  assert_int_equal((int)err.line, 2);
  p = tu_write("bad3.csv", "GB,2011-12-25,x\nGB,2011-12-26 10:00:00,Boxing Day\n"); /* a time is not a date */
  assert_int_equal(mx_holidays_read(p, "GB", &h, &err), MX_EPARSE);
  p = tu_write("bad4.csv", "GB,2011-12-26,\n");
  assert_int_equal(mx_holidays_read(p, "GB", &h, &err), MX_EPARSE);
  mx_error_format(&err, msg, sizeof msg);
  assert_non_null(strstr(msg, "name"));
  p = tu_write("bad5.csv", "GB,2011-12-26,Boxing Day\nGB,2011-12-27\n");
  assert_int_equal(mx_holidays_read(p, "GB", &h, &err), MX_EPARSE);
  assert_int_equal((int)err.line, 2);
  p = tu_write("bad6.csv", "GB,2011-12-26,Boxing Day\n,2011-12-27,x\n");
  assert_int_equal(mx_holidays_read(p, "GB", &h, &err), MX_EPARSE);
  mx_error_format(&err, msg, sizeof msg);
  assert_non_null(strstr(msg, "country"));
}

static void test_span_and_wide(void **state) {
  (void)state;
  /* a calendar of 2011 only: a series running into 2012 is refused, not zero-filled */
  const char *p = tu_write("y2011.csv", "GB,2011-12-26,Boxing Day\n");
  mx_holidays *h;
  mx_error err;
  assert_int_equal(mx_holidays_read(p, NULL, &h, &err), MX_OK);
  mx_series_set *s = series(MX_FREQ_DAY, 10);
  mx_regressors *r;
  assert_int_equal(mx_holidays_regressors(h, s, 7, 0, 0, &r, &err), MX_EINVAL);
  assert_non_null(strstr(err.message, "2011-01-01 to 2011-12-31"));
  assert_non_null(strstr(err.message, "series 'A'"));
  assert_non_null(strstr(err.message, "2012-01-04"));
  assert_int_equal(mx_holidays_regressors(h, s, 3, 0, 0, &r, &err), MX_OK); /* to 31 Dec */
  mx_regressors_free(r);
  mx_series_set_free(s);
  /* wide rows have no dates */
  p = tu_write("w.csv", "x,1,2,3\n");
  mx_series_read_options o = mx_series_read_defaults();
  assert_int_equal(mx_series_read_wide(p, &o, &s, &err), MX_OK);
  assert_int_equal(mx_holidays_regressors(h, s, 1, 0, 0, &r, &err), MX_EINVAL);
  mx_series_set_free(s);
  mx_holidays_free(h);
}

static void test_append(void **state) {
  (void)state;
  const char *cal = tu_write("cal.csv", calendar);
  mx_holidays *h;
  mx_error err;
  assert_int_equal(mx_holidays_read(cal, "GB", &h, &err), MX_OK);
  mx_series_set *s = series(MX_FREQ_WEEK, 14);
  mx_regressors *a, *b;
  assert_int_equal(mx_holidays_regressors(h, s, 2, 0, 0, &a, &err), MX_OK);
  assert_int_equal(mx_holidays_regressors(h, s, 2, 1, 0, &b, &err), MX_OK);
  /* "holiday" in both: refused, b consumed, a unchanged */
  assert_int_equal(mx_regressors_append(a, b, &err), MX_EINVAL);
  assert_non_null(strstr(err.message, "'holiday' is given twice"));
  assert_int_equal(a->nx, 1);
  const char *p = tu_write("x.csv", "id,time,name,value\nA,2011-12-19,price,1\nA,2011-12-26,price,2\n"
                                    "A,2012-01-02,price,3\nA,2012-01-09,price,4\n");
  assert_int_equal(mx_regressors_read(p, s, 2, &b, &err), MX_OK);
  assert_int_equal(mx_regressors_append(b, a, &err), MX_OK);
  assert_int_equal(b->nx, 2);
  assert_string_equal(b->names[1], "holiday");
  assert_true(b->values[0][3] == 4 && b->values[0][4 + 1] == 2);
  mx_regressors_free(b);
  mx_series_set_free(s);
  mx_holidays_free(h);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_weekly_buckets_and_duplicates), cmocka_unit_test(test_daily_window),
      cmocka_unit_test(test_country_filter),                cmocka_unit_test(test_bad_rows),
      cmocka_unit_test(test_span_and_wide),                 cmocka_unit_test(test_append),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
