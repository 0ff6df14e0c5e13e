/* merx.inventory and merx.dist from Lua: a plain lua_State with the two
 * openers installed as merx.inventory / merx.dist, running the same textbook
 * examples as test_inventory.c (Snyder & Shen) plus the error paths. */
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <string.h>

#include "testutil.h"

int mx__luaopen_inventory(lua_State *L);
int mx__luaopen_dist(lua_State *L);

static lua_State *new_state(void) {
  lua_State *L = luaL_newstate();
  luaL_openlibs(L);
  lua_newtable(L);
  mx__luaopen_inventory(L);
  lua_setfield(L, -2, "inventory");
  mx__luaopen_dist(L);
  lua_setfield(L, -2, "dist");
  lua_setglobal(L, "merx");
  return L;
}

/* Run code; returns NULL on success or the error message (static copy). */
static const char *run(lua_State *L, const char *code) {
  static char msg[1024];
  if (luaL_loadbuffer(L, code, strlen(code), "=test.lua") || lua_pcall(L, 0, 0, 0)) {
    snprintf(msg, sizeof msg, "%s", lua_tostring(L, -1));
    lua_pop(L, 1);
    return msg;
  }
  return NULL;
}

#define RUN_OK(L, code)                                  \
  do {                                                   \
    const char *e_ = run(L, code);                       \
    if (e_) {                                            \
      print_error("Lua error: %s\n", e_);                \
      fail();                                            \
    }                                                    \
  } while (0)

static const char *prelude =
    "local function near(a, b, tol, what)\n"
    "  if math.abs(a - b) > tol then error(what .. ': ' .. a .. ' vs ' .. b, 2) end\n"
    "end\n";

static void test_textbook_from_lua(void **state) {
  (void)state;
  lua_State *L = new_state();
  char code[8192];
  snprintf(code, sizeof code, "%s%s", prelude,
           "local inv, dist = merx.inventory, merx.dist\n"
           /* S&S Example 3.1 and 3.8 */
           "local e = inv.eoq{K = 8, h = 0.225, lambda = 1300}\n"
           "near(e.Q, 304.0467800264368, 1e-9, 'eoq Q'); near(e.cost, 68.41052550594829, 1e-9, 'eoq g')\n"
           "local b = inv.eoq_backorders{K = 8, h = 0.225, p = 5, lambda = 1300}\n"
           "near(b.Q, 310.81255515896464, 1e-9, 'eoqb Q'); near(b.x, 0.0430622009569378, 1e-12, 'x')\n"
           "near(inv.epq{K = 8, h = 0.225, lambda = 1300, mu = 1700}.Q, 626.8084945889684, 1e-9, 'epq')\n"
           "local qd = inv.eoq_discount{K = 8, i = 0.3, lambda = 1300, breaks = {0, 400, 800},\n"
           "                            prices = {0.75, 0.72, 0.68}}\n"
           "near(qd.Q, 800, 1e-9, 'all-units'); assert(qd.region == 3)\n"
           /* S&S Example 4.3 */
           "local nv = inv.newsvendor{h = 0.18, p = 0.70, dist = dist.normal(50, 8)}\n"
           "near(nv.S, 56.60395592743389, 1e-8, 'nv S'); near(nv.cost, 1.9976051931766445, 1e-8, 'nv g')\n"
           "near(inv.newsvendor{h = 0.18, p = 0.70, dist = dist.normal(50, 8), S = 60}.cost,\n"
           "     2.156131552870387, 1e-9, 'Example 4.1')\n"
           /* S&S Example 4.7 */
           "local ss = inv.ss{K = 5, h = 1, p = 4, dist = dist.poisson(6)}\n"
           "assert(ss.s == 4 and ss.S == 10, 'ss'); near(ss.cost, 8.034111561471642, 1e-9, 'ss g')\n"
           "local pw = inv.ss{K = 2.5, h = 0.18, p = 0.70, dist = dist.normal(50, 8)}\n"
           "near(pw.s, 40.19461695647407, 1e-8, 'power s')\n"
           /* S&S Examples 5.1, 5.5, 5.6, 5.8 */
           "local rq = inv.rq{K = 8, h = 0.225, p = 7.5, lambda = 1300, tau = 150, L = 1/12}\n"
           "near(rq.r, 126.8, 0.1, 'rq r'); near(rq.Q, 328.5, 0.1, 'rq Q')\n"
           "near(inv.rq{K = 8, h = 0.225, p = 7.5, lambda = 1300, tau = 150, L = 1/12, r = 126.8,\n"
           "            Q = 328.5}.cost, 78.07116250928294, 1e-6, 'rq cost')\n"
           "near(inv.rq{K = 8, h = 0.225, p = 7.5, lambda = 1300, tau = 150, L = 1/12,\n"
           "            method = 'eoqss'}.r, 190.3369965715624, 1e-6, 'eoq+ss')\n"
           "near(inv.rq{K = 8, h = 0.225, p = 7.5, lambda = 1300, tau = 150, L = 1/12,\n"
           "            method = 'loss'}.Q, 328.4491421980451, 1e-4, 'loss approx')\n"
           "local rp = inv.rq{K = 100, h = 20, p = 150, lambda = 1.5, L = 2}\n"
           "assert(rp.r == 3 and rp.Q == 5, 'poisson rq'); near(rp.cost, 107.92358063314975, 1e-9, 'g')\n"
           /* loss functions, bulk */
           "local n = inv.normal_loss({18.6, 15}, 15, 3)\n"
           "near(n[1], 0.1683073521514889, 1e-12, 'normal loss')\n"
           "near(inv.poisson_loss2(18, 15), 0.848340302917789, 1e-10, 'poisson n2')\n"
           /* distributions */
           "local d = dist.discrete{[0] = 0.25, [1] = 0.5, [3] = 0.25}\n"
           "near(d:mean(), 1.25, 1e-15, 'mean'); assert(d:quantile(0.5) == 1)\n"
           "local c = d:cdf({0, 1, 2}); near(c[2], 0.75, 1e-15, 'cdf')\n"
           "near(d:periods(2):mean(), 2.5, 1e-12, 'periods')\n"
           "local em = dist.empirical{0, 0, 1, 3}; near(em:loss(1), 0.5, 1e-15, 'empirical loss')\n"
           "local ln = dist.lognormal(2, 0.3); near(ln:loss(10), 0.28364973888106326, 1e-12, 'lognormal')\n"
           "assert(tostring(dist.poisson(3)):find('poisson'))\n"
           "local smp = dist.poisson(4):sample(1000, 3); assert(#smp == 1000)\n"
           /* service levels */
           "local sf = inv.safety_stock{service = 0.95, mu = 12, sigma = 4, L = 7, sigma_L = 1}\n"
           "near(sf.sd, 16, 1e-12, 'sd with lead-time variance')\n"
           "local ro = inv.reorder_point{mu = 12, sigma = 4, L = 7, service = 0.95}\n"
           "near(ro.r, 84 + 1.6448536269514722 * 4 * math.sqrt(7), 1e-8, 'reorder point')\n"
           "local ou = inv.order_up_to{dist = dist.poisson(4), L = 2, service = 0.95, type = 'fill'}\n"
           "assert(ou.fill_rate >= 0.95 and ou.S == math.floor(ou.S))\n"
           "near(inv.fill_rate{policy = 'rs', dist = dist.poisson(4), L = 2, S = ou.S}, ou.fill_rate, 1e-12, 'fr')\n"
           /* simulation */
           "local dem = dist.poisson(6):sample(20000, 11)\n"
           "local sim = inv.simulate{policy = 'ss', s = 4, S = 10, K = 5, h = 1, p = 4, demand = dem}\n"
           "near(sim.total_cost / sim.periods, 8.034, 0.2, 'simulated (s,S) cost')\n"
           "local two = inv.simulate{S = 30, L = 1, paths = {{5, 5, 5}, {6, 6, 6}}}\n"
           "assert(two.periods == 6 and two.fill_rate == 1)\n"
           /* plan */
           "local pl = inv.plan{service = 0.95, items = {\n"
           "  {id = 'A', on_hand = 12, on_order = 5, lead_time = 2, forecast = {10, 10, 10},\n"
           "   sigma = {3, 3, 3}},\n"
           "  {id = 'B', on_hand = 0, lead_time = 1, moq = 25, pack_size = 12,\n"
           "   forecast = {mean = {3, 3}}}}}\n"
           "assert(pl[1].id == 'A' and pl[1].order == 22, 'plan A ' .. pl[1].order)\n"
           "assert(pl[2].order == 36, 'plan B')\n");
  RUN_OK(L, code);
  lua_close(L);
}

static void test_errors_from_lua(void **state) {
  (void)state;
  lua_State *L = new_state();
  const char *e = run(L, "local x = 1\nmerx.inventory.eoq{K = 8, h = 0, lambda = 1300}");
  assert_non_null(e);
  assert_non_null(strstr(e, "test.lua:2:"));
  assert_non_null(strstr(e, "h (holding cost) must be a positive number"));
  e = run(L, "merx.inventory.safety_stock{service = 1, mu = 1, sigma = 1, L = 1}");
  assert_non_null(e);
  assert_non_null(strstr(e, "service must be strictly between 0 and 1"));
  e = run(L, "merx.inventory.eoq{K = 8, lambda = 1300}");
  assert_non_null(e);
  assert_non_null(strstr(e, "field 'h' is required"));
  e = run(L, "merx.inventory.newsvendor{h = 1, p = 2, dist = 5}");
  assert_non_null(e);
  assert_non_null(strstr(e, "merx.dist distribution"));
  e = run(L, "merx.dist.normal(5, -1)");
  assert_non_null(e);
  assert_non_null(strstr(e, "sigma must be >= 0"));
  e = run(L, "merx.dist.discrete{[1] = 0.5, [2] = 0.6}");
  assert_non_null(e);
  assert_non_null(strstr(e, "sum"));
  e = run(L, "merx.dist.poisson(3):quantile(1)");
  assert_non_null(e);
  e = run(L, "merx.inventory.ss{K = 1, h = 1, p = 2, dist = merx.dist.normal(5, 1), method = 'exact'}");
  assert_non_null(e);
  assert_non_null(strstr(e, "power approximation"));
  e = run(L, "merx.inventory.plan{items = {{on_hand = 1, lead_time = 1, forecast = {1, -2}}}}");
  assert_non_null(e);
  assert_non_null(strstr(e, "items[1]: forecast of period 2"));
  e = run(L, "merx.inventory.simulate{S = 5, demand = {1, -1}}");
  assert_non_null(e);
  lua_close(L);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_textbook_from_lua),
      cmocka_unit_test(test_errors_from_lua),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
