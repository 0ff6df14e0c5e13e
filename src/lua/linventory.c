/* Lua binding merx.inventory: EOQ family, newsvendor, base-stock, (r,Q),
 * (s,S), service levels, simulation and replenishment plans (the demand
 * distributions they take are merx.dist objects, ldist.c).
 *
 * Every function takes one options table with the Snyder & Shen parameter
 * names (K, h, p, lambda, mu, sigma, L, ...) and returns a table. Bulk where
 * it matters: distribution methods accept a number or an array of numbers,
 * simulate takes whole demand paths, plan takes every item at once. Core
 * errors become Lua errors carrying the calling script's line. */
#include <lauxlib.h>
#include <lua.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lua/linventory.h"
#include "lua/lmerx.h"
#include "merx/inventory.h"
#include "util/util.h"

/* ------------------------------------------------------------ helpers */

/* The options table of merx.inventory.FN, with the names it reads (known). */
static void check_opts(lua_State *L, int idx, const char *fn, const char *known) {
  if (!lua_istable(L, idx))
    mx__lua_error(L, "merx.inventory.%s: expected an options table {...}", fn);
  char name[64];
  snprintf(name, sizeof name, "merx.inventory.%s", fn);
  mx__lua_check_options(L, idx, name, known);
}

/* Number field: required when def is NaN and required is set. */
static double num_field(lua_State *L, int idx, const char *name, double def, int required,
                        const char *fn) {
  lua_getfield(L, idx, name);
  double v = def;
  if (lua_isnil(L, -1)) {
    if (required) mx__lua_error(L, "merx.inventory.%s: field '%s' is required", fn, name);
  } else if (lua_isnumber(L, -1)) {
    v = lua_tonumber(L, -1);
  } else {
    mx__lua_error(L, "merx.inventory.%s: field '%s' must be a number (got %s)", fn, name,
               luaL_typename(L, -1));
  }
  lua_pop(L, 1);
  return v;
}

static const char *str_field(lua_State *L, int idx, const char *name, const char *def,
                             const char *fn) {
  lua_getfield(L, idx, name);
  const char *s = def;
  if (!lua_isnil(L, -1)) {
    if (lua_type(L, -1) != LUA_TSTRING)
      mx__lua_error(L, "merx.inventory.%s: field '%s' must be a string", fn, name);
    s = lua_tostring(L, -1); /* stays alive: the options table holds it */
  }
  lua_pop(L, 1);
  return s;
}

static int bool_field(lua_State *L, int idx, const char *name, int def) {
  lua_getfield(L, idx, name);
  int v = lua_isnil(L, -1) ? def : lua_toboolean(L, -1);
  lua_pop(L, 1);
  return v;
}

static void set_num(lua_State *L, const char *k, double v) {
  lua_pushnumber(L, v);
  lua_setfield(L, -2, k);
}

static void set_int(lua_State *L, const char *k, lua_Integer v) {
  lua_pushinteger(L, v);
  lua_setfield(L, -2, k);
}


/* The distribution in field `name` of the table at idx (required). */
static mx_dist *dist_field(lua_State *L, int idx, const char *name, const char *fn) {
  lua_getfield(L, idx, name);
  mx_dist *d = luaL_testudata(L, -1, DIST_MT);
  if (!d)
    mx__lua_error(L, "merx.inventory.%s: field '%s' must be a merx.dist distribution (got %s)", fn,
               name, luaL_typename(L, -1));
  lua_pop(L, 1); /* the options table keeps it alive */
  return d;
}

/* ---------------------------------------------------------- EOQ family */

static void push_eoq(lua_State *L, const mx_eoq_result *r, int with_x) {
  lua_createtable(L, 0, 4);
  set_num(L, "Q", r->Q);
  set_num(L, "cost", r->cost);
  set_num(L, "T", r->T);
  if (with_x) set_num(L, "x", r->x);
  if (r->region >= 0) set_int(L, "region", r->region + 1);
}

static int l_eoq(lua_State *L) {
  check_opts(L, 1, "eoq", "K h lambda Q");
  double K = num_field(L, 1, "K", NAN, 1, "eoq"), h = num_field(L, 1, "h", NAN, 1, "eoq"),
         lam = num_field(L, 1, "lambda", NAN, 1, "eoq");
  mx_error err;
  mx_eoq_result r;
  double Q = num_field(L, 1, "Q", NAN, 0, "eoq");
  if (!isnan(Q)) { /* cost of a given Q */
    if (mx_eoq_cost(K, h, lam, Q, &r.cost, &err)) return mx__linv_raise(L, &err);
    r.Q = Q;
    r.T = Q / lam;
    r.x = 0;
    r.region = -1;
  } else if (mx_eoq(K, h, lam, &r, &err)) {
    return mx__linv_raise(L, &err);
  }
  push_eoq(L, &r, 0);
  return 1;
}

static int l_eoq_backorders(lua_State *L) {
  const char *fn = "eoq_backorders";
  check_opts(L, 1, fn, "K h p lambda");
  mx_error err;
  mx_eoq_result r;
  if (mx_eoq_backorders(num_field(L, 1, "K", NAN, 1, fn), num_field(L, 1, "h", NAN, 1, fn),
                        num_field(L, 1, "p", NAN, 1, fn), num_field(L, 1, "lambda", NAN, 1, fn), &r,
                        &err))
    return mx__linv_raise(L, &err);
  push_eoq(L, &r, 1);
  return 1;
}

static int l_epq(lua_State *L) {
  const char *fn = "epq";
  check_opts(L, 1, fn, "K h lambda mu");
  mx_error err;
  mx_eoq_result r;
  if (mx_epq(num_field(L, 1, "K", NAN, 1, fn), num_field(L, 1, "h", NAN, 1, fn),
             num_field(L, 1, "lambda", NAN, 1, fn), num_field(L, 1, "mu", NAN, 1, fn), &r, &err))
    return mx__linv_raise(L, &err);
  push_eoq(L, &r, 0);
  return 1;
}

/* eoq_discount{K, i, lambda, breaks = {0, 400, 800}, prices = {...},
 * kind = "all_units" | "incremental"} */
static int l_eoq_discount(lua_State *L) {
  const char *fn = "eoq_discount";
  check_opts(L, 1, fn, "K i lambda kind breaks prices");
  double K = num_field(L, 1, "K", NAN, 1, fn), i = num_field(L, 1, "i", NAN, 1, fn),
         lam = num_field(L, 1, "lambda", NAN, 1, fn);
  const char *kind = str_field(L, 1, "kind", "all_units", fn);
  int k;
  if (strcmp(kind, "all_units") == 0)
    k = MX_DISCOUNT_ALL_UNITS;
  else if (strcmp(kind, "incremental") == 0)
    k = MX_DISCOUNT_INCREMENTAL;
  else
    return mx__lua_error(L, "merx.inventory.eoq_discount: kind must be all_units or incremental");
  size_t nb, nc;
  lua_getfield(L, 1, "breaks");
  double *b = mx__linv_numbers(L, -1, &nb, "eoq_discount: breaks");
  lua_getfield(L, 1, "prices");
  double *c = mx__linv_numbers(L, -1, &nc, "eoq_discount: prices");
  if (nb != nc) return mx__lua_error(L, "merx.inventory.eoq_discount: breaks and prices differ in length");
  mx_error err;
  mx_eoq_result r;
  if (mx_eoq_discount(k, K, i, lam, b, c, nb, &r, &err)) return mx__linv_raise(L, &err);
  push_eoq(L, &r, 0);
  return 1;
}

/* ------------------------------------------------ newsvendor, base-stock */

static void push_bs(lua_State *L, const mx_base_stock_result *r) {
  lua_createtable(L, 0, 5);
  set_num(L, "S", r->S);
  set_num(L, "cost", r->cost);
  set_num(L, "alpha", r->alpha);
  set_num(L, "mean", r->mean);
  set_num(L, "sd", r->sd);
}

static int l_newsvendor(lua_State *L) {
  const char *fn = "newsvendor";
  check_opts(L, 1, fn, "h p dist S");
  double h = num_field(L, 1, "h", NAN, 1, fn), p = num_field(L, 1, "p", NAN, 1, fn);
  mx_dist *d = dist_field(L, 1, "dist", fn);
  double S = num_field(L, 1, "S", NAN, 0, fn);
  mx_error err;
  mx_base_stock_result r;
  if (mx_newsvendor(h, p, d, &r, &err)) return mx__linv_raise(L, &err);
  if (!isnan(S)) {
    r.S = S;
    if (mx_newsvendor_cost(h, p, d, S, &r.cost, &err)) return mx__linv_raise(L, &err);
  }
  push_bs(L, &r);
  return 1;
}

static int l_base_stock(lua_State *L) {
  const char *fn = "base_stock";
  check_opts(L, 1, fn, "h p dist L");
  double h = num_field(L, 1, "h", NAN, 1, fn), p = num_field(L, 1, "p", NAN, 1, fn);
  mx_dist *d = dist_field(L, 1, "dist", fn);
  double Lt = num_field(L, 1, "L", 0, 0, fn);
  mx_error err;
  mx_base_stock_result r;
  if (mx_base_stock(h, p, d, Lt, &r, &err)) return mx__linv_raise(L, &err);
  push_bs(L, &r);
  return 1;
}

/* ------------------------------------------------------------- (r,Q) */

/* rq{K, h, p, lambda, tau, L, method = "exact"}: tau omitted = Poisson
 * demand. With r and Q given: the exact cost of that policy. */
static int l_rq(lua_State *L) {
  const char *fn = "rq";
  check_opts(L, 1, fn, "K h p lambda tau L dist r Q method");
  double K = num_field(L, 1, "K", NAN, 1, fn), h = num_field(L, 1, "h", NAN, 1, fn),
         p = num_field(L, 1, "p", NAN, 1, fn), lam = num_field(L, 1, "lambda", NAN, 1, fn),
         tau = num_field(L, 1, "tau", -1, 0, fn), Lt = num_field(L, 1, "L", NAN, 1, fn);
  const char *dist = str_field(L, 1, "dist", NULL, fn);
  if (dist && strcmp(dist, "poisson") == 0) tau = -1;
  else if (dist && strcmp(dist, "normal") != 0)
    return mx__lua_error(L, "merx.inventory.rq: dist must be \"normal\" or \"poisson\"");
  if (dist && strcmp(dist, "normal") == 0 && tau < 0)
    return mx__lua_error(L, "merx.inventory.rq: normal demand needs tau (sd per period)");
  mx_error err;
  double r0 = num_field(L, 1, "r", NAN, 0, fn), Q0 = num_field(L, 1, "Q", NAN, 0, fn);
  mx_inv_rq_result r;
  memset(&r, 0, sizeof r);
  if (!isnan(r0) || !isnan(Q0)) {
    if (isnan(r0) || isnan(Q0)) return mx__lua_error(L, "merx.inventory.rq: give both r and Q");
    if (mx_inv_rq_cost(K, h, p, lam, tau, Lt, r0, Q0, &r.cost, &err)) return mx__linv_raise(L, &err);
    r.r = r0;
    r.Q = Q0;
    mx_dist ltd;
    if (tau < 0)
      mx_dist_poisson(&ltd, lam * Lt, &err);
    else
      mx_dist_normal(&ltd, lam * Lt, tau * sqrt(Lt), &err);
    mx_fill_rate_rq(&ltd, r0, Q0, &r.fill_rate, &err);
  } else {
    int method;
    if (mx_inv_rq_method_parse(str_field(L, 1, "method", "exact", fn), &method, &err))
      return mx__linv_raise(L, &err);
    if (mx_inv_rq(method, K, h, p, lam, tau, Lt, &r, &err)) return mx__linv_raise(L, &err);
  }
  lua_createtable(L, 0, 4);
  set_num(L, "r", r.r);
  set_num(L, "Q", r.Q);
  set_num(L, "cost", r.cost);
  set_num(L, "fill_rate", r.fill_rate);
  return 1;
}

/* ------------------------------------------------------------- (s,S) */

static int l_ss(lua_State *L) {
  const char *fn = "ss";
  check_opts(L, 1, fn, "K h p L dist s S method");
  double K = num_field(L, 1, "K", NAN, 1, fn), h = num_field(L, 1, "h", NAN, 1, fn),
         p = num_field(L, 1, "p", NAN, 1, fn), Lt = num_field(L, 1, "L", 0, 0, fn);
  mx_dist *d = dist_field(L, 1, "dist", fn);
  mx_error err;
  double s0 = num_field(L, 1, "s", NAN, 0, fn), S0 = num_field(L, 1, "S", NAN, 0, fn);
  mx_inv_ss_result r;
  if (!isnan(s0) || !isnan(S0)) {
    if (isnan(s0) || isnan(S0)) return mx__lua_error(L, "merx.inventory.ss: give both s and S");
    if (mx_inv_ss_cost(K, h, p, d, Lt, s0, S0, &r.cost, &err)) return mx__linv_raise(L, &err);
    r.s = s0;
    r.S = S0;
  } else {
    const char *m = str_field(L, 1, "method", mx_dist_is_integer(d) ? "exact" : "power", fn);
    int method;
    if (strcmp(m, "exact") == 0)
      method = MX_SS_EXACT;
    else if (strcmp(m, "power") == 0)
      method = MX_SS_POWER;
    else
      return mx__lua_error(L, "merx.inventory.ss: method must be exact or power");
    if (mx_inv_ss(method, K, h, p, d, Lt, &r, &err)) return mx__linv_raise(L, &err);
  }
  lua_createtable(L, 0, 3);
  set_num(L, "s", r.s);
  set_num(L, "S", r.S);
  if (!isnan(r.cost)) set_num(L, "cost", r.cost);
  return 1;
}

/* ------------------------------------------------------------ service */

#define SAFETY_STOCK_OPTIONS "service mu sigma L sigma_L R"

/* The options were checked by the caller. */
static int l_safety_stock_common(lua_State *L, const char *fn, double R_default) {
  double service = num_field(L, 1, "service", NAN, 1, fn), mu = num_field(L, 1, "mu", NAN, 1, fn),
         sigma = num_field(L, 1, "sigma", NAN, 1, fn), Lt = num_field(L, 1, "L", NAN, 1, fn),
         sL = num_field(L, 1, "sigma_L", 0, 0, fn), R = num_field(L, 1, "R", R_default, 0, fn);
  mx_error err;
  mx_safety_stock_result r;
  if (mx_safety_stock(service, mu, sigma, Lt, sL, R, &r, &err)) return mx__linv_raise(L, &err);
  lua_createtable(L, 0, 6);
  set_num(L, "z", r.z);
  set_num(L, "mean", r.mean);
  set_num(L, "sd", r.sd);
  set_num(L, "safety_stock", r.safety_stock);
  set_num(L, "level", r.level);
  return 1;
}

static int l_safety_stock(lua_State *L) {
  check_opts(L, 1, "safety_stock", SAFETY_STOCK_OPTIONS);
  return l_safety_stock_common(L, "safety_stock", 0);
}

/* reorder_point{mu, sigma, L, service [, sigma_L]} (type 1, normal), or
 * reorder_point{dist = lead-time demand, Q, fill_rate} (type 2, (r,Q)). */
static int l_reorder_point(lua_State *L) {
  const char *fn = "reorder_point";
  check_opts(L, 1, fn, "dist Q fill_rate " SAFETY_STOCK_OPTIONS);
  lua_getfield(L, 1, "fill_rate");
  int fill = !lua_isnil(L, -1);
  lua_pop(L, 1);
  if (fill) {
    mx_dist *d = dist_field(L, 1, "dist", fn);
    double Q = num_field(L, 1, "Q", NAN, 1, fn), beta = num_field(L, 1, "fill_rate", NAN, 1, fn);
    mx_error err;
    double r;
    if (mx_reorder_point_fill(d, Q, beta, &r, &err)) return mx__linv_raise(L, &err);
    lua_createtable(L, 0, 3);
    set_num(L, "r", r);
    set_num(L, "safety_stock", r - mx_dist_mean(d));
    set_num(L, "fill_rate", beta);
    return 1;
  }
  l_safety_stock_common(L, fn, 0);
  lua_getfield(L, -1, "level");
  lua_pushvalue(L, -1);
  lua_setfield(L, -3, "reorder_point"); /* the same value under its long name */
  lua_setfield(L, -2, "r");
  return 1;
}

/* fill_rate{policy = "rq", dist = lead-time demand, r, Q} or
 * fill_rate{policy = "rs", dist = per-period demand, R = 1, L, S}. */
static int l_fill_rate(lua_State *L) {
  const char *fn = "fill_rate";
  check_opts(L, 1, fn, "policy dist r Q R L S");
  const char *pol = str_field(L, 1, "policy", "rq", fn);
  mx_dist *d = dist_field(L, 1, "dist", fn);
  mx_error err;
  double beta;
  if (strcmp(pol, "rq") == 0) {
    if (mx_fill_rate_rq(d, num_field(L, 1, "r", NAN, 1, fn), num_field(L, 1, "Q", NAN, 1, fn), &beta,
                        &err))
      return mx__linv_raise(L, &err);
  } else if (strcmp(pol, "rs") == 0) {
    if (mx_fill_rate_rs(d, num_field(L, 1, "R", 1, 0, fn), num_field(L, 1, "L", NAN, 1, fn),
                        num_field(L, 1, "S", NAN, 1, fn), &beta, &err))
      return mx__linv_raise(L, &err);
  } else {
    return mx__lua_error(L, "merx.inventory.fill_rate: policy must be rq or rs");
  }
  lua_pushnumber(L, beta);
  return 1;
}

static int parse_type(lua_State *L, const char *s) {
  if (strcmp(s, "cycle") == 0) return MX_SERVICE_CYCLE;
  if (strcmp(s, "fill") == 0) return MX_SERVICE_FILL;
  return mx__lua_error(L, "service type must be \"cycle\" or \"fill\" (got \"%s\")", s);
}

/* order_up_to{dist = per-period demand, L, R = 1, service, type = "cycle"} */
static int l_order_up_to(lua_State *L) {
  const char *fn = "order_up_to";
  check_opts(L, 1, fn, "dist L R service type");
  mx_dist *d = dist_field(L, 1, "dist", fn);
  int type = parse_type(L, str_field(L, 1, "type", "cycle", fn));
  double S, R = num_field(L, 1, "R", 1, 0, fn);
  mx_error err;
  if (mx_order_up_to(type, num_field(L, 1, "service", NAN, 1, fn), d, R,
                     num_field(L, 1, "L", NAN, 1, fn), &S, &err))
    return mx__linv_raise(L, &err);
  lua_createtable(L, 0, 2);
  set_num(L, "S", S);
  double beta;
  if (mx_fill_rate_rs(d, R, num_field(L, 1, "L", NAN, 1, fn), S, &beta, &err) == MX_OK)
    set_num(L, "fill_rate", beta);
  return 1;
}

/* Loss functions of the two workhorse distributions, bulk over x. */
static int loss_apply(lua_State *L, double (*f)(double, double, double), int two) {
  double a = luaL_checknumber(L, 2), b = two ? luaL_checknumber(L, 3) : 0;
  if (lua_isnumber(L, 1)) {
    lua_pushnumber(L, f(lua_tonumber(L, 1), a, b));
    return 1;
  }
  size_t n;
  double *x = mx__linv_numbers(L, 1, &n, "x");
  lua_createtable(L, (int)n, 0);
  for (size_t i = 0; i < n; i++) {
    lua_pushnumber(L, f(x[i], a, b));
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  return 1;
}
static double pl(double x, double m, double u) { (void)u; return mx_poisson_loss(x, m); }
static double pl2(double x, double m, double u) { (void)u; return mx_poisson_loss2(x, m); }
static int l_normal_loss(lua_State *L) { return loss_apply(L, mx_normal_loss, 1); }
static int l_normal_loss2(lua_State *L) { return loss_apply(L, mx_normal_loss2, 1); }
static int l_poisson_loss(lua_State *L) { return loss_apply(L, pl, 0); }
static int l_poisson_loss2(lua_State *L) { return loss_apply(L, pl2, 0); }

/* ---------------------------------------------------------- simulate */

/* simulate{policy = "base_stock"|"ss"|"rq", S, s, r, Q, L, R, demand = {...}
 * or paths = {{...}, {...}}, K, h, p, lost_sales, warmup, initial} */
static int l_simulate(lua_State *L) {
  const char *fn = "simulate";
  check_opts(L, 1, fn,
             "policy S s r Q L R warmup initial K h p lost_sales paths demand levels");
  mx_inv_sim_options o = mx_inv_sim_defaults();
  const char *pol = str_field(L, 1, "policy", "base_stock", fn);
  if (strcmp(pol, "base_stock") == 0)
    o.policy = MX_POLICY_BASE_STOCK;
  else if (strcmp(pol, "ss") == 0)
    o.policy = MX_POLICY_SS;
  else if (strcmp(pol, "rq") == 0)
    o.policy = MX_POLICY_RQ;
  else
    return mx__lua_error(L, "merx.inventory.simulate: policy must be base_stock, ss or rq");
  o.S = num_field(L, 1, "S", NAN, 0, fn);
  o.s = num_field(L, 1, "s", NAN, 0, fn);
  o.r = num_field(L, 1, "r", NAN, 0, fn);
  o.Q = num_field(L, 1, "Q", NAN, 0, fn);
  double Lt = num_field(L, 1, "L", 0, 0, fn), R = num_field(L, 1, "R", 1, 0, fn);
  double wu = num_field(L, 1, "warmup", 0, 0, fn);
  if (Lt != floor(Lt) || Lt < 0 || Lt > 1e6)
    return mx__lua_error(L, "merx.inventory.simulate: L must be a whole number of periods >= 0");
  if (R != floor(R) || R < 1 || R > 1e6)
    return mx__lua_error(L, "merx.inventory.simulate: R must be a whole number >= 1");
  o.L = (int)Lt;
  o.R = (int)R;
  o.warmup = wu >= 0 && wu < 1e9 ? (int)wu : -1;
  o.initial = num_field(L, 1, "initial", NAN, 0, fn);
  o.K = num_field(L, 1, "K", 0, 0, fn);
  o.h = num_field(L, 1, "h", 0, 0, fn);
  o.p = num_field(L, 1, "p", 0, 0, fn);
  o.lost_sales = bool_field(L, 1, "lost_sales", 0);
  size_t n = 0, npaths = 1;
  double *dem;
  lua_getfield(L, 1, "paths");
  if (!lua_isnil(L, -1)) {
    int pidx = lua_gettop(L);
    npaths = (size_t)lua_rawlen(L, pidx);
    if (npaths == 0) return mx__lua_error(L, "merx.inventory.simulate: paths is empty");
    lua_rawgeti(L, pidx, 1);
    n = (size_t)lua_rawlen(L, -1);
    lua_pop(L, 1);
    dem = lua_newuserdatauv(L, (n > 0 ? n * npaths : 1) * sizeof *dem, 0);
    for (size_t k = 0; k < npaths; k++) {
      lua_rawgeti(L, pidx, (lua_Integer)k + 1);
      size_t m;
      double *v = mx__linv_numbers(L, -1, &m, "simulate: paths[k]");
      if (m != n) return mx__lua_error(L, "merx.inventory.simulate: paths must all have the same length");
      memcpy(dem + k * n, v, n * sizeof *v);
      lua_pop(L, 2);
    }
  } else {
    lua_getfield(L, 1, "demand");
    dem = mx__linv_numbers(L, -1, &n, "simulate: demand");
  }
  lua_getfield(L, 1, "levels");
  if (!lua_isnil(L, -1)) {
    size_t nl;
    o.levels = mx__linv_numbers(L, -1, &nl, "simulate: levels");
    if (nl != n) return mx__lua_error(L, "merx.inventory.simulate: levels must have one value per period");
  }
  mx_error err;
  mx_inv_sim_result s;
  if (mx_inv_simulate(&o, dem, n, npaths, &s, &err)) return mx__linv_raise(L, &err);
  lua_createtable(L, 0, 14);
  set_num(L, "fill_rate", s.fill_rate);
  set_num(L, "cycle_service", s.cycle_service);
  set_num(L, "avg_on_hand", s.avg_on_hand);
  set_num(L, "avg_backorders", s.avg_backorders);
  set_int(L, "stockouts", (lua_Integer)s.stockout_periods);
  set_int(L, "orders", (lua_Integer)s.orders);
  set_num(L, "ordered", s.ordered);
  set_num(L, "turnover", s.turnover);
  set_num(L, "shipped", s.shipped);
  set_num(L, "total_cost", s.total_cost);
  set_num(L, "demand", s.demand);
  set_num(L, "filled", s.filled);
  set_num(L, "lost", s.lost);
  set_int(L, "periods", (lua_Integer)s.periods);
  return 1;
}

/* -------------------------------------------------------------- plan */

/* Forecast of an item: an array of means, or a table {mean = {...},
 * sigma = {...}, cum_sigma = {...}} (what merx.forecast returns per series). */
static void item_forecast(lua_State *L, int it, mx_plan_item *pi, int k) {
  lua_getfield(L, it, "forecast");
  int f = lua_gettop(L);
  if (!lua_istable(L, f)) mx__lua_error(L, "merx.inventory.plan: items[%d].forecast must be a table", k);
  lua_getfield(L, f, "mean");
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    pi->mean = mx__linv_numbers(L, f, &pi->horizon, "plan: forecast");
    lua_getfield(L, it, "sigma");
    if (!lua_isnil(L, -1)) {
      size_t n;
      pi->sigma = mx__linv_numbers(L, -1, &n, "plan: sigma");
      if (n < pi->horizon) mx__lua_error(L, "merx.inventory.plan: items[%d].sigma is shorter than forecast", k);
    }
    return;
  }
  pi->mean = mx__linv_numbers(L, -1, &pi->horizon, "plan: forecast.mean");
  const char *names[2] = {"sigma", "cum_sigma"};
  for (int j = 0; j < 2; j++) {
    lua_getfield(L, f, names[j]);
    if (!lua_isnil(L, -1)) {
      size_t n;
      double *v = mx__linv_numbers(L, -1, &n, "plan: forecast sd");
      if (n < pi->horizon) mx__lua_error(L, "merx.inventory.plan: items[%d].forecast.%s too short", k, names[j]);
      if (j == 0) pi->sigma = v; else pi->cum_sigma = v;
    }
  }
}

/* plan{items = {{id, on_hand, on_order, lead_time, review, moq, pack_size,
 * service, type, h, p, forecast}, ...}, service = 0.95, type = "cycle",
 * dist = "normal"} -> array of {id, order, order_up_to, ...} */
static int l_plan(lua_State *L) {
  const char *fn = "plan";
  check_opts(L, 1, fn, "items service type dist");
  double service = num_field(L, 1, "service", 0.95, 0, fn);
  int type = parse_type(L, str_field(L, 1, "type", "cycle", fn));
  const char *dist = str_field(L, 1, "dist", "normal", fn);
  int dk = strcmp(dist, "poisson") == 0  ? MX_DIST_POISSON
           : strcmp(dist, "negbin") == 0 ? MX_DIST_NEGBIN
           : strcmp(dist, "normal") == 0 ? MX_DIST_NORMAL
                                         : 0;
  if (!dk) return mx__lua_error(L, "merx.inventory.plan: dist must be normal, poisson or negbin");
  lua_getfield(L, 1, "items");
  int items = lua_gettop(L);
  if (!lua_istable(L, items)) return mx__lua_error(L, "merx.inventory.plan: items must be an array of tables");
  size_t n = (size_t)lua_rawlen(L, items);
  lua_createtable(L, (int)n, 0);
  int out = lua_gettop(L);
  for (size_t k = 1; k <= n; k++) {
    int top = lua_gettop(L);
    lua_rawgeti(L, items, (lua_Integer)k);
    int it = lua_gettop(L);
    if (!lua_istable(L, it)) return mx__lua_error(L, "merx.inventory.plan: items[%d] is not a table", (int)k);
    char what[64];
    snprintf(what, sizeof what, "merx.inventory.plan: items[%d]", (int)k);
    mx__lua_check_options(L, it, what,
                         "id on_hand on_order lead_time review moq pack_size h p service type "
                         "forecast sigma");
    mx_plan_item pi;
    memset(&pi, 0, sizeof pi);
    pi.on_hand = num_field(L, it, "on_hand", NAN, 1, fn);
    pi.on_order = num_field(L, it, "on_order", 0, 0, fn);
    pi.lead_time = num_field(L, it, "lead_time", NAN, 1, fn);
    pi.review = num_field(L, it, "review", 1, 0, fn);
    pi.moq = num_field(L, it, "moq", 0, 0, fn);
    pi.pack_size = num_field(L, it, "pack_size", 1, 0, fn);
    pi.dist = dk;
    double h = num_field(L, it, "h", NAN, 0, fn), p = num_field(L, it, "p", NAN, 0, fn);
    double sv = num_field(L, it, "service", NAN, 0, fn);
    const char *ts = str_field(L, it, "type", NULL, fn);
    if (!isnan(sv) || (isnan(h) && isnan(p))) {
      pi.service_type = ts ? parse_type(L, ts) : type;
      pi.service = isnan(sv) ? service : sv;
    } else {
      pi.service_type = 0;
      pi.h = h;
      pi.p = p;
    }
    item_forecast(L, it, &pi, (int)k);
    mx_error err;
    mx_plan_row row;
    if (mx_plan_item_compute(&pi, &row, &err)) {
      char msg[MX_ERROR_MESSAGE_MAX + 64];
      snprintf(msg, sizeof msg, "items[%d]: %s", (int)k, err.message);
      mx_error_set(&err, MX_EINVAL, "%s", msg);
      return mx__linv_raise(L, &err);
    }
    lua_createtable(L, 0, 9);
    lua_getfield(L, it, "id");
    lua_setfield(L, -2, "id");
    set_num(L, "order", row.order);
    set_num(L, "order_up_to", row.target);
    set_num(L, "raw_order", row.raw);
    set_num(L, "position", row.position);
    set_num(L, "ltd_mean", row.ltd_mean);
    set_num(L, "ltd_sd", row.ltd_sd);
    set_num(L, "safety_stock", row.safety_stock);
    lua_pushboolean(L, row.horizon_short);
    lua_setfield(L, -2, "horizon_short");
    lua_rawseti(L, out, (lua_Integer)k);
    lua_settop(L, top);
  }
  return 1;
}

static const luaL_Reg inventory_funcs[] = {
    {"eoq", l_eoq},
    {"eoq_backorders", l_eoq_backorders},
    {"epq", l_epq},
    {"eoq_discount", l_eoq_discount},
    {"newsvendor", l_newsvendor},
    {"base_stock", l_base_stock},
    {"rq", l_rq},
    {"ss", l_ss},
    {"safety_stock", l_safety_stock},
    {"reorder_point", l_reorder_point},
    {"fill_rate", l_fill_rate},
    {"order_up_to", l_order_up_to},
    {"normal_loss", l_normal_loss},
    {"normal_loss2", l_normal_loss2},
    {"poisson_loss", l_poisson_loss},
    {"poisson_loss2", l_poisson_loss2},
    {"simulate", l_simulate},
    {"plan", l_plan},
    {NULL, NULL}};

int mx__luaopen_inventory(lua_State *L) {
  mx__linv_dist_metatable(L); /* dist_field checks need it even when merx.dist is not loaded */
  luaL_newlib(L, inventory_funcs);
  return 1;
}
