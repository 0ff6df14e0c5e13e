/* The sandbox's pattern matcher (src/lua/lpattern.c) against the stock one:
 * string.find/match/gmatch/gsub must give the same results, and the same
 * errors, as Lua 5.4's lstrlib on hand-picked cases (Lua's pm.lua style)
 * and on random patterns and subjects. Only the step budget differs, and
 * outside a run it never stops anything. */
#include <stdio.h>
#include <string.h>

#include <lauxlib.h>
#include <lualib.h>

#include "testutil.h"
#include "lua/internal.h"

/* stock = string library functions, bounded = ours; both are globals of the
 * test state. compare(fname, ...) runs both under pcall and checks that the
 * results (or error messages) are equal. */
static const char *const harness =
    "local stock, bounded = stock, bounded\n"
    "local function pack(ok, ...) return { ok = ok, n = select('#', ...), ... } end\n"
    "local function collect(f, ...)\n"
    "  local r = pack(pcall(f, ...))\n"
    "  if r.ok and type(r[1]) == 'function' then\n"
    "    local all = { ok = true, n = 0 }\n"
    "    local ok, err = pcall(function()\n"
    "      for a, b, c in r[1] do all.n = all.n + 1; all[all.n] = tostring(a) .. '|' .. tostring(b)\n"
    "        .. '|' .. tostring(c); if all.n > 1000 then break end end end)\n"
    "    if not ok then return { ok = false, n = 1, err } end\n"
    "    return all\n"
    "  end\n"
    "  return r\n"
    "end\n"
    "local function same(a, b)\n"
    "  if a.ok ~= b.ok or a.n ~= b.n then return false end\n"
    "  for i = 1, a.n do\n"
    "    local x, y = a[i], b[i]\n"
    "    if not a.ok then -- the function's name in messages depends on where it is installed\n"
    "      x = tostring(x):gsub(\" to '[^']*'\", ''); y = tostring(y):gsub(\" to '[^']*'\", '')\n"
    "    end\n"
    "    if x ~= y then return false end\n"
    "  end\n"
    "  return true\n"
    "end\n"
    "local function show(r)\n"
    "  local t = {}\n"
    "  for i = 1, r.n do t[i] = tostring(r[i]) end\n"
    "  return (r.ok and 'ok ' or 'error ') .. table.concat(t, ', ')\n"
    "end\n"
    "checked = 0\n"
    "function compare(name, ...)\n"
    "  local a, b = collect(stock[name], ...), collect(bounded[name], ...)\n"
    "  checked = checked + 1\n"
    "  if not same(a, b) then\n"
    "    local args = {}\n"
    "    for i = 1, select('#', ...) do args[i] = string.format('%q', tostring((select(i, ...)))) end\n"
    "    error(name .. '(' .. table.concat(args, ', ') .. '): stock ' .. show(a) .. ' / bounded '\n"
    "          .. show(b), 0)\n"
    "  end\n"
    "end\n";

static const char *const cases =
    "local F, M, G, S = 'find', 'match', 'gmatch', 'gsub'\n"
    "local subjects = { '', 'a', 'aaab', 'hello world from Lua', '  x = 10, y=20 ',\n"
    "  'THE (quick) fox', '[[]]', 'a.b-c+d*e?f', '\\0a\\0b', 'alo xyzK', '254 K',\n"
    "  'f(a(b)c)d', 'THE (quick) (fox)', 'x%y', '   ', 'key=val; k2=v2', 'abc\\n123' }\n"
    "local patterns = { '', 'a', 'a*', 'a+', 'a-', 'a?', '^a', 'b$', '$', '^$', '.', '.-b', '%a+',\n"
    "  '%d+', '%s*', '%w+', '%p', '%u%l', '[%a_][%w_]*', '[^%s]+', '[a-c]+', '[]]', '[^]]',\n"
    "  '%b()', '%b[]', '%f[%w]%w+', '%f[%W]', '(%w+)=(%w+)', '()a()', '(a*(.)%w(%s*))',\n"
    "  '(.)%1', '((%w)%2)', '%', '[a', '(', ')', '%1', '%b', '%f', '%fx', '[%', 'a%', '%z',\n"
    "  '%x+', '%c', '%g+', '(()', '^(%w+)', 'x%%y', '%.', '[.-]', '[+-*]', '%-', '\\0', '[\\0a]+',\n"
    "  '(h)(e)(l)(l)(o)', '.-$', '^.-$', '(%s*)$', '[%]]', '[a-]', '[-a]', 'K$', '%f[%z]' }\n"
    "for _, s in ipairs(subjects) do\n"
    "  for _, p in ipairs(patterns) do\n"
    "    compare(F, s, p); compare(M, s, p); compare(G, s, p)\n"
    "    compare(F, s, p, 2); compare(F, s, p, -3); compare(M, s, p, 100); compare(F, s, p, 1, true)\n"
    "    compare(G, s, p, 3); compare(G, s, p, -2)\n"
    "    compare(S, s, p, '<%0>'); compare(S, s, p, '%1-%1', 2); compare(S, s, p, 'x%%')\n"
    "    compare(S, s, p, { a = 'A', hello = false, x = 1 })\n"
    "    compare(S, s, p, function(a, b) return b and a .. b or nil end)\n"
    "  end\n"
    "end\n"
    "compare(S, 'abc', '%w', '%2'); compare(S, 'abc', '%w', '%'); compare(S, 'abc', '%w', '%x')\n"
    "compare(S, 'abc', '%w', {}); compare(S, 'abc', '%w', function() return {} end)\n"
    "compare(S, 'abc', '%w', true); compare(S, 'abc', '%w', 'x', -1); compare(S, 'abc', '^%w', 'x')\n"
    "compare(S, 'abc', '()', '%1'); compare(S, 'abc', '', '-'); compare(F, 'abc', '', 10)\n"
    "compare(F, 'abc', 'b', 4); compare(F, 'abc', '', 4); compare(G, 'abc', '', 5)\n"
    "compare(F, string.rep('a', 300), string.rep('(a)', 33))\n"
    "compare(F, string.rep('a', 300), string.rep('a?', 250) .. 'b')\n"
    "compare(M, string.rep('(', 300), string.rep('%(', 300))\n"
    "compare(F, 'abc', 1); compare(F, 1, 'x'); compare(F, {}, 'x'); compare(S, 'a', 'a', nil)\n";

/* Random patterns over a small alphabet of items, and random subjects:
 * differences in corner cases show up as different results or errors. */
static const char *const random_cases =
    "local items = { 'a', 'b', '.', '%a', '%d', '%s', '[ab]', '[^a]', '[a-c]', '%b()', '%f[%a]',\n"
    "  '(', ')', '()', '%1', '*', '+', '-', '?', '^', '$', '%', '[', ']', '%w', 'x', '(a)', '%%' }\n"
    "local chars = { 'a', 'b', 'c', ' ', '1', '(', ')', 'x', '%', '\\0' }\n"
    "local seed = 12345\n"
    "local function rnd(n) seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n + 1 end\n"
    "for _ = 1, 4000 do\n"
    "  local p, s = {}, {}\n"
    "  for i = 1, rnd(7) do p[i] = items[rnd(#items)] end\n"
    "  for i = 1, rnd(12) - 1 do s[i] = chars[rnd(#chars)] end\n"
    "  p, s = table.concat(p), table.concat(s)\n"
    "  compare('find', s, p); compare('match', s, p, rnd(5) - 2); compare('gmatch', s, p)\n"
    "  compare('gsub', s, p, '[%0]'); compare('gsub', s, p, '%1')\n"
    "end\n";

static lua_State *open_state(void) {
  lua_State *L = luaL_newstate();
  assert_non_null(L);
  luaL_openlibs(L);
  lua_getglobal(L, "string");
  lua_setglobal(L, "stock");
  lua_newtable(L);
  mx__pattern_install(L, -1);
  lua_setglobal(L, "bounded");
  assert_int_equal(luaL_dostring(L, harness), LUA_OK);
  return L;
}

static void run_chunk(lua_State *L, const char *code, int min_checked) {
  if (luaL_dostring(L, code) != LUA_OK) fail_msg("%s", lua_tostring(L, -1));
  lua_getglobal(L, "checked");
  assert_true(lua_tointeger(L, -1) >= min_checked);
  lua_pop(L, 1);
}

static void test_pattern_cases_match_stock_lua(void **state) {
  (void)state;
  lua_State *L = open_state();
  run_chunk(L, cases, 15000);
  lua_close(L);
}

static void test_pattern_random_match_stock_lua(void **state) {
  (void)state;
  lua_State *L = open_state();
  run_chunk(L, random_cases, 20000);
  lua_close(L);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_pattern_cases_match_stock_lua),
      cmocka_unit_test(test_pattern_random_match_stock_lua),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
