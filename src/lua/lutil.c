/* merx.util: bulk helpers the pure-Lua DSLs compile to.
 *
 *   merx.util.order(values [, "asc"|"desc"]) -> permutation (1-based), stable
 *   merx.util.select(candidates, opts) -> chosen, spend, left
 *
 * select is the greedy allocator the campaign DSL uses: candidates (user,
 * offer, value, cost, optional group) are taken by decreasing value while the
 * budget, the per-user limit, the per-offer caps (stock) and the per-group
 * caps allow. Greedy by value is the classic 1/2-approximation-free heuristic
 * for this multiple-choice knapsack; the exact dual solution is
 * merx.allocate's job when that module is present. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "lua/internal.h"
#include "lua/lmerx.h"
#include "merx/data.h"

typedef struct { double v; uint32_t i; } dv;
static int desc(const void *a, const void *b) {
  const dv *x = a, *y = b;
  if (x->v != y->v) return x->v > y->v ? -1 : 1;
  return x->i < y->i ? -1 : (x->i > y->i);
}
static int asc(const void *a, const void *b) {
  const dv *x = a, *y = b;
  if (x->v != y->v) return x->v < y->v ? -1 : 1;
  return x->i < y->i ? -1 : (x->i > y->i);
}

static int l_order(lua_State *L) {
  size_t n;
  double *v = mx_lua_check_doubles(L, 1, &n);
  const char *dir = luaL_optstring(L, 2, "asc");
  dv *t = mx_lua_scratch(L, n * sizeof *t);
  for (size_t i = 0; i < n; i++) t[i] = (dv){isnan(v[i]) ? -INFINITY : v[i], (uint32_t)i};
  qsort(t, n, sizeof *t, strcmp(dir, "desc") == 0 ? desc : asc);
  lua_createtable(L, (int)n, 0);
  for (size_t i = 0; i < n; i++) {
    lua_pushinteger(L, (lua_Integer)t[i].i + 1);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  return 1;
}

/* Map each element of the array at idx to a dense id: strings through the
 * id map; positive integers (1-based ids the caller already made dense, the
 * fast path the campaign DSL uses) as they are, *max tracking the largest. */
static uint32_t *intern_column(lua_State *L, int idx, size_t n, mx_idmap *m, const char *what,
                               uint32_t *max, int *is_int) {
  idx = lua_absindex(L, idx);
  *is_int = 0;
  if (!lua_istable(L, idx)) mx_lua_error(L, "merx.util.select: '%s' must be an array", what);
  if (n > 0 && lua_rawgeti(L, idx, 1) == LUA_TNUMBER) {
    lua_pop(L, 1);
    *is_int = 1;
    uint32_t *ids = mx_lua_scratch(L, n * sizeof *ids);
    if ((size_t)lua_rawlen(L, idx) != n)
      mx_lua_error(L, "merx.util.select: '%s' has %zu entries, value has %zu", what,
                   (size_t)lua_rawlen(L, idx), n);
    *max = 0;
    for (size_t i = 0; i < n; i++) {
      lua_rawgeti(L, idx, (lua_Integer)i + 1);
      int ok;
      lua_Integer v = lua_tointegerx(L, -1, &ok);
      lua_pop(L, 1);
      if (!ok || v < 1 || v > (lua_Integer)UINT32_MAX - 1)
        mx_lua_error(L, "merx.util.select: '%s'[%zu] must be a string or an integer >= 1", what, i + 1);
      ids[i] = (uint32_t)(v - 1);
      if ((uint32_t)v > *max) *max = (uint32_t)v;
    }
    return ids;
  }
  if (n > 0) lua_pop(L, 1);
  *max = 0;
  size_t k;
  const char **s = mx_lua_check_strings(L, idx, &k);
  if (k != n) mx_lua_error(L, "merx.util.select: '%s' has %zu entries, value has %zu", what, k, n);
  uint32_t *ids = mx_lua_scratch(L, n * sizeof *ids);
  for (size_t i = 0; i < n; i++) {
    int64_t g = mx_idmap_intern(m, s[i], strlen(s[i]));
    if (g < 0) mx_lua_error(L, "merx.util.select: out of memory");
    ids[i] = (uint32_t)g;
  }
  *max = mx_idmap_size(m);
  return ids;
}

static int idmap_gc(lua_State *L) {
  mx_idmap **m = lua_touserdata(L, 1);
  mx_idmap_free(*m);
  *m = NULL;
  return 0;
}

static mx_idmap *new_idmap(lua_State *L) {
  mx_idmap **m = lua_newuserdatauv(L, sizeof *m, 0);
  *m = NULL;
  lua_createtable(L, 0, 1);
  lua_pushcfunction(L, idmap_gc);
  lua_setfield(L, -2, "__gc");
  mx_lua_protect_metatable(L, "merx.idmap");
  lua_setmetatable(L, -2);
  *m = mx_idmap_create();
  if (!*m) mx_lua_error(L, "out of memory");
  return *m;
}

/* Caps table {name = n} (or {[id] = n} with integer ids) -> per-id caps
 * array (UINT32_MAX = none). */
static uint32_t *caps_for(lua_State *L, int opts, const char *field, mx_idmap *m, uint32_t nid,
                          int integer_ids) {
  uint32_t *cap = mx_lua_scratch(L, (nid ? nid : 1) * sizeof *cap);
  for (uint32_t i = 0; i < nid; i++) cap[i] = UINT32_MAX;
  if (lua_isnoneornil(L, opts) || lua_getfield(L, opts, field) == LUA_TNIL) {
    if (!lua_isnoneornil(L, opts)) lua_pop(L, 1);
    return cap;
  }
  if (!lua_istable(L, -1)) mx_lua_error(L, "merx.util.select: '%s' must be a table", field);
  lua_pushnil(L);
  while (lua_next(L, -2)) {
    int ok;
    lua_Integer c = lua_tointegerx(L, -1, &ok);
    if (!ok || c < 0) mx_lua_error(L, "merx.util.select: '%s' maps names to counts >= 0", field);
    int64_t id = -1;
    if (integer_ids) {
      int oki;
      lua_Integer k = lua_tointegerx(L, -2, &oki);
      if (oki && k >= 1 && (uint64_t)k <= nid) id = k - 1;
    } else if (lua_type(L, -2) == LUA_TSTRING) {
      size_t len;
      const char *k = lua_tolstring(L, -2, &len);
      id = mx_idmap_find(m, k, len);
    }
    if (id >= 0) cap[id] = (uint32_t)(c > UINT32_MAX - 1 ? UINT32_MAX - 1 : c);
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  return cap;
}

static int l_select(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  int opts = 2;
  if (!lua_isnoneornil(L, opts)) luaL_checktype(L, opts, LUA_TTABLE);
  double budget = mx_lua_opt_number(L, opts, "budget", INFINITY);
  lua_Integer per_user = mx_lua_opt_integer(L, opts, "per_user", 1);
  double min_value = mx_lua_opt_number(L, opts, "min_value", 0);
  size_t n, nc;
  lua_getfield(L, 1, "value");
  double *value = mx_lua_check_doubles(L, -1, &n);
  lua_getfield(L, 1, "cost");
  double *cost = lua_istable(L, -1) ? mx_lua_check_doubles(L, -1, &nc) : NULL;
  if (cost && nc != n) return mx_lua_error(L, "merx.util.select: 'cost' and 'value' differ in length");
  mx_idmap *users = new_idmap(L), *offers = new_idmap(L), *groups = new_idmap(L);
  uint32_t nu = 0, no = 0, ng = 0;
  int uint_ = 0, oint = 0, gint = 0;
  lua_getfield(L, 1, "user");
  uint32_t *u = intern_column(L, -1, n, users, "user", &nu, &uint_);
  lua_getfield(L, 1, "offer");
  uint32_t *o = intern_column(L, -1, n, offers, "offer", &no, &oint);
  uint32_t *g = NULL;
  if (lua_getfield(L, 1, "group") == LUA_TTABLE) g = intern_column(L, -1, n, groups, "group", &ng, &gint);
  uint32_t *ocap = caps_for(L, opts, "caps", offers, no, oint);
  uint32_t *gcap = caps_for(L, opts, "group_caps", groups, ng, gint);
  uint32_t *ucount = mx_lua_scratch(L, (nu ? nu : 1) * sizeof *ucount);
  uint32_t *ocount = mx_lua_scratch(L, (no ? no : 1) * sizeof *ocount);
  uint32_t *gcount = mx_lua_scratch(L, (ng ? ng : 1) * sizeof *gcount);
  memset(ucount, 0, (nu ? nu : 1) * sizeof *ucount);
  memset(ocount, 0, (no ? no : 1) * sizeof *ocount);
  memset(gcount, 0, (ng ? ng : 1) * sizeof *gcount);
  dv *t = mx_lua_scratch(L, n * sizeof *t);
  size_t m = 0;
  for (size_t i = 0; i < n; i++)
    if (value[i] > min_value && !isnan(value[i])) t[m++] = (dv){value[i], (uint32_t)i};
  qsort(t, m, sizeof *t, desc);
  lua_createtable(L, 0, 0);
  int chosen = lua_gettop(L);
  lua_createtable(L, 0, 0);
  int left = lua_gettop(L);
  double spend = 0;
  lua_Integer k = 0;
  for (size_t j = 0; j < m; j++) {
    uint32_t i = t[j].i;
    double c = cost ? cost[i] : 0;
    if (ucount[u[i]] >= (uint64_t)per_user) continue;
    if (ocount[o[i]] >= ocap[o[i]]) continue;
    if (g && gcount[g[i]] >= gcap[g[i]]) continue;
    if (spend + c > budget) continue;
    spend += c;
    ucount[u[i]]++;
    ocount[o[i]]++;
    if (g) gcount[g[i]]++;
    k++;
    lua_pushinteger(L, (lua_Integer)i + 1);
    lua_rawseti(L, chosen, k);
    lua_pushnumber(L, budget - spend);
    lua_rawseti(L, left, k);
  }
  lua_pushvalue(L, chosen);
  lua_pushnumber(L, spend);
  lua_pushvalue(L, left);
  return 3;
}

int mx_luaopen_util(lua_State *L) {
  static const luaL_Reg f[] = {{"order", l_order}, {"select", l_select}, {NULL, NULL}};
  luaL_newlib(L, f);
  return 1;
}
