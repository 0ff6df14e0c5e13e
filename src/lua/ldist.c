/* Lua binding merx.dist: demand distributions as objects (normal, Poisson,
 * lognormal, negative binomial, discrete, empirical) with bulk cdf, pdf,
 * quantile and loss-function methods; plus the helpers the merx.inventory
 * binding (linventory.c) shares: error raising, number arrays, the
 * distribution userdata. */
#include <lauxlib.h>
#include <lua.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lua/linventory.h"
#include "lua/lmerx.h"
#include "util/util.h"

/* Raise err as a Lua error prefixed with the position of the nearest Lua
 * caller ("script.lua:12: h (holding cost) must be ..."). */
int mx__linv_raise(lua_State *L, const mx_error *err) { return mx__lua_raise(L, err); }

/* Array of numbers at stack index idx (a Lua sequence), copied into a
 * buffer owned by a userdata pushed on the stack. */
double *mx__linv_numbers(lua_State *L, int idx, size_t *n, const char *what) {
  idx = lua_absindex(L, idx);
  if (!lua_istable(L, idx)) mx__lua_error(L, "%s must be an array of numbers", what);
  size_t len = (size_t)lua_rawlen(L, idx);
  double *v = lua_newuserdatauv(L, (len ? len : 1) * sizeof *v, 0);
  for (size_t i = 0; i < len; i++) {
    lua_rawgeti(L, idx, (lua_Integer)i + 1);
    if (!lua_isnumber(L, -1))
      mx__lua_error(L, "%s: element %d is not a number", what, (int)i + 1);
    v[i] = lua_tonumber(L, -1);
    lua_pop(L, 1);
  }
  *n = len;
  return v;
}


/* --------------------------------------------------------------- dist */

mx_dist *mx__linv_check_dist(lua_State *L, int idx) { return luaL_checkudata(L, idx, DIST_MT); }

mx_dist *mx__linv_new_dist(lua_State *L) {
  mx_dist *d = lua_newuserdatauv(L, sizeof *d, 0);
  memset(d, 0, sizeof *d);
  luaL_setmetatable(L, DIST_MT);
  return d;
}

static int l_dist_normal(lua_State *L) {
  double mu = luaL_checknumber(L, 1), sigma = luaL_checknumber(L, 2);
  mx_error err;
  mx_dist *d = mx__linv_new_dist(L);
  if (mx_dist_normal(d, mu, sigma, &err)) return mx__linv_raise(L, &err);
  return 1;
}

static int l_dist_poisson(lua_State *L) {
  double mean = luaL_checknumber(L, 1);
  mx_error err;
  mx_dist *d = mx__linv_new_dist(L);
  if (mx_dist_poisson(d, mean, &err)) return mx__linv_raise(L, &err);
  return 1;
}

static int l_dist_negbin(lua_State *L) {
  double mean = luaL_checknumber(L, 1), sd = luaL_checknumber(L, 2);
  mx_error err;
  mx_dist *d = mx__linv_new_dist(L);
  if (mx_dist_negbin(d, mean, sd, &err)) return mx__linv_raise(L, &err);
  return 1;
}

static int l_dist_lognormal(lua_State *L) {
  double mu = luaL_checknumber(L, 1), sigma = luaL_checknumber(L, 2);
  mx_error err;
  mx_dist *d = mx__linv_new_dist(L);
  if (mx_dist_lognormal(d, mu, sigma, &err)) return mx__linv_raise(L, &err);
  return 1;
}

/* discrete{[0] = 0.2, [1] = 0.5, [3] = 0.3}: keys are values, values are
 * probabilities (normalised when they sum to within 1e-6 of 1; refused
 * otherwise). */
static int l_dist_discrete(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  size_t n = 0, cap = 16;
  double *x = malloc(cap * sizeof *x), *p = malloc(cap * sizeof *p);
  if (!x || !p) {
    free(x);
    free(p);
    return mx__lua_error(L, "out of memory");
  }
  lua_pushnil(L);
  while (lua_next(L, 1)) {
    if (!lua_isnumber(L, -2) || !lua_isnumber(L, -1)) {
      free(x);
      free(p);
      return mx__lua_error(L, "merx.dist.discrete: expected {[value] = probability, ...}");
    }
    if (n == cap) {
      cap *= 2;
      double *nx = realloc(x, cap * sizeof *x), *np = nx ? realloc(p, cap * sizeof *p) : NULL;
      if (!nx || !np) {
        free(nx ? nx : x);
        free(p);
        return mx__lua_error(L, "out of memory");
      }
      x = nx;
      p = np;
    }
    x[n] = lua_tonumber(L, -2);
    p[n] = lua_tonumber(L, -1);
    n++;
    lua_pop(L, 1);
  }
  mx_error err;
  mx_dist *d = mx__linv_new_dist(L);
  int rc = mx_dist_discrete(d, x, p, n, 0, &err);
  free(x);
  free(p);
  if (rc) return mx__linv_raise(L, &err);
  return 1;
}

static int l_dist_empirical(lua_State *L) {
  size_t n;
  double *s = mx__linv_numbers(L, 1, &n, "merx.dist.empirical: samples");
  mx_error err;
  mx_dist *d = mx__linv_new_dist(L);
  if (mx_dist_empirical(d, s, n, &err)) return mx__linv_raise(L, &err);
  return 1;
}

static int l_dist_gc(lua_State *L) {
  mx_dist_free(mx__linv_check_dist(L, 1));
  return 0;
}

static int l_dist_tostring(lua_State *L) {
  mx_dist *d = mx__linv_check_dist(L, 1);
  switch (d->kind) {
  case MX_DIST_NORMAL: lua_pushfstring(L, "normal(%f, %f)", d->a, d->b); break;
  case MX_DIST_POISSON: lua_pushfstring(L, "poisson(%f)", d->a); break;
  case MX_DIST_LOGNORMAL: lua_pushfstring(L, "lognormal(%f, %f)", d->a, d->b); break;
  case MX_DIST_NEGBIN: lua_pushfstring(L, "negbin(%f, %f)", d->a, d->b); break;
  default:
    lua_pushfstring(L, "%s(%d values, mean %f)", mx_dist_kind_name(d->kind), (int)d->n,
                    mx_dist_mean(d));
  }
  return 1;
}

/* Apply f to a number or to every element of an array. */
static int map_numbers(lua_State *L, double (*f)(const mx_dist *, double), int probability) {
  mx_dist *d = mx__linv_check_dist(L, 1);
  if (lua_isnumber(L, 2)) {
    double x = lua_tonumber(L, 2);
    if (probability && !(x > 0 && x < 1))
      return mx__lua_error(L, "quantile: probability must be strictly between 0 and 1 (got %f)", x);
    lua_pushnumber(L, f(d, x));
    return 1;
  }
  size_t n;
  double *v = mx__linv_numbers(L, 2, &n, "argument");
  lua_createtable(L, (int)n, 0);
  for (size_t i = 0; i < n; i++) {
    if (probability && !(v[i] > 0 && v[i] < 1))
      return mx__lua_error(L, "quantile: probability %d must be strictly between 0 and 1 (got %f)",
                        (int)i + 1, v[i]);
    lua_pushnumber(L, f(d, v[i]));
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  return 1;
}

static int l_dist_cdf(lua_State *L) { return map_numbers(L, mx_dist_cdf, 0); }
static int l_dist_pdf(lua_State *L) { return map_numbers(L, mx_dist_pdf, 0); }
static int l_dist_quantile(lua_State *L) { return map_numbers(L, mx_dist_quantile, 1); }
static int l_dist_loss(lua_State *L) { return map_numbers(L, mx_dist_loss, 0); }
static int l_dist_loss_bar(lua_State *L) { return map_numbers(L, mx_dist_loss_bar, 0); }
static int l_dist_loss2(lua_State *L) { return map_numbers(L, mx_dist_loss2, 0); }

static int l_dist_mean(lua_State *L) {
  lua_pushnumber(L, mx_dist_mean(mx__linv_check_dist(L, 1)));
  return 1;
}

static int l_dist_sd(lua_State *L) {
  lua_pushnumber(L, mx_dist_sd(mx__linv_check_dist(L, 1)));
  return 1;
}

static int l_dist_kind(lua_State *L) {
  lua_pushstring(L, mx_dist_kind_name(mx__linv_check_dist(L, 1)->kind));
  return 1;
}

/* d:periods(k): demand over k periods (lead-time demand). */
static int l_dist_periods(lua_State *L) {
  mx_dist *d = mx__linv_check_dist(L, 1);
  double k = luaL_checknumber(L, 2);
  mx_error err;
  mx_dist *out = mx__linv_new_dist(L);
  if (mx_dist_periods(d, k, out, &err)) return mx__linv_raise(L, &err);
  return 1;
}

/* d:sample(n [, seed]): n draws as an array (seed default 1). */
static int l_dist_sample(lua_State *L) {
  mx_dist *d = mx__linv_check_dist(L, 1);
  lua_Integer n = luaL_checkinteger(L, 2);
  lua_Integer seed = luaL_optinteger(L, 3, 1);
  if (n < 0 || n > 100000000) return mx__lua_error(L, "sample: n must be in [0, 1e8]");
  mx_rng rng;
  mx__rng_seed(&rng, (uint64_t)seed);
  lua_createtable(L, (int)n, 0);
  for (lua_Integer i = 1; i <= n; i++) {
    lua_pushnumber(L, mx_dist_sample(d, &rng));
    lua_rawseti(L, -2, i);
  }
  return 1;
}

static const luaL_Reg dist_methods[] = {
    {"cdf", l_dist_cdf},         {"pdf", l_dist_pdf},           {"quantile", l_dist_quantile},
    {"loss", l_dist_loss},       {"loss_bar", l_dist_loss_bar}, {"loss2", l_dist_loss2},
    {"mean", l_dist_mean},       {"sd", l_dist_sd},             {"kind", l_dist_kind},
    {"periods", l_dist_periods}, {"sample", l_dist_sample},     {NULL, NULL}};

void mx__linv_dist_metatable(lua_State *L) {
  if (mx__lua_newmetatable(L, DIST_MT)) {
    luaL_newlib(L, dist_methods);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, l_dist_gc);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, l_dist_tostring);
    lua_setfield(L, -2, "__tostring");
  }
  lua_pop(L, 1);
}

static const luaL_Reg dist_funcs[] = {{"normal", l_dist_normal},
                                      {"poisson", l_dist_poisson},
                                      {"lognormal", l_dist_lognormal},
                                      {"negbin", l_dist_negbin},
                                      {"discrete", l_dist_discrete},
                                      {"empirical", l_dist_empirical},
                                      {NULL, NULL}};

int mx__luaopen_dist(lua_State *L) {
  mx__linv_dist_metatable(L);
  luaL_newlib(L, dist_funcs);
  return 1;
}

