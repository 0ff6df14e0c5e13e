/* merx.forecast from Lua, on a plain lua_State (the binding is self-contained
 * until the runtime wires it into `merx`). */
#include "testutil.h"

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <string.h>

int mx__luaopen_forecast(lua_State *L);

static lua_State *state_with_forecast(void) {
  lua_State *L = luaL_newstate();
  luaL_openlibs(L);
  lua_newtable(L);
  mx__luaopen_forecast(L);
  lua_setfield(L, -2, "forecast");
  lua_setglobal(L, "merx");
  return L;
}

static void run_ok(lua_State *L, const char *code) {
  if (luaL_dostring(L, code) != LUA_OK) fail_msg("lua error: %s", lua_tostring(L, -1));
}

static void test_single_and_bulk(void **state) {
  (void)state;
  lua_State *L = state_with_forecast();
  run_ok(L,
         "local y = {}\n"
         "for t = 1, 96 do y[t] = 100 + 20 * math.sin(2 * math.pi * (t % 12) / 12) end\n"
         "local r = merx.forecast(y, {horizon = 12, method = 'snaive', season = 12})\n"
         "assert(#r.mean == 12 and r.method == 'snaive')\n"
         "for h = 1, 12 do assert(math.abs(r.mean[h] - y[84 + h]) < 1e-9) end\n"
         "assert(#r.lo[80] == 12 and #r.hi[95] == 12 and r.lo[95][1] <= r.lo[80][1])\n"
         "-- bulk: keyed by id, one C call; results keep the keys\n"
         "local many = {sku1 = y, sku2 = {0,0,3,0,0,0,4,0,0,2,0,0,0,5,0,0,0,0,3,0}}\n"
         "local out = merx.forecast(many, {horizon = 4, season = 12, levels = {90}, nonneg = true})\n"
         "local im = {croston = true, sba = true, tsb = true}\n"
         "assert(im[out.sku2.method], out.sku2.method)\n"
         "assert(out.sku2.lo[90][1] >= 0 and #out.sku1.mean == 4)\n"
         "assert(out.sku2.cum_sigma[4] > out.sku2.cum_sigma[1] and out.sku2.cum_sigma[1] > 0)\n"
         "-- arrays of arrays work too\n"
         "local arr = merx.forecast({{1,2,3,4,5,6}, {2,2,2,2,2,2}}, {horizon = 2, method = 'naive'})\n"
         "assert(arr[1].mean[1] == 6 and arr[2].mean[2] == 2)\n"
         "local m = merx.forecast.methods()\n"
         "assert(m[1] == 'auto' and #m == 14)\n");
  lua_close(L);
}

static void test_errors(void **state) {
  (void)state;
  lua_State *L = state_with_forecast();
  const char *bad[][2] = {
      {"merx.forecast({1,2,3}, {horizon = 2, method = 'prophet'})", "unknown method 'prophet'"},
      {"merx.forecast({1,2,3}, {method = 'naive'})", "horizon"},
      {"merx.forecast({1,'x',3}, {horizon = 2})", "element 2 is not a number"},
      {"merx.forecast({1,0/0,3}, {horizon = 2})", "not a finite number"},
      {"merx.forecast({1,2,3}, {horizon = 2, levels = {120}})", "levels[1]"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    assert_int_not_equal(luaL_dostring(L, bad[i][0]), LUA_OK);
    const char *msg = lua_tostring(L, -1);
    if (!strstr(msg, bad[i][1])) fail_msg("'%s' gave '%s'", bad[i][0], msg);
    lua_pop(L, 1);
  }
  lua_close(L);
}

static void test_backtest(void **state) {
  (void)state;
  lua_State *L = state_with_forecast();
  run_ok(L,
         "local s = {}\n"
         "for i = 1, 4 do s[i] = {} for t = 1, 120 do s[i][t] = 50 * i + 10 * ((t % 7) - 3) + (t * 37 % 11) end end\n"
         "local bt = merx.forecast.backtest(s, {horizon = 7, season = 7, origins = 2,\n"
         "                                     methods = {'naive', 'snaive', 'ets'}})\n"
         "assert(#bt == 3 and bt[1].method == 'naive' and bt[1].evaluated == 8)\n"
         "assert(bt[2].mase < bt[1].mase and bt[3].mase < bt[1].mase)\n"
         "assert(bt[3].coverage[95] >= 0 and bt[3].coverage[95] <= 1)\n");
  lua_close(L);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_single_and_bulk),
      cmocka_unit_test(test_errors),
      cmocka_unit_test(test_backtest),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
