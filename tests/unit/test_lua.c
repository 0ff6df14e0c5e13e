/* The script runtime through its C API (merx/script.h), the decision log,
 * and the helpers area bindings use (lua/lmerx.h) in a plain lua_State. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lualib.h>

#include "testutil.h"
#include "lua/internal.h"
#include "lua/lmerx.h"
#include "merx/script.h"
#include "store/decisions.h"
#include "util/util.h"

static char *slurp(FILE *f) {
  static char buf[8192];
  fflush(f);
  rewind(f);
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  buf[n] = '\0';
  return buf;
}

typedef struct {
  mx_script_result res;
  mx_error err;
  int rc;
  char out[8192];
  char errtext[8192];
} run_out;

static void run_code(const char *code, mx_script_options *o, run_out *r) {
  FILE *out = tmpfile(), *err = tmpfile();
  assert_non_null(out);
  o->code = code;
  o->out = out;
  o->err = err;
  r->rc = mx_script_run(o, &r->res, &r->err);
  snprintf(r->out, sizeof r->out, "%s", slurp(out));
  snprintf(r->errtext, sizeof r->errtext, "%s", slurp(err));
  fclose(out);
  fclose(err);
}

static void test_print_params_now(void **state) {
  (void)state;
  mx_script_options o = mx_script_defaults();
  const char *k[] = {"budget", "mode"}, *v[] = {"250", "test"};
  o.n_params = 2;
  o.param_keys = k;
  o.param_values = v;
  o.has_now = 1;
  o.now = 1709251200;
  o.out_dir = tu_path("out1");
  run_out r;
  run_code("print(merx.params.budget + 1, merx.params.mode, merx.date(merx.now()))", &o, &r);
  assert_int_equal(r.rc, MX_OK);
  assert_string_equal(r.out, "251\ttest\t2024-03-01\n");
  assert_int_equal(r.res.decisions, 0);
  mx_script_result_free(&r.res);
}

static void test_error_location_and_traceback(void **state) {
  (void)state;
  mx_script_options o = mx_script_defaults();
  o.out_dir = tu_path("out2");
  run_out r;
  run_code("local function f(x)\n  return x.field\nend\nf(nil)\n", &o, &r);
  assert_int_equal(r.rc, MX_ESCRIPT);
  assert_string_equal(r.err.message,
                      "(command line):2: attempt to index a nil value (local 'x')");
  assert_non_null(r.res.traceback);
  assert_non_null(strstr(r.res.traceback, "in local 'f'"));
  mx_script_result_free(&r.res);
}

static void test_limits(void **state) {
  (void)state;
  mx_script_options o = mx_script_defaults();
  o.out_dir = tu_path("out3");
  o.timeout = 0.3;
  run_out r;
  run_code("merx.emit('x', {reason = 'r'})\nwhile true do pcall(error, 'x') end\n", &o, &r);
  assert_int_equal(r.rc, MX_ELIMIT);
  assert_non_null(strstr(r.err.message, "(command line):2: time limit of 0.3 s exceeded"));
  assert_int_equal(r.res.committed, 0);
  mx_script_result_free(&r.res);

  o.timeout = 30;
  o.memory_mb = 8;
  run_code("local t = {}\nfor i = 1, 1e8 do\n  t[i] = 'v' .. i\nend\n", &o, &r);
  assert_int_equal(r.rc, MX_ELIMIT);
  assert_non_null(strstr(r.err.message, "(command line):3: memory limit of 8 MB exceeded"));
  mx_script_result_free(&r.res);

  /* the limit also covers staged decisions */
  run_code("for i = 1, 1e8 do\n  merx.emit('offer', {user = 'u' .. i, reason = 'a fairly long reason text'})\nend\n",
           &o, &r);
  assert_int_equal(r.rc, MX_ELIMIT);
  assert_non_null(strstr(r.err.message, "memory limit of 8 MB"));
  mx_script_result_free(&r.res);
}

/* Found by fuzz_lua: code that ran with Lua's debug hooks off, out of reach
 * of the time limit, and error reports without a script line. */
static void test_hookless_code_and_error_positions(void **state) {
  (void)state;
  mx_script_options o = mx_script_defaults();
  o.out_dir = tu_path("out3b");
  o.timeout = 0.3;
  run_out r;
  /* finalizers run with hooks off: refused, so a looping one cannot hang */
  run_code("local mt = {__gc = true}\nsetmetatable({}, mt)\n", &o, &r);
  assert_int_equal(r.rc, MX_ESCRIPT);
  assert_string_equal(r.err.message,
                      "(command line):2: setmetatable: __gc metamethods are not allowed in scripts");
  mx_script_result_free(&r.res);
  run_code("local t = setmetatable({}, {__index = {}})\nprint(getmetatable(t).__index ~= nil)\n",
           &o, &r);
  assert_int_equal(r.rc, MX_OK);
  assert_string_equal(r.out, "true\n");
  mx_script_result_free(&r.res);
  /* a stop raised in the hook reaches xpcall's handler with hooks off: the
   * script's handler is skipped, so a looping one cannot hang the run */
  run_code("xpcall(function() while true do end end,\n  function(e) while true do end end)\n",
           &o, &r);
  assert_int_equal(r.rc, MX_ELIMIT);
  assert_non_null(strstr(r.err.message, "(command line):1: time limit of 0.3 s exceeded"));
  mx_script_result_free(&r.res);
  /* an ordinary error still reaches the script's handler */
  run_code("print(xpcall(error, function(e) return 'handled ' .. e end, 'x', 0))\n", &o, &r);
  assert_int_equal(r.rc, MX_OK);
  assert_string_equal(r.out, "false\thandled x\n");
  mx_script_result_free(&r.res);
  /* error("x", 0) and error objects still name the line */
  run_code("local a = 1\nerror('no position', 0)\n", &o, &r);
  assert_int_equal(r.rc, MX_ESCRIPT);
  assert_string_equal(r.err.message, "(command line):2: no position");
  mx_script_result_free(&r.res);
  run_code("\nerror(setmetatable({}, {__tostring = function() return 'custom' end}))\n", &o, &r);
  assert_int_equal(r.rc, MX_ESCRIPT);
  assert_string_equal(r.err.message, "(command line):2: custom");
  mx_script_result_free(&r.res);
}

static int count_rows(void *ctx, const mx_decision_row *row) {
  int *n = ctx;
  assert_string_equal(row->kind, "offer");
  assert_string_equal(row->script, "(command line)");
  assert_string_equal(row->params, "{\"who\":\"me\"}");
  assert_string_equal(row->time, "2024-03-01T00:00:00Z");
  if (*n == 0) {
    assert_string_equal(row->record, "{\"user\":\"u1\",\"n\":1,\"ok\":true,\"x\":2.5}");
    assert_string_equal(row->reason, "first");
  }
  (*n)++;
  return 0;
}

static void test_commit_and_log(void **state) {
  (void)state;
  mx_script_options o = mx_script_defaults();
  const char *k[] = {"who"}, *v[] = {"me"};
  o.n_params = 1;
  o.param_keys = k;
  o.param_values = v;
  o.has_now = 1;
  o.now = 1709251200;
  o.out_dir = tu_path("out4");
  o.jsonl = 1;
  run_out r;
  run_code("merx.emit('offer', {user = 'u1', x = 2.5, n = 1, ok = true, reason = 'first'})\n"
           "merx.emit('offer', {user = 'u1', reason = 'second'})\n"
           "merx.emit('offer', {user = 'u2', reason = 'other'})\n",
           &o, &r);
  assert_int_equal(r.rc, MX_OK);
  assert_int_equal(r.res.committed, 1);
  assert_int_equal(r.res.decisions, 3);
  char *data;
  size_t len;
  mx_error err;
  assert_int_equal(mx__read_file(tu_path("out4/offer.csv"), &data, &len, &err), MX_OK);
  assert_string_equal(data, "user,n,ok,x,reason\nu1,1,true,2.5,first\nu1,,,,second\nu2,,,,other\n");
  free(data);
  assert_int_equal(mx__read_file(tu_path("out4/offer.jsonl"), &data, &len, &err), MX_OK);
  assert_non_null(strstr(data, "{\"user\":\"u2\",\"reason\":\"other\"}\n"));
  free(data);
  mx_decision_log *log;
  assert_int_equal(mx__decisions_open(tu_path("out4/decisions.db"), 0, &log, &err), MX_OK);
  int n = 0;
  assert_int_equal(mx__decisions_find(log, "u1", NULL, NULL, count_rows, &n, &err), 2);
  assert_int_equal(n, 2);
  assert_int_equal(mx__decisions_find(log, "u1", "order", NULL, NULL, NULL, &err), 0);
  assert_int_equal(mx__decisions_find(log, "u2", NULL, r.res.run_id, NULL, NULL, &err), 1);
  mx__decisions_close(log);
  mx_script_result_free(&r.res);

  /* frequency caps read the log back through merx.history */
  o.now = 1709251200 + 86400;
  run_code("local h = merx.history('offer', 7)\nprint(h.u1, h.u2, h.u3)\n"
           "local old = merx.history('offer', 0.5)\nprint(old.u1)\n", &o, &r);
  assert_int_equal(r.rc, MX_OK);
  assert_string_equal(r.out, "2\t1\tnil\nnil\n");
  mx_script_result_free(&r.res);
}

/* ---- lmerx.h helpers in a plain state, as an area binding uses them */

static int l_sum(lua_State *L) {
  size_t n, m;
  double *v = mx__lua_check_doubles(L, 1, &n);
  const char **s = mx__lua_check_strings(L, 2, &m);
  double scale = mx__lua_opt_number(L, 3, "scale", 1);
  const char *label = mx__lua_opt_string(L, 3, "label", "sum");
  double t = 0;
  for (size_t i = 0; i < n; i++) t += v[i];
  size_t chars = 0;
  for (size_t i = 0; i < m; i++) chars += strlen(s[i]);
  lua_pushfstring(L, "%s=%f chars=%d", label, t * scale, (int)chars);
  return 1;
}

static int l_fail(lua_State *L) {
  mx_error err;
  mx_error_at(&err, MX_EPARSE, "data.csv", 7, 2, "qty", "not a number: '%s'", "x");
  return mx__lua_raise(L, &err);
}

static void test_binding_helpers(void **state) {
  (void)state;
  lua_State *L = luaL_newstate();
  luaL_openlibs(L);
  lua_register(L, "sum", l_sum);
  lua_register(L, "fail", l_fail);
  assert_int_equal(luaL_dostring(L, "return sum({1, 2, 3.5}, {'ab', 7}, {scale = 2, label = 'x'})"), 0);
  assert_string_equal(lua_tostring(L, -1), "x=13.0 chars=3");
  lua_pop(L, 1);
  assert_int_not_equal(luaL_loadbuffer(L, "\n\nfail()", 8, "=script.lua") || lua_pcall(L, 0, 0, 0), 0);
  assert_string_equal(lua_tostring(L, -1),
                      "script.lua:3: data.csv:7:2: field 'qty': not a number: 'x'");
  lua_pop(L, 1);
  assert_int_not_equal(luaL_loadbuffer(L, "sum({1, 'x'}, {})", strlen("sum({1, 'x'}, {})"), "=s.lua") || lua_pcall(L, 0, 0, 0), 0);
  assert_non_null(strstr(lua_tostring(L, -1), "s.lua:1: bad argument #1: element 2 is a string"));
  lua_pop(L, 1);
  assert_int_not_equal(luaL_loadbuffer(L, "sum({}, {}, {scale = 'big'})", strlen("sum({}, {}, {scale = 'big'})"), "=s.lua") || lua_pcall(L, 0, 0, 0), 0);
  assert_non_null(strstr(lua_tostring(L, -1), "option 'scale' must be a number"));
  lua_close(L);
}

static void test_interrupt(void **state) {
  (void)state;
  /* last: the interrupt flag stays set for the rest of the process */
  mx_script_interrupt();
  mx_script_options o = mx_script_defaults();
  o.out_dir = tu_path("out5");
  run_out r;
  run_code("merx.emit('x', {reason = 'r'})\nwhile true do end\n", &o, &r);
  assert_int_equal(r.rc, MX_EINTERRUPTED);
  assert_non_null(strstr(r.err.message, "interrupted"));
  assert_int_equal(r.res.committed, 0);
  mx_script_result_free(&r.res);
}

/* The sandbox's limits cost nothing while no limit is near (issue #21): Lua
 * 5.4 traps on every instruction while any count hook is set, so the hook
 * must be off in the main chunk and in coroutines until the alarm (deadline,
 * signal, memory) sets it; the deadline then still stops a loop inside a
 * coroutine. A probe in the script's environment reports the hook mask of
 * the thread that calls it. */
static int g_masks[4], g_probes;
static int probe_hookmask(lua_State *L) {
  if (g_probes < 4) g_masks[g_probes++] = lua_gethookmask(L);
  return 0;
}
static int bind_probe(lua_State *L) {
  mx__run_setup(L);
  lua_getupvalue(L, 1, 1);
  lua_pushcfunction(L, probe_hookmask);
  lua_setfield(L, -2, "hookmask");
  return 0;
}

static void test_no_hook_until_a_limit(void **state) {
  (void)state;
  mx_run *run = calloc(1, sizeof *run);
  assert_non_null(run);
  run->sandboxed = 1;
  run->dry_run = 1;
  run->out = stderr;
  run->err = stderr;
  run->shard_count = 1;
  run->plan = mx__plan_create();
  mx__run_set_limits(run, 0.3, 64);
  lua_State *L = mx__run_open_state(run);
  assert_non_null(L);
  lua_pushcfunction(L, mx__run_msgh);
  const char *code = "hookmask()\n"
                     "coroutine.wrap(function() hookmask() end)()\n"
                     "local co = coroutine.create(function() hookmask() coroutine.yield() end)\n"
                     "coroutine.resume(co)\n"
                     "coroutine.resume(coroutine.create(function() while true do end end))\n";
  g_probes = 0;
  int status = mx__run_chunk(L, run, code, strlen(code), "=probe", bind_probe, 0, 1);
  assert_int_equal(status, LUA_ERRRUN);
  assert_int_equal(g_probes, 3);
  for (int i = 0; i < 3; i++) assert_int_equal(g_masks[i], 0);
  assert_true(run->stopped);
  assert_non_null(strstr(run->stop_msg, "probe:5: time limit of 0.3 s exceeded"));
  mx__run_end(run);
  lua_close(L);
  mx__run_free(run);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_print_params_now),
      cmocka_unit_test(test_error_location_and_traceback),
      cmocka_unit_test(test_limits),
      cmocka_unit_test(test_hookless_code_and_error_positions),
      cmocka_unit_test(test_commit_and_log),
      cmocka_unit_test(test_binding_helpers),
      cmocka_unit_test(test_no_hook_until_a_limit),
      cmocka_unit_test(test_interrupt),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
