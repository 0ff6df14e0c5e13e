/* merx.allocate from Lua, on a plain lua_State (until the runtime exists):
 * matrix and function inputs, caps and constraints, the certificate,
 * applying saved prices, errors. */
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <string.h>

#include "testutil.h"
#include "merx/allocate.h"

int mx__luaopen_allocate(lua_State *L);

static lua_State *new_state(void) {
  lua_State *L = luaL_newstate();
  luaL_openlibs(L);
  lua_newtable(L);
  mx__luaopen_allocate(L);
  lua_setfield(L, -2, "allocate");
  lua_setglobal(L, "merx");
  return L;
}

static void run(lua_State *L, const char *code) {
  if (luaL_dostring(L, code) != LUA_OK) fail_msg("lua: %s", lua_tostring(L, -1));
}

/* Run code that must raise an error containing want. */
static void run_error(lua_State *L, const char *code, const char *want) {
  int rc = luaL_dostring(L, code);
  if (rc == LUA_OK) fail_msg("expected an error containing '%s'", want);
  const char *msg = lua_tostring(L, -1);
  if (!msg || !strstr(msg, want)) fail_msg("error '%s' does not contain '%s'", msg, want);
  lua_pop(L, 1);
}

static const char *helpers =
    "function check(plan, budget, caps, m)\n"
    "  local spend, used, per, obj = 0, {}, {}, 0\n"
    "  for _, a in ipairs(plan.assignments) do\n"
    "    spend = spend + a.cost; obj = obj + a.value\n"
    "    used[a.offer] = (used[a.offer] or 0) + 1\n"
    "    per[a.user] = (per[a.user] or 0) + 1\n"
    "    assert(per[a.user] <= (m or 1), 'per_user exceeded')\n"
    "  end\n"
    "  assert(spend <= budget + 1e-9, 'budget exceeded ' .. spend)\n"
    "  for o, c in pairs(caps or {}) do assert((used[o] or 0) <= c, 'cap exceeded ' .. o) end\n"
    "  assert(math.abs(obj - plan.objective) < 1e-6 * math.max(1, obj))\n"
    "  assert(plan.assigned == #plan.assignments)\n"
    "  assert(plan.bound >= plan.objective - 1e-9)\n"
    "  assert(plan.gap >= 0 and plan.gap < 0.01, 'gap ' .. plan.gap)\n"
    "end\n";

static void test_matrix(void **state) {
  (void)state;
  lua_State *L = new_state();
  run(L, helpers);
  run(L,
      "local users, offers, v = {}, {'FREESHIP', 'TENOFF', 'BUNDLE'}, {}\n"
      "local seed = 1\n"
      "local function rnd() seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648 end\n"
      "for i = 1, 300 do users[i] = 'c' .. i; v[i] = {1 + 4 * rnd(), 5 + 10 * rnd(), 3 + 6 * rnd()} end\n"
      "local caps = {TENOFF = 40}\n"
      "local plan = merx.allocate{users = users, offers = offers, value = v,\n"
      "  cost = {1, 6, 3}, budget = 500, caps = caps}\n"
      "check(plan, 500, caps)\n"
      "assert(plan.used.TENOFF <= 40 and plan.prices.budget > 0)\n"
      "assert(plan.offer_prices.TENOFF ~= nil and plan.offer_prices.FREESHIP == nil)\n"
      "assert(type(plan.assignments[1].user) == 'string')\n"
      /* the same via .solve, and applying the prices without solving */
      "local p2 = merx.allocate.solve{users = users, offers = offers, value = v,\n"
      "  cost = {1, 6, 3}, budget = 500, caps = caps}\n"
      "assert(p2.objective == plan.objective)\n"
      "local p3 = merx.allocate{users = users, offers = offers, value = v, cost = {1, 6, 3},\n"
      "  budget = 500, caps = caps, prices = plan.prices, offer_prices = plan.offer_prices}\n"
      "check(p3, 500, caps)\n"
      "assert(p3.objective >= 0.999 * plan.objective)\n");
  lua_close(L);
}

static void test_function_and_constraints(void **state) {
  (void)state;
  lua_State *L = new_state();
  run(L, helpers);
  /* 9000 users: the value function is called on blocks (at most 4096) */
  run(L,
      "local users = {}\n"
      "for i = 1, 9000 do users[i] = i end\n"
      "local calls, biggest = 0, 0\n"
      "local function value(block, offers)\n"
      "  calls = calls + 1; biggest = math.max(biggest, #block)\n"
      "  local rows = {}\n"
      "  for i, u in ipairs(block) do\n"
      "    local r = {}\n"
      "    for j = 1, #offers do\n"
      "      if (u + j) % 4 ~= 0 then r[j] = ((u * 7919 + j * 104729) % 1000) / 100 end\n"
      "    end\n"
      "    rows[i] = r\n"
      "  end\n"
      "  return rows\n"
      "end\n"
      "local function sms(block, offers)\n"
      "  local rows = {}\n"
      "  for i = 1, #block do rows[i] = {1, 0, 1, 0} end\n"
      "  return rows\n"
      "end\n"
      "local plan = merx.allocate{users = users, offers = {'a', 'b', 'c', 'd'}, value = value,\n"
      "  cost = {a = 1, b = 2, c = 3, d = 4}, budget = 9000,\n"
      "  constraints = {{name = 'sms', cost = sms, limit = 1500}}, per_user = 2, threads = 2}\n"
      "assert(calls == 3 and biggest == 4096, calls .. ' ' .. biggest)\n"
      "check(plan, 9000, nil, 2)\n"
      "assert(plan.spend_by.sms <= 1500 and plan.spend_by.budget == plan.spend)\n"
      "local n = 0; for _, a in ipairs(plan.assignments) do\n"
      "  assert((a.user + ({a = 1, b = 2, c = 3, d = 4})[a.offer]) % 4 ~= 0, 'ineligible chosen') end\n");
  /* sparse rows keyed by offer id, users keyed matrix, no users list */
  run(L,
      "local plan = merx.allocate{value = {{5, nil, 1}, {nil, 2, nil}}, cost = 1, budget = 1}\n"
      "assert(plan.assigned == 1 and plan.assignments[1].user == 1 and plan.assignments[1].offer == 1)\n"
      "local p2 = merx.allocate{users = {'x', 'y'}, offers = {'A', 'B'},\n"
      "  value = {x = {A = 3}, y = {B = 4, A = 1}}, cost = 0, budget = 0}\n"
      "assert(p2.assigned == 2 and p2.objective == 7)\n"
      /* no cost constraint, only a cap: c1 o1 (3) + c2 o1 (2) + c3 o2 (4) = 9 */
      "local p3 = merx.allocate{value = {{3, 1}, {2, 5}, {0, 4}}, caps = {[2] = 1}}\n"
      "assert(p3.objective == 9 and p3.used[2] == 1 and p3.spend == 0, p3.objective)\n");
  lua_close(L);
}

static void test_errors(void **state) {
  (void)state;
  lua_State *L = new_state();
  run_error(L, "merx.allocate{value = {{0/0}}, cost = 1, budget = 1}", "not finite");
  run_error(L, "merx.allocate{value = {{1}}, cost = -1, budget = 1}", "costs must be finite and >= 0");
  run_error(L, "merx.allocate{offers = {'A'}, value = {{1}}, cost = 1, budget = 1, caps = {B = 1}}",
            "caps: unknown offer 'B'");
  run_error(L, "merx.allocate{value = {{1}}, cost = 1, budget = -5}", "infeasible");
  run_error(L, "merx.allocate{value = 3}", "value must be");
  run_error(L, "merx.allocate{value = {{'x'}}, cost = 1, budget = 1}", "value[1][1] is not a number");
  run_error(L, "merx.allocate{value = function() return 1 end, users = {1}, offers = {1}}",
            "must return a table");
  /* the state is still usable and C memory was released by __gc */
  run(L, "collectgarbage(); local p = merx.allocate{value = {{1}}, cost = 1, budget = 1}\n"
         "assert(p.objective == 1)");
  lua_close(L);
}

/* The docs/lua.md example, as written there. */
static void test_readme_example(void **state) {
  (void)state;
  lua_State *L = new_state();
  run(L,
      "local users  = { 'c1', 'c2', 'c3' }\n"
      "local offers = { 'FREESHIP', 'TENOFF', 'BUNDLE' }\n"
      "local plan = merx.allocate{\n"
      "  users = users, offers = offers,\n"
      "  value = { {4.0, 9.0, nil}, {3.0, 8.0, nil}, {nil, 7.5, 6.0} },\n"
      "  cost = { 2, 5, 3 },\n"
      "  budget = 10,\n"
      "  caps = { TENOFF = 1 },\n"
      "  constraints = { { name = 'sms', cost = { 0, 1, 1 }, limit = 2 } },\n"
      "  per_user = 1,\n"
      "}\n"
      /* optimum: c1 TENOFF (9, 5, sms 1) + c2 FREESHIP (3, 2) + c3 BUNDLE (6, 3, sms 1) = 18 */
      "assert(plan.objective == 18, plan.objective)\n"
      "assert(plan.spend == 10 and plan.spend_by.sms == 2 and plan.gap < 0.05)\n"
      "assert(plan.assignments[1].user == 'c1' and plan.assignments[1].offer == 'TENOFF')\n");
  lua_close(L);
}

static void test_shard_of(void **state) {
  (void)state;
  lua_State *L = new_state();
  run(L, "s = merx.allocate.shard_of('17850', 16)");
  lua_getglobal(L, "s");
  assert_int_equal(lua_tointeger(L, -1), mx_alloc_shard_of("17850", 5, 16));
  lua_close(L);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_matrix),
      cmocka_unit_test(test_function_and_constraints),
      cmocka_unit_test(test_errors),
      cmocka_unit_test(test_readme_example),
      cmocka_unit_test(test_shard_of),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
