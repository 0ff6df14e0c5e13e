/* merx.uplift: uplift models in scripts (merx/uplift.h), so a campaign can
 * use each customer's incremental response as its value.
 *
 *   local m <close> = merx.uplift.train{ data = frame, treatment = "arm", outcome = "bought",
 *                                        control = "none", features = { "segment", "recency" } }
 *   local m <close> = merx.uplift.load("campaign.mxu")      -- from `merx uplift train`
 *   local s = m:score(frame)   -- { uplift = {...}, p_treated = {...}, p_control = {...} }
 *   local r = m:info()         -- learner, arms, features, held-out qini/auuc with intervals
 *
 * A frame is a table of equal-length columns (merx.data.read). Columns of
 * numbers are numeric features unless listed in `categorical`; columns with
 * strings are categorical. */
#include <lauxlib.h>
#include <lua.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lua/internal.h"
#include "lua/lmerx.h"
#include "merx/uplift.h"

#define UPLIFT_MT "merx.uplift.model"

typedef struct {
  mx_uplift_model *m;
  mx_uplift_report rep; /* held-out figures when trained here */
  int have_rep;
} lupl;

static int upl_gc(lua_State *L) {
  lupl *u = luaL_checkudata(L, 1, UPLIFT_MT);
  mx_uplift_free(u->m);
  u->m = NULL;
  return 0;
}

static lupl *push_upl(lua_State *L) {
  lupl *u = lua_newuserdatauv(L, sizeof *u, 0);
  memset(u, 0, sizeof *u);
  luaL_setmetatable(L, UPLIFT_MT);
  return u;
}

static mx_uplift_model *check_upl(lua_State *L) {
  lupl *u = luaL_checkudata(L, 1, UPLIFT_MT);
  mx__lua_check_run_active(L, "uplift model");
  if (!u->m) mx__lua_error(L, "uplift model is closed");
  return u->m;
}

/* The table under construction belongs to a guard: a Lua error frees it. */
static void table_release(void *slot) {
  mx_uplift_table **t = slot;
  mx_uplift_table_free(*t);
  *t = NULL;
}

static int listed(lua_State *L, int list_idx, const char *name) {
  if (!list_idx) return 0;
  lua_Integer n = (lua_Integer)lua_rawlen(L, list_idx);
  for (lua_Integer i = 1; i <= n; i++) {
    lua_rawgeti(L, list_idx, i);
    const char *s = lua_tostring(L, -1);
    int hit = s && strcmp(s, name) == 0;
    lua_pop(L, 1);
    if (hit) return 1;
  }
  return 0;
}

/* Add frame column `name` to t: as strings when as_text or when a value is
 * not a number, else as numbers. *rows is set by the first column. */
static void add_column(lua_State *L, int frame_idx, const char *name, int as_text,
                       mx_uplift_table **slot, size_t *rows, const char *fn) {
  lua_getfield(L, frame_idx, name);
  if (!lua_istable(L, -1)) mx__lua_error(L, "%s: the data has no column '%s'", fn, name);
  int col = lua_gettop(L);
  size_t n = (size_t)lua_rawlen(L, col);
  if (!*slot) {
    if (n == 0) mx__lua_error(L, "%s: column '%s' is empty", fn, name);
    mx_error err;
    mx_error_clear(&err);
    if (mx_uplift_table_create(n, slot, &err)) mx__lua_raise(L, &err);
    *rows = n;
  } else if (n != *rows) {
    mx__lua_error(L, "%s: column '%s' has %zu values, the others %zu", fn, name, n, *rows);
  }
  int numeric = !as_text;
  for (size_t i = 1; numeric && i <= n; i++) {
    lua_rawgeti(L, col, (lua_Integer)i);
    numeric = lua_type(L, -1) == LUA_TNUMBER;
    lua_pop(L, 1);
  }
  mx_error err;
  mx_error_clear(&err);
  int rc;
  if (numeric) {
    double *v = mx__lua_scratch(L, n * sizeof *v);
    for (size_t i = 1; i <= n; i++) {
      lua_rawgeti(L, col, (lua_Integer)i);
      v[i - 1] = lua_tonumber(L, -1);
      lua_pop(L, 1);
      if (!isfinite(v[i - 1])) mx__lua_error(L, "%s: column '%s', row %zu: not a finite number", fn, name, i);
    }
    rc = mx_uplift_table_add_numbers(*slot, name, v, &err);
  } else {
    const char **s = mx__lua_scratch(L, n * sizeof *s);
    size_t *len = mx__lua_scratch(L, n * sizeof *len);
    /* the converted strings live in a table kept on the stack until added */
    lua_createtable(L, (int)n, 0);
    int keep = lua_gettop(L);
    for (size_t i = 1; i <= n; i++) {
      lua_rawgeti(L, col, (lua_Integer)i);
      int t = lua_type(L, -1);
      if (t != LUA_TSTRING && t != LUA_TNUMBER)
        mx__lua_error(L, "%s: column '%s', row %zu: expected a string or number, got %s", fn, name, i,
                     lua_typename(L, t));
      s[i - 1] = lua_tolstring(L, -1, &len[i - 1]); /* a copy on the stack: the frame is unchanged */
      lua_rawseti(L, keep, (lua_Integer)i);
    }
    rc = mx_uplift_table_add_strings(*slot, name, s, len, &err);
    lua_pop(L, 3); /* keep, len, s */
  }
  if (numeric) lua_pop(L, 1); /* v */
  lua_pop(L, 1); /* column */
  if (rc) mx__lua_raise(L, &err);
}

/* A string option (a number is taken as its text); NULL when absent. The
 * value stays pushed, so the string lives until the binding returns. */
static const char *opt_string(lua_State *L, int idx, const char *field, const char *fn) {
  lua_getfield(L, idx, field);
  if (lua_type(L, -1) == LUA_TSTRING || lua_type(L, -1) == LUA_TNUMBER) return lua_tostring(L, -1);
  if (!lua_isnil(L, -1)) mx__lua_error(L, "%s: %s must be a string", fn, field);
  return NULL;
}

static int by_name(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* merx.uplift.train{ data, treatment, outcome, ... } -> model */
static int l_train(lua_State *L) {
  static const char *fn = "merx.uplift.train";
  mx__lua_check_run_active(L, "merx.uplift");
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  mx__lua_check_options(L, 1, fn,
                       "data treatment outcome user treated control features categorical learner "
                       "test_share seed reg bootstrap");
  lua_getfield(L, 1, "data");      /* 2 */
  lua_getfield(L, 1, "features");  /* 3 */
  lua_getfield(L, 1, "categorical"); /* 4 */
  if (!lua_istable(L, 2)) return mx__lua_error(L, "%s: data must be a frame (a table of columns)", fn);
  if (!lua_isnil(L, 3) && !lua_istable(L, 3)) return mx__lua_error(L, "%s: features must be a list of column names", fn);
  if (!lua_isnil(L, 4) && !lua_istable(L, 4)) return mx__lua_error(L, "%s: categorical must be a list of column names", fn);
  int feat_idx = lua_istable(L, 3) ? 3 : 0, cat_idx = lua_istable(L, 4) ? 4 : 0;
  mx_uplift_options o = mx_uplift_defaults();
  o.treatment = opt_string(L, 1, "treatment", fn);
  o.outcome = opt_string(L, 1, "outcome", fn);
  o.user = opt_string(L, 1, "user", fn);
  o.treated_arm = opt_string(L, 1, "treated", fn);
  o.control_arm = opt_string(L, 1, "control", fn);
  if (!o.treatment || !o.outcome) return mx__lua_error(L, "%s: treatment and outcome (column names) are required", fn);
  const char *ln = opt_string(L, 1, "learner", fn);
  if (ln) {
    int l = mx_uplift_learner_parse(ln);
    if (l < 0) return mx__lua_error(L, "%s: unknown learner '%s' (known: t, transformed)", fn, ln);
    o.learner = (mx_uplift_learner)l;
  }
  o.test_share = mx__lua_opt_number(L, 1, "test_share", o.test_share);
  o.reg = mx__lua_opt_number(L, 1, "reg", o.reg);
  lua_Integer seed = mx__lua_opt_integer(L, 1, "seed", (lua_Integer)o.seed);
  if (seed < 0) return mx__lua_error(L, "%s: seed must be >= 0", fn);
  o.seed = (uint64_t)seed;
  lua_Integer b = mx__lua_opt_integer(L, 1, "bootstrap", o.bootstrap);
  if (b < 0 || b > 100000) return mx__lua_error(L, "%s: bootstrap must be in 0..100000", fn);
  o.bootstrap = (int)b;

  mx_uplift_table **slot = mx__lua_guard(L, sizeof *slot, table_release);
  size_t rows = 0;
  add_column(L, 2, o.treatment, 1, slot, &rows, fn);
  add_column(L, 2, o.outcome, 0, slot, &rows, fn);
  if (o.user) add_column(L, 2, o.user, 1, slot, &rows, fn);
  /* features: listed, or every other column of the frame (sorted by name:
   * pairs() order is not stable) */
  lua_createtable(L, 0, 0);
  int names_idx = lua_gettop(L);
  lua_Integer nn = 0;
  if (feat_idx) {
    lua_Integer n = (lua_Integer)lua_rawlen(L, feat_idx);
    for (lua_Integer i = 1; i <= n; i++) {
      lua_rawgeti(L, feat_idx, i);
      if (lua_type(L, -1) != LUA_TSTRING) return mx__lua_error(L, "%s: features[%d] must be a column name", fn, (int)i);
      lua_rawseti(L, names_idx, ++nn);
    }
  } else {
    lua_pushnil(L);
    while (lua_next(L, 2)) {
      lua_pop(L, 1);
      if (lua_type(L, -1) != LUA_TSTRING) continue;
      const char *k = lua_tostring(L, -1);
      if (strcmp(k, o.treatment) == 0 || strcmp(k, o.outcome) == 0 || (o.user && strcmp(k, o.user) == 0))
        continue;
      lua_pushvalue(L, -1);
      lua_rawseti(L, names_idx, ++nn);
    }
  }
  /* names_idx owns the strings and stays on the stack */
  const char **names = mx__lua_scratch(L, (size_t)(nn + 1) * sizeof *names);
  for (lua_Integer i = 1; i <= nn; i++) {
    lua_rawgeti(L, names_idx, i);
    names[i - 1] = lua_tostring(L, -1);
    lua_pop(L, 1);
  }
  /* every other column: by name, since pairs() has no stable order */
  if (!feat_idx) qsort(names, (size_t)nn, sizeof *names, by_name);
  for (lua_Integer i = 1; i <= nn; i++) {
    int role = strcmp(names[i - 1], o.treatment) == 0 || strcmp(names[i - 1], o.outcome) == 0 ||
               (o.user && strcmp(names[i - 1], o.user) == 0);
    if (!role) add_column(L, 2, names[i - 1], listed(L, cat_idx, names[i - 1]), slot, &rows, fn);
  }
  o.features = names;
  o.n_features = (int)nn;
  lupl *u = push_upl(L);
  mx_error err;
  mx_error_clear(&err);
  mx_cancel cancel = mx__lua_cancel(L);
  o.cancel = &cancel;
  /* Charge what training allocates before it does (as merx.model.train):
   * one C call would otherwise hold memory outside the --memory limit. */
  mx_run *run = mx__lua_run(L);
  double need = mx_uplift_train_bytes(*slot, &o);
  int charging = run && run->sandboxed && run->mem_limit;
  if (charging && ((double)run->mem_used + need > (double)run->mem_limit ||
                   mx__run_charge(run, (size_t)need) != 0))
    return mx__lua_error(L, "%s: memory limit of %zu MB (--memory) would be exceeded: %zu rows need ~%.0f MB",
                        fn, run->mem_limit >> 20, rows, need / (1 << 20));
  int rc = mx_uplift_train(*slot, &o, &u->m, &u->rep, &err);
  if (charging) mx__run_uncharge(run, (size_t)need);
  if (rc) return mx__lua_raise(L, &err);
  u->have_rep = 1;
  mx__lua_check_stop(L);
  return 1;
}

/* merx.uplift.load(path) -> model */
static int l_load(lua_State *L) {
  mx__lua_check_run_active(L, "merx.uplift");
  lua_settop(L, 1);
  const char *path = mx__lua_path(L, 1, 0);
  lupl *u = push_upl(L);
  mx_error err;
  mx_error_clear(&err);
  if (mx_uplift_load(path, &u->m, &err)) return mx__lua_raise(L, &err);
  return 1;
}

/* m:score(frame) -> { uplift = {...}[, p_treated, p_control | y_treated, y_control] } */
static int m_score(lua_State *L) {
  static const char *fn = "uplift model:score";
  mx_uplift_model *m = check_upl(L);
  luaL_checktype(L, 2, LUA_TTABLE);
  lua_settop(L, 2);
  mx_uplift_table **slot = mx__lua_guard(L, sizeof *slot, table_release);
  size_t rows = 0;
  for (uint32_t q = 0; q < m->n_features; q++) {
    const mx_uplift_feature *f = &m->features[q];
    if (f->kind == MX_UPLIFT_EMBEDDING)
      return mx__lua_error(L, "%s: the model uses user factors of an embedding model; score it with "
                             "`merx uplift score --embeddings`", fn);
    add_column(L, 2, f->name, f->kind == MX_UPLIFT_CATEGORICAL, slot, &rows, fn);
  }
  if (!*slot) return mx__lua_error(L, "%s: the model has no features", fn);
  double *up = mx__lua_scratch(L, rows * sizeof *up);
  double *p1 = mx__lua_scratch(L, rows * sizeof *p1);
  double *p0 = mx__lua_scratch(L, rows * sizeof *p0);
  mx_error err;
  mx_error_clear(&err);
  if (mx_uplift_score(m, *slot, NULL, up, p1, p0, NULL, &err)) return mx__lua_raise(L, &err);
  lua_createtable(L, 0, 3);
  mx__lua_push_doubles(L, up, rows);
  lua_setfield(L, -2, "uplift");
  if (m->learner == MX_UPLIFT_T_LEARNER) {
    mx__lua_push_doubles(L, p1, rows);
    lua_setfield(L, -2, m->binary ? "p_treated" : "y_treated");
    mx__lua_push_doubles(L, p0, rows);
    lua_setfield(L, -2, m->binary ? "p_control" : "y_control");
  }
  return 1;
}

static void set_number(lua_State *L, const char *k, double v) {
  lua_pushnumber(L, v);
  lua_setfield(L, -2, k);
}

/* m:info() -> table */
static int m_info(lua_State *L) {
  mx_uplift_model *m = check_upl(L);
  lupl *u = luaL_checkudata(L, 1, UPLIFT_MT);
  lua_createtable(L, 0, 24);
  lua_pushstring(L, mx_uplift_learner_name(m->learner));
  lua_setfield(L, -2, "learner");
  lua_pushstring(L, m->binary ? "binary" : "continuous");
  lua_setfield(L, -2, "outcome_kind");
  lua_pushstring(L, m->treated_arm);
  lua_setfield(L, -2, "treated");
  lua_pushstring(L, m->control_arm);
  lua_setfield(L, -2, "control");
  lua_pushstring(L, m->outcome);
  lua_setfield(L, -2, "outcome");
  lua_createtable(L, (int)m->n_features, 0);
  for (uint32_t q = 0; q < m->n_features; q++) {
    lua_pushstring(L, m->features[q].name);
    lua_rawseti(L, -2, (lua_Integer)q + 1);
  }
  lua_setfield(L, -2, "features");
  set_number(L, "propensity", m->propensity);
  lua_pushinteger(L, (lua_Integer)m->train_rows);
  lua_setfield(L, -2, "train_rows");
  if (u->have_rep && u->rep.evaluated) {
    const mx_uplift_eval *e = &u->rep.test;
    set_number(L, "ate", e->ate);
    set_number(L, "qini", e->qini);
    set_number(L, "qini_lo95", e->qini_lo);
    set_number(L, "qini_hi95", e->qini_hi);
    set_number(L, "auuc", e->auuc);
    set_number(L, "auuc_lo95", e->auuc_lo);
    set_number(L, "auuc_hi95", e->auuc_hi);
    set_number(L, "random_area", e->random_area);
    lua_pushinteger(L, (lua_Integer)(e->n_treated + e->n_control));
    lua_setfield(L, -2, "test_rows");
  }
  return 1;
}

static int m_tostring(lua_State *L) {
  lupl *u = luaL_checkudata(L, 1, UPLIFT_MT);
  if (!u->m) lua_pushliteral(L, "merx.uplift model (closed)");
  else lua_pushfstring(L, "merx.uplift model (%s, '%s' vs '%s', outcome '%s')",
                       mx_uplift_learner_name(u->m->learner), u->m->treated_arm, u->m->control_arm,
                       u->m->outcome);
  return 1;
}

int mx__luaopen_uplift(lua_State *L) {
  static const luaL_Reg methods[] = {
      {"score", m_score}, {"info", m_info}, {"close", upl_gc}, {NULL, NULL}};
  if (mx__lua_newmetatable(L, UPLIFT_MT)) {
    luaL_newlib(L, methods);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, upl_gc);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, upl_gc);
    lua_setfield(L, -2, "__close");
    lua_pushcfunction(L, m_tostring);
    lua_setfield(L, -2, "__tostring");
  }
  lua_pop(L, 1);
  static const luaL_Reg f[] = {{"train", l_train}, {"load", l_load}, {NULL, NULL}};
  luaL_newlib(L, f);
  return 1;
}
