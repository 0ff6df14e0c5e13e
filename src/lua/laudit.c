/* Lua binding merx.audit{...}: the fairness audit of `merx audit` from a
 * script. By default it audits what this run has staged so far (so a script
 * can check its own plan before it commits, and refuse or fix it); with
 * run = RUN it audits a committed run of the store's ledger. Returns
 *   { reference, threshold, min_ratio, flagged, users, offered, decisions,
 *     groups = { { group, users, offered, decisions, share, lo95, hi95,
 *                  mean_value, mean_score, ratio, flagged }, ... } }
 * with figures that cannot be computed absent (nil), never NaN. out = FILE
 * writes the CSV report, committed with the run. */
#include <jansson.h>
#include <lauxlib.h>
#include <lua.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "lua/audit_store.h"
#include "lua/internal.h"
#include "lua/lmerx.h"
#include "merx/csv.h"
#include "util/util.h"

#define FN "merx.audit"

static const char *const known =
    "attribute user_column kind value_field score_field threshold run out";

typedef struct guard_state {
  mx_audit *a;
  mx_pseudonymiser *ps;
  mx_audit_result r;
} guard_state;

static void release(void *p) {
  guard_state *g = p;
  mx_audit_free(g->a);
  g->a = NULL;
  mx__pseudonymiser_free(g->ps);
  g->ps = NULL;
  mx_audit_result_free(&g->r);
}

/* A numeric field of a staged record (a number, or a number kept as text). */
static double field_number(json_t *rec, const char *name) {
  json_t *v = json_object_get(rec, name);
  double x;
  if (json_is_number(v)) return json_number_value(v);
  if (json_is_string(v) && mx_parse_double(json_string_value(v), &x) == 0) return x;
  return NAN;
}

typedef struct plan_ctx {
  mx_audit *a;
  const char *kind, *value_field, *score_field;
  mx_error *err;
} plan_ctx;

static int plan_row(void *p, const mx_plan_row *row) {
  plan_ctx *c = p;
  if (!row->user || (c->kind && strcmp(row->kind, c->kind) != 0)) return 0;
  json_t *rec = json_loads(row->record_json, 0, NULL);
  if (!rec) return MX_ENOMEM;
  int rc = mx_audit_add_decision(c->a, row->user, row->user_len, field_number(rec, c->value_field),
                                 field_number(rec, c->score_field), c->err);
  json_decref(rec);
  return rc;
}

static void set_number(lua_State *L, const char *key, double v) {
  if (isnan(v)) return;
  lua_pushnumber(L, v);
  lua_setfield(L, -2, key);
}

static void set_integer(lua_State *L, const char *key, long v) {
  lua_pushinteger(L, v);
  lua_setfield(L, -2, key);
}

static void push_result(lua_State *L, const mx_audit_result *r) {
  lua_createtable(L, 0, 8);
  if (r->reference) {
    lua_pushstring(L, r->reference);
    lua_setfield(L, -2, "reference");
  }
  set_number(L, "threshold", r->threshold);
  set_number(L, "min_ratio", r->min_ratio);
  set_integer(L, "flagged", r->flagged);
  set_integer(L, "users", r->users);
  set_integer(L, "offered", r->offered);
  set_integer(L, "decisions", r->decisions);
  lua_createtable(L, r->n_groups, 0);
  for (int i = 0; i < r->n_groups; i++) {
    const mx_audit_group *g = &r->groups[i];
    lua_createtable(L, 0, 11);
    lua_pushstring(L, g->name);
    lua_setfield(L, -2, "group");
    set_integer(L, "users", g->users);
    set_integer(L, "offered", g->offered);
    set_integer(L, "decisions", g->decisions);
    set_number(L, "share", g->share);
    set_number(L, "lo95", g->lo95);
    set_number(L, "hi95", g->hi95);
    set_number(L, "mean_value", g->mean_value);
    set_number(L, "mean_score", g->mean_score);
    set_number(L, "ratio", g->ratio);
    lua_pushboolean(L, g->flagged);
    lua_setfield(L, -2, "flagged");
    lua_rawseti(L, -2, i + 1);
  }
  lua_setfield(L, -2, "groups");
}

static void write_report(lua_State *L, const char *path, const mx_audit_result *r) {
  mx_run *run = mx__lua_run(L);
  if (run && run->dry_run) {
    fprintf(run->err, "dry run: would write %s\n", path);
    return;
  }
  mx_atomic_file af;
  mx_error err;
  mx_error_clear(&err);
  if (mx__atomic_open(&af, path, &err) != MX_OK) mx__lua_raise(L, &err);
  mx_audit_write_csv(r, af.f);
  if (!run || !run->sandboxed) { /* merx.so: no run to wait for */
    if (mx__atomic_commit(&af, &err) != MX_OK) mx__lua_raise(L, &err);
    return;
  }
  if (mx__run_add_file(run, &af) < 0) {
    mx__atomic_abort(&af);
    mx__lua_error(L, FN ": out of memory");
  }
}

static int l_audit(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  mx__lua_check_options(L, 1, FN, known);
  mx_error err;
  mx_error_clear(&err);
  const char *spec = mx__lua_opt_string(L, 1, "attribute", NULL);
  if (!spec) return mx__lua_error(L, FN ": attribute (\"FILE:COLUMN\") is required");
  char file[4096];
  const char *column;
  if (mx__audit_split_attribute(spec, file, sizeof file, &column))
    return mx__lua_error(L, FN ": attribute: expected \"FILE:COLUMN\", got '%s'", spec);
  lua_pushstring(L, file);
  const char *path = mx__lua_path(L, lua_gettop(L), 0); /* pushes the resolved path */
  const char *user_column = mx__lua_opt_string(L, 1, "user_column", NULL);
  const char *kind = mx__lua_opt_string(L, 1, "kind", NULL);
  const char *value_field = mx__lua_opt_string(L, 1, "value_field", "value");
  const char *score_field = mx__lua_opt_string(L, 1, "score_field", "score");
  double threshold = mx__lua_opt_number(L, 1, "threshold", 0.8);
  if (!(threshold > 0 && threshold <= 1)) return mx__lua_error(L, FN ": threshold must be in (0, 1]");
  const char *run_id = mx__lua_opt_string(L, 1, "run", NULL);
  const char *out = NULL;
  if (lua_getfield(L, 1, "out") != LUA_TNIL) {
    if (lua_type(L, -1) != LUA_TSTRING) return mx__lua_error(L, FN ": out must be a path");
    out = mx__lua_path(L, lua_gettop(L), 1);
  }
  guard_state *g = mx__lua_guard(L, sizeof *g, release);
  mx_run *run = mx__lua_run(L);
  if (run_id) {
    if (!run || !run->log_path || access(run->log_path, F_OK) != 0)
      return mx__lua_error(L, FN ": run '%s': this run has no ledger to read (run with --store DIR)",
                          run_id);
    mx_audit_request req = {run->log_path, run->store_dir, run_id, kind, path, column,
                            user_column, value_field, score_field, threshold};
    if (mx__audit_store_run(&req, &g->r, &err)) return mx__lua_raise(L, &err);
  } else {
    if (mx_audit_create(&g->a, &err) ||
        mx__audit_use_store_key(g->a, run ? run->store_dir : NULL, &g->ps, &err) ||
        mx_audit_read_attribute(g->a, path, column, user_column, &err))
      return mx__lua_raise(L, &err);
    plan_ctx c = {g->a, kind, value_field, score_field, &err};
    int rc = run && run->plan ? mx__plan_each(run->plan, plan_row, &c) : MX_OK;
    if (rc == MX_ENOMEM) return mx__lua_error(L, FN ": out of memory");
    if (rc) return mx__lua_raise(L, &err);
    if (mx_audit_finish(g->a, threshold, &g->r, &err)) return mx__lua_raise(L, &err);
  }
  if (out) write_report(L, out, &g->r);
  push_result(L, &g->r);
  mx__lua_guard_release(g);
  return 1;
}

int mx__luaopen_audit(lua_State *L) {
  lua_pushcfunction(L, l_audit);
  return 1;
}
