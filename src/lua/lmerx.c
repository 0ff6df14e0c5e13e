/* The `merx` Lua module: run context, time, parameters, sharding, staged
 * decisions, logging, and the submodules (data, model, util, the area
 * bindings listed in submodules.def, and the pure-Lua helpers of lua/merx/).
 *
 * Inside `merx run` the runtime creates the run (limits, sandbox, commit);
 * in a stock lua5.4, `require "merx"` (merx.so) creates an unsandboxed run
 * whose decisions are committed by an explicit merx.commit{...}. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lualib.h>

#include "lua/internal.h"
#include "lua/lmerx.h"
#include "util/pseudonym.h"
#include "merx/data.h"
#include "util/xxhash.h"
#include "store/decisions.h"
#include "store/store.h"

#define MX_LUA_SUBMODULE(area, fn) int fn(lua_State *L);
#include "lua/submodules.def"
#undef MX_LUA_SUBMODULE

static const char run_key = 'r';

mx_run *mx__lua_run(lua_State *L) {
  lua_rawgetp(L, LUA_REGISTRYINDEX, &run_key);
  mx_run *run = lua_touserdata(L, -1);
  lua_pop(L, 1);
  return run;
}

void mx__lua_set_run(lua_State *L, mx_run *run) {
  lua_pushlightuserdata(L, run);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &run_key);
}

int mx__run_in_shard(const mx_run *run, const char *id, size_t len) {
  if (!run || run->shard_count <= 1) return 1;
  return mx__shard_of(id, len, run->shard_count) == run->shard_index;
}

static mx_run *active_run(lua_State *L, const char *fn) {
  mx_run *run = mx__lua_run(L);
  if (!run) mx__lua_error(L, "%s: merx is not initialised", fn);
  if (run->ended) mx__lua_error(L, "%s called after the run ended", fn);
  return run;
}

/* merx.now() -> epoch seconds (integer) of the run (--now or the clock at start) */
static int l_now(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)active_run(L, "merx.now")->now);
  return 1;
}

/* merx.time(s) -> epoch seconds of an ISO 8601 date/date-time string */
static int l_time(lua_State *L) {
  const char *s = luaL_checkstring(L, 1);
  int64_t t;
  if (mx_parse_time(s, &t) != 0) return mx__lua_error(L, "merx.time: not a date or time: '%s'", s);
  lua_pushinteger(L, (lua_Integer)t);
  return 1;
}

/* merx.date(t [, "datetime"]) -> "YYYY-MM-DD" (or full ISO 8601 UTC) */
static int l_date(lua_State *L) {
  lua_Integer t = luaL_checkinteger(L, 1);
  const char *form = luaL_optstring(L, 2, "date");
  char buf[32];
  mx_format_time((int64_t)t, strcmp(form, "datetime") != 0, buf, sizeof buf);
  lua_pushstring(L, buf);
  return 1;
}

/* merx.clock([ "cpu" ]) -> seconds on a monotonic clock, or CPU seconds of
 * the running thread: for measuring durations (benchmarks, logs; CPU time
 * stays meaningful on a busy machine), never for decisions (use merx.now()) */
static int l_clock(lua_State *L) {
  const char *which = luaL_optstring(L, 1, "wall");
  if (strcmp(which, "cpu") == 0) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    lua_pushnumber(L, (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec);
  } else if (strcmp(which, "wall") == 0) {
    lua_pushnumber(L, mx__now_seconds());
  } else {
    return mx__lua_error(L, "merx.clock: expected \"wall\" or \"cpu\", got '%s'", which);
  }
  return 1;
}

/* In a keyed run (PRIVACY.md) every user id the run reads is a pseudonym;
 * the field `user` of the table at idx, when of another shape (a real id from
 * --set, a request, a literal), is replaced by its pseudonym, so the ledger
 * and outputs never hold it (mx__pseudonym_user: an id of a pseudonym's shape
 * is taken for one and kept). Not memoised: a server meets ids without end. */
void mx__lua_pseudonymise_user(lua_State *L, mx_run *run, int idx) {
  if (!run->pseudo || !lua_istable(L, idx)) return;
  idx = lua_absindex(L, idx);
  int t = lua_getfield(L, idx, "user");
  size_t len = 0;
  const char *id = (t == LUA_TSTRING || t == LUA_TNUMBER) ? lua_tolstring(L, -1, &len) : NULL;
  char buf[MX_PSEUDONYM_LEN + 1];
  const char *p = id ? mx__pseudonym_user(mx__pseudonymiser_key(run->pseudo), id, len, buf) : NULL;
  if (p && p != id) {
    lua_pushlstring(L, p, MX_PSEUDONYM_LEN);
    lua_setfield(L, idx, "user");
  }
  lua_pop(L, 1);
}

/* merx.emit(kind, record): stage one decision; record.reason is required */
static int l_emit(lua_State *L) {
  mx_run *run = active_run(L, "merx.emit");
  const char *kind = luaL_checkstring(L, 1);
  luaL_checktype(L, 2, LUA_TTABLE);
  /* minimum data (PRIVACY.md): a reason is stored for years; personal data
   * in it is worth a warning that names the line (once per run) */
  if (!run->personal_warned && lua_getfield(L, 2, "reason") == LUA_TSTRING) {
    size_t len;
    const char *r = lua_tolstring(L, -1, &len), *what;
    if (mx__personal_find(r, len, &what)) {
      luaL_where(L, 1);
      fprintf(run->err ? run->err : stderr,
              "%swarning: merx.emit: the reason holds %s; the ledger keeps it (and merx "
              "forget cannot find it by user id): leave personal data out of reasons\n",
              lua_tostring(L, -1), what);
      lua_pop(L, 1);
      run->personal_warned = 1;
    }
  }
  lua_pop(L, 1);
  mx__lua_pseudonymise_user(L, run, 2);
  mx__plan_emit(L, run, kind, 2);
  return 0;
}

/* merx.shard() -> index, count of --shard (0, 1 without it); merx.shard is
 * also the table {index, count} */
static int l_shard(lua_State *L) {
  mx_run *run = mx__lua_run(L);
  lua_pushinteger(L, run ? run->shard_index : 0);
  lua_pushinteger(L, run ? run->shard_count : 1);
  return 2;
}

/* merx.in_shard(id) -> boolean: is this user id in the run's --shard? */
static int l_in_shard(lua_State *L) {
  size_t len;
  const char *id = luaL_checklstring(L, 1, &len);
  lua_pushboolean(L, mx__run_in_shard(mx__lua_run(L), id, len));
  return 1;
}

static int log_at(lua_State *L, const char *level) {
  mx_run *run = active_run(L, "merx.log");
  FILE *f = run->err ? run->err : stderr;
  lua_Debug ar;
  const char *src = "?";
  int line = 0;
  if (lua_getstack(L, 1, &ar) && lua_getinfo(L, "Sl", &ar)) {
    src = ar.short_src;
    line = ar.currentline;
  }
  int n = lua_gettop(L);
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  for (int i = 1; i <= n; i++) {
    if (i > 1) luaL_addchar(&b, ' ');
    luaL_tolstring(L, i, NULL);
    luaL_addvalue(&b);
  }
  luaL_pushresult(&b);
  fprintf(f, "[%s] %s:%d: %s\n", level, src, line, lua_tostring(L, -1));
  return 0;
}
static int l_log_info(lua_State *L) { return log_at(L, "info"); }
static int l_log_warn(lua_State *L) { return log_at(L, "warn"); }

/* merx.plan() -> { kind = count, ... } of what is staged so far */
static int l_plan(lua_State *L) {
  mx_run *run = active_run(L, "merx.plan");
  lua_newtable(L);
  for (int k = 0; k < mx__plan_kinds(run->plan); k++) {
    lua_pushinteger(L, (lua_Integer)mx__plan_kind_count(run->plan, k));
    lua_setfield(L, -2, mx__plan_kind_name(run->plan, k));
  }
  return 1;
}

static int count_cb(void *ctx, const char *user, long count) {
  lua_State *L = ctx;
  lua_pushinteger(L, count);
  lua_setfield(L, -2, user);
  return 0;
}

/* merx.history(kind, days) -> { user = count }: decisions of kind committed
 * by earlier runs into this run's decision log (the store's ledger: every
 * run and scheduled slot of the deployment) whose run time (merx.now())
 * lies within `days` days before merx.now(). Empty without a log. */
static int l_history(lua_State *L) {
  mx_run *run = active_run(L, "merx.history");
  const char *kind = luaL_checkstring(L, 1);
  lua_Number days = luaL_checknumber(L, 2);
  lua_newtable(L);
  if (!run->log_path || access(run->log_path, F_OK) != 0) return 1;
  char since[32];
  mx_format_time(run->now - (int64_t)(days * 86400.0), 0, since, sizeof since);
  mx_decision_log *log;
  mx_error err;
  mx_error_clear(&err);
  if (mx__decisions_open(run->log_path, 0, &log, &err) != MX_OK) return mx__lua_raise(L, &err);
  int rc = mx__decisions_counts(log, kind, since, count_cb, L, &err);
  mx__decisions_close(log);
  if (rc != MX_OK) return mx__lua_raise(L, &err);
  return 1;
}

/* ---- merx.so only: an unsandboxed run owned by the module */

static int standalone_gc(lua_State *L) {
  mx_run *run = lua_touserdata(L, 1);
  mx__plan_free(run->plan);
  run->plan = NULL;
  mx__exp_stage_free(run->experiments);
  run->experiments = NULL;
  mx__run_ledger_writes_free(run);
  free(run->out_dir);
  run->out_dir = NULL;
  free(run->log_path);
  run->log_path = NULL;
  free(run->store_dir);
  run->store_dir = NULL;
  mx__run_inputs_free(run);
  return 0;
}

/* merx.commit{ out = DIR, store = DIR | log = FILE, format = "csv"|"jsonl"|"both" }:
 * commit what was staged (merx.so only; `merx run` commits by itself). The
 * decision log defaults to MERX_STORE's ledger, as merx.history reads it. */
static int l_commit(lua_State *L) {
  mx_run *run = active_run(L, "merx.commit");
  if (run->sandboxed)
    return mx__lua_error(L, "merx.commit: `merx run` commits when the script succeeds");
  mx__lua_check_options(L, 1, "merx.commit", "out log format");
  const char *out = mx__lua_opt_string(L, 1, "out", "out");
  const char *log = mx__lua_opt_string(L, 1, "log", NULL);
  const char *store = mx__lua_opt_string(L, 1, "store", NULL);
  const char *format = mx__lua_opt_string(L, 1, "format", "csv");
  if (store && log) return mx__lua_error(L, "merx.commit: give store or log, not both");
  mx_error err;
  mx_error_clear(&err);
  if (store) {
    if (mx__store_create(store, &err) != MX_OK) return mx__lua_raise(L, &err);
    char *ledger = mx__store_ledger_path(store);
    if (!ledger) return mx__lua_error(L, "merx.commit: out of memory");
    lua_pushstring(L, ledger);
    free(ledger);
    log = lua_tostring(L, -1);
  } else if (!log && run->log_path) {
    if (mx__store_create(run->store_dir, &err) != MX_OK) return mx__lua_raise(L, &err);
    log = run->log_path;
  }
  char id[64], when[32];
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  snprintf(id, sizeof id, "lua-%lld-%09ld", (long long)ts.tv_sec, ts.tv_nsec);
  mx_format_time(run->now, 0, when, sizeof when);
  mx_commit_info ci = {id, "(lua)", "", "{}", when, log, out,
                       strcmp(format, "jsonl") != 0, strcmp(format, "csv") != 0, NULL};
  if (mx__plan_commit(run->plan, run, &ci, &err) != MX_OK) return mx__lua_raise(L, &err);
  size_t n = mx__plan_count(run->plan);
  mx__plan_free(run->plan);
  run->plan = mx__plan_create();
  mx__exp_stage_committed(run->experiments);
  lua_pushinteger(L, (lua_Integer)n);
  return 1;
}

static mx_run *standalone_run(lua_State *L) {
  mx_run *run = lua_newuserdatauv(L, sizeof *run, 0);
  memset(run, 0, sizeof *run);
  run->plan = mx__plan_create();
  if (!run->plan) luaL_error(L, "merx: out of memory");
  run->shard_count = 1;
  run->now = (int64_t)time(NULL);
  /* merx.history and merx.commit default to the deployment's store */
  const char *store = mx__store_from_env();
  if (store) {
    run->store_dir = mx__strdup(store);
    run->log_path = mx__store_ledger_path(store);
  }
  run->out = stdout;
  run->err = stderr;
  lua_newtable(L);
  lua_pushcfunction(L, standalone_gc);
  lua_setfield(L, -2, "__gc");
  mx__lua_protect_metatable(L, "merx.run");
  lua_setmetatable(L, -2);
  lua_setfield(L, LUA_REGISTRYINDEX, "merx.standalone");
  mx__lua_set_run(L, run);
  return run;
}

/* merx.<name> for the pure-Lua helpers, loaded on first use */
static int lazy_index(lua_State *L) {
  const char *name = luaL_checkstring(L, 2);
  if (mx__lua_load_helper(L, name, 0) == 0) return 0;
  lua_pushvalue(L, -1);
  lua_setfield(L, 1, name);
  return 1;
}

static const luaL_Reg merx_funcs[] = {
    {"now", l_now},           {"clock", l_clock},  {"time", l_time},   {"date", l_date},
    {"emit", l_emit},         {"in_shard", l_in_shard},
    {"plan", l_plan},         {"history", l_history},         {NULL, NULL}};

int mx__luaopen_merx(lua_State *L) {
  mx_run *run = mx__lua_run(L);
  if (!run) run = standalone_run(L);
  luaL_newlib(L, merx_funcs);
  int m = lua_gettop(L);
  if (!run->sandboxed) {
    lua_pushcfunction(L, l_commit);
    lua_setfield(L, m, "commit");
  }
  lua_pushstring(L, MERX_VERSION);
  lua_setfield(L, m, "version");
  lua_pushstring(L, run->run_id);
  lua_setfield(L, m, "run_id");
  lua_pushboolean(L, run->sandboxed);
  lua_setfield(L, m, "sandboxed");
  lua_pushboolean(L, run->dry_run);
  lua_setfield(L, m, "dry_run");
  lua_newtable(L);
  for (int i = 0; i < run->n_params; i++) {
    lua_pushstring(L, run->param_values[i]);
    lua_setfield(L, -2, run->param_keys[i]);
  }
  lua_setfield(L, m, "params");
  lua_createtable(L, 0, 2);
  lua_pushinteger(L, run->shard_index);
  lua_setfield(L, -2, "index");
  lua_pushinteger(L, run->shard_count);
  lua_setfield(L, -2, "count");
  lua_createtable(L, 0, 1);
  lua_pushcfunction(L, l_shard);
  lua_setfield(L, -2, "__call");
  mx__lua_protect_metatable(L, "merx.shard");
  lua_setmetatable(L, -2);
  lua_setfield(L, m, "shard");
  lua_createtable(L, 0, 2);
  lua_pushcfunction(L, l_log_info);
  lua_setfield(L, -2, "info");
  lua_pushcfunction(L, l_log_warn);
  lua_setfield(L, -2, "warn");
  lua_setfield(L, m, "log");
  mx__luaopen_data(L);
  lua_setfield(L, m, "data");
  mx__luaopen_model(L);
  lua_setfield(L, m, "model");
  mx__luaopen_util(L);
  lua_setfield(L, m, "util");
#define MX_LUA_SUBMODULE(area, fn) \
  fn(L);                           \
  lua_setfield(L, m, #area);
#include "lua/submodules.def"
#undef MX_LUA_SUBMODULE
  /* the pure-Lua helpers see this table as `merx` */
  lua_pushvalue(L, m);
  lua_setfield(L, LUA_REGISTRYINDEX, "merx.module");
  lua_createtable(L, 0, 1);
  lua_pushcfunction(L, lazy_index);
  lua_setfield(L, -2, "__index");
  mx__lua_protect_metatable(L, "merx");
  lua_setmetatable(L, m);
  return 1;
}

/* Entry point of merx.so for a stock lua5.4: require "merx". */
__attribute__((visibility("default"))) int luaopen_merx(lua_State *L);
int luaopen_merx(lua_State *L) { return mx__luaopen_merx(L); }
