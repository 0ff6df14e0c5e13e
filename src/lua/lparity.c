/* Parity constraints of the allocation bindings (merx.util.select, the
 * campaign DSL through it, and merx.allocate): groups, shares, the rate
 * ratio, and the report of their prices and cost. */
#include <lauxlib.h>
#include <lua.h>
#include <string.h>

#include "lua/lmerx.h"
#include "merx/allocate.h"
#include "merx/idmap.h"

int mx__lua_alloc_parity(lua_State *L, int opts, mx_alloc_problem *p, uint32_t *grp,
                        mx_idmap *names, uint32_t npg, double parity, const char *what,
                        mx_error *err) {
  /* integer user ids index users directly: ids without a row have no group
   * and no candidate; they go in group 0 without counting in it */
  uint32_t unknown = 0;
  for (uint32_t v = 0; v < p->n_users; v++)
    if (grp[v] == UINT32_MAX) grp[v] = 0, unknown++;
  const char *gn[MX_ALLOC_MAX_GROUPS];
  for (uint32_t g = 0; g < npg; g++) gn[g] = mx_idmap_name(names, g);
  int rc = mx_alloc_problem_set_groups(p, grp, npg, gn, err);
  if (rc) return rc;
  p->group_users[0] -= unknown;
  if (lua_getfield(L, opts, "parity_users") == LUA_TTABLE) {
    for (uint32_t g = 0; g < npg; g++) {
      lua_getfield(L, -1, gn[g]);
      if (lua_isnumber(L, -1) && lua_tonumber(L, -1) > p->group_users[g])
        p->group_users[g] = lua_tonumber(L, -1);
      lua_pop(L, 1);
    }
  }
  lua_pop(L, 1);
  if (lua_getfield(L, opts, "group_shares") == LUA_TTABLE) {
    lua_pushnil(L);
    while (lua_next(L, -2)) {
      const char *name = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
      int64_t g = name ? mx_idmap_find(names, name, strlen(name)) : -1;
      if (g < 0)
        return mx__lua_error(L, "%s: group_shares: no user is in group '%s'", what,
                            name ? name : "?");
      if (!lua_istable(L, -1))
        return mx__lua_error(L, "%s: group_shares.%s: expected { min, max }", what, name);
      lua_rawgeti(L, -1, 1);
      lua_rawgeti(L, -2, 2);
      double lo = lua_isnil(L, -2) ? 0 : lua_tonumber(L, -2);
      double hi = lua_isnil(L, -1) ? 1 : lua_tonumber(L, -1);
      lua_pop(L, 3);
      if ((rc = mx_alloc_add_share(p, (uint32_t)g, lo, hi, err))) return rc;
    }
  }
  lua_pop(L, 1);
  return parity > 0 ? mx_alloc_add_parity(p, parity, err) : MX_OK;
}


void mx__lua_push_parity(lua_State *L, const mx_alloc_problem *p, const mx_alloc_result *r,
                        double unconstrained) {
  lua_createtable(L, 0, 4);
  lua_pushnumber(L, unconstrained);
  lua_setfield(L, -2, "unconstrained_objective");
  lua_pushnumber(L, unconstrained - r->objective);
  lua_setfield(L, -2, "value_lost");
  lua_createtable(L, 0, p->n_group_constraints);
  for (int c = 0; c < p->n_group_constraints; c++) {
    lua_pushnumber(L, r->nu[c]);
    lua_setfield(L, -2, p->gc[c].name);
  }
  lua_setfield(L, -2, "prices");
  lua_createtable(L, 0, (int)p->n_groups);
  for (uint32_t g = 0; g < p->n_groups; g++) {
    lua_createtable(L, 0, 4);
    lua_pushnumber(L, p->group_users[g]);
    lua_setfield(L, -2, "users");
    lua_pushnumber(L, r->group_used[g]);
    lua_setfield(L, -2, "offers");
    if (p->group_users[g] > 0) {
      lua_pushnumber(L, r->group_used[g] / p->group_users[g]);
      lua_setfield(L, -2, "rate");
    }
    if (r->assigned) {
      lua_pushnumber(L, r->group_used[g] / (double)r->assigned);
      lua_setfield(L, -2, "share");
    }
    lua_setfield(L, -2, p->group_name[g]);
  }
  lua_setfield(L, -2, "groups");
}

