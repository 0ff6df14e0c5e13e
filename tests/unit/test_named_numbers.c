/* "NAME=NUMBER,..." lists (util/parse.c): the one reader behind
 * --event-weights (mx_ingest_parse_event_weights) and --shares
 * (mx_measure_parse_shares). */
#include <string.h>

#include "merx/dataset.h"
#include "merx/measure.h"
#include "testutil.h"
#include "util/util.h"

typedef struct {
  char names[8][32];
  double v[8];
  int n;
} seen;

static int collect(void *ctx, const char *name, size_t len, double value, mx_error *err) {
  (void)err;
  seen *s = ctx;
  memcpy(s->names[s->n], name, len);
  s->names[s->n][len] = '\0';
  s->v[s->n++] = value;
  return MX_OK;
}

static void test_pairs(void **state) {
  (void)state;
  mx_error err;
  seen s = {0};
  assert_int_equal(mx__parse_named_numbers("view=1,cart=2.5,a=b=3", "EVENT=WEIGHT", collect, &s, &err),
                   MX_OK);
  assert_int_equal(s.n, 3);
  assert_string_equal(s.names[1], "cart");
  NEAR(s.v[1], 2.5, 0);
  assert_string_equal(s.names[2], "a=b"); /* the name runs to the last '=' */
  s.n = 0;
  assert_int_equal(mx__parse_named_numbers("x=1,=2", "ARM=SHARE", collect, &s, &err), MX_EINVAL);
  assert_string_equal(err.message, "expected ARM=SHARE, got '=2'");
  assert_int_equal(mx__parse_named_numbers("x=", "ARM=SHARE", collect, &s, &err), MX_EINVAL);
  assert_int_equal(mx__parse_named_numbers("x=abc", "ARM=SHARE", collect, &s, &err), MX_EINVAL);
  assert_string_equal(err.message, "'x' must be followed by a number, got 'abc'");
}

static void test_users(void **state) {
  (void)state;
  mx_error err;
  mx_ingest_options io = mx_ingest_defaults();
  assert_int_equal(mx_ingest_parse_event_weights(&io, "view=1,buy=5", &err), MX_OK);
  assert_int_equal(io.n_events, 2);
  assert_int_equal(mx_ingest_parse_event_weights(&io, "view=-1", &err), MX_EINVAL);
  assert_non_null(strstr(err.message, "[0, 1e6]"));
  assert_int_equal(mx_ingest_parse_event_weights(&io, "view", &err), MX_EINVAL);
  assert_non_null(strstr(err.message, "expected EVENT=WEIGHT"));
  mx_measure_options mo;
  memset(&mo, 0, sizeof mo);
  char buf[64];
  assert_int_equal(mx_measure_parse_shares(&mo, "control=0.5,treatment=0.5", buf, sizeof buf, &err),
                   MX_OK);
  assert_int_equal(mo.n_shares, 2);
  assert_string_equal(mo.share_arm[1], "treatment");
  assert_int_equal(mx_measure_parse_shares(&mo, "control=-1", buf, sizeof buf, &err), MX_EINVAL);
  assert_int_equal(mx_measure_parse_shares(&mo, "", buf, sizeof buf, &err), MX_EINVAL);
  assert_string_equal(err.message, "no shares given");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_pairs),
      cmocka_unit_test(test_users),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
