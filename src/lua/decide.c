/* A warm rules script called once per request (merx/decide.h): the run of
 * `merx run` (runtime.c) kept open, its deadline re-armed per call, its
 * staged plan handed over and cleared after each call. */
#include "merx/decide.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <lauxlib.h>

#include "lua/internal.h"
#include "store/privacy.h"
#include "store/store.h"
#include "util/pseudonym.h"
#include "util/sha256.h"

#define JSON_DEPTH_MAX 64

struct mx_decider {
  mx_run *run;
  lua_State *L;
  int usable;
  int fn_ref;  /* table of the script's functions (its return value or its _ENV) */
  char *name;  /* the script as given */
};

mx_decide_options mx_decide_defaults(void) {
  mx_decide_options o;
  memset(&o, 0, sizeof o);
  o.load_timeout = 60;
  o.timeout = 0.25;
  o.memory_mb = 64;
  return o;
}

int mx_decider_usable(const mx_decider *d) { return d && d->usable; }

const char *mx_decider_script_sha256(const mx_decider *d) { return d->run->script_sha256; }

void mx_decider_script_hash(const mx_decider *d, char hex[17]) {
  snprintf(hex, 17, "%016llx", (unsigned long long)d->run->script_hash);
}

void mx_decider_free(mx_decider *d) {
  if (!d) return;
  if (d->L) {
    mx__run_end(d->run);
    lua_close(d->L);
  }
  mx__run_free(d->run);
  free(d->name);
  free(d);
}

/* Protected set-up (args: chunk, run): the sandbox and merx as for merx run,
 * then the chunk's _ENV is kept in the registry (functions may be globals). */
static int decide_setup(lua_State *L) {
  mx__run_setup(L);
  lua_getupvalue(L, 1, 1);
  lua_setfield(L, LUA_REGISTRYINDEX, "merx.decide.env");
  return 0;
}

int mx_decider_open(const mx_decide_options *opt, mx_decider **out, mx_error *err) {
  *out = NULL;
  mx_error_clear(err);
  if (!opt->path) return mx_error_set(err, MX_EINVAL, "no rules script given");
  mx_decider *d = calloc(1, sizeof *d);
  mx_run *run = d ? calloc(1, sizeof *run) : NULL;
  if (!run) {
    free(d);
    return mx_error_set(err, MX_ENOMEM, "out of memory");
  }
  d->run = run;
  d->fn_ref = LUA_NOREF;
  run->sandboxed = 1;
  run->dry_run = 1; /* a request writes no files: merx.data.write only counts */
  run->out = stderr;
  run->err = stderr;
  run->shard_count = 1;
  run->during = "(decide)";
  char *code = NULL;
  size_t len = 0;
  int rc;
  if ((rc = mx__read_file(opt->path, &code, &len, err)) != MX_OK) goto fail;
  d->name = mx__strdup(opt->path);
  run->script_path = mx__strdup(opt->path);
  run->script_dir = realpath(opt->path, NULL);
  run->out_dir = realpath(".", NULL);
  if (!d->name || !run->script_path || !run->script_dir || !run->out_dir) {
    rc = mx_error_at(err, MX_EIO, opt->path, 0, 0, NULL, "cannot resolve the script's path: %s",
                     strerror(errno));
    goto fail;
  }
  char *slash = strrchr(run->script_dir, '/');
  if (slash == run->script_dir) slash[1] = '\0';
  else if (slash) *slash = '\0';
  if (opt->store_dir) {
    run->store_dir = realpath(opt->store_dir, NULL);
    run->log_path = run->store_dir ? mx__store_ledger_path(run->store_dir) : NULL;
    if (!run->log_path) {
      rc = mx_error_at(err, MX_EIO, opt->store_dir, 0, 0, NULL, "store: %s", strerror(errno));
      goto fail;
    }
    if ((rc = mx__run_load_key(run, err)) != MX_OK) goto fail;
  }
  if ((rc = mx__run_set_data_dirs(run, opt->n_data_dirs, opt->data_dirs, err)) != MX_OK) goto fail;
  run->script_hash = mx_hash64(code, len, 0);
  mx_sha256 sha;
  mx__sha256_init(&sha);
  mx__sha256_update(&sha, code, len);
  mx__sha256_hex(&sha, run->script_sha256);
  snprintf(run->run_id, sizeof run->run_id, "serve-%016llx", (unsigned long long)run->script_hash);
  run->plan = mx__plan_create();
  run->now = (int64_t)time(NULL);
  mx__run_set_limits(run, opt->load_timeout > 0 ? opt->load_timeout : 60, opt->memory_mb);
  if (!run->plan || !(d->L = mx__run_open_state(run))) {
    rc = mx_error_set(err, MX_ENOMEM, "out of memory");
    goto fail;
  }
  lua_State *L = d->L;
  if (len > 0 && code[0] == '#') { /* #! line: keep the newline, so lines stay right */
    for (size_t i = 0; i < len && code[i] != '\n'; i++) code[i] = ' ';
    code[0] = '-';
    if (len > 1) code[1] = '-';
  }
  char chunkname[PATH_MAX + 2];
  snprintf(chunkname, sizeof chunkname, "@%s", opt->path);
  lua_pushcfunction(L, mx__run_msgh);
  int msgh_idx = lua_gettop(L);
  int status = mx__run_chunk(L, run, code, len, chunkname, decide_setup, 1, msgh_idx);
  if (status == LUA_OK && mx__run_poll(L, run)) status = LUA_ERRRUN;
  mx__watch_disarm(run); /* the next call may come on another thread */
  if (status != LUA_OK) {
    rc = mx__run_error(L, run, status, opt->path, NULL, err);
    goto fail;
  }
  if (lua_istable(L, -1)) d->fn_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  else {
    lua_pop(L, 1);
    lua_getfield(L, LUA_REGISTRYINDEX, "merx.decide.env");
    d->fn_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  }
  lua_settop(L, 0);
  if (mx__plan_count(run->plan) > 0) {
    rc = mx_error_at(err, MX_EINVAL, opt->path, 0, 0, NULL,
                     "the script's top level staged decisions (merx.emit): a rules script for "
                     "/v1/decide emits only inside its functions");
    goto fail;
  }
  mx__run_set_limits(run, opt->timeout, opt->memory_mb);
  d->usable = 1;
  free(code);
  *out = d;
  return MX_OK;
fail:
  free(code);
  mx_decider_free(d);
  return rc;
}

/* ---- JSON <-> Lua */

static void push_json(lua_State *L, const json_t *v, int depth) {
  if (depth > JSON_DEPTH_MAX) luaL_error(L, "request arguments nest deeper than %d", JSON_DEPTH_MAX);
  luaL_checkstack(L, 4, "request arguments");
  switch (json_typeof(v)) {
  case JSON_OBJECT: {
    lua_createtable(L, 0, (int)json_object_size(v));
    const char *key;
    json_t *x;
    json_object_foreach((json_t *)v, key, x) {
      push_json(L, x, depth + 1);
      lua_setfield(L, -2, key);
    }
    break;
  }
  case JSON_ARRAY: {
    size_t n = json_array_size(v);
    lua_createtable(L, n > INT_MAX ? INT_MAX : (int)n, 0);
    for (size_t i = 0; i < n; i++) {
      push_json(L, json_array_get(v, i), depth + 1);
      lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    break;
  }
  case JSON_STRING:
    lua_pushlstring(L, json_string_value(v), json_string_length(v));
    break;
  case JSON_INTEGER:
    lua_pushinteger(L, (lua_Integer)json_integer_value(v));
    break;
  case JSON_REAL:
    lua_pushnumber(L, json_real_value(v));
    break;
  case JSON_TRUE:
    lua_pushboolean(L, 1);
    break;
  case JSON_FALSE:
    lua_pushboolean(L, 0);
    break;
  default:
    lua_pushnil(L);
  }
}

/* The Lua value at idx as JSON (NULL with why set when it has none: a
 * function, a userdata, a cycle, a table mixing keys, NaN). Reads only: no
 * Lua allocation, so it runs unprotected after the call. */
static json_t *to_json(lua_State *L, int idx, int depth, const char **why) {
  idx = lua_absindex(L, idx);
  switch (lua_type(L, idx)) {
  case LUA_TNIL:
    return json_null();
  case LUA_TBOOLEAN:
    return json_boolean(lua_toboolean(L, idx));
  case LUA_TNUMBER:
    if (lua_isinteger(L, idx)) return json_integer((json_int_t)lua_tointeger(L, idx));
    if (!isfinite(lua_tonumber(L, idx))) {
      *why = "a number that is not finite";
      return NULL;
    }
    return json_real(lua_tonumber(L, idx));
  case LUA_TSTRING: {
    size_t n;
    const char *s = lua_tolstring(L, idx, &n);
    json_t *j = json_stringn_nocheck(s, n);
    if (j && !json_string_value(j)) *why = "out of memory";
    return j;
  }
  case LUA_TTABLE:
    break;
  default:
    *why = "a function, userdata or thread";
    return NULL;
  }
  if (depth > JSON_DEPTH_MAX) {
    *why = "tables nested too deep (a cycle?)";
    return NULL;
  }
  if (!lua_checkstack(L, 4)) {
    *why = "tables nested too deep";
    return NULL;
  }
  /* a sequence 1..n (and nothing else) is an array; string keys an object */
  lua_Unsigned n = lua_rawlen(L, idx);
  size_t count = 0;
  int strings = 0, others = 0;
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    count++;
    if (lua_type(L, -2) == LUA_TSTRING) strings++;
    else if (!lua_isinteger(L, -2) || lua_tointeger(L, -2) < 1 ||
             (lua_Unsigned)lua_tointeger(L, -2) > n)
      others++;
    lua_pop(L, 1);
  }
  json_t *out;
  if (others || (strings && strings != (int)count)) {
    *why = "a table mixing string keys with others";
    return NULL;
  }
  if (count > 0 && strings == 0) {
    out = json_array();
    for (lua_Unsigned i = 1; out && i <= n; i++) {
      lua_rawgeti(L, idx, (lua_Integer)i);
      json_t *x = to_json(L, -1, depth + 1, why);
      lua_pop(L, 1);
      if (!x || json_array_append_new(out, x) != 0) {
        json_decref(out);
        return NULL;
      }
    }
    return out;
  }
  out = json_object();
  lua_pushnil(L);
  while (out && lua_next(L, idx)) {
    json_t *x = to_json(L, -1, depth + 1, why);
    size_t kl;
    const char *k = lua_tolstring(L, -2, &kl); /* a string key: no conversion */
    if (!x || json_object_setn_new_nocheck(out, k, kl, x) != 0) {
      lua_pop(L, 2);
      json_decref(out);
      return NULL;
    }
    lua_pop(L, 1);
  }
  return out;
}

/* ---- the call */

typedef struct call_ctx {
  mx_decider *d;
  const char *function;
  const json_t *args;
  int found;
} call_ctx;

/* Protected: look the function up, convert the arguments, call it. Leaves
 * its one result on the stack. */
/* With a store key, the request's args.user (a string or an integer) is a
 * real id: the function sees its pseudonym, as merx.data.read gives it, so
 * it joins the run's data and models and only the pseudonym reaches the
 * ledger and the reply (PRIVACY.md); a pseudonym sent as args.user is kept. */
static int protected_call(lua_State *L) {
  call_ctx *c = lua_touserdata(L, 1);
  lua_settop(L, 0);
  lua_rawgeti(L, LUA_REGISTRYINDEX, c->d->fn_ref);
  lua_getfield(L, -1, c->function); /* may run the script's __index: under the limits */
  if (!lua_isfunction(L, -1)) return 0;
  c->found = 1;
  lua_remove(L, 1);
  if (c->args) push_json(L, c->args, 0);
  else lua_pushnil(L);
  mx__lua_pseudonymise_user(L, c->d->run, -1);
  lua_call(L, 1, 1);
  return 1;
}

typedef struct emit_ctx {
  mx_decide_emit_fn fn;
  void *ctx;
} emit_ctx;

static int emit_row(void *ctx, const mx_plan_row *r) {
  emit_ctx *e = ctx;
  mx_decision d = {r->kind, r->user, r->user_len, r->record_json, r->reason, r->reason_len};
  return e->fn(e->ctx, &d);
}

int mx_decider_call(mx_decider *d, const char *function, const json_t *args, int64_t now,
                    json_t **result, mx_decide_emit_fn emit, void *ctx, mx_error *err) {
  *result = NULL;
  mx_error_clear(err);
  if (!d->usable) return mx_error_set(err, MX_ESTATE, "%s: the rules script failed earlier", d->name);
  lua_State *L = d->L;
  mx_run *run = d->run;
  run->now = now;
  lua_settop(L, 0);
  lua_pushcfunction(L, mx__run_msgh);
  call_ctx c = {d, function, args, 0};
  lua_pushcfunction(L, protected_call);
  lua_pushlightuserdata(L, &c);
  mx__run_start_clock(L, run); /* this call's deadline */
  int status = lua_pcall(L, 1, 1, 1);
  if (status == LUA_OK && mx__run_poll(L, run)) status = LUA_ERRRUN;
  mx__watch_disarm(run);
  int rc = MX_OK;
  if (status != LUA_OK) {
    d->usable = 0;
    rc = mx__run_error(L, run, status, d->name, NULL, err);
  } else if (!c.found) {
    rc = mx_error_at(err, MX_ENOTFOUND, d->name, 0, 0, NULL, "no function '%s' in the script",
                     function);
  } else {
    const char *why = "out of memory";
    json_t *j = to_json(L, -1, 0, &why);
    if (!j) {
      d->usable = 0; /* it may hold state a retry would trip over: start afresh */
      rc = mx_error_at(err, MX_ESCRIPT, d->name, 0, 0, NULL,
                       "function '%s' returned %s, which has no JSON form", function, why);
    } else if (mx__exp_stage_count(run->experiments) > 0) {
      /* the ledger queue writes decisions only: exposures would be lost
       * silently (and pile up in this state), so the call fails instead */
      json_decref(j);
      rc = mx_error_at(err, MX_ESCRIPT, d->name, 0, 0, NULL,
                       "function '%s' staged experiment exposures (merx.experiment :emit/:expose), "
                       "which /v1/decide does not record: return the arm (e:arm(user)) and put it "
                       "in the decision's record, or expose in `merx run`", function);
    } else if (emit && (rc = mx__plan_each(run->plan, emit_row, &(emit_ctx){emit, ctx})) != MX_OK) {
      json_decref(j);
      if (err->code == MX_OK) mx_error_set(err, rc, "%s", mx_strerror(rc));
    } else {
      *result = j;
    }
  }
  mx__plan_clear(run->plan, run);
  mx__exp_stage_committed(run->experiments); /* staged rows dropped; definitions kept */
  lua_settop(L, 0);
  /* between calls no deadline runs: an idle state never trips its clock */
  run->deadline = 0;
  return rc;
}
