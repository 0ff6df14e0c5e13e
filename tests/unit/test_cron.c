/* Cron parsing and next-fire times against hand-computed tables, including
 * daylight-saving gaps and overlaps, leap days and "0 0 31 * *"; the TZif
 * reader cross-checked against the C library's own zone handling. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "merx/data.h"
#include "merx/schedule.h"
#include "testutil.h"

#define MAXF 8

typedef struct {
  const char *cron, *tz, *from;
  const char *expect[MAXF]; /* NULL-terminated */
} next_case;

/* Expected values computed by hand from the published transition dates:
 * London 2026: GMT->BST Mar 29 01:00Z (01:00 local skips to 02:00), BST->GMT
 *   Oct 25 01:00Z (01:00-01:59 local occurs twice).
 * New York 2026: EST->EDT Mar 8 07:00Z (02:00 -> 03:00), EDT->EST Nov 1 06:00Z
 *   (01:00-01:59 twice).
 * Sydney 2026: AEDT->AEST Apr 4 16:00Z (Apr 5 02:00-02:59 twice), AEST->AEDT
 *   Oct 3 16:00Z (Oct 4 02:00 -> 03:00). */
static const next_case cases[] = {
    /* plain */
    {"30 2 * * *", "UTC", "2026-01-01T00:00:00Z",
     {"2026-01-01T02:30:00+00:00", "2026-01-02T02:30:00+00:00"}},
    {"30 2 * * *", "UTC", "2026-01-01T02:30:00Z", /* --from is exclusive */
     {"2026-01-02T02:30:00+00:00"}},
    {"0-20/10 */6 * * *", "UTC", "2026-01-01T00:00:00Z",
     {"2026-01-01T00:10:00+00:00", "2026-01-01T00:20:00+00:00", "2026-01-01T06:00:00+00:00",
      "2026-01-01T06:10:00+00:00"}},
    {"15 10 * jan-mar mon-fri", "UTC", "2026-03-27T12:00:00Z", /* Fri Mar 27 */
     {"2026-03-30T10:15:00+00:00", "2026-03-31T10:15:00+00:00", "2027-01-01T10:15:00+00:00"}},
    {"0 9 * * SUN,7", "UTC", "2026-01-01T00:00:00Z", /* Jan 4 2026 is a Sunday */
     {"2026-01-04T09:00:00+00:00", "2026-01-11T09:00:00+00:00"}},
    {"@weekly", "UTC", "2026-01-01T00:00:00Z",
     {"2026-01-04T00:00:00+00:00", "2026-01-11T00:00:00+00:00"}},
    {"@monthly", "Europe/London", "2026-06-15T00:00:00Z",
     {"2026-07-01T00:00:00+01:00", "2026-08-01T00:00:00+01:00"}},
    {"@yearly", "UTC", "2026-05-01T00:00:00Z",
     {"2027-01-01T00:00:00+00:00", "2028-01-01T00:00:00+00:00"}},
    {"@hourly", "UTC", "2026-01-01T10:59:59Z",
     {"2026-01-01T11:00:00+00:00", "2026-01-01T12:00:00+00:00"}},
    {"5/20 * * * *", "UTC", "2026-01-01T00:00:00Z", /* a/n = a through 59 */
     {"2026-01-01T00:05:00+00:00", "2026-01-01T00:25:00+00:00", "2026-01-01T00:45:00+00:00",
      "2026-01-01T01:05:00+00:00"}},
    /* Vixie OR: the 1st of the month OR any Monday (Feb 1 2026 is a Sunday). */
    {"0 0 1 * 1", "UTC", "2026-02-01T00:00:00Z",
     {"2026-02-02T00:00:00+00:00", "2026-02-09T00:00:00+00:00", "2026-02-16T00:00:00+00:00",
      "2026-02-23T00:00:00+00:00", "2026-03-01T00:00:00+00:00", "2026-03-02T00:00:00+00:00"}},
    /* A '*'-led day field means AND: odd days that are Mondays. */
    {"0 0 */2 * 1", "UTC", "2026-02-01T00:00:00Z",
     {"2026-02-09T00:00:00+00:00", "2026-02-23T00:00:00+00:00", "2026-03-09T00:00:00+00:00"}},
    /* leap days */
    {"0 0 29 2 *", "UTC", "2026-01-01T00:00:00Z",
     {"2028-02-29T00:00:00+00:00", "2032-02-29T00:00:00+00:00"}},
    {"0 12 29 2 *", "America/New_York", "2100-01-01T00:00:00Z", /* 2100 is not leap */
     {"2104-02-29T12:00:00-05:00"}},
    {"0 0 31 * *", "UTC", "2026-01-31T00:00:00Z",
     {"2026-03-31T00:00:00+00:00", "2026-05-31T00:00:00+00:00", "2026-07-31T00:00:00+00:00",
      "2026-08-31T00:00:00+00:00", "2026-10-31T00:00:00+00:00", "2026-12-31T00:00:00+00:00",
      "2027-01-31T00:00:00+00:00"}},
    /* Europe/London: gap */
    {"30 1 * * *", "Europe/London", "2026-03-28T00:00:00Z",
     {"2026-03-28T01:30:00+00:00", "2026-03-29T02:00:00+01:00", "2026-03-30T01:30:00+01:00"}},
    {"*/30 1 * * *", "Europe/London", "2026-03-29T00:00:00Z", /* 01:00 and 01:30 -> once */
     {"2026-03-29T02:00:00+01:00", "2026-03-30T01:00:00+01:00"}},
    {"0 * * * *", "Europe/London", "2026-03-28T23:30:00Z",
     {"2026-03-29T00:00:00+00:00", "2026-03-29T02:00:00+01:00", "2026-03-29T03:00:00+01:00"}},
    /* Europe/London: overlap — first occurrence only */
    {"30 1 * * *", "Europe/London", "2026-10-24T12:00:00Z",
     {"2026-10-25T01:30:00+01:00", "2026-10-26T01:30:00+00:00"}},
    {"0 * * * *", "Europe/London", "2026-10-24T23:30:00Z",
     {"2026-10-25T01:00:00+01:00", "2026-10-25T02:00:00+00:00", "2026-10-25T03:00:00+00:00"}},
    {"30 1 * * *", "Europe/London", "2026-10-25T00:30:00Z", /* after the first 01:30 */
     {"2026-10-26T01:30:00+00:00"}},
    /* America/New_York */
    {"30 2 * * *", "America/New_York", "2026-03-07T12:00:00Z",
     {"2026-03-08T03:00:00-04:00", "2026-03-09T02:30:00-04:00"}},
    {"0 3 * * *", "America/New_York", "2026-03-07T12:00:00Z",
     {"2026-03-08T03:00:00-04:00", "2026-03-09T03:00:00-04:00"}},
    {"0 2,3 * * *", "America/New_York", "2026-03-08T05:00:00Z", /* 02:00 gap == 03:00 */
     {"2026-03-08T03:00:00-04:00", "2026-03-09T02:00:00-04:00"}},
    {"30 1 * * 0", "America/New_York", "2026-10-31T00:00:00Z",
     {"2026-11-01T01:30:00-04:00", "2026-11-08T01:30:00-05:00"}},
    {"*/20 1 1 11 *", "America/New_York", "2026-11-01T04:00:00Z",
     {"2026-11-01T01:00:00-04:00", "2026-11-01T01:20:00-04:00", "2026-11-01T01:40:00-04:00",
      "2027-11-01T01:00:00-04:00"}},
    /* Australia/Sydney (southern hemisphere) */
    {"30 2 * * *", "Australia/Sydney", "2026-10-03T00:00:00Z",
     {"2026-10-04T03:00:00+11:00", "2026-10-05T02:30:00+11:00"}},
    {"30 2 * * *", "Australia/Sydney", "2026-04-04T00:00:00Z",
     {"2026-04-05T02:30:00+11:00", "2026-04-06T02:30:00+10:00"}},
    /* Lord Howe Island moves its clocks by 30 minutes (zdump: Oct 3 15:30Z
     * 02:00 -> 02:30; Apr 4 15:00Z 02:00 -> 01:30) */
    {"15 2 * * *", "Australia/Lord_Howe", "2026-10-03T00:00:00Z",
     {"2026-10-04T02:30:00+11:00", "2026-10-05T02:15:00+11:00"}},
    {"45 1 * * *", "Australia/Lord_Howe", "2026-04-04T00:00:00Z",
     {"2026-04-05T01:45:00+11:00", "2026-04-06T01:45:00+10:30"}},
    /* past the explicit transitions of the file: the POSIX footer rule */
    {"30 1 * * *", "Europe/London", "2051-03-25T12:00:00Z", /* last Sunday of Mar 2051 = 26 */
     {"2051-03-26T02:00:00+01:00", "2051-03-27T01:30:00+01:00"}},
};

static void test_next_tables(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const next_case *k = &cases[i];
    mx_cron c;
    mx_error err;
    mx_error_clear(&err);
    assert_int_equal(mx_cron_parse(k->cron, &c, &err), MX_OK);
    mx_tz *tz;
    assert_int_equal(mx_tz_load(k->tz, &tz, &err), MX_OK);
    int64_t t;
    assert_int_equal(mx_parse_time(k->from, &t), 0);
    for (int j = 0; j < MAXF && k->expect[j]; j++) {
      int64_t nx;
      assert_int_equal(mx_cron_next(&c, tz, t, &nx), MX_OK);
      char buf[40];
      mx_tz_format(tz, nx, buf, sizeof buf);
      if (strcmp(buf, k->expect[j]) != 0)
        fail_msg("case %zu ('%s' in %s from %s) fire %d: got %s, want %s", i, k->cron, k->tz,
                 k->from, j + 1, buf, k->expect[j]);
      assert_true(nx > t);
      t = nx;
    }
    mx_tz_free(tz);
  }
}

static void test_never(void **state) {
  (void)state;
  mx_cron c;
  mx_tz *tz;
  assert_int_equal(mx_cron_parse("0 0 30 2 *", &c, NULL), MX_OK);
  assert_int_equal(mx_tz_load("UTC", &tz, NULL), MX_OK);
  int64_t nx;
  assert_int_equal(mx_cron_next(&c, tz, 0, &nx), MX_ENOTFOUND);
  mx_tz_free(tz);
}

typedef struct {
  const char *expr, *field, *value;
} bad_case;

static void test_parse_errors(void **state) {
  (void)state;
  static const bad_case bad[] = {
      {"61 * * * *", "minute", "'61'"},       {"* 24 * * *", "hour", "'24'"},
      {"* * 0 * *", "day-of-month", "'0'"},   {"* * 32 * *", "day-of-month", "'32'"},
      {"* * * 13 *", "month", "'13'"},        {"* * * foo *", "month", "'foo'"},
      {"* * * * 8", "day-of-week", "'8'"},    {"* * * * mon-xyz", "day-of-week", "'mon-xyz'"},
      {"*/0 * * * *", "minute", "'*/0'"},     {"5-1 * * * *", "minute", "'5-1'"},
      {"1,,2 * * * *", "minute", "''"},       {"* * * *", "cron", "5 fields"},
      {"* * * * * *", "cron", "5 fields"},    {"@reboot", "cron", "'@reboot'"},
      {"", "cron", "5 fields"},               {"1-2-3 * * * *", "minute", "'1-2-3'"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    mx_cron c;
    mx_error err;
    mx_error_clear(&err);
    int rc = mx_cron_parse(bad[i].expr, &c, &err);
    if (rc != MX_EPARSE) fail_msg("'%s' accepted", bad[i].expr);
    if (strcmp(err.field, bad[i].field) != 0)
      fail_msg("'%s': field '%s', want '%s'", bad[i].expr, err.field, bad[i].field);
    if (!strstr(err.message, bad[i].value))
      fail_msg("'%s': message '%s' lacks %s", bad[i].expr, err.message, bad[i].value);
  }
}

static void test_parse_bits(void **state) {
  (void)state;
  mx_cron c;
  assert_int_equal(mx_cron_parse("0,30 9-17/4 1,15 JAN,jul sat-sun", &c, NULL), MX_OK);
  assert_true(c.minute == ((1ULL << 0) | (1ULL << 30)));
  assert_true(c.hour == ((1u << 9) | (1u << 13) | (1u << 17)));
  assert_true(c.dom == ((1u << 1) | (1u << 15)));
  assert_true(c.month == ((1u << 1) | (1u << 7)));
  assert_true(c.dow == ((1u << 6) | (1u << 0))); /* 7 folds into Sunday */
  assert_false(c.dom_star);
  assert_false(c.dow_star);
  assert_true(mx_cron_matches(&c, 2026, 1, 3, 9, 0));   /* Saturday Jan 3 */
  assert_true(mx_cron_matches(&c, 2026, 1, 15, 13, 30)); /* Thursday the 15th */
  assert_false(mx_cron_matches(&c, 2026, 1, 14, 13, 30)); /* Wednesday the 14th */
  /* "a/n" runs to the end of the field even when a later list item is a range */
  assert_int_equal(mx_cron_parse("5/20,1-2 * * * *", &c, NULL), MX_OK);
  assert_true(c.minute == ((1ULL << 5) | (1ULL << 25) | (1ULL << 45) | (1ULL << 1) | (1ULL << 2)));
}

static void test_unknown_zone(void **state) {
  (void)state;
  static const char *bad[] = {"Mars/Olympus", "Europe", "../etc/passwd", "/etc/localtime",
                              "Europe/Lon don", "", "zone.tab"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    mx_tz *tz = (mx_tz *)1;
    mx_error err;
    mx_error_clear(&err);
    assert_int_equal(mx_tz_load(bad[i], &tz, &err), MX_ENOTFOUND);
    assert_null(tz);
    assert_non_null(strstr(err.message, "unknown time zone"));
  }
}

/* The TZif reader agrees with glibc's localtime_r for every zone below at
 * 20000 pseudo-random instants from 1900 to 2150 (beyond 2037 both rely on the
 * footer rule). */
static void test_offsets_match_libc(void **state) {
  (void)state;
  static const char *zones[] = {"Europe/London",  "America/New_York", "Australia/Sydney",
                                "Australia/Lord_Howe", "America/Sao_Paulo", "Asia/Kolkata",
                                "Pacific/Apia",   "America/Santiago", "Europe/Dublin",
                                "Africa/Casablanca", "Pacific/Chatham", "UTC"};
  char *old = getenv("TZ") ? strdup(getenv("TZ")) : NULL;
  for (size_t z = 0; z < sizeof zones / sizeof zones[0]; z++) {
    mx_tz *tz;
    mx_error err;
    if (mx_tz_load(zones[z], &tz, &err) != MX_OK) fail_msg("%s: %s", zones[z], err.message);
    setenv("TZ", zones[z], 1);
    tzset();
    uint64_t x = 0x9e3779b97f4a7c15ULL ^ z;
    for (int i = 0; i < 20000; i++) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      int64_t t = -2208988800LL + (int64_t)(x % (uint64_t)(250LL * 365 * 86400));
      time_t tt = (time_t)t;
      struct tm tm;
      assert_non_null(localtime_r(&tt, &tm));
      int32_t off = mx_tz_offset(tz, t);
      if (off != tm.tm_gmtoff)
        fail_msg("%s at %lld: offset %d, libc %ld", zones[z], (long long)t, off, tm.tm_gmtoff);
    }
    mx_tz_free(tz);
  }
  if (old) {
    setenv("TZ", old, 1);
    free(old);
  } else {
    unsetenv("TZ");
  }
  tzset();
}

/* Resolve maps a reading that exists back to its first instant, and a reading
 * in a gap to the transition instant. */
static void test_resolve(void **state) {
  (void)state;
  mx_tz *tz;
  assert_int_equal(mx_tz_load("Europe/London", &tz, NULL), MX_OK);
  int64_t t, local;
  int exists;
  assert_int_equal(mx_parse_time("2026-03-29T01:30:00Z", &local), 0); /* reading 01:30 */
  t = mx_tz_resolve(tz, local, &exists);
  assert_int_equal(exists, 0);
  assert_int_equal(mx_parse_time("2026-03-29T01:00:00Z", &local), 0);
  assert_true(t == local); /* the jump itself */
  assert_int_equal(mx_parse_time("2026-10-25T01:30:00Z", &local), 0);
  t = mx_tz_resolve(tz, local, &exists);
  assert_int_equal(exists, 1);
  int64_t want;
  assert_int_equal(mx_parse_time("2026-10-25T00:30:00Z", &want), 0);
  assert_true(t == want);
  mx_tz_free(tz);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_next_tables),   cmocka_unit_test(test_never),
      cmocka_unit_test(test_parse_errors),  cmocka_unit_test(test_parse_bits),
      cmocka_unit_test(test_unknown_zone),  cmocka_unit_test(test_offsets_match_libc),
      cmocka_unit_test(test_resolve),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
