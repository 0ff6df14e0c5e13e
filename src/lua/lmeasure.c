/* Lua binding merx.measure{...}: the `merx measure` command from a script
 * (same options, strict keys), returning the result as a table. A figure
 * that cannot be computed is absent (nil), never NaN. The reports (out =
 * CSV, html = HTML) are written inside --out and renamed into place when
 * the run commits, like merx.data.write's files. */
#include <lauxlib.h>
#include <lua.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "lua/internal.h"
#include "lua/lmerx.h"
#include "lua/measure_store.h"
#include "merx/measure.h"

#define FN "merx.measure"

static const char *const known =
    "outcomes columns metric metrics control segment covariate pre pre_columns assignments "
    "assignment_columns window shares out html title sep header experiment run";

typedef struct guard_state {
  mx_measure_result *r;
  mx_measure_store ms; /* experiment = NAME: the ledger as the source of units */
} guard_state;

static void release(void *p) {
  guard_state *g = p;
  mx_measure_result_free(g->r);
  g->r = NULL;
  mx__measure_store_close(&g->ms);
}

/* A columns option: "user=id,arm=grp" or { user = "id", arm = "grp" }. */
static void opt_columns(lua_State *L, int opts, const char *field, const char *const *roles,
                        mx_columns *out) {
  memset(out, 0, sizeof *out);
  int t = lua_getfield(L, opts, field);
  mx_error err;
  mx_error_clear(&err);
  if (t == LUA_TSTRING) {
    if (mx_columns_parse(lua_tostring(L, -1), roles, out, &err))
      mx__lua_error(L, FN ": %s: %s", field, err.message);
  } else if (t == LUA_TTABLE) {
    char spec[2048] = "";
    lua_pushnil(L);
    while (lua_next(L, -2)) {
      if (lua_type(L, -2) != LUA_TSTRING || !lua_isstring(L, -1))
        mx__lua_error(L, FN ": %s: expected { role = \"column\", ... }", field);
      size_t n = strlen(spec);
      snprintf(spec + n, sizeof spec - n, "%s%s=%s", n ? "," : "", lua_tostring(L, -2),
               lua_tostring(L, -1));
      lua_pop(L, 1);
    }
    if (mx_columns_parse(spec, roles, out, &err)) mx__lua_error(L, FN ": %s: %s", field, err.message);
  } else if (t != LUA_TNIL) {
    mx__lua_error(L, FN ": %s must be a string or a table", field);
  }
  lua_pop(L, 1);
}

/* A readable path option, resolved by the sandbox's rules (NULL when absent). */
static const char *opt_path(lua_State *L, int opts, const char *field, int write) {
  int t = lua_getfield(L, opts, field);
  if (t == LUA_TNIL) {
    lua_pop(L, 1);
    return NULL;
  }
  if (t != LUA_TSTRING) mx__lua_error(L, FN ": %s must be a path", field);
  const char *p = mx__lua_path(L, lua_gettop(L), write); /* pushes the resolved path */
  lua_remove(L, -2); /* the resolved string stays on the stack, alive */
  return p;
}

static void set_number(lua_State *L, const char *key, double v) {
  if (!isfinite(v)) return;
  lua_pushnumber(L, v);
  lua_setfield(L, -2, key);
}

static void push_cells(lua_State *L, const mx_measure_result *r, const mx_measure_cell *cells) {
  lua_createtable(L, r->n_arms, 0);
  for (int a = 0; a < r->n_arms; a++) {
    const mx_measure_cell *c = &cells[a];
    lua_createtable(L, 0, 8);
    lua_pushstring(L, c->arm);
    lua_setfield(L, -2, "arm");
    lua_pushinteger(L, (lua_Integer)c->users);
    lua_setfield(L, -2, "users");
    if (!c->segment) {
      set_number(L, "share", r->users ? (double)c->users / (double)r->users : NAN);
      set_number(L, "expected_share", r->expected_share[a]);
    }
    const char *names[] = {"means", "sd", "lo95", "hi95"};
    double *vals[] = {c->mean, c->sd, c->lo95, c->hi95};
    for (int q = 0; q < 4; q++) {
      lua_createtable(L, 0, r->n_metrics);
      for (int k = 0; k < r->n_metrics; k++) set_number(L, r->metrics[k], vals[q][k]);
      lua_setfield(L, -2, names[q]);
    }
    lua_rawseti(L, -2, a + 1);
  }
}

static void push_diff(lua_State *L, const mx_diff_interval *d) {
  set_number(L, "diff", d->diff);
  set_number(L, "lo95", d->lo);
  set_number(L, "hi95", d->hi);
  set_number(L, "p_value", d->p_value);
}

static void push_uplift(lua_State *L, const mx_measure_result *r, const char *segment) {
  lua_newtable(L);
  int n = 0;
  for (int i = 0; i < r->n_uplift; i++) {
    const mx_measure_uplift *u = &r->uplift[i];
    if ((u->segment == NULL) != (segment == NULL)) continue;
    if (segment && strcmp(u->segment, segment)) continue;
    lua_createtable(L, 0, 12);
    lua_pushstring(L, u->arm);
    lua_setfield(L, -2, "arm");
    lua_pushstring(L, r->metrics[u->metric]);
    lua_setfield(L, -2, "metric");
    lua_pushstring(L, u->method);
    lua_setfield(L, -2, "method");
    push_diff(L, &u->d);
    set_number(L, "se", u->d.se);
    set_number(L, "df", u->d.df);
    set_number(L, "rel", u->rel);
    set_number(L, "rel_lo95", u->rel_lo);
    set_number(L, "rel_hi95", u->rel_hi);
    if (r->cuped) {
      lua_createtable(L, 0, 6);
      push_diff(L, &u->cuped);
      set_number(L, "theta", u->theta);
      set_number(L, "variance_reduction", u->variance_reduction);
      lua_setfield(L, -2, "cuped");
    }
    lua_rawseti(L, -2, ++n);
  }
}

static void push_result(lua_State *L, const mx_measure_result *r) {
  lua_createtable(L, 0, 12);
  push_cells(L, r, r->arms);
  lua_setfield(L, -2, "arms");
  push_uplift(L, r, NULL);
  lua_setfield(L, -2, "uplift");
  set_number(L, "srm_p_value", r->srm_p_value);
  set_number(L, "srm_chi2", r->srm_chi2);
  lua_pushstring(L, r->control);
  lua_setfield(L, -2, "control");
  lua_pushinteger(L, (lua_Integer)r->users);
  lua_setfield(L, -2, "users");
  lua_pushinteger(L, (lua_Integer)r->outcome_rows);
  lua_setfield(L, -2, "outcome_rows");
  lua_pushinteger(L, (lua_Integer)r->unknown_rows);
  lua_setfield(L, -2, "unknown_outcome_rows");
  lua_pushinteger(L, (lua_Integer)r->outside_rows);
  lua_setfield(L, -2, "outside_window_rows");
  lua_createtable(L, r->n_metrics, 0);
  for (int k = 0; k < r->n_metrics; k++) {
    lua_createtable(L, 0, 2);
    lua_pushstring(L, r->metrics[k]);
    lua_setfield(L, -2, "name");
    lua_pushstring(L, r->binary[k] ? "binary" : "continuous");
    lua_setfield(L, -2, "kind");
    lua_rawseti(L, -2, k + 1);
  }
  lua_setfield(L, -2, "metrics");
  lua_createtable(L, r->n_segments, 0);
  for (int s = 0; s < r->n_segments; s++) {
    lua_createtable(L, 0, 3);
    lua_pushstring(L, r->segments[s]);
    lua_setfield(L, -2, "segment");
    push_cells(L, r, &r->segment_arms[(size_t)s * r->n_arms]);
    lua_setfield(L, -2, "arms");
    push_uplift(L, r, r->segments[s]);
    lua_setfield(L, -2, "uplift");
    lua_rawseti(L, -2, s + 1);
  }
  lua_setfield(L, -2, "segments");
  lua_createtable(L, r->n_warnings, 0);
  for (int w = 0; w < r->n_warnings; w++) {
    lua_pushstring(L, r->warnings[w]);
    lua_rawseti(L, -2, w + 1);
  }
  lua_setfield(L, -2, "warnings");
}

/* Write a report inside --out; staged until the run commits. */
static void write_report(lua_State *L, const char *path, const mx_measure_result *r, int html,
                         const char *title) {
  mx_run *run = mx__lua_run(L);
  if (run->dry_run) {
    fprintf(run->err, "dry run: would write %s\n", path);
    return;
  }
  mx_atomic_file af;
  mx_error err;
  mx_error_clear(&err);
  if (mx__atomic_open(&af, path, &err) != MX_OK) mx__lua_raise(L, &err);
  if (html)
    mx_measure_write_html(r, title, af.f);
  else
    mx_measure_write_csv(r, af.f);
  if (!run->sandboxed) { /* merx.so: no run to wait for */
    if (mx__atomic_commit(&af, &err) != MX_OK) mx__lua_raise(L, &err);
    return;
  }
  if (mx__run_add_file(run, &af) < 0) {
    mx__atomic_abort(&af);
    mx__lua_error(L, FN ": out of memory");
  }
}

static int l_measure(lua_State *L) {
  mx__lua_check_run_active(L, FN);
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  mx__lua_check_options(L, 1, FN, known);
  mx_measure_request req = mx_measure_request_defaults();
  mx_error err;
  mx_error_clear(&err);
  req.outcomes = opt_path(L, 1, "outcomes", 0);
  if (!req.outcomes) return mx__lua_error(L, FN ": outcomes (a file) is required");
  req.assignments = opt_path(L, 1, "assignments", 0);
  req.pre = opt_path(L, 1, "pre", 0);
  static const char *const roles[] = {"user", "arm", "segment", "covariate", "time", "value", NULL};
  static const char *const unit_roles[] = {"user", "arm", "segment", NULL};
  static const char *const pre_roles[] = {"user", "time", "value", NULL};
  opt_columns(L, 1, "columns", roles, &req.columns);
  opt_columns(L, 1, "assignment_columns", unit_roles, &req.assignment_columns);
  opt_columns(L, 1, "pre_columns", pre_roles, &req.pre_columns);
  const char *sep = mx__lua_opt_string(L, 1, "sep", NULL);
  if (sep) {
    if (!strcmp(sep, "tab")) req.csv.sep = '\t';
    else if (strlen(sep) == 1) req.csv.sep = sep[0];
    else return mx__lua_error(L, FN ": sep must be one character or \"tab\"");
  }
  req.csv.has_header = mx__lua_opt_boolean(L, 1, "header", 1);
  /* metrics: metric = "name" or metrics = { "a", "b" } */
  const char *one = mx__lua_opt_string(L, 1, "metric", NULL);
  if (one) req.opt.metrics[req.opt.n_metrics++] = one;
  if (lua_getfield(L, 1, "metrics") == LUA_TTABLE) {
    lua_Integer n = (lua_Integer)lua_rawlen(L, -1);
    for (lua_Integer i = 1; i <= n; i++) {
      if (req.opt.n_metrics >= MX_MEASURE_MAX_METRICS)
        return mx__lua_error(L, FN ": at most %d metrics", MX_MEASURE_MAX_METRICS);
      if (lua_rawgeti(L, -1, i) != LUA_TSTRING)
        return mx__lua_error(L, FN ": metrics[%d] must be a string", (int)i);
      req.opt.metrics[req.opt.n_metrics++] = lua_tostring(L, -1);
      lua_pop(L, 1); /* the string stays alive in the options table */
    }
  } else if (!lua_isnil(L, -1)) {
    return mx__lua_error(L, FN ": metrics must be an array of column names");
  }
  lua_pop(L, 1);
  req.opt.control = mx__lua_opt_string(L, 1, "control", NULL);
  /* experiment = NAME or a merx.experiment object: units from the ledger */
  const char *experiment = NULL;
  int et = lua_getfield(L, 1, "experiment");
  if (et == LUA_TUSERDATA) {
    lua_getfield(L, -1, "name");
    lua_replace(L, -2);
  }
  if (lua_type(L, -1) == LUA_TSTRING) experiment = lua_tostring(L, -1); /* stays on the stack */
  else if (!lua_isnil(L, -1))
    return mx__lua_error(L, FN ": experiment must be a name or a merx.experiment");
  const char *run_id = mx__lua_opt_string(L, 1, "run", NULL);
  if (run_id && !experiment) return mx__lua_error(L, FN ": run needs experiment");
  if (!req.opt.control && !experiment)
    return mx__lua_error(L, FN ": control (the control arm) is required");
  req.segment = mx__lua_opt_string(L, 1, "segment", NULL);
  req.covariate = mx__lua_opt_string(L, 1, "covariate", NULL);
  const char *window = mx__lua_opt_string(L, 1, "window", NULL);
  if (window) {
    if (mx_measure_parse_window(window, &req.from, &req.to, &err))
      return mx__lua_error(L, FN ": window: %s", err.message);
    req.has_window = 1;
  }
  /* shares: { ["No E-Mail"] = 0.5, ... } or "arm=0.5,..." */
  char *share_buf = mx__lua_scratch(L, 8192);
  int st = lua_getfield(L, 1, "shares");
  if (st == LUA_TSTRING) {
    if (mx_measure_parse_shares(&req.opt, lua_tostring(L, -1), share_buf, 8192, &err))
      return mx__lua_error(L, FN ": shares: %s", err.message);
  } else if (st == LUA_TTABLE) {
    lua_pushnil(L);
    while (lua_next(L, -2)) {
      if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TNUMBER)
        return mx__lua_error(L, FN ": shares: expected { arm = share, ... }");
      if (req.opt.n_shares >= MX_MEASURE_MAX_ARMS)
        return mx__lua_error(L, FN ": shares: more than %d arms", MX_MEASURE_MAX_ARMS);
      req.opt.share_arm[req.opt.n_shares] = lua_tostring(L, -2); /* key stays in the table */
      req.opt.share[req.opt.n_shares++] = lua_tonumber(L, -1);
      lua_pop(L, 1);
    }
  } else if (st != LUA_TNIL) {
    return mx__lua_error(L, FN ": shares must be a table or a string");
  }
  lua_pop(L, 1);
  const char *out = opt_path(L, 1, "out", 1);
  const char *html = opt_path(L, 1, "html", 1);
  const char *title = mx__lua_opt_string(L, 1, "title", "merx measure");
  guard_state *g = mx__lua_guard(L, sizeof *g, release);
  if (experiment) {
    mx_run *run = mx__lua_run(L);
    if (req.assignments) return mx__lua_error(L, FN ": give assignments or experiment, not both");
    if (!run || !run->log_path || access(run->log_path, F_OK) != 0)
      return mx__lua_error(L, FN ": experiment '%s': this run has no ledger to read (run with "
                          "--store DIR)", experiment);
    const char *segment = req.segment;
    req.segment = NULL; /* the units carry it */
    if (mx__measure_store_open(&g->ms, run->log_path, experiment, run_id, segment, &req, &err))
      return mx__lua_raise(L, &err);
  }
  if (mx_measure_run(&req, &g->r, &err) != MX_OK) return mx__lua_raise(L, &err);
  mx__lua_check_stop(L);
  if (out) write_report(L, out, g->r, 0, NULL);
  if (html) write_report(L, html, g->r, 1, title);
  push_result(L, g->r);
  mx__lua_guard_release(g);
  return 1;
}

int mx__luaopen_measure(lua_State *L) {
  lua_pushcfunction(L, l_measure);
  return 1;
}
