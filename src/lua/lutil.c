/* merx.util: bulk helpers the pure-Lua DSLs compile to.
 *
 *   merx.util.order(values [, "asc"|"desc"]) -> permutation (1-based), stable
 *   merx.util.select(candidates, opts) -> chosen, spend, left, certificate
 *
 * select is the budgeted choice the campaign DSL compiles to: candidates
 * (user, offer, value, cost, optional group) under a budget, a per-user
 * limit, per-offer caps (stock) and per-group caps. The problem is the
 * core's (mx_alloc_from_columns) and so is its solution (merx/allocate.h);
 * this binding turns the Lua columns into dense ids, adds what only a run
 * knows (parity options, the shard's quota and prices) and converts back. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "lua/internal.h"
#include "lua/lmerx.h"
#include "merx/allocate.h"
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
  /* the direction first: the scratch buffer is pushed as the next value */
  const char *dir = luaL_optstring(L, 2, "asc");
  size_t n;
  double *v = mx__lua_check_doubles(L, 1, &n);
  dv *t = mx__lua_scratch(L, n * sizeof *t);
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
  if (!lua_istable(L, idx)) mx__lua_error(L, "merx.util.select: '%s' must be an array", what);
  if (n > 0 && lua_rawgeti(L, idx, 1) == LUA_TNUMBER) {
    lua_pop(L, 1);
    *is_int = 1;
    uint32_t *ids = mx__lua_scratch(L, n * sizeof *ids);
    if ((size_t)lua_rawlen(L, idx) != n)
      mx__lua_error(L, "merx.util.select: '%s' has %zu entries, value has %zu", what,
                   (size_t)lua_rawlen(L, idx), n);
    *max = 0;
    for (size_t i = 0; i < n; i++) {
      lua_rawgeti(L, idx, (lua_Integer)i + 1);
      int ok;
      lua_Integer v = lua_tointegerx(L, -1, &ok);
      lua_pop(L, 1);
      if (!ok || v < 1 || v > (lua_Integer)UINT32_MAX - 1)
        mx__lua_error(L, "merx.util.select: '%s'[%zu] must be a string or an integer >= 1", what, i + 1);
      ids[i] = (uint32_t)(v - 1);
      if ((uint32_t)v > *max) *max = (uint32_t)v;
    }
    return ids;
  }
  if (n > 0) lua_pop(L, 1);
  *max = 0;
  size_t k;
  const char **s = mx__lua_check_strings(L, idx, &k);
  if (k != n) mx__lua_error(L, "merx.util.select: '%s' has %zu entries, value has %zu", what, k, n);
  uint32_t *ids = mx__lua_scratch(L, n * sizeof *ids);
  for (size_t i = 0; i < n; i++) {
    int64_t g = mx_idmap_intern(m, s[i], strlen(s[i]));
    if (g < 0) mx__lua_error(L, "merx.util.select: out of memory");
    ids[i] = (uint32_t)g;
  }
  *max = mx_idmap_size(m);
  return ids;
}

static void idmap_release(void *state) {
  mx_idmap **m = state;
  mx_idmap_free(*m);
  *m = NULL;
}

/* An id map owned by a guard on the stack, so an error frees it. */
static mx_idmap *new_idmap(lua_State *L) {
  mx_idmap **m = mx__lua_guard(L, sizeof *m, idmap_release);
  *m = mx_idmap_create();
  if (!*m) mx__lua_error(L, "out of memory");
  return *m;
}

/* Caps table {name = n} (or {[id] = n} with integer ids) -> per-id caps
 * array (UINT32_MAX = none). */
static uint32_t *caps_for(lua_State *L, int opts, const char *field, mx_idmap *m, uint32_t nid,
                          int integer_ids) {
  uint32_t *cap = mx__lua_scratch(L, (nid ? nid : 1) * sizeof *cap);
  for (uint32_t i = 0; i < nid; i++) cap[i] = UINT32_MAX;
  if (lua_isnoneornil(L, opts) || lua_getfield(L, opts, field) == LUA_TNIL) {
    if (!lua_isnoneornil(L, opts)) lua_pop(L, 1);
    return cap;
  }
  if (!lua_istable(L, -1)) mx__lua_error(L, "merx.util.select: '%s' must be a table", field);
  lua_pushnil(L);
  while (lua_next(L, -2)) {
    int ok;
    lua_Integer c = lua_tointegerx(L, -1, &ok);
    if (!ok || c < 0) mx__lua_error(L, "merx.util.select: '%s' maps names to counts >= 0", field);
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

/* Names of dense ids 0..n-1 for messages and saved prices: the id map's
 * strings, else opts[field] (a list, the caller's names for integer ids),
 * else the integer itself. */
static const char **names_for(lua_State *L, int opts, const char *field, mx_idmap *m, uint32_t n,
                              int integer_ids) {
  const char **name = mx__lua_scratch(L, (n ? n : 1) * sizeof *name);
  char *num = mx__lua_scratch(L, (size_t)(n ? n : 1) * 12);
  int list = 0;
  if (integer_ids && !lua_isnoneornil(L, opts)) {
    lua_getfield(L, opts, field); /* stays on the stack: it owns the strings */
    list = lua_istable(L, -1) ? lua_gettop(L) : 0;
  }
  for (uint32_t i = 0; i < n; i++) {
    if (!integer_ids) {
      name[i] = mx_idmap_name(m, i);
      continue;
    }
    if (list && lua_rawgeti(L, list, (lua_Integer)i + 1) == LUA_TSTRING) {
      name[i] = lua_tostring(L, -1);
      lua_pop(L, 1);
      continue;
    }
    if (list) lua_pop(L, 1);
    snprintf(num + (size_t)i * 12, 12, "%u", i + 1);
    name[i] = num + (size_t)i * 12;
  }
  return name;
}

typedef struct {
  mx_alloc_problem *p;
  uint32_t *cand; /* candidate position -> input row */
  mx_alloc_result res;
  int have_res;
} select_state;

static void select_release(void *state) {
  select_state *st = state;
  mx_alloc_problem_free(st->p);
  st->p = NULL;
  free(st->cand);
  st->cand = NULL;
  if (st->have_res) mx_alloc_result_free(&st->res);
  st->have_res = 0;
}

/* Parity groups of merx.util.select: each user's group is the parity_group
 * of its candidate rows (one per user; also rows below min_value, so a user
 * whose rows are all filtered out still counts in its group). */
static int set_parity(lua_State *L, int opts, mx_alloc_problem *p, const uint32_t *pg,
                      const uint32_t *user, size_t n, mx_idmap *names, uint32_t npg, double parity,
                      mx_error *err) {
  uint32_t *grp = mx__lua_scratch(L, (p->n_users ? p->n_users : 1) * sizeof *grp);
  size_t *first = mx__lua_scratch(L, (p->n_users ? p->n_users : 1) * sizeof *first);
  for (uint32_t v = 0; v < p->n_users; v++) grp[v] = UINT32_MAX;
  for (size_t i = 0; i < n; i++) {
    if (grp[user[i]] == UINT32_MAX) {
      grp[user[i]] = pg[i];
      first[user[i]] = i;
    } else if (grp[user[i]] != pg[i]) {
      return mx__lua_error(L, "merx.util.select: candidates %zu and %zu of one user are in "
                          "different parity groups", first[user[i]] + 1, i + 1);
    }
  }
  return mx__lua_alloc_parity(L, opts, p, grp, names, npg, parity, "merx.util.select", err);
}

/* The choice is the allocation solver's (mx_alloc_solve): the budget and
 * every capped group become priced constraints, the offers' caps are its
 * offer caps, so candidates are ranked by value net of the priced costs --
 * value per unit of cost where the budget binds -- and the result carries
 * the solver's certificate (bound and gap). One solver for merx.allocate,
 * `merx allocate` and the campaign DSL. */
static int l_select(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  int opts = 2;
  if (!lua_isnoneornil(L, opts)) luaL_checktype(L, opts, LUA_TTABLE);
  mx__lua_check_options(L, 1, "merx.util.select: candidates",
                       "user offer value cost group parity_group");
  mx__lua_check_options(L, opts, "merx.util.select",
                       "budget per_user min_value caps group_caps threads gap offer_names "
                       "group_names user_names parity group_shares parity_users");
  double budget = mx__lua_opt_number(L, opts, "budget", INFINITY);
  lua_Integer per_user = mx__lua_opt_integer(L, opts, "per_user", 1);
  double min_value = mx__lua_opt_number(L, opts, "min_value", 0);
  lua_Integer threads = mx__lua_opt_integer(L, opts, "threads", 0);
  if (!(budget >= 0)) return mx__lua_error(L, "merx.util.select: budget must be a number >= 0");
  if (per_user < 1 || per_user > 1000000)
    return mx__lua_error(L, "merx.util.select: per_user must be 1..1000000");
  size_t n, nc;
  lua_getfield(L, 1, "value");
  double *value = mx__lua_check_doubles(L, -1, &n);
  lua_getfield(L, 1, "cost");
  double *cost = lua_istable(L, -1) ? mx__lua_check_doubles(L, -1, &nc) : NULL;
  if (cost && nc != n) return mx__lua_error(L, "merx.util.select: 'cost' and 'value' differ in length");
  if (n > UINT32_MAX - 1) return mx__lua_error(L, "merx.util.select: too many candidates");
  mx_idmap *users = new_idmap(L), *offers = new_idmap(L), *groups = new_idmap(L);
  uint32_t nu = 0, no = 0, ng = 0;
  int uint_ = 0, oint = 0, gint = 0;
  lua_getfield(L, 1, "user");
  uint32_t *u = intern_column(L, -1, n, users, "user", &nu, &uint_);
  lua_getfield(L, 1, "offer");
  uint32_t *o = intern_column(L, -1, n, offers, "offer", &no, &oint);
  uint32_t *g = NULL;
  if (lua_getfield(L, 1, "group") == LUA_TTABLE) g = intern_column(L, -1, n, groups, "group", &ng, &gint);
  /* parity groups: one per user (a user attribute), as names */
  mx_idmap *pgroups = new_idmap(L);
  uint32_t npg = 0, *pg = NULL;
  int pgint = 0;
  if (lua_getfield(L, 1, "parity_group") == LUA_TTABLE)
    pg = intern_column(L, -1, n, pgroups, "parity_group", &npg, &pgint);
  else if (!lua_isnil(L, -1))
    return mx__lua_error(L, "merx.util.select: parity_group must be a column (a table)");
  lua_pop(L, 1);
  if (npg > MX_ALLOC_MAX_GROUPS)
    return mx__lua_error(L, "merx.util.select: %u parity groups (at most %d)", npg,
                        MX_ALLOC_MAX_GROUPS);
  double parity = mx__lua_opt_number(L, opts, "parity", 0);
  if (parity != 0 && !(parity > 0 && parity <= 1))
    return mx__lua_error(L, "merx.util.select: parity must be in (0, 1]");
  int has_shares = lua_getfield(L, opts, "group_shares") == LUA_TTABLE;
  lua_pop(L, 1);
  if ((parity > 0 || has_shares) && !pg)
    return mx__lua_error(L, "merx.util.select: parity and group_shares need a parity_group column");
  uint32_t *ocap = caps_for(L, opts, "caps", offers, no, oint);
  uint32_t *gcap = caps_for(L, opts, "group_caps", groups, ng, gint);

  /* the problem: the core's (mx_alloc_from_columns) */
  const char **gname = g ? names_for(L, opts, "group_names", groups, ng, gint) : NULL;
  mx_alloc_columns ac = {n, u, o, g, nu, no, ng, value, cost, min_value, budget,
                         (uint32_t)per_user, ocap, gcap, gname};
  select_state *st = mx__lua_guard(L, sizeof *st, select_release);
  mx_error err;
  mx_error_clear(&err);
  if (mx_alloc_from_columns(&ac, &st->p, &st->cand, &err))
    return err.code == MX_EINVAL ? mx__lua_error(L, "merx.util.select: %s", err.message)
                                 : mx__lua_raise(L, &err);
  lua_createtable(L, 0, 0);
  int chosen = lua_gettop(L);
  lua_createtable(L, 0, 0);
  int left = lua_gettop(L);
  lua_createtable(L, 0, 4);
  int cert = lua_gettop(L);
  double spend = 0;
  if (!st->p) { /* no candidate can be chosen */
    mx__lua_guard_release(st);
    lua_pushvalue(L, chosen);
    lua_pushnumber(L, 0);
    lua_pushvalue(L, left);
    lua_pushvalue(L, cert);
    return 4;
  }
  mx_alloc_problem *p = st->p;
  if (pg && (parity > 0 || has_shares) &&
      set_parity(L, opts, p, pg, u, n, pgroups, npg, parity, &err))
    return mx__lua_raise(L, &err);
  if (mx_alloc_problem_check(p, &err)) {
    /* a repeated (user, offer) pair: name it in the caller's terms */
    uint64_t ra, rb;
    if (mx_alloc_find_repeat(p, &ra, &rb))
      return mx__lua_error(L, "merx.util.select: candidates %u and %u give the same offer to "
                          "the same user", st->cand[ra] + 1, st->cand[rb] + 1);
    return mx__lua_raise(L, &err);
  }
  mx_alloc_options aopt = mx_alloc_defaults();
  aopt.threads = (int)threads;
  aopt.gap = mx__lua_opt_number(L, opts, "gap", aopt.gap);
  mx_cancel cancel = mx__lua_cancel(L); /* the run's --timeout and signals reach the solver */
  aopt.cancel = &cancel;
  /* under --shard: this shard's quota of the budget and caps, and the prices of --duals */
  const char **oname = names_for(L, opts, "offer_names", offers, no, oint);
  double *lambda = mx__lua_scratch(L, MX_ALLOC_MAX_RESOURCES * sizeof *lambda);
  double *mu = mx__lua_scratch(L, (size_t)p->n_offers * sizeof *mu);
  int priced = mx__lua_alloc_share(L, p, oname, lambda, mu, "merx.util.select");
  if (isfinite(budget)) budget = p->limit[0];
  if (priced ? mx_alloc_apply(p, lambda, mu, &aopt, &st->res, &err)
             : mx_alloc_solve(p, &aopt, &st->res, &err))
    return mx__lua_raise(L, &err);
  st->have_res = 1;
  mx_run *run = mx__lua_run(L);
  if (!priced && run && run->solve_path)
    mx__lua_alloc_solved(L, p, oname, names_for(L, opts, "user_names", users, nu, uint_), &st->res,
                        "merx.util.select");

  /* chosen candidates in input order, with the budget left after each */
  mx_alloc_result *r = &st->res;
  uint32_t *pick = mx__lua_scratch(L, (r->assigned ? r->assigned : 1) * sizeof *pick);
  mx_alloc_chosen_rows(r, st->cand, pick);
  for (uint64_t k = 0; k < r->assigned; k++) {
    spend += cost ? cost[pick[k]] : 0;
    lua_pushinteger(L, (lua_Integer)pick[k] + 1);
    lua_rawseti(L, chosen, (lua_Integer)k + 1);
    lua_pushnumber(L, budget - spend);
    lua_rawseti(L, left, (lua_Integer)k + 1);
  }
  lua_pushnumber(L, r->objective);
  lua_setfield(L, cert, "objective");
  lua_pushnumber(L, r->bound);
  lua_setfield(L, cert, "bound");
  lua_pushnumber(L, r->gap);
  lua_setfield(L, cert, "gap");
  lua_createtable(L, 0, p->n_resources);
  for (int k = 0; k < p->n_resources; k++) {
    lua_pushnumber(L, r->lambda[k]);
    lua_setfield(L, -2, p->resource_name[k]);
  }
  lua_setfield(L, cert, "prices");
  if (p->n_group_constraints) {
    double unconstrained;
    if (mx_alloc_unconstrained_objective(p, &aopt, &unconstrained, &err))
      return mx__lua_raise(L, &err);
    mx__lua_push_parity(L, p, r, unconstrained);
    lua_setfield(L, cert, "parity");
  }
  mx__lua_guard_release(st);
  lua_pushvalue(L, chosen);
  lua_pushnumber(L, spend);
  lua_pushvalue(L, left);
  lua_pushvalue(L, cert);
  return 4;
}

int mx__luaopen_util(lua_State *L) {
  static const luaL_Reg f[] = {{"order", l_order},
                               {"select", l_select},
                               {"check_options", mx__lua_check_options_l},
                               {NULL, NULL}};
  luaL_newlib(L, f);
  return 1;
}
