/* A warm rules script called per request (merx/decide.h): arguments in and
 * a result out as JSON, decisions handed over per call, and a call that
 * errors, loops or eats memory failing alone with SCRIPT:LINE and the limit
 * named, leaving the decider unusable (the pool replaces it). */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "merx/decide.h"

static const char *script =
    "local M = {}\n"                                                    /* 1 */
    "local calls = 0\n"                                                 /* 2 */
    "function M.pick(a)\n"                                              /* 3 */
    "  calls = calls + 1\n"                                             /* 4 */
    "  local offer = a.spend > 100 and 'VIP20' or 'SPRING10'\n"         /* 5 */
    "  merx.emit('offer', {user = a.user, offer = offer,\n"             /* 6 */
    "            reason = 'spend ' .. a.spend})\n"                      /* 7 */
    "  return {offer = offer, calls = calls, now = merx.now(), tags = {'a', 'b'}}\n" /* 8 */
    "end\n"                                                             /* 9 */
    "function M.boom(a)\n"                                              /* 10 */
    "  merx.emit('offer', {user = 'x', offer = 'y', reason = 'r'})\n"   /* 11 */
    "  error('no rule for ' .. a.user)\n"                               /* 12 */
    "end\n"                                                             /* 13 */
    "function M.spin() while true do end end\n"                         /* 14 */
    "function M.hog() local t = {} for i = 1, 1e9 do t[i] = ('x'):rep(64) .. i end end\n" /* 15 */
    "function M.swallow() return pcall(M.spin) end\n"                   /* 16 */
    "function M.bad() return {f = print} end\n"                         /* 17 */
    "return M\n";

typedef struct seen {
  int n;
  char kind[32], user[32], record[256], reason[64];
} seen;

static int on_emit(void *ctx, const mx_decision *d) {
  seen *s = ctx;
  s->n++;
  snprintf(s->kind, sizeof s->kind, "%s", d->kind);
  snprintf(s->user, sizeof s->user, "%.*s", (int)d->user_len, d->user ? d->user : "");
  snprintf(s->record, sizeof s->record, "%s", d->record_json);
  snprintf(s->reason, sizeof s->reason, "%.*s", (int)d->reason_len, d->reason);
  return 0;
}

static mx_decider *open_script_timeout(double timeout) {
  mx_decide_options o = mx_decide_defaults();
  o.path = tu_write("rules.lua", script);
  o.timeout = timeout;
  o.memory_mb = 16;
  mx_decider *d;
  mx_error err;
  int rc = mx_decider_open(&o, &d, &err);
  if (rc != MX_OK) fprintf(stderr, "%s\n", err.message);
  assert_int_equal(rc, MX_OK);
  return d;
}

static mx_decider *open_script(void) { return open_script_timeout(0.05); }

static json_t *args(const char *text) {
  json_error_t je;
  json_t *j = json_loads(text, 0, &je);
  assert_non_null(j);
  return j;
}

static void test_call_returns_json_and_hands_over_decisions(void **state) {
  (void)state;
  mx_decider *d = open_script();
  json_t *a = args("{\"user\": \"u1\", \"spend\": 150}"), *r;
  seen s = {0};
  mx_error err;
  assert_int_equal(mx_decider_call(d, "pick", a, 1700000000, &r, on_emit, &s, &err), MX_OK);
  assert_string_equal(json_string_value(json_object_get(r, "offer")), "VIP20");
  assert_int_equal(json_integer_value(json_object_get(r, "now")), 1700000000);
  assert_int_equal(json_array_size(json_object_get(r, "tags")), 2);
  assert_int_equal(s.n, 1);
  assert_string_equal(s.kind, "offer");
  assert_string_equal(s.user, "u1");
  assert_string_equal(s.record, "{\"user\":\"u1\",\"offer\":\"VIP20\"}");
  assert_string_equal(s.reason, "spend 150");
  json_decref(r);
  /* warm: the state (calls) persists; the plan does not */
  memset(&s, 0, sizeof s);
  assert_int_equal(mx_decider_call(d, "pick", a, 1700000001, &r, on_emit, &s, &err), MX_OK);
  assert_int_equal(json_integer_value(json_object_get(r, "calls")), 2);
  assert_int_equal(s.n, 1);
  json_decref(r);
  json_decref(a);
  /* an unknown function fails alone and leaves the decider usable */
  assert_int_equal(mx_decider_call(d, "nope", NULL, 0, &r, on_emit, &s, &err), MX_ENOTFOUND);
  assert_non_null(strstr(err.message, "no function 'nope'"));
  assert_true(mx_decider_usable(d));
  mx_decider_free(d);
}

static void test_error_names_line_and_commits_nothing(void **state) {
  (void)state;
  mx_decider *d = open_script();
  json_t *a = args("{\"user\": \"u9\"}"), *r;
  seen s = {0};
  mx_error err;
  assert_int_equal(mx_decider_call(d, "boom", a, 0, &r, on_emit, &s, &err), MX_ESCRIPT);
  assert_non_null(strstr(err.message, "rules.lua:12: no rule for u9"));
  assert_int_equal(s.n, 0); /* its staged decision is dropped */
  assert_null(r);
  assert_false(mx_decider_usable(d));
  json_decref(a);
  mx_decider_free(d);
}

static void test_limits_stop_one_call(void **state) {
  (void)state;
  const char *fns[] = {"spin", "swallow", "hog"};
  const char *what[] = {"rules.lua:14: time limit of 0.05 s exceeded (decide)",
                        "time limit of 0.05 s exceeded (decide)",
                        "memory limit of 16 MB exceeded (decide)"};
  for (int i = 0; i < 3; i++) {
    mx_decider *d = open_script_timeout(i == 2 ? 30 : 0.05); /* hog: memory first */
    json_t *r;
    mx_error err;
    assert_int_equal(mx_decider_call(d, fns[i], NULL, 0, &r, NULL, NULL, &err), MX_ELIMIT);
    if (!strstr(err.message, what[i])) fail_msg("%s: %s", fns[i], err.message);
    assert_non_null(strstr(err.message, "rules.lua:"));
    assert_false(mx_decider_usable(d));
    mx_decider_free(d);
  }
}

static void test_result_without_json_form(void **state) {
  (void)state;
  mx_decider *d = open_script();
  json_t *r;
  mx_error err;
  assert_int_equal(mx_decider_call(d, "bad", NULL, 0, &r, NULL, NULL, &err), MX_ESCRIPT);
  assert_non_null(strstr(err.message, "function 'bad' returned a function"));
  mx_decider_free(d);
}

static void test_open_errors(void **state) {
  (void)state;
  mx_decide_options o = mx_decide_defaults();
  mx_decider *d;
  mx_error err;
  o.path = tu_write("syntax.lua", "local x = \nfunction f(\n");
  assert_int_equal(mx_decider_open(&o, &d, &err), MX_ESCRIPT);
  assert_non_null(strstr(err.message, "syntax.lua:"));
  o.path = tu_write("top.lua", "merx.emit('offer', {user='a', reason='r'})\nreturn {}\n");
  assert_int_equal(mx_decider_open(&o, &d, &err), MX_EINVAL);
  assert_non_null(strstr(err.message, "top level staged decisions"));
  o.path = tu_write("sandbox.lua", "local f = io.open('/etc/passwd')\n");
  assert_int_equal(mx_decider_open(&o, &d, &err), MX_ESCRIPT);
  assert_non_null(strstr(err.message, "sandbox.lua:1:"));
  o.path = tu_path("missing.lua");
  assert_int_equal(mx_decider_open(&o, &d, &err), MX_EIO);
  /* globals work when the script returns no table */
  o.path = tu_write("globals.lua", "function hello(a) return 'hi ' .. a.name end\n");
  assert_int_equal(mx_decider_open(&o, &d, &err), MX_OK);
  json_t *a = json_pack("{s:s}", "name", "ann"), *r;
  assert_int_equal(mx_decider_call(d, "hello", a, 0, &r, NULL, NULL, &err), MX_OK);
  assert_string_equal(json_string_value(r), "hi ann");
  json_decref(r);
  json_decref(a);
  mx_decider_free(d);
}

int main(void) {
  tu_filters();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_call_returns_json_and_hands_over_decisions),
      cmocka_unit_test(test_error_names_line_and_commits_nothing),
      cmocka_unit_test(test_limits_stop_one_call),
      cmocka_unit_test(test_result_without_json_form),
      cmocka_unit_test(test_open_errors),
  };
  return tu_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
