/* merx.allocate from Lua: one call builds the instance from Lua tables (or
 * from a value function called on blocks of users), solves it and returns
 * the plan with its certificate.
 *
 *   local plan = merx.allocate{
 *     users = {"c1", "c2", ...},           -- optional, default 1..#value
 *     offers = {"FREESHIP", "TENOFF"},      -- optional, default 1..#value[1]
 *     value = matrix | function(users_block, offers) -> rows,
 *     cost = number | per-offer list/map | matrix | function,  -- budget cost
 *     budget = 40000,
 *     constraints = { {name = "sms", cost = ..., limit = 5000}, ... },
 *     caps = { TENOFF = 1000 },
 *     per_user = 1, threads = 0,
 *     prices = plan.prices, offer_prices = plan.offer_prices,  -- apply, no solve
 *   }
 *
 * A row of a matrix is a list indexed like offers, or a map keyed by offer
 * id; a missing (nil) value means the offer is not eligible for that user.
 * The value function is called with up to 4096 users at a time. */
#include <lauxlib.h>
#include <lua.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lua/lmerx.h"
#include "merx/allocate.h"
#include "util/util.h"

#define BLOCK 4096
#define CTX_META "merx.allocate.ctx"

/* Everything C allocates lives in this userdata, so a Lua error raised
 * halfway (bad input) frees it through __gc. */
typedef struct {
  mx_alloc_problem *p;
  uint64_t n, cap;
  uint64_t *indptr;
  uint32_t *offer;
  float *value, *cost;
  mx_alloc_result res;
  int have_res;
  mx_idmap *groups; /* parity group names */
} lctx;

static int ctx_gc(lua_State *L) {
  lctx *c = luaL_checkudata(L, 1, CTX_META);
  mx_alloc_problem_free(c->p);
  c->p = NULL;
  mx_idmap_free(c->groups);
  c->groups = NULL;
  free(c->indptr);
  free(c->offer);
  free(c->value);
  free(c->cost);
  c->indptr = NULL;
  c->offer = NULL;
  c->value = c->cost = NULL;
  if (c->have_res) mx_alloc_result_free(&c->res);
  c->have_res = 0;
  return 0;
}

/* mx_error -> Lua error goes through the runtime's mx__lua_raise (script
 * position included), like every binding. */
static int raise_error(lua_State *L, const mx_error *err) { return mx__lua_raise(L, err); }

/* Cell (row table at ri, offer j 1-based with id at offers_idx) pushed;
 * nil when absent. */
static void push_cell(lua_State *L, int ri, lua_Integer j, int offers_idx) {
  lua_rawgeti(L, ri, j);
  if (!lua_isnil(L, -1) || offers_idx == 0) return;
  lua_pop(L, 1);
  lua_rawgeti(L, offers_idx, j);
  if (lua_isnil(L, -1)) return;
  lua_rawget(L, ri);
}

/* A cost spec: number, per-offer list/map, matrix, or function.
 * kinds: 0 number, 1 per offer, 2 matrix, 3 function */
typedef struct {
  int kind;
  int idx;      /* stack index of the spec */
  double num;
  double *per_offer;
  int block_idx; /* stack index of the current block's rows (function kind) */
} cost_spec;

static int is_matrix(lua_State *L, int idx, int users_idx) {
  lua_rawgeti(L, idx, 1);
  int t = lua_type(L, -1);
  lua_pop(L, 1);
  if (t == LUA_TTABLE) return 1;
  if (t != LUA_TNIL || users_idx == 0) return 0;
  lua_rawgeti(L, users_idx, 1);
  lua_rawget(L, idx);
  t = lua_type(L, -1);
  lua_pop(L, 1);
  return t == LUA_TTABLE;
}

/* Row i (1-based) of a matrix at idx: value[i] or value[users[i]]. */
static void push_row(lua_State *L, int idx, lua_Integer i, int users_idx) {
  lua_rawgeti(L, idx, i);
  if (!lua_isnil(L, -1) || users_idx == 0) return;
  lua_pop(L, 1);
  lua_rawgeti(L, users_idx, i);
  lua_rawget(L, idx);
}

static void cost_spec_init(lua_State *L, cost_spec *cs, int idx, const char *what,
                           lua_Integer J, int offers_idx, int users_idx, double *scratch) {
  memset(cs, 0, sizeof *cs);
  cs->idx = idx;
  switch (lua_type(L, idx)) {
  case LUA_TNUMBER:
    cs->kind = 0;
    cs->num = lua_tonumber(L, idx);
    break;
  case LUA_TFUNCTION:
    cs->kind = 3;
    break;
  case LUA_TTABLE:
    if (is_matrix(L, idx, users_idx)) {
      cs->kind = 2;
    } else {
      cs->kind = 1;
      cs->per_offer = scratch;
      for (lua_Integer j = 1; j <= J; j++) {
        push_cell(L, idx, j, offers_idx);
        int isnum = 1;
        scratch[j - 1] = lua_isnil(L, -1) ? 0 : lua_tonumberx(L, -1, &isnum);
        if (!isnum) mx__lua_error(L, "allocate: %s: offer %d: not a number", what, (int)j);
        lua_pop(L, 1);
      }
    }
    break;
  case LUA_TNIL:
    cs->kind = 0;
    cs->num = 0;
    break;
  default:
    mx__lua_error(L, "allocate: %s must be a number, a table or a function", what);
  }
}

/* Call fn(users_block, offers) and leave the rows table on the stack. */
static void call_block(lua_State *L, int fn_idx, int users_idx, int offers_idx, lua_Integer lo,
                       lua_Integer hi, const char *what) {
  lua_pushvalue(L, fn_idx);
  lua_createtable(L, (int)(hi - lo), 0);
  for (lua_Integer i = lo; i < hi; i++) {
    if (users_idx) lua_rawgeti(L, users_idx, i + 1);
    else lua_pushinteger(L, i + 1);
    lua_rawseti(L, -2, i - lo + 1);
  }
  if (offers_idx) lua_pushvalue(L, offers_idx);
  else lua_pushnil(L);
  lua_call(L, 2, 1);
  if (!lua_istable(L, -1))
    mx__lua_error(L, "allocate: the %s function must return a table of rows", what);
}

static double cell_number(lua_State *L, const char *what, lua_Integer i, lua_Integer j) {
  int isnum;
  double x = lua_tonumberx(L, -1, &isnum);
  if (!isnum) mx__lua_error(L, "allocate: %s[%d][%d] is not a number", what, (int)i, (int)j);
  return x;
}

static void grow(lua_State *L, lctx *c, int K) {
  if (c->n < c->cap) return;
  uint64_t nc = c->cap ? c->cap * 2 : 4096;
  uint32_t *o = realloc(c->offer, nc * sizeof *o);
  if (o) c->offer = o;
  float *v = realloc(c->value, nc * sizeof *v);
  if (v) c->value = v;
  float *cc = realloc(c->cost, nc * (size_t)(K ? K : 1) * sizeof *cc);
  if (cc) c->cost = cc;
  if (!o || !v || !cc) mx__lua_error(L, "allocate: out of memory");
  c->cap = nc;
}

static int l_solve(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  mx__lua_check_options(L, 1, "merx.allocate",
                       "users offers value cost budget constraints caps per_user threads gap "
                       "prices offer_prices groups parity group_shares parity_users");
  /* 2 users, 3 offers, 4 value, 5 caps, 6 constraints, 7 ctx */
  lua_getfield(L, 1, "users");
  lua_getfield(L, 1, "offers");
  lua_getfield(L, 1, "value");
  lua_getfield(L, 1, "caps");
  lua_getfield(L, 1, "constraints");
  int users_idx = lua_istable(L, 2) ? 2 : 0;
  int offers_idx = lua_istable(L, 3) ? 3 : 0;
  if (!lua_istable(L, 4) && !lua_isfunction(L, 4))
    return mx__lua_error(L, "allocate: value must be a matrix (table of rows) or a function");
  lctx *c = lua_newuserdatauv(L, sizeof *c, 0);
  memset(c, 0, sizeof *c);
  luaL_setmetatable(L, CTX_META);
  int ctx_idx = lua_gettop(L);

  lua_Integer n = users_idx ? (lua_Integer)lua_rawlen(L, 2)
                            : lua_istable(L, 4) ? (lua_Integer)lua_rawlen(L, 4) : 0;
  if (n == 0) return mx__lua_error(L, "allocate: no users (give users = {...} or a value matrix)");
  if (n >= UINT32_MAX) return mx__lua_error(L, "allocate: too many users");
  lua_Integer J = 0;
  if (offers_idx) {
    J = (lua_Integer)lua_rawlen(L, 3);
  } else if (lua_istable(L, 4)) {
    push_row(L, 4, 1, users_idx);
    if (lua_istable(L, -1)) J = (lua_Integer)lua_rawlen(L, -1);
    lua_pop(L, 1);
  }
  if (J == 0) return mx__lua_error(L, "allocate: no offers (give offers = {...})");
  if (J >= 1 << 24) return mx__lua_error(L, "allocate: too many offers");

  /* constraints: budget (cost) first, then the list */
  int K = 0;
  cost_spec cs[MX_ALLOC_MAX_RESOURCES];
  double limits[MX_ALLOC_MAX_RESOURCES];
  char names[MX_ALLOC_MAX_RESOURCES][MX_ALLOC_NAME_MAX];
  double *scratch = lua_newuserdatauv(L, sizeof(double) * (size_t)J * MX_ALLOC_MAX_RESOURCES, 0);
  lua_getfield(L, 1, "cost");
  lua_getfield(L, 1, "budget");
  int cost_idx = lua_gettop(L) - 1;
  if (!lua_isnil(L, cost_idx) || !lua_isnil(L, cost_idx + 1)) {
    cost_spec_init(L, &cs[0], cost_idx, "cost", J, offers_idx, users_idx, scratch);
    int isnum;
    limits[0] = lua_isnil(L, cost_idx + 1) ? INFINITY : lua_tonumberx(L, cost_idx + 1, &isnum);
    if (!lua_isnil(L, cost_idx + 1) && !isnum) return mx__lua_error(L, "allocate: budget must be a number");
    snprintf(names[0], sizeof names[0], "budget");
    K = 1;
  }
  if (lua_istable(L, 6)) {
    lua_Integer nc = (lua_Integer)lua_rawlen(L, 6);
    for (lua_Integer i = 1; i <= nc; i++) {
      if (K >= MX_ALLOC_MAX_RESOURCES)
        return mx__lua_error(L, "allocate: at most %d constraints", MX_ALLOC_MAX_RESOURCES);
      lua_rawgeti(L, 6, i);
      int ci = lua_gettop(L);
      if (!lua_istable(L, ci))
        return mx__lua_error(L, "allocate: constraints[%d] must be {name=, cost=, limit=}", (int)i);
      char what[64];
      snprintf(what, sizeof what, "merx.allocate: constraints[%d]", (int)i);
      mx__lua_check_options(L, ci, what, "name cost limit");
      lua_getfield(L, ci, "name");
      snprintf(names[K], sizeof names[K], "%s",
               lua_isstring(L, -1) ? lua_tostring(L, -1) : "constraint");
      lua_getfield(L, ci, "limit");
      int isnum;
      limits[K] = lua_tonumberx(L, -1, &isnum);
      if (!isnum) return mx__lua_error(L, "allocate: constraints[%d].limit must be a number", (int)i);
      lua_getfield(L, ci, "cost"); /* stays on the stack for the build */
      cost_spec_init(L, &cs[K], lua_gettop(L), names[K], J, offers_idx, users_idx,
                     scratch + (size_t)K * J);
      K++;
    }
  }

  /* Build the candidates, a block of users at a time. */
  c->indptr = malloc(((size_t)n + 1) * sizeof *c->indptr);
  if (!c->indptr) return mx__lua_error(L, "allocate: out of memory");
  c->indptr[0] = 0;
  int base = lua_gettop(L);
  for (lua_Integer lo = 0; lo < n; lo += BLOCK) {
    lua_Integer hi = lo + BLOCK < n ? lo + BLOCK : n;
    int vrows = 4;
    if (lua_isfunction(L, 4)) {
      call_block(L, 4, users_idx, offers_idx, lo, hi, "value");
      vrows = lua_gettop(L);
    }
    for (int k = 0; k < K; k++) {
      cs[k].block_idx = 0;
      if (cs[k].kind == 3) {
        call_block(L, cs[k].idx, users_idx, offers_idx, lo, hi, names[k]);
        cs[k].block_idx = lua_gettop(L);
      }
    }
    for (lua_Integer i = lo; i < hi; i++) {
      int top = lua_gettop(L);
      if (vrows == 4) push_row(L, 4, i + 1, users_idx);
      else lua_rawgeti(L, vrows, i - lo + 1);
      int ri = lua_gettop(L);
      if (lua_isnil(L, ri)) { /* a user without candidates */
        c->indptr[i + 1] = c->n;
        lua_settop(L, top);
        continue;
      }
      if (!lua_istable(L, ri)) return mx__lua_error(L, "allocate: value row %d is not a table", (int)(i + 1));
      int crow[MX_ALLOC_MAX_RESOURCES];
      for (int k = 0; k < K; k++) {
        crow[k] = 0;
        if (cs[k].kind == 2) push_row(L, cs[k].idx, i + 1, users_idx);
        else if (cs[k].kind == 3) lua_rawgeti(L, cs[k].block_idx, i - lo + 1);
        else continue;
        if (!lua_istable(L, -1))
          return mx__lua_error(L, "allocate: %s row %d is not a table", names[k], (int)(i + 1));
        crow[k] = lua_gettop(L);
      }
      for (lua_Integer j = 1; j <= J; j++) {
        push_cell(L, ri, j, offers_idx);
        if (lua_isnil(L, -1)) {
          lua_pop(L, 1);
          continue;
        }
        double v = cell_number(L, "value", i + 1, j);
        lua_pop(L, 1);
        if (!isfinite(v)) return mx__lua_error(L, "allocate: value[%d][%d] is not finite (NaN or inf)",
                                            (int)(i + 1), (int)j);
        grow(L, c, K);
        uint64_t q = c->n;
        for (int k = 0; k < K; k++) {
          double x;
          if (cs[k].kind == 0) x = cs[k].num;
          else if (cs[k].kind == 1) x = cs[k].per_offer[j - 1];
          else {
            push_cell(L, crow[k], j, offers_idx);
            x = lua_isnil(L, -1) ? 0 : cell_number(L, names[k], i + 1, j);
            lua_pop(L, 1);
          }
          if (!isfinite(x) || x < 0)
            return mx__lua_error(L, "allocate: %s of user %d offer %d is %g: costs must be finite and >= 0",
                              names[k], (int)(i + 1), (int)j, x);
          c->cost[q * (uint64_t)K + (uint64_t)k] = (float)x;
        }
        c->offer[q] = (uint32_t)(j - 1);
        c->value[q] = (float)v;
        c->n++;
      }
      c->indptr[i + 1] = c->n;
      lua_settop(L, top);
    }
    lua_settop(L, base);
  }

  mx_error err;
  mx_error_clear(&err);
  if (c->n == 0) return mx__lua_error(L, "allocate: no eligible (user, offer) pair");
  if (mx_alloc_problem_create((uint32_t)n, (uint32_t)J, K, c->n, &c->p, &err)) return raise_error(L, &err);
  mx_alloc_problem *p = c->p;
  memcpy(p->indptr, c->indptr, ((size_t)n + 1) * sizeof *p->indptr);
  memcpy(p->offer, c->offer, c->n * sizeof *p->offer);
  memcpy(p->value, c->value, c->n * sizeof *p->value);
  if (K) memcpy(p->cost, c->cost, c->n * (size_t)K * sizeof *p->cost);
  free(c->offer);
  free(c->value);
  free(c->cost);
  c->offer = NULL;
  c->value = c->cost = NULL;
  for (int k = 0; k < K; k++) {
    p->limit[k] = limits[k];
    snprintf(p->resource_name[k], MX_ALLOC_NAME_MAX, "%s", names[k]);
  }
  lua_getfield(L, 1, "per_user");
  lua_Integer m = lua_isnil(L, -1) ? 1 : luaL_checkinteger(L, -1);
  if (m < 1 || m > 1000000) return mx__lua_error(L, "allocate: per_user must be 1..1000000");
  p->per_user = (uint32_t)m;
  lua_pop(L, 1);
  /* caps: { offer_id = N } or { [j] = N } */
  if (lua_istable(L, 5)) {
    lua_pushnil(L);
    while (lua_next(L, 5)) {
      lua_Integer jj = -1;
      if (offers_idx) {
        for (lua_Integer j = 1; j <= J && jj < 0; j++) {
          lua_rawgeti(L, offers_idx, j);
          if (lua_rawequal(L, -1, -3)) jj = j;
          lua_pop(L, 1);
        }
      } else if (lua_isinteger(L, -2)) {
        jj = lua_tointeger(L, -2);
        if (jj < 1 || jj > J) jj = -1;
      }
      if (jj < 0) {
        lua_pushvalue(L, -2); /* a copy: tostring must not touch the key lua_next uses */
        const char *name = lua_tostring(L, -1);
        return mx__lua_error(L, "allocate: caps: unknown offer '%s'", name ? name : "?");
      }
      int isnum;
      double capv = lua_tonumberx(L, -1, &isnum);
      if (!isnum) return mx__lua_error(L, "allocate: caps: the cap of offer %d is not a number", (int)jj);
      p->cap[jj - 1] = capv;
      lua_pop(L, 1);
    }
  }
  mx_alloc_options opt = mx_alloc_defaults();
  mx_cancel cancel = mx__lua_cancel(L);
  opt.cancel = &cancel;
  lua_getfield(L, 1, "threads");
  opt.threads = (int)luaL_optinteger(L, -1, 0);
  lua_pop(L, 1);
  lua_getfield(L, 1, "gap");
  opt.gap = luaL_optnumber(L, -1, opt.gap);
  lua_pop(L, 1);

  /* under --shard: this shard's quota of every limit, and the prices of --duals */
  const char **oname = lua_newuserdatauv(L, sizeof(char *) * (size_t)J, 0);
  char *num = lua_newuserdatauv(L, 24 * (size_t)J, 0);
  for (lua_Integer j = 1; j <= J; j++) {
    oname[j - 1] = num + 24 * (j - 1);
    snprintf(num + 24 * (j - 1), 24, "%lld", (long long)j);
    if (offers_idx && lua_rawgeti(L, offers_idx, j) == LUA_TSTRING) oname[j - 1] = lua_tostring(L, -1);
    else if (offers_idx && lua_isinteger(L, -1))
      snprintf(num + 24 * (j - 1), 24, "%lld", (long long)lua_tointeger(L, -1));
    if (offers_idx) lua_pop(L, 1); /* a string stays alive in the offers table */
  }
  /* parity constraints: groups = { group of user 1, ... } */
  if (lua_getfield(L, 1, "groups") == LUA_TTABLE) {
    int gi = lua_gettop(L);
    if ((lua_Integer)lua_rawlen(L, gi) != n)
      return mx__lua_error(L, "allocate: groups has %lld entries for %lld users",
                          (long long)lua_rawlen(L, gi), (long long)n);
    uint32_t *grp = lua_newuserdatauv(L, sizeof *grp * (size_t)n, 0);
    if (!(c->groups = mx_idmap_create())) return mx__lua_error(L, "allocate: out of memory");
    for (lua_Integer i = 1; i <= n; i++) {
      lua_rawgeti(L, gi, i);
      size_t len;
      const char *g = lua_type(L, -1) == LUA_TSTRING || lua_type(L, -1) == LUA_TNUMBER
                          ? lua_tolstring(L, -1, &len) : NULL;
      if (!g) return mx__lua_error(L, "allocate: groups[%lld] is not a string", (long long)i);
      int64_t k = mx_idmap_intern(c->groups, g, len);
      if (k < 0) return mx__lua_error(L, "allocate: out of memory");
      if (k >= MX_ALLOC_MAX_GROUPS)
        return mx__lua_error(L, "allocate: more than %d groups", MX_ALLOC_MAX_GROUPS);
      grp[i - 1] = (uint32_t)k;
      lua_pop(L, 1);
    }
    double parity = mx__lua_opt_number(L, 1, "parity", 0);
    if (parity != 0 && !(parity > 0 && parity <= 1))
      return mx__lua_error(L, "allocate: parity must be in (0, 1]");
    if (mx__lua_alloc_parity(L, 1, p, grp, c->groups, mx_idmap_size(c->groups), parity, "allocate",
                            &err))
      return raise_error(L, &err);
    lua_pop(L, 1); /* grp */
  } else {
    int given = lua_getfield(L, 1, "parity") != LUA_TNIL;
    given |= lua_getfield(L, 1, "group_shares") != LUA_TNIL;
    lua_pop(L, 2);
    if (given)
      return mx__lua_error(L, "allocate: parity and group_shares need groups = { group per user }");
  }
  lua_pop(L, 1); /* groups */
  double lam[MX_ALLOC_MAX_RESOURCES] = {0};
  double *mu = lua_newuserdatauv(L, sizeof(double) * (size_t)J, 0);
  memset(mu, 0, sizeof(double) * (size_t)J);
  int priced = mx__lua_alloc_share(L, p, oname, lam, mu, "allocate");

  /* apply given prices, or solve */
  lua_getfield(L, 1, "prices");
  int rc;
  if (lua_istable(L, -1)) {
    int pi = lua_gettop(L);
    for (int k = 0; k < K; k++) {
      lua_getfield(L, pi, names[k]);
      lam[k] = luaL_optnumber(L, -1, 0);
      lua_pop(L, 1);
    }
    memset(mu, 0, sizeof(double) * (size_t)J);
    lua_getfield(L, 1, "offer_prices");
    if (lua_istable(L, -1)) {
      for (lua_Integer j = 1; j <= J; j++) {
        if (offers_idx) {
          lua_rawgeti(L, offers_idx, j);
          lua_rawget(L, -2);
        } else {
          lua_rawgeti(L, -1, j);
        }
        mu[j - 1] = luaL_optnumber(L, -1, 0);
        lua_pop(L, 1);
      }
    }
    lua_pop(L, 1);
    rc = mx_alloc_apply(p, lam, mu, &opt, &c->res, &err);
  } else if (priced) {
    rc = mx_alloc_apply(p, lam, mu, &opt, &c->res, &err);
  } else {
    rc = mx_alloc_solve(p, &opt, &c->res, &err);
    if (rc == MX_OK) {
      c->have_res = 1;
      /* user ids, for --solve --shards (strings stay alive in the users table) */
      const char **uname = lua_newuserdatauv(L, sizeof(char *) * (size_t)n, 0);
      char *ubuf = lua_newuserdatauv(L, 24 * (size_t)n, 0);
      for (lua_Integer i = 0; i < n; i++) {
        uname[i] = ubuf + 24 * i;
        snprintf(ubuf + 24 * i, 24, "%lld", (long long)(i + 1));
        if (users_idx && lua_rawgeti(L, users_idx, i + 1) == LUA_TSTRING) uname[i] = lua_tostring(L, -1);
        else if (users_idx && lua_isinteger(L, -1))
          snprintf(ubuf + 24 * i, 24, "%lld", (long long)lua_tointeger(L, -1));
        if (users_idx) lua_pop(L, 1);
      }
      mx__lua_alloc_solved(L, p, oname, uname, &c->res, "allocate");
      lua_pop(L, 2);
    }
  }
  lua_pop(L, 1);
  if (rc) return raise_error(L, &err);
  c->have_res = 1;
  mx_alloc_result *r = &c->res;

  /* the plan */
  lua_createtable(L, 0, 16);
  int out = lua_gettop(L);
  lua_createtable(L, (int)(r->assigned < 1u << 30 ? r->assigned : 0), 0);
  uint32_t u = 0;
  for (uint64_t i = 0; i < r->assigned; i++) {
    uint64_t q = r->chosen[i];
    while (p->indptr[u + 1] <= q) u++;
    lua_createtable(L, 0, 4);
    if (users_idx) lua_rawgeti(L, users_idx, u + 1);
    else lua_pushinteger(L, u + 1);
    lua_setfield(L, -2, "user");
    if (offers_idx) lua_rawgeti(L, offers_idx, p->offer[q] + 1);
    else lua_pushinteger(L, p->offer[q] + 1);
    lua_setfield(L, -2, "offer");
    lua_pushnumber(L, p->value[q]);
    lua_setfield(L, -2, "value");
    lua_pushnumber(L, K ? p->cost[q * (uint64_t)K] : 0);
    lua_setfield(L, -2, "cost");
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  lua_setfield(L, out, "assignments");
  lua_pushnumber(L, r->objective);
  lua_setfield(L, out, "objective");
  lua_pushnumber(L, K ? r->spend[0] : 0);
  lua_setfield(L, out, "spend");
  lua_pushnumber(L, r->bound);
  lua_setfield(L, out, "bound");
  lua_pushnumber(L, r->gap);
  lua_setfield(L, out, "gap");
  lua_pushinteger(L, (lua_Integer)r->assigned);
  lua_setfield(L, out, "assigned");
  lua_pushnumber(L, r->seconds);
  lua_setfield(L, out, "seconds");
  lua_createtable(L, 0, K);
  for (int k = 0; k < K; k++) {
    lua_pushnumber(L, r->spend[k]);
    lua_setfield(L, -2, names[k]);
  }
  lua_setfield(L, out, "spend_by");
  if (p->n_group_constraints) {
    double unconstrained;
    if (mx_alloc_unconstrained_objective(p, &opt, &unconstrained, &err)) return raise_error(L, &err);
    mx__lua_push_parity(L, p, r, unconstrained);
    lua_setfield(L, out, "parity");
  }
  lua_createtable(L, 0, K);
  for (int k = 0; k < K; k++) {
    lua_pushnumber(L, r->lambda[k]);
    lua_setfield(L, -2, names[k]);
  }
  lua_setfield(L, out, "prices");
  lua_newtable(L); /* offer_prices and used, keyed like caps */
  lua_newtable(L);
  for (uint32_t j = 0; j < J; j++) {
    if (offers_idx) lua_rawgeti(L, offers_idx, j + 1);
    else lua_pushinteger(L, j + 1);
    lua_pushnumber(L, r->used[j]);
    lua_rawset(L, -3);
    if (!isfinite(p->cap[j])) continue;
    if (offers_idx) lua_rawgeti(L, offers_idx, j + 1);
    else lua_pushinteger(L, j + 1);
    lua_pushnumber(L, r->mu[j]);
    lua_rawset(L, -4);
  }
  lua_setfield(L, out, "used");
  lua_setfield(L, out, "offer_prices");
  /* free C memory now rather than at the next collection */
  lua_pushcfunction(L, ctx_gc);
  lua_pushvalue(L, ctx_idx);
  lua_call(L, 1, 0);
  lua_pushvalue(L, out);
  return 1;
}

/* merx.allocate.shard_of(id, n) -> 0-based shard (same rule as --shard). */
static int l_shard_of(lua_State *L) {
  size_t len;
  const char *id = luaL_checklstring(L, 1, &len);
  lua_Integer n = luaL_checkinteger(L, 2);
  if (n < 1 || n > UINT32_MAX) return mx__lua_error(L, "allocate.shard_of: n must be >= 1");
  lua_pushinteger(L, mx_alloc_shard_of(id, len, (uint32_t)n));
  return 1;
}

static int l_call(lua_State *L) {
  lua_remove(L, 1); /* the module table */
  return l_solve(L);
}

int mx__luaopen_allocate(lua_State *L) {
  if (mx__lua_newmetatable(L, CTX_META)) {
    lua_pushcfunction(L, ctx_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_pop(L, 1);
  static const luaL_Reg fns[] = {{"solve", l_solve}, {"shard_of", l_shard_of}, {NULL, NULL}};
  luaL_newlib(L, fns);
  /* merx.allocate{...} calls solve */
  lua_createtable(L, 0, 1);
  lua_pushcfunction(L, l_call);
  lua_setfield(L, -2, "__call");
  mx__lua_protect_metatable(L, "merx.allocate");
  lua_setmetatable(L, -2);
  return 1;
}
