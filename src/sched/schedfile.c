/* The schedule file: a Lua chunk returning { store =, outputs =, jobs = {...} }.
 *
 * It is evaluated in the script sandbox (lua/config.h: the globals of a
 * `merx run` script without merx, the same allocator, hook and sticky stop)
 * under SCHED_TIME_LIMIT and SCHED_MEMORY_MB: a schedule is configuration, so
 * it may compute (loops over regions, shared defaults) but cannot touch
 * files, the OS or the merx runtime, nor loop past the limit (pcall cannot
 * catch the stop). Every job is validated before anything runs, and errors name the
 * file, the job (with the line where its name is written, when it can be
 * found) and the field. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>

#include "lua/config.h"
#include "merx/schedule.h"
#include "sched/internal.h"
#include "store/store.h"
#include "util/util.h"

/* Limits of the sandbox a schedule file is evaluated in: it is
 * configuration, read at start and on every SIGHUP reload, so a few seconds
 * is plenty, and a file that loops must not stall the daemon. */
#define SCHED_TIME_LIMIT 3.0
#define SCHED_MEMORY_MB 64

/* Directory part of path ("" for a bare name), and join. */
static char *dir_of(const char *path) {
  const char *slash = strrchr(path, '/');
  return slash ? mx__strndup(path, (size_t)(slash - path + 1)) : mx__strdup("");
}
static char *join(const char *dir, const char *rel) {
  if (rel[0] == '/') return mx__strdup(rel);
  size_t n = strlen(dir) + strlen(rel) + 1;
  char *s = malloc(n);
  if (s) snprintf(s, n, "%s%s", dir, rel);
  return s;
}

/* Line of the first string literal equal to name in the source, or 0. */
static long line_of_name(const char *src, const char *name) {
  size_t n = strlen(name);
  long line = 1;
  for (const char *p = src; *p; p++) {
    if (*p == '\n') line++;
    if ((*p == '"' || *p == '\'') && strncmp(p + 1, name, n) == 0 && p[1 + n] == *p) return line;
  }
  return 0;
}

typedef struct {
  const char *path;
  const char *src;
  mx_error *err;
  int nenv;   /* the file-level `env` allow-list, given to every job */
  char **env;
} load_ctx;

static int job_error(load_ctx *c, const char *job, int idx, const char *field, int code,
                     const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static int job_error(load_ctx *c, const char *job, int idx, const char *field, int code,
                     const char *fmt, ...) {
  char msg[MX_ERROR_MESSAGE_MAX - 64];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (job)
    return mx_error_at(c->err, code, c->path, line_of_name(c->src, job), 0, field,
                       "job '%s': %s", job, msg);
  return mx_error_at(c->err, code, c->path, 0, 0, field, "job #%d: %s", idx, msg);
}

static int valid_job_name(const char *s) {
  if (!*s || strlen(s) > 100 || s[0] == '.') return 0;
  for (; *s; s++)
    if (!isalnum((unsigned char)*s) && !strchr("._-", *s)) return 0;
  return 1;
}

static void job_clear(mx_job *j) {
  free(j->name);
  free(j->cron_text);
  mx_tz_free(j->tz);
  free(j->script);
  for (int i = 0; i < j->nparams; i++) {
    free(j->param_keys[i]);
    free(j->param_values[i]);
  }
  free(j->param_keys);
  free(j->param_values);
  for (int i = 0; i < j->nenv; i++) free(j->env[i]);
  free(j->env);
  for (int i = 0; i < j->ndata; i++) free(j->data[i]);
  free(j->data);
  memset(j, 0, sizeof *j);
}

void mx_schedule_free(mx_schedule *s) {
  if (!s) return;
  for (int i = 0; i < s->njobs; i++) job_clear(&s->jobs[i]);
  free(s->jobs);
  free(s->path);
  free(s->store);
  free(s->store_dir);
  free(s->outputs);
  free(s);
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Read params (table at the top of the stack) into j, sorted by key. */
static int read_params(lua_State *L, load_ctx *c, mx_job *j, int idx) {
  int cap = 0;
  lua_pushnil(L);
  while (lua_next(L, -2)) {
    if (lua_type(L, -2) != LUA_TSTRING) {
      lua_pop(L, 2);
      return job_error(c, j->name, idx, "params", MX_EINVAL, "parameter names must be strings");
    }
    const char *k = lua_tostring(L, -2);
    int t = lua_type(L, -1);
    if (t != LUA_TSTRING && t != LUA_TNUMBER && t != LUA_TBOOLEAN) {
      lua_pop(L, 2);
      return job_error(c, j->name, idx, "params", MX_EINVAL,
                       "parameter '%s' must be a string, number or boolean, not a %s", k,
                       lua_typename(L, t));
    }
    if (!*k || strchr(k, '=')) {
      lua_pop(L, 2);
      return job_error(c, j->name, idx, "params", MX_EINVAL, "invalid parameter name '%s'", k);
    }
    if (j->nparams == cap) {
      cap = cap ? cap * 2 : 8;
      char **nk = realloc(j->param_keys, (size_t)cap * sizeof *nk);
      if (nk) j->param_keys = nk;
      char **nv = realloc(j->param_values, (size_t)cap * sizeof *nv);
      if (nv) j->param_values = nv;
      if (!nk || !nv) {
        lua_pop(L, 2);
        return mx_error_set(c->err, MX_ENOMEM, "out of memory");
      }
    }
    const char *v = t == LUA_TBOOLEAN ? (lua_toboolean(L, -1) ? "true" : "false")
                                      : luaL_tolstring(L, -1, NULL);
    j->param_keys[j->nparams] = mx__strdup(k);
    j->param_values[j->nparams] = mx__strdup(v);
    j->nparams++;
    lua_pop(L, t == LUA_TBOOLEAN ? 1 : 2);
  }
  /* Sort keys and values together via an index permutation. */
  if (j->nparams > 1) {
    char **pairs = malloc((size_t)j->nparams * 2 * sizeof *pairs);
    if (!pairs) return mx_error_set(c->err, MX_ENOMEM, "out of memory");
    char **keys = malloc((size_t)j->nparams * sizeof *keys);
    if (!keys) {
      free(pairs);
      return mx_error_set(c->err, MX_ENOMEM, "out of memory");
    }
    memcpy(keys, j->param_keys, (size_t)j->nparams * sizeof *keys);
    qsort(keys, (size_t)j->nparams, sizeof *keys, cmp_str);
    for (int a = 0; a < j->nparams; a++)
      for (int b = 0; b < j->nparams; b++)
        if (j->param_keys[b] == keys[a]) {
          pairs[2 * a] = j->param_keys[b];
          pairs[2 * a + 1] = j->param_values[b];
        }
    for (int a = 0; a < j->nparams; a++) {
      j->param_keys[a] = pairs[2 * a];
      j->param_values[a] = pairs[2 * a + 1];
    }
    free(keys);
    free(pairs);
  }
  return MX_OK;
}

/* Append the variable names of the `env` list at the top of the stack to
 * *names (an allow-list for the run's environment). On a bad entry returns
 * the offending value in bad (MX_EINVAL); the caller names the place. */
static int read_env_names(lua_State *L, char ***names, int *n, char *bad, size_t bad_size) {
  if (!lua_istable(L, -1)) {
    snprintf(bad, bad_size, "(a %s, not a list of names)", luaL_typename(L, -1));
    return MX_EINVAL;
  }
  lua_Integer len = (lua_Integer)lua_rawlen(L, -1);
  for (lua_Integer i = 1; i <= len; i++) {
    lua_rawgeti(L, -1, i);
    const char *v = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
    int ok = v && (isalpha((unsigned char)v[0]) || v[0] == '_') && strlen(v) < 256;
    for (const char *p = v; ok && *p; p++) ok = isalnum((unsigned char)*p) || *p == '_';
    if (!ok) {
      if (v) snprintf(bad, bad_size, "%s", v);
      else snprintf(bad, bad_size, "(a %s)", luaL_typename(L, -1));
      lua_pop(L, 1);
      return MX_EINVAL;
    }
    char **grown = realloc(*names, (size_t)(*n + 1) * sizeof *grown);
    char *copy = mx__strdup(v);
    lua_pop(L, 1);
    if (grown) *names = grown;
    if (!grown || !copy) {
      free(copy);
      return MX_ENOMEM;
    }
    (*names)[(*n)++] = copy;
  }
  return MX_OK;
}

/* data = { "DIR", ... } (value at the top of the stack; nil: none): folders
 * the job's script may read but not write, each an existing directory. */
static int read_data(lua_State *L, load_ctx *c, const char *dir, mx_job *j, int idx) {
  int t = lua_type(L, -1);
  if (t == LUA_TNIL) return MX_OK;
  lua_Integer n = t == LUA_TTABLE ? (lua_Integer)lua_rawlen(L, -1) : -1;
  int count = 0;
  if (t == LUA_TTABLE) { /* a list of strings and nothing else */
    lua_pushnil(L);
    while (lua_next(L, -2)) {
      count++;
      lua_pop(L, 1);
    }
  }
  if (n < 0 || count != n || n > 64)
    return job_error(c, j->name, idx, "data", MX_EINVAL,
                     "'data' must be a list of at most 64 folder paths, like { \"/srv/exports\" }");
  if (n == 0) return MX_OK;
  if (!(j->data = calloc((size_t)n, sizeof *j->data)))
    return mx_error_set(c->err, MX_ENOMEM, "out of memory");
  for (lua_Integer i = 1; i <= n; i++) {
    lua_rawgeti(L, -1, i);
    const char *d = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
    char *path = d && *d ? join(dir, d) : NULL;
    lua_pop(L, 1);
    if (!d || !*d)
      return job_error(c, j->name, idx, "data", MX_EINVAL, "data[%lld] must be a non-empty path",
                       (long long)i);
    if (!path) return mx_error_set(c->err, MX_ENOMEM, "out of memory");
    j->data[j->ndata++] = path;
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
      return job_error(c, j->name, idx, "data", MX_ENOTFOUND, "data folder not found: %s", path);
  }
  return MX_OK;
}

static const char *const job_keys[] = {"name",    "cron",        "tz",      "script",
                                       "params",  "timeout",     "retries", "retry_delay",
                                       "overlap", "missed",      "env",
                                       "data",    "vacuum",      NULL};

/* Validate the job table at the top of the stack into j. */
static int read_job(lua_State *L, load_ctx *c, const char *dir, int idx, mx_job *j) {
  int rc;
  lua_getfield(L, -1, "name");
  if (lua_type(L, -1) != LUA_TSTRING) {
    lua_pop(L, 1);
    return job_error(c, NULL, idx, "name", MX_EINVAL, "'name' (a string) is required");
  }
  j->name = mx__strdup(lua_tostring(L, -1));
  lua_pop(L, 1);
  if (!valid_job_name(j->name))
    return job_error(c, j->name, idx, "name", MX_EINVAL,
                     "names may use only letters, digits, '.', '_' and '-' (used in paths)");
  /* Unknown keys are refused: a typo ("retires") must not be silently ignored. */
  lua_pushnil(L);
  while (lua_next(L, -2)) {
    lua_pop(L, 1);
    const char *k = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
    int known = 0;
    for (int i = 0; k && job_keys[i]; i++) known |= strcmp(k, job_keys[i]) == 0;
    if (!known) {
      char kb[64];
      snprintf(kb, sizeof kb, "%s", k ? k : luaL_typename(L, -1));
      lua_pop(L, 1);
      return job_error(c, j->name, idx, kb, MX_EINVAL,
                       "unknown key '%s' (known: name cron tz script vacuum params timeout "
                       "retries retry_delay overlap missed env data)",
                       kb);
    }
  }
  /* cron */
  lua_getfield(L, -1, "cron");
  if (lua_type(L, -1) != LUA_TSTRING) {
    lua_pop(L, 1);
    return job_error(c, j->name, idx, "cron", MX_EINVAL, "'cron' (a string) is required");
  }
  j->cron_text = mx__strdup(lua_tostring(L, -1));
  lua_pop(L, 1);
  mx_error e;
  mx_error_clear(&e);
  if ((rc = mx_cron_parse(j->cron_text, &j->cron, &e)) != MX_OK)
    return job_error(c, j->name, idx, "cron", rc, "%s", e.message);
  /* tz */
  lua_getfield(L, -1, "tz");
  int t = lua_type(L, -1);
  char tzname[256];
  snprintf(tzname, sizeof tzname, "%s", t == LUA_TSTRING ? lua_tostring(L, -1) : "UTC");
  lua_pop(L, 1);
  if (t != LUA_TNIL && t != LUA_TSTRING)
    return job_error(c, j->name, idx, "tz", MX_EINVAL, "'tz' must be a zone name string");
  if ((rc = mx_tz_load(tzname, &j->tz, &e)) != MX_OK)
    return job_error(c, j->name, idx, "tz", rc, "%s", e.message);
  /* vacuum = true: the store's retention (merx vacuum), instead of a script */
  lua_getfield(L, -1, "vacuum");
  t = lua_type(L, -1);
  j->vacuum = t == LUA_TBOOLEAN && lua_toboolean(L, -1);
  lua_pop(L, 1);
  if (t != LUA_TNIL && t != LUA_TBOOLEAN)
    return job_error(c, j->name, idx, "vacuum", MX_EINVAL, "'vacuum' must be true or false");
  if (j->vacuum) {
    static const char *const not_with[] = {"script", "params", "data", NULL};
    for (int i = 0; not_with[i]; i++) {
      int has = lua_getfield(L, -1, not_with[i]) != LUA_TNIL;
      lua_pop(L, 1);
      if (has)
        return job_error(c, j->name, idx, not_with[i], MX_EINVAL,
                         "a vacuum job runs merx vacuum on the store, not a script: drop '%s'",
                         not_with[i]);
    }
    goto numbers;
  }
  /* script */
  lua_getfield(L, -1, "script");
  if (lua_type(L, -1) != LUA_TSTRING) {
    lua_pop(L, 1);
    return job_error(c, j->name, idx, "script", MX_EINVAL,
                     "'script' (a path) is required (or vacuum = true)");
  }
  j->script = join(dir, lua_tostring(L, -1));
  lua_pop(L, 1);
  if (!j->script) return mx_error_set(c->err, MX_ENOMEM, "out of memory");
  struct stat st;
  if (stat(j->script, &st) != 0 || !S_ISREG(st.st_mode))
    return job_error(c, j->name, idx, "script", MX_ENOTFOUND, "script not found: %s", j->script);
  /* params */
  lua_getfield(L, -1, "params");
  t = lua_type(L, -1);
  if (t == LUA_TTABLE) {
    if ((rc = read_params(L, c, j, idx)) != MX_OK) {
      lua_pop(L, 1);
      return rc;
    }
  } else if (t != LUA_TNIL) {
    lua_pop(L, 1);
    return job_error(c, j->name, idx, "params", MX_EINVAL, "'params' must be a table");
  }
  lua_pop(L, 1);
  lua_getfield(L, -1, "data");
  rc = read_data(L, c, dir, j, idx);
  lua_pop(L, 1);
  if (rc != MX_OK) return rc;
numbers:;
  struct {
    const char *key;
    double def, lo, hi;
    int integer;
    double *dst;
    int *idst;
  } nums[] = {
      {"timeout", 300, 0, 7 * 86400, 0, &j->timeout, NULL},
      {"retries", 0, 0, 100, 1, NULL, &j->retries},
      {"retry_delay", 30, 0, 86400, 0, &j->retry_delay, NULL},
  };
  for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
    lua_getfield(L, -1, nums[i].key);
    t = lua_type(L, -1);
    double v = nums[i].def;
    int isnum = lua_isinteger(L, -1) || t == LUA_TNUMBER;
    if (t != LUA_TNIL) v = lua_tonumber(L, -1);
    int isint = lua_isinteger(L, -1);
    lua_pop(L, 1);
    if (t != LUA_TNIL && !isnum)
      return job_error(c, j->name, idx, nums[i].key, MX_EINVAL, "'%s' must be a number",
                       nums[i].key);
    if (nums[i].integer && t != LUA_TNIL && !isint && v != (double)(long)v)
      return job_error(c, j->name, idx, nums[i].key, MX_EINVAL, "'%s' must be an integer",
                       nums[i].key);
    /* A timeout must be positive; retries and delays may be zero. */
    int bad = !(v >= nums[i].lo && v <= nums[i].hi) || (nums[i].dst == &j->timeout && v <= 0);
    if (bad)
      return job_error(c, j->name, idx, nums[i].key, MX_EINVAL,
                       "'%s' = %g is out of range (%s%g..%g)", nums[i].key, v,
                       nums[i].dst == &j->timeout ? "> " : "", nums[i].lo, nums[i].hi);
    if (nums[i].dst) *nums[i].dst = v;
    else *nums[i].idst = (int)v;
  }
  /* enums */
  lua_getfield(L, -1, "overlap");
  const char *ov = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
  t = lua_type(L, -1);
  if (t == LUA_TNIL || (ov && strcmp(ov, "forbid") == 0)) j->overlap = MX_OVERLAP_FORBID;
  else if (ov && strcmp(ov, "allow") == 0) j->overlap = MX_OVERLAP_ALLOW;
  else if (ov && strcmp(ov, "replace") == 0) j->overlap = MX_OVERLAP_REPLACE;
  else {
    char vb[64];
    snprintf(vb, sizeof vb, "%s", ov ? ov : lua_typename(L, t));
    lua_pop(L, 1);
    return job_error(c, j->name, idx, "overlap", MX_EINVAL,
                     "overlap '%s' is not one of forbid, allow, replace", vb);
  }
  lua_pop(L, 1);
  lua_getfield(L, -1, "missed");
  const char *mi = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
  t = lua_type(L, -1);
  if (t == LUA_TNIL || (mi && strcmp(mi, "latest") == 0)) j->missed = MX_MISSED_LATEST;
  else if (mi && strcmp(mi, "skip") == 0) j->missed = MX_MISSED_SKIP;
  else if (mi && strcmp(mi, "all") == 0) j->missed = MX_MISSED_ALL;
  else {
    char vb[64];
    snprintf(vb, sizeof vb, "%s", mi ? mi : lua_typename(L, t));
    lua_pop(L, 1);
    return job_error(c, j->name, idx, "missed", MX_EINVAL,
                     "missed '%s' is not one of skip, latest, all", vb);
  }
  lua_pop(L, 1);
  /* env: the file's allow-list, then the job's own names */
  for (int i = 0; i < c->nenv; i++) {
    char **grown = realloc(j->env, (size_t)(j->nenv + 1) * sizeof *grown);
    if (grown) j->env = grown;
    if (!grown || !(j->env[j->nenv] = mx__strdup(c->env[i])))
      return mx_error_set(c->err, MX_ENOMEM, "out of memory");
    j->nenv++;
  }
  char bad[256];
  lua_getfield(L, -1, "env");
  rc = lua_isnil(L, -1) ? MX_OK : read_env_names(L, &j->env, &j->nenv, bad, sizeof bad);
  lua_pop(L, 1);
  if (rc == MX_ENOMEM) return mx_error_set(c->err, rc, "out of memory");
  if (rc)
    return job_error(c, j->name, idx, "env", rc,
                     "'env' must list environment variable names; '%s' is not one", bad);
  return MX_OK;
}

/* `store`: a folder is the deployment's store (ledger and run history,
 * passed to every run); a name ending in .db keeps its old meaning, the run
 * history alone. Without the key, MERX_STORE names the store. */
static int resolve_store(mx_schedule *s, int given) {
  const char *env = given ? NULL : mx__store_from_env();
  if (env) {
    char cwd[4096];
    char *abs = NULL;
    if (env[0] == '/' || !getcwd(cwd, sizeof cwd - 1)) {
      abs = mx__strdup(env);
    } else {
      size_t n = strlen(cwd);
      cwd[n] = '/';
      cwd[n + 1] = '\0';
      abs = join(cwd, env);
    }
    if (!abs) return MX_ENOMEM;
    free(s->store);
    s->store = abs;
  }
  if ((!given && !env) || !mx__store_is_folder(s->store)) return MX_OK;
  s->store_dir = s->store;
  s->store = mx__store_ledger_path(s->store_dir);
  return s->store ? MX_OK : MX_ENOMEM;
}

int mx_schedule_use_store(mx_schedule *s, const char *dir, mx_error *err) {
  int rc = mx__store_create(dir, err);
  if (rc != MX_OK) return rc;
  char *abs = realpath(dir, NULL);
  char *ledger = abs ? mx__store_ledger_path(abs) : NULL;
  if (!ledger) {
    free(abs);
    return mx_error_set(err, MX_ENOMEM, "out of memory");
  }
  free(s->store);
  free(s->store_dir);
  s->store = ledger;
  s->store_dir = abs;
  return MX_OK;
}

/* dir: the file's directory (owned by the caller: a Lua error may leave
 * this function at any call that runs script code, such as a metamethod). */
static int read_schedule(lua_State *L, load_ctx *c, const char *dir, mx_schedule *s) {
  if (!lua_istable(L, -1))
    return mx_error_at(c->err, MX_EINVAL, c->path, 0, 0, NULL,
                       "the file must return a table { store = ..., jobs = { ... } }, not %s",
                       luaL_typename(L, -1));
  lua_pushnil(L);
  while (lua_next(L, -2)) {
    lua_pop(L, 1);
    const char *k = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
    if (!k || (strcmp(k, "store") && strcmp(k, "outputs") && strcmp(k, "jobs") && strcmp(k, "env"))) {
      char kb[64];
      snprintf(kb, sizeof kb, "%s", k ? k : luaL_typename(L, -1));
      lua_pop(L, 1);
      return mx_error_at(c->err, MX_EINVAL, c->path, 0, 0, kb,
                         "unknown key '%s' (known: store, outputs, jobs, env)", kb);
    }
  }
  char bad[256];
  lua_getfield(L, -1, "env");
  int erc = lua_isnil(L, -1) ? MX_OK : read_env_names(L, &c->env, &c->nenv, bad, sizeof bad);
  lua_pop(L, 1);
  if (erc == MX_ENOMEM) return mx_error_set(c->err, erc, "out of memory");
  if (erc)
    return mx_error_at(c->err, erc, c->path, 0, 0, "env",
                       "'env' must list environment variable names; '%s' is not one", bad);
  int rc = MX_OK;
  int store_given = 0;
  const char *keys[2] = {"store", "outputs"};
  const char *defs[2] = {"runs.db", "outputs"};
  char **dsts[2] = {&s->store, &s->outputs};
  for (int i = 0; i < 2; i++) {
    lua_getfield(L, -1, keys[i]);
    int t = lua_type(L, -1);
    if (t != LUA_TNIL && t != LUA_TSTRING) {
      lua_pop(L, 1);
      return mx_error_at(c->err, MX_EINVAL, c->path, 0, 0, keys[i], "'%s' must be a path string",
                         keys[i]);
    }
    *dsts[i] = join(dir, t == LUA_TSTRING ? lua_tostring(L, -1) : defs[i]);
    if (i == 0) store_given = t == LUA_TSTRING;
    lua_pop(L, 1);
  }
  if ((rc = resolve_store(s, store_given)) != MX_OK)
    return mx_error_set(c->err, rc, "out of memory");
  lua_getfield(L, -1, "jobs");
  if (!lua_istable(L, -1)) {
    lua_pop(L, 1);
    return mx_error_at(c->err, MX_EINVAL, c->path, 0, 0, "jobs",
                       "'jobs' (a list of job tables) is required");
  }
  lua_Integer n = luaL_len(L, -1);
  if (n > 10000) n = 10000;
  s->jobs = calloc((size_t)(n ? n : 1), sizeof *s->jobs);
  if (!s->jobs) {
    return mx_error_set(c->err, MX_ENOMEM, "out of memory");
  }
  for (lua_Integer i = 1; i <= n && rc == MX_OK; i++) {
    lua_geti(L, -1, i);
    if (!lua_istable(L, -1)) {
      rc = job_error(c, NULL, (int)i, "jobs", MX_EINVAL, "each job must be a table, not %s",
                     luaL_typename(L, -1));
    } else {
      mx_job *j = &s->jobs[s->njobs++];
      rc = read_job(L, c, dir, (int)i, j);
      for (int k = 0; rc == MX_OK && k < s->njobs - 1; k++)
        if (strcmp(s->jobs[k].name, j->name) == 0)
          rc = job_error(c, j->name, (int)i, "name", MX_EINVAL,
                         "duplicate job name (jobs #%d and #%d)", k + 1, (int)i);
    }
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  return rc;
}

typedef struct schedule_read {
  load_ctx c;
  const char *dir;
  mx_schedule *s;
} schedule_read;

static int read_value(lua_State *L, void *ctx, mx_error *err) {
  schedule_read *r = ctx;
  (void)err; /* r->c.err is the same */
  return read_schedule(L, &r->c, r->dir, r->s);
}

int mx_schedule_load(const char *path, mx_schedule **out, mx_error *err) {
  *out = NULL;
  char *src = NULL;
  size_t len = 0;
  int rc = mx__read_file(path, &src, &len, err);
  if (rc != MX_OK) return rc;
  mx_schedule *s = calloc(1, sizeof *s);
  char *dir = dir_of(path);
  if (!s || !dir || !(s->path = mx__strdup(path))) {
    free(s);
    free(dir);
    free(src);
    return mx_error_set(err, MX_ENOMEM, "out of memory");
  }
  schedule_read r = {{path, src, err, 0, NULL}, dir, s};
  mx_config_limits lim = {SCHED_TIME_LIMIT, SCHED_MEMORY_MB, "while loading the schedule file"};
  rc = mx__config_eval(path, src, len, &lim, read_value, &r, err);
  for (int i = 0; i < r.c.nenv; i++) free(r.c.env[i]);
  free(r.c.env);
  if (rc != MX_OK && err && err->file[0] == '\0') {
    /* Lua says "path:LINE: message"; keep the line, drop the repeated path. */
    char m[MX_ERROR_MESSAGE_MAX];
    snprintf(m, sizeof m, "%s", err->message);
    const char *msg = m;
    long line = 0;
    size_t pl = strlen(path);
    if (strncmp(m, path, pl) == 0 && m[pl] == ':') {
      char *end;
      line = strtol(m + pl + 1, &end, 10);
      if (*end == ':') msg = end + 1 + (end[1] == ' ');
      else line = 0, msg = m + pl + 1 + (m[pl + 1] == ' ');
    }
    rc = mx_error_at(err, rc, path, line, 0, NULL, "%s", msg);
  }
  free(dir);
  free(src);
  if (rc != MX_OK) {
    mx_schedule_free(s);
    return rc;
  }
  *out = s;
  return MX_OK;
}
