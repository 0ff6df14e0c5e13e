/* Lua binding of the forecasting module: merx.forecast.
 *
 *   merx.forecast(series, {horizon = 28, method = "auto", season = 7,
 *                          levels = {80, 95}, nonneg = true, threads = 0,
 *                          regressors = {price = {...}, promo = {...}}})
 *     series: one array of numbers -> one result table, or a table of arrays
 *     (keyed by id or by position) -> a table of results with the same keys.
 *     All series are forecast in one parallel C call (mx_forecast_batch).
 *     regressors (method "arima" only): per name an array over history plus
 *     horizon; for several series, such a table per series key.
 *     holidays (method "arima" only) = {file = "cal.csv", country = "GB",
 *     start = "2011-06-01" (or a table of starts per series key), freq =
 *     "day"|"week"|"month", before = 0, after = 0}: the calendar's regressors
 *     (mx_holidays_regressors), added to regressors.
 *     result = {mean = {...} (also as forecast), lo = {[80] = {...}, [95] = {...}}, hi = {...},
 *               sigma = {...}, cum_sigma = {...}, method = "ets",
 *               model = "ETS(M,Ad,M)", note = "..." (fallbacks only)}
 *   merx.forecast.backtest(series, {horizon =, methods = {"auto", "ets"},
 *                          origins = 3, step =, refit = "every"|"first", season =, levels =})
 *     -> array of {method, smape, mase, rmsse, wape, bias, pinball,
 *                  coverage = {[80] = ..}, evaluated, seconds}
 *   merx.forecast.methods() -> array of method names
 *   merx.forecast.reconcile(base, parents, {method = "mint-shrink", residuals = {id = {..}}})
 *     -> id -> reconciled forecasts (bottom-up, ols, mint-shrink, none)
 *
 * Errors go through the runtime's mx__lua_raise / mx__lua_error (script:line
 * prefix); memory for the inputs lives in userdata so a Lua error part-way
 * leaks nothing. */
#include <lauxlib.h>
#include <lua.h>
#include <stdlib.h>
#include <string.h>

#include "merx/forecast.h"
#include "lua/lmerx.h"

int mx__luaopen_forecast(lua_State *L);

/* The runtime's single conversion point (script:line prefix). */
static int raise_error(lua_State *L, const mx_error *err) { return mx__lua_raise(L, err); }

/* Options shared by forecast and backtest (table at idx, may be absent). */
#define FORECAST_OPTIONS "horizon season method levels nonneg threads"

static void read_options(lua_State *L, int idx, mx_forecast_options *o) {
  *o = mx_forecast_defaults();
  luaL_checktype(L, idx, LUA_TTABLE);
  /* integers, or floats with an integral value (7.0 from arithmetic on data) */
  int ok;
  lua_getfield(L, idx, "horizon");
  lua_Integer hv = lua_tointegerx(L, -1, &ok);
  if (!ok || hv < 1 || hv > 100000) mx__lua_error(L, "options.horizon: expected an integer in 1..100000");
  o->horizon = (int)hv;
  lua_pop(L, 1);
  lua_getfield(L, idx, "season");
  if (!lua_isnil(L, -1)) {
    lua_Integer sv = lua_tointegerx(L, -1, &ok);
    if (!ok || sv < 0 || sv > 400) mx__lua_error(L, "options.season: expected an integer in 0..400");
    o->season = (int)sv;
  }
  lua_pop(L, 1);
  lua_getfield(L, idx, "method");
  if (!lua_isnil(L, -1)) {
    const char *m = luaL_checkstring(L, -1);
    mx_error err;
    if (mx_forecast_method_parse(m, &o->method, &err) != MX_OK) raise_error(L, &err);
  }
  lua_pop(L, 1);
  lua_getfield(L, idx, "levels");
  if (!lua_isnil(L, -1)) {
    if (!lua_istable(L, -1)) mx__lua_error(L, "options.levels: expected an array of percentages");
    lua_Integer n = (lua_Integer)lua_rawlen(L, -1);
    if (n > MX_FC_MAX_LEVELS) mx__lua_error(L, "options.levels: at most %d levels", MX_FC_MAX_LEVELS);
    o->nlevels = (int)n;
    for (lua_Integer i = 1; i <= n; i++) {
      lua_rawgeti(L, -1, i);
      double v = lua_tonumberx(L, -1, &ok);
      if (!ok || !(v > 0 && v < 100)) mx__lua_error(L, "options.levels[%d]: expected a percentage in (0, 100)", (int)i);
      o->levels[i - 1] = v;
      lua_pop(L, 1);
    }
  }
  lua_pop(L, 1);
  lua_getfield(L, idx, "nonneg");
  o->nonneg = lua_toboolean(L, -1);
  lua_pop(L, 1);
  lua_getfield(L, idx, "threads");
  if (!lua_isnil(L, -1)) o->threads = (int)luaL_checkinteger(L, -1);
  lua_pop(L, 1);
}

/* Series input at idx -> a set whose arrays live in a userdata pushed on the
 * stack; the key of series i is pushed into the keys table (also pushed).
 * Returns 1 when the input was a single array. Stack: +2 (keys, buffer). */
static int read_series(lua_State *L, int idx, mx_series_set *set) {
  luaL_checktype(L, idx, LUA_TTABLE);
  lua_rawgeti(L, idx, 1);
  int single = lua_type(L, -1) == LUA_TNUMBER;
  lua_pop(L, 1);
  lua_newtable(L); /* keys */
  int keys = lua_gettop(L);
  size_t count = 0, total = 0;
  if (single) {
    count = 1;
    total = lua_rawlen(L, idx);
    lua_pushinteger(L, 1);
    lua_rawseti(L, keys, 1);
  } else {
    lua_pushnil(L);
    while (lua_next(L, idx)) {
      if (!lua_istable(L, -1)) mx__lua_error(L, "series: every value must be an array of numbers");
      total += lua_rawlen(L, -1);
      lua_pop(L, 1);
      lua_pushvalue(L, -1);
      lua_rawseti(L, keys, (lua_Integer)++count);
    }
  }
  if (count == 0) mx__lua_error(L, "series: no series given");
  size_t bytes = total * sizeof(double) + count * (sizeof(double *) + sizeof(size_t) + sizeof(char *));
  char *buf = lua_newuserdatauv(L, bytes ? bytes : 1, 0);
  double *vals = (double *)buf;
  double **ptrs = (double **)(buf + total * sizeof(double));
  size_t *lens = (size_t *)(ptrs + count);
  char **ids = (char **)(lens + count);
  size_t off = 0;
  for (size_t i = 0; i < count; i++) {
    int arr;
    if (single) {
      lua_pushvalue(L, idx);
    } else {
      lua_rawgeti(L, keys, (lua_Integer)i + 1);
      lua_gettable(L, idx);
    }
    arr = lua_gettop(L);
    size_t n = lua_rawlen(L, arr);
    ptrs[i] = vals + off;
    lens[i] = n;
    for (size_t t = 0; t < n; t++) {
      lua_rawgeti(L, arr, (lua_Integer)t + 1);
      int ok;
      double v = lua_tonumberx(L, -1, &ok);
      if (!ok) {
        lua_rawgeti(L, keys, (lua_Integer)i + 1);
        mx__lua_error(L, "series '%s': element %d is not a number", luaL_tolstring(L, -1, NULL), (int)t + 1);
      }
      vals[off + t] = v;
      lua_pop(L, 1);
    }
    off += n;
    lua_pop(L, 1);
  }
  memset(set, 0, sizeof *set);
  set->count = count;
  set->values = ptrs;
  set->len = lens;
  set->ids = ids;
  /* ids: the string form of each key, stored in the keys table under
   * negative indices so the strings stay alive while the set is used */
  for (size_t i = 0; i < count; i++) {
    lua_rawgeti(L, keys, (lua_Integer)i + 1);
    luaL_tolstring(L, -1, NULL);
    ids[i] = (char *)lua_tostring(L, -1);
    lua_rawseti(L, keys, -(lua_Integer)i - 1);
    lua_pop(L, 1);
  }
  return single;
}

static void push_array(lua_State *L, const double *v, int n) {
  lua_createtable(L, n, 0);
  for (int i = 0; i < n; i++) {
    lua_pushnumber(L, v[i]);
    lua_rawseti(L, -2, i + 1);
  }
}

static void push_result(lua_State *L, const mx_forecast_result *r) {
  lua_createtable(L, 0, 8);
  push_array(L, r->mean, r->horizon);
  lua_pushvalue(L, -1);
  lua_setfield(L, -3, "forecast"); /* alias of mean */
  lua_setfield(L, -2, "mean");
  push_array(L, r->sigma, r->horizon);
  lua_setfield(L, -2, "sigma");
  push_array(L, r->cum_sigma, r->horizon);
  lua_setfield(L, -2, "cum_sigma");
  for (int side = 0; side < 2; side++) {
    lua_createtable(L, 0, r->nlevels);
    for (int l = 0; l < r->nlevels; l++) {
      double lv = r->levels[l];
      if (lv == (lua_Integer)lv) lua_pushinteger(L, (lua_Integer)lv);
      else lua_pushnumber(L, lv);
      push_array(L, (side ? r->hi : r->lo) + (size_t)l * (size_t)r->horizon, r->horizon);
      lua_settable(L, -3);
    }
    lua_setfield(L, -2, side ? "hi" : "lo");
  }
  lua_pushstring(L, mx_forecast_method_name(r->method));
  lua_setfield(L, -2, "method");
  if (r->model[0]) {
    lua_pushstring(L, r->model);
    lua_setfield(L, -2, "model");
  }
  if (r->note[0]) {
    lua_pushstring(L, r->note);
    lua_setfield(L, -2, "note");
  }
}

/* Results live in a guard, so an error while the Lua tables are built leaks
 * nothing. */
typedef struct {
  size_t count;
  mx_forecast_result *r;
} result_box;

static void box_release(void *state) {
  result_box *b = state;
  if (b->r) {
    for (size_t i = 0; i < b->count; i++) mx_forecast_result_free(&b->r[i]);
    free(b->r);
    b->r = NULL;
  }
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* options.regressors -> r (arrays in a userdata left on the stack): one table
 * {name = array of history + horizon numbers} for a single series, else such
 * a table per series key. Names are taken in sorted order. Stack: +1 or 0. */
static int read_regressors(lua_State *L, int oi, const mx_series_set *set, int single, int keys,
                           const mx_forecast_options *o, mx_regressors *r) {
  lua_getfield(L, oi, "regressors");
  int ri = lua_gettop(L);
  if (lua_isnil(L, ri)) {
    lua_pop(L, 1);
    return 0;
  }
  if (!lua_istable(L, ri)) mx__lua_error(L, "options.regressors: expected a table");
  if (o->method != MX_FC_ARIMA)
    mx__lua_error(L, "options.regressors: method %s does not use regressors (only arima does)",
                 mx_forecast_method_name(o->method));
  memset(r, 0, sizeof *r);
  /* the names, from the first series' table */
  if (single) lua_pushvalue(L, ri);
  else {
    lua_rawgeti(L, keys, 1);
    lua_gettable(L, ri);
  }
  if (!lua_istable(L, -1)) mx__lua_error(L, "options.regressors: no regressors for series '%s'", set->ids[0]);
  lua_pushnil(L);
  while (lua_next(L, -2)) {
    lua_pop(L, 1);
    if (lua_type(L, -1) != LUA_TSTRING) mx__lua_error(L, "options.regressors: names must be strings");
    if (r->nx == MX_FC_MAX_REGRESSORS) mx__lua_error(L, "options.regressors: at most %d regressors", MX_FC_MAX_REGRESSORS);
    r->names[r->nx++] = (char *)lua_tostring(L, -1); /* alive in the options table */
  }
  lua_pop(L, 1);
  if (r->nx == 0) mx__lua_error(L, "options.regressors: empty");
  qsort(r->names, (size_t)r->nx, sizeof *r->names, cmp_str);
  size_t total = 0;
  for (size_t i = 0; i < set->count; i++) total += set->len[i] + (size_t)o->horizon;
  size_t bytes = set->count * (sizeof(double *) + sizeof(size_t)) + (size_t)r->nx * total * sizeof(double);
  char *buf = lua_newuserdatauv(L, bytes, 0);
  r->count = set->count;
  r->values = (double **)buf;
  r->len = (size_t *)(r->values + set->count);
  double *vals = (double *)(r->len + set->count);
  for (size_t i = 0; i < set->count; i++) {
    size_t len = set->len[i] + (size_t)o->horizon;
    r->len[i] = len;
    r->values[i] = vals;
    vals += (size_t)r->nx * len;
    if (single) lua_pushvalue(L, ri);
    else {
      lua_rawgeti(L, keys, (lua_Integer)i + 1);
      lua_gettable(L, ri);
    }
    if (!lua_istable(L, -1)) mx__lua_error(L, "options.regressors: no regressors for series '%s'", set->ids[i]);
    for (int k = 0; k < r->nx; k++) {
      lua_getfield(L, -1, r->names[k]);
      size_t got = lua_istable(L, -1) ? lua_rawlen(L, -1) : 0;
      if (got != len)
        mx__lua_error(L, "options.regressors.%s of series '%s': expected %zu values (history %zu "
                     "+ horizon %d, the future values included), got %zu",
                     r->names[k], set->ids[i], len, set->len[i], o->horizon, got);
      for (size_t t = 0; t < len; t++) {
        lua_rawgeti(L, -1, (lua_Integer)t + 1);
        int ok;
        double v = lua_tonumberx(L, -1, &ok);
        if (!ok) mx__lua_error(L, "options.regressors.%s of series '%s': element %d is not a number",
                              r->names[k], set->ids[i], (int)t + 1);
        r->values[i][(size_t)k * len + t] = v;
        lua_pop(L, 1);
      }
      lua_pop(L, 1);
    }
    lua_pop(L, 1);
  }
  lua_remove(L, ri);
  return 1;
}

typedef struct {
  mx_holidays *cal;
  mx_regressors *hr, *all;
} holidays_box;

static void holidays_release(void *state) {
  holidays_box *b = state;
  mx_holidays_free(b->cal);
  mx_regressors_free(b->hr);
  mx_regressors_free(b->all);
  b->cal = NULL, b->hr = b->all = NULL;
}

/* A deep copy of r (whose arrays live in Lua userdata) that
 * mx_regressors_append may grow. NULL when out of memory. */
static mx_regressors *regressors_copy(const mx_regressors *r) {
  mx_regressors *c = calloc(1, sizeof *c);
  if (!c) return NULL;
  c->count = r->count;
  c->len = calloc(r->count, sizeof *c->len);
  c->values = calloc(r->count, sizeof *c->values);
  if (!c->len || !c->values) goto fail;
  for (int k = 0; k < r->nx; k++, c->nx++)
    if (!(c->names[k] = strdup(r->names[k]))) goto fail;
  for (size_t i = 0; i < r->count; i++) {
    c->len[i] = r->len[i];
    size_t bytes = (size_t)r->nx * r->len[i] * sizeof(double);
    if (!(c->values[i] = malloc(bytes ? bytes : 1))) goto fail;
    memcpy(c->values[i], r->values[i], bytes);
  }
  return c;
fail:
  mx_regressors_free(c);
  return NULL;
}

/* options.holidays -> the calendar's regressors for set (given dates by the
 * option's start and freq), joined to *xr; the result belongs to a guard
 * left on the stack (+1, or 0 when there is no holidays option). */
static int read_holidays(lua_State *L, int oi, mx_series_set *set, int single, int keys,
                         const mx_forecast_options *o, mx_regressors **xr) {
  lua_getfield(L, oi, "holidays");
  int hi = lua_gettop(L);
  if (lua_isnil(L, hi)) {
    lua_pop(L, 1);
    return 0;
  }
  if (!lua_istable(L, hi)) mx__lua_error(L, "options.holidays: expected a table {file =, country =, start =, freq =}");
  mx__lua_check_options(L, hi, "options.holidays", "file country start freq before after");
  if (o->method != MX_FC_ARIMA)
    mx__lua_error(L, "options.holidays: method %s does not use regressors (only arima does)",
                 mx_forecast_method_name(o->method));
  mx_error err;
  mx_error_clear(&err);
  lua_getfield(L, hi, "freq");
  const char *fs = lua_isnil(L, -1) ? "day" : luaL_checkstring(L, -1);
  if (mx_series_freq_parse(fs, &set->freq, &err)) mx__lua_error(L, "options.holidays.freq: %s", err.message);
  lua_pop(L, 1);
  int win[2];
  static const char *const wn[2] = {"before", "after"};
  for (int w = 0; w < 2; w++) {
    lua_getfield(L, hi, wn[w]);
    int ok = 1;
    lua_Integer v = lua_isnil(L, -1) ? 0 : lua_tointegerx(L, -1, &ok);
    if (!ok || v < 0 || v > 366) mx__lua_error(L, "options.holidays.%s: expected days in 0..366", wn[w]);
    win[w] = (int)v;
    lua_pop(L, 1);
  }
  set->start = mx__lua_scratch(L, set->count * sizeof *set->start);
  lua_getfield(L, hi, "start");
  int si = lua_gettop(L);
  for (size_t i = 0; i < set->count; i++) {
    if (lua_istable(L, si) && !single) {
      lua_rawgeti(L, keys, (lua_Integer)i + 1);
      lua_gettable(L, si);
    } else {
      lua_pushvalue(L, si);
    }
    const char *d = lua_tostring(L, -1);
    if (!d || mx_parse_time(d, &set->start[i]) != 0)
      mx__lua_error(L, "options.holidays.start: expected a date (YYYY-MM-DD)%s for series '%s'",
                   single ? "" : ", or a table of dates per series key", set->ids[i]);
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  lua_getfield(L, hi, "file");
  if (!lua_isstring(L, -1)) mx__lua_error(L, "options.holidays.file: expected a path");
  const char *path = mx__lua_path(L, lua_gettop(L), 0);
  lua_getfield(L, hi, "country");
  const char *country = lua_isnil(L, -1) ? NULL : luaL_checkstring(L, -1);
  holidays_box *b = mx__lua_guard(L, sizeof *b, holidays_release);
  if (mx_holidays_read(path, country, &b->cal, &err) ||
      mx_holidays_regressors(b->cal, set, o->horizon, win[0], win[1], &b->hr, &err))
    raise_error(L, &err);
  if (*xr) {
    if (!(b->all = regressors_copy(*xr))) mx__lua_error(L, "out of memory");
    mx_regressors *hr = b->hr;
    b->hr = NULL; /* consumed by append */
    if (mx_regressors_append(b->all, hr, &err)) raise_error(L, &err);
  } else {
    b->all = b->hr;
    b->hr = NULL;
  }
  *xr = b->all;
  lua_replace(L, hi); /* the guard takes the option's slot; the strings above stay in the options */
  lua_settop(L, hi);
  return 1;
}

static int l_forecast(lua_State *L) {
  /* called as merx.forecast(series, opts): argument 1 is the module table */
  int si = 2, oi = 3;
  mx_forecast_options o;
  mx__lua_check_options(L, oi, "merx.forecast", FORECAST_OPTIONS " regressors holidays");
  read_options(L, oi, &o);
  mx_series_set set;
  int single = read_series(L, si, &set);
  int keys = lua_gettop(L) - 1;
  mx_regressors xr, *xp = NULL;
  if (read_regressors(L, oi, &set, single, keys, &o, &xr)) xp = &xr;
  read_holidays(L, oi, &set, single, keys, &o, &xp);
  set.freq = MX_FREQ_NONE, set.start = NULL; /* the dates served the calendar only */
  o.regressors = xp;
  result_box *box = mx__lua_guard(L, sizeof *box, box_release);
  box->r = calloc(set.count, sizeof *box->r);
  if (!box->r) mx__lua_error(L, "out of memory");
  box->count = set.count;
  mx_error err;
  mx_error_clear(&err);
  mx_cancel cancel = mx__lua_cancel(L);
  o.cancel = &cancel;
  if (mx_forecast_batch(&set, &o, box->r, NULL, NULL, &err) != MX_OK) raise_error(L, &err);
  if (single) {
    push_result(L, &box->r[0]);
  } else {
    lua_createtable(L, 0, (int)set.count);
    for (size_t i = 0; i < set.count; i++) {
      lua_rawgeti(L, keys, (lua_Integer)i + 1);
      push_result(L, &box->r[i]);
      lua_settable(L, -3);
    }
  }
  return 1;
}

static int l_backtest(lua_State *L) {
  mx_backtest_options bo = mx_backtest_defaults();
  mx__lua_check_options(L, 2, "merx.forecast.backtest",
                       FORECAST_OPTIONS " origins step refit methods");
  read_options(L, 2, &bo.fc);
  lua_getfield(L, 2, "origins");
  if (!lua_isnil(L, -1)) bo.origins = (int)luaL_checkinteger(L, -1);
  lua_pop(L, 1);
  lua_getfield(L, 2, "step");
  if (!lua_isnil(L, -1)) bo.step = (int)luaL_checkinteger(L, -1);
  lua_pop(L, 1);
  lua_getfield(L, 2, "refit");
  if (!lua_isnil(L, -1)) {
    const char *rf = luaL_checkstring(L, -1);
    if (strcmp(rf, "every") == 0) bo.refit = 1;
    else if (strcmp(rf, "first") == 0) bo.refit = 0;
    else mx__lua_error(L, "options.refit: expected \"every\" or \"first\", got '%s'", rf);
  }
  lua_pop(L, 1);
  int methods[MX_FC_METHOD_COUNT * 2], nm = 0;
  mx_error err;
  lua_getfield(L, 2, "methods");
  if (lua_istable(L, -1)) {
    int n = (int)lua_rawlen(L, -1);
    if (n > (int)(sizeof methods / sizeof methods[0])) mx__lua_error(L, "options.methods: too many");
    for (int i = 1; i <= n; i++) {
      lua_rawgeti(L, -1, i);
      if (mx_forecast_method_parse(luaL_checkstring(L, -1), &methods[nm], &err) != MX_OK)
        raise_error(L, &err);
      nm++;
      lua_pop(L, 1);
    }
  } else {
    methods[nm++] = bo.fc.method;
  }
  lua_pop(L, 1);
  mx_series_set set;
  read_series(L, 1, &set);
  mx_backtest_metrics *m = lua_newuserdatauv(L, (size_t)nm * sizeof *m, 0);
  mx_error_clear(&err);
  mx_cancel cancel = mx__lua_cancel(L);
  bo.fc.cancel = &cancel;
  if (mx_backtest(&set, &bo, methods, nm, m, &err) != MX_OK) raise_error(L, &err);
  lua_createtable(L, nm, 0);
  for (int i = 0; i < nm; i++) {
    lua_createtable(L, 0, 10);
    lua_pushstring(L, mx_forecast_method_name(m[i].method));
    lua_setfield(L, -2, "method");
    const char *names[] = {"smape", "mase", "rmsse", "wape", "bias", "pinball", "seconds"};
    double vals[] = {m[i].smape, m[i].mase, m[i].rmsse, m[i].wape, m[i].bias, m[i].pinball, m[i].seconds};
    for (int k = 0; k < 7; k++) {
      lua_pushnumber(L, vals[k]);
      lua_setfield(L, -2, names[k]);
    }
    lua_createtable(L, 0, bo.fc.nlevels);
    for (int l = 0; l < bo.fc.nlevels; l++) {
      double lv = bo.fc.levels[l];
      if (lv == (lua_Integer)lv) lua_pushinteger(L, (lua_Integer)lv);
      else lua_pushnumber(L, lv);
      lua_pushnumber(L, m[i].coverage[l]);
      lua_settable(L, -3);
    }
    lua_setfield(L, -2, "coverage");
    lua_pushinteger(L, (lua_Integer)m[i].evaluated);
    lua_setfield(L, -2, "evaluated");
    lua_rawseti(L, -2, i + 1);
  }
  return 1;
}

/* backtest is called as merx.forecast.backtest(series, opts): shift so the
 * series is argument 1 and the options argument 2. */
static int l_backtest_entry(lua_State *L) {
  lua_settop(L, 2);
  return l_backtest(L);
}


/* merx.forecast.reconcile(base, parents, {method = "mint-shrink", residuals = {id = {...}}})
 * base: id -> array of H forecasts (every node); parents: id -> parent id, or
 * "" for a root. Returns id -> array of reconciled forecasts. Buffers live in
 * userdata so a Lua error part-way leaks nothing. */
static int l_reconcile(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_checktype(L, 2, LUA_TTABLE);
  if (!lua_isnoneornil(L, 3)) mx__lua_check_options(L, 3, "merx.forecast.reconcile", "method residuals");
  const char *mname = "mint-shrink";
  if (lua_istable(L, 3)) {
    lua_getfield(L, 3, "method");
    if (!lua_isnil(L, -1)) mname = luaL_checkstring(L, -1);
    lua_pop(L, 1);
  }
  mx_error err;
  mx_error_clear(&err);
  int method;
  if (mx_reconcile_parse(mname, &method, &err)) return raise_error(L, &err);
  size_t n = 0;
  lua_pushnil(L);
  while (lua_next(L, 2)) n++, lua_pop(L, 1);
  if (n == 0) return luaL_error(L, "merx.forecast.reconcile: empty hierarchy");
  const char **ids = lua_newuserdatauv(L, n * sizeof *ids, 0);
  const char **par = lua_newuserdatauv(L, n * sizeof *par, 0);
  size_t k = 0;
  lua_pushnil(L);
  while (lua_next(L, 2)) {
    if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING)
      return luaL_error(L, "merx.forecast.reconcile: parents must map id strings to parent strings");
    ids[k++] = lua_tostring(L, -2); /* keys stay alive in table 2 */
    lua_pop(L, 1);
  }
  qsort(ids, n, sizeof *ids, cmp_str);
  for (size_t i = 0; i < n; i++) {
    lua_getfield(L, 2, ids[i]);
    par[i] = lua_tostring(L, -1);
    lua_pop(L, 1);
  }
  int H = -1;
  size_t T = 0;
  for (size_t i = 0; i < n; i++) {
    lua_getfield(L, 1, ids[i]);
    if (!lua_istable(L, -1)) return luaL_error(L, "merx.forecast.reconcile: no base forecasts for '%s'", ids[i]);
    int len = (int)lua_rawlen(L, -1);
    if (H < 0) H = len;
    if (len != H || len < 1)
      return luaL_error(L, "merx.forecast.reconcile: '%s' has %d forecasts, expected %d", ids[i], len, H);
    lua_pop(L, 1);
  }
  double *base = lua_newuserdatauv(L, n * (size_t)H * sizeof *base, 0);
  double *out = lua_newuserdatauv(L, n * (size_t)H * sizeof *out, 0);
  for (size_t i = 0; i < n; i++) {
    lua_getfield(L, 1, ids[i]);
    for (int j = 0; j < H; j++) {
      lua_rawgeti(L, -1, j + 1);
      base[i * (size_t)H + (size_t)j] = luaL_checknumber(L, -1);
      lua_pop(L, 1);
    }
    lua_pop(L, 1);
  }
  double *resid = NULL;
  if (lua_istable(L, 3)) {
    lua_getfield(L, 3, "residuals");
    int rt = lua_gettop(L);
    if (lua_istable(L, rt)) {
      lua_getfield(L, rt, ids[0]);
      T = lua_istable(L, -1) ? lua_rawlen(L, -1) : 0;
      lua_pop(L, 1);
      resid = lua_newuserdatauv(L, n * (T ? T : 1) * sizeof *resid, 0);
      for (size_t i = 0; i < n; i++) {
        lua_getfield(L, rt, ids[i]);
        if (!lua_istable(L, -1))
          return luaL_error(L, "merx.forecast.reconcile: no residuals for '%s'", ids[i]);
        if (lua_rawlen(L, -1) != T)
          return luaL_error(L, "merx.forecast.reconcile: residuals of '%s': %d values, expected %d",
                            ids[i], (int)lua_rawlen(L, -1), (int)T);
        for (size_t t = 0; t < T; t++) {
          lua_rawgeti(L, -1, (lua_Integer)t + 1);
          resid[i * T + t] = luaL_checknumber(L, -1);
          lua_pop(L, 1);
        }
        lua_pop(L, 1);
      }
    }
  }
  mx_hierarchy *hy;
  if (mx_hierarchy_from_arrays(ids, par, n, &hy, &err)) return raise_error(L, &err);
  int rc = mx_reconcile(hy, method, base, H, resid, T, out, NULL, &err);
  mx_hierarchy_free(hy);
  if (rc) return raise_error(L, &err);
  lua_createtable(L, 0, (int)n);
  for (size_t i = 0; i < n; i++) {
    push_array(L, out + i * (size_t)H, H);
    lua_setfield(L, -2, ids[i]);
  }
  return 1;
}

static int l_methods(lua_State *L) {
  lua_createtable(L, MX_FC_COMBO, 0);
  for (int i = 0; i < MX_FC_COMBO; i++) {
    lua_pushstring(L, mx_forecast_method_name(i));
    lua_rawseti(L, -2, i + 1);
  }
  return 1;
}

int mx__luaopen_forecast(lua_State *L) {
  lua_createtable(L, 0, 3);
  lua_pushcfunction(L, l_backtest_entry);
  lua_setfield(L, -2, "backtest");
  lua_pushcfunction(L, l_methods);
  lua_setfield(L, -2, "methods");
  lua_pushcfunction(L, l_reconcile);
  lua_setfield(L, -2, "reconcile");
  lua_createtable(L, 0, 1);
  lua_pushcfunction(L, l_forecast);
  lua_setfield(L, -2, "__call");
  mx__lua_protect_metatable(L, "merx.forecast");
  lua_setmetatable(L, -2);
  return 1;
}
