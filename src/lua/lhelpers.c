/* Helpers for Lua bindings (lmerx.h): errors, arrays, options, paths. */
#include "lua/lmerx.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lua/internal.h"
#include "util/util.h"

/* Push "source:line: " of the innermost Lua function on the stack (the
 * script code that called the running C binding, or the running Lua
 * function when called from a hook), skipping `skip` Lua functions (to name
 * the caller of a Lua helper); "" when there is none. */
static void push_where(lua_State *L, int skip) {
  lua_Debug ar;
  for (int level = 0; lua_getstack(L, level, &ar); level++) {
    lua_getinfo(L, "Sl", &ar);
    if (ar.currentline > 0 && skip-- <= 0) {
      lua_pushfstring(L, "%s:%d: ", ar.short_src, ar.currentline);
      return;
    }
  }
  lua_pushliteral(L, "");
}

/* Push "where: message" for a Lua error. */
static void push_error(lua_State *L, int skip, const char *fmt, va_list ap) {
  /* full printf formats (lua_pushfstring knows only a few) */
  char buf[2048];
  vsnprintf(buf, sizeof buf, fmt, ap);
  push_where(L, skip);
  lua_pushstring(L, buf);
  lua_concat(L, 2);
}

int mx__lua_error(lua_State *L, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  push_error(L, 0, fmt, ap);
  va_end(ap);
  return lua_error(L);
}

static int error_skip(lua_State *L, int skip, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int error_skip(lua_State *L, int skip, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  push_error(L, skip, fmt, ap);
  va_end(ap);
  return lua_error(L);
}

/* Is key[0..len) one of the space-separated names of known? */
static int known_option(const char *known, const char *key, size_t len) {
  for (const char *p = known; *p;) {
    while (*p == ' ') p++;
    const char *s = p;
    while (*p && *p != ' ') p++;
    if ((size_t)(p - s) == len && len > 0 && memcmp(s, key, len) == 0) return 1;
  }
  return 0;
}

/* Strict options: a key the function does not read is a mistake (a typo
 * such as factorz = 8 would otherwise train with the default). skip: Lua
 * functions between the error and the script line to blame. */
static void check_options(lua_State *L, int idx, const char *fn, const char *known, int skip) {
  if (!lua_istable(L, idx)) return; /* absent, or the binding's own type error */
  idx = lua_absindex(L, idx);
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    lua_pop(L, 1);
    if (lua_type(L, -1) != LUA_TSTRING) {
      lua_pushvalue(L, -1); /* tostring must not touch the key lua_next uses */
      error_skip(L, skip, "%s: option names are strings, got the %s key %s", fn,
                 luaL_typename(L, -1), luaL_tolstring(L, -1, NULL));
    }
    size_t len;
    const char *key = lua_tolstring(L, -1, &len);
    if (known_option(known, key, len)) continue;
    size_t n;
    const char *near = mx__closest_word(key, len, known, &n);
    if (near)
      error_skip(L, skip, "%s: unknown option '%s' (did you mean '%.*s'?)", fn, key, (int)n, near);
    char list[1024];
    error_skip(L, skip, "%s: unknown option '%s' (options: %s)", fn, key,
               mx__words_join(known, list, sizeof list));
  }
}

void mx__lua_check_options(lua_State *L, int idx, const char *fn, const char *known) {
  check_options(L, idx, fn, known, 0);
}

int mx__lua_check_options_l(lua_State *L) {
  const char *fn = luaL_checkstring(L, 2);
  const char *known = luaL_checkstring(L, 3);
  if (!lua_isnoneornil(L, 1) && !lua_istable(L, 1))
    return error_skip(L, 1, "%s: options must be a table, got %s", fn, luaL_typename(L, 1));
  check_options(L, 1, fn, known, 1);
  lua_settop(L, 1);
  return 1;
}

mx_cancel mx__lua_cancel(lua_State *L) {
  mx_cancel c = {0, NULL};
  mx_run *run = mx__lua_run(L);
  if (run && run->sandboxed) mx__run_cancel(run, &c);
  return c;
}

void mx__lua_check_stop(lua_State *L) {
  mx_run *run = mx__lua_run(L);
  if (mx__run_poll(L, run)) {
    lua_pushstring(L, run->stop_msg);
    lua_error(L);
  }
}

int mx__lua_raise(lua_State *L, const mx_error *err) {
  char buf[MX_ERROR_MESSAGE_MAX + MX_ERROR_FILE_MAX + MX_ERROR_FIELD_MAX + 64];
  if (!err || err->code == MX_OK) return mx__lua_error(L, "unknown error");
  /* a core call cancelled by the run's limits: report the stop itself */
  if (err->code == MX_ELIMIT || err->code == MX_EINTERRUPTED) mx__lua_check_stop(L);
  mx_error_format(err, buf, sizeof buf);
  return mx__lua_error(L, "%s", buf);
}

void *mx__lua_scratch(lua_State *L, size_t size) {
  return lua_newuserdatauv(L, size ? size : 1, 0);
}

typedef struct guard_head {
  void (*release)(void *state);
  int released;
} guard_head;
/* the state starts at a maximally aligned offset after the head */
#define GUARD_HEAD_SIZE \
  ((sizeof(guard_head) + _Alignof(max_align_t) - 1) / _Alignof(max_align_t) * _Alignof(max_align_t))

void mx__lua_guard_release(void *state) {
  guard_head *h = (guard_head *)((char *)state - GUARD_HEAD_SIZE);
  if (h->released) return;
  h->released = 1;
  h->release(state);
}

static int guard_gc(lua_State *L) {
  mx__lua_guard_release((char *)lua_touserdata(L, 1) + GUARD_HEAD_SIZE);
  return 0;
}

void *mx__lua_guard(lua_State *L, size_t size, void (*release)(void *state)) {
  guard_head *h = lua_newuserdatauv(L, GUARD_HEAD_SIZE + size, 0);
  h->release = release;
  h->released = 1; /* nothing to release until the metatable is set */
  char *state = (char *)h + GUARD_HEAD_SIZE;
  memset(state, 0, size);
  if (mx__lua_newmetatable(L, "merx.guard")) {
    lua_pushcfunction(L, guard_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_setmetatable(L, -2);
  h->released = 0;
  return state;
}

void mx__lua_protect_metatable(lua_State *L, const char *name) {
  lua_pushstring(L, name);
  lua_setfield(L, -2, "__metatable");
}

int mx__lua_newmetatable(lua_State *L, const char *name) {
  if (!luaL_newmetatable(L, name)) return 0;
  mx__lua_protect_metatable(L, name);
  return 1;
}

static size_t check_array(lua_State *L, int idx) {
  luaL_checktype(L, idx, LUA_TTABLE);
  lua_Unsigned n = lua_rawlen(L, idx);
  if (n > (lua_Unsigned)(SIZE_MAX / 16)) mx__lua_error(L, "array too large");
  return (size_t)n;
}

const char **mx__lua_check_strings(lua_State *L, int idx, size_t *n) {
  idx = lua_absindex(L, idx);
  size_t len = check_array(L, idx);
  /* the userdata's user value anchors strings converted from numbers */
  const char **v = lua_newuserdatauv(L, (len ? len : 1) * sizeof *v, 1);
  int ud = lua_gettop(L);
  int anchored = 0;
  for (size_t i = 0; i < len; i++) {
    int t = lua_rawgeti(L, idx, (lua_Integer)i + 1);
    if (t == LUA_TNUMBER) {
      if (!anchored) {
        lua_newtable(L);
        lua_setiuservalue(L, ud, 1);
        anchored = 1;
      }
      lua_getiuservalue(L, ud, 1);
      lua_pushvalue(L, -2);
      lua_tostring(L, -1); /* converts the copy */
      v[i] = lua_tostring(L, -1);
      lua_rawseti(L, -2, (lua_Integer)i + 1);
      lua_pop(L, 2);
      continue;
    }
    if (t != LUA_TSTRING)
      mx__lua_error(L, "bad argument #%d: element %zu is a %s, expected a string", idx, i + 1,
                   luaL_typename(L, -1));
    v[i] = lua_tostring(L, -1);
    lua_pop(L, 1);
  }
  *n = len;
  return len ? v : NULL;
}

static double element_number(lua_State *L, int idx, size_t i) {
  lua_rawgeti(L, idx, (lua_Integer)i + 1);
  int ok;
  double d = (double)lua_tonumberx(L, -1, &ok);
  if (!ok)
    mx__lua_error(L, "bad argument #%d: element %zu is a %s, expected a number", idx, i + 1,
                 luaL_typename(L, -1));
  lua_pop(L, 1);
  return d;
}

double *mx__lua_check_doubles(lua_State *L, int idx, size_t *n) {
  idx = lua_absindex(L, idx);
  size_t len = check_array(L, idx);
  double *v = mx__lua_scratch(L, len * sizeof *v);
  for (size_t i = 0; i < len; i++) v[i] = element_number(L, idx, i);
  *n = len;
  return v;
}

float *mx__lua_check_floats(lua_State *L, int idx, size_t *n) {
  idx = lua_absindex(L, idx);
  size_t len = check_array(L, idx);
  float *v = mx__lua_scratch(L, len * sizeof *v);
  for (size_t i = 0; i < len; i++) v[i] = (float)element_number(L, idx, i);
  *n = len;
  return v;
}

void mx__lua_push_doubles(lua_State *L, const double *v, size_t n) {
  lua_createtable(L, n > INT_MAX ? INT_MAX : (int)n, 0);
  for (size_t i = 0; i < n; i++) {
    lua_pushnumber(L, v[i]);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
}

void mx__lua_push_floats(lua_State *L, const float *v, size_t n) {
  lua_createtable(L, n > INT_MAX ? INT_MAX : (int)n, 0);
  for (size_t i = 0; i < n; i++) {
    lua_pushnumber(L, v[i]);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
}

void mx__lua_push_strings(lua_State *L, const char *const *v, size_t n) {
  lua_createtable(L, n > INT_MAX ? INT_MAX : (int)n, 0);
  for (size_t i = 0; i < n; i++) {
    lua_pushstring(L, v[i]);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
}

/* Push field of the options table (nil when idx is none/nil). */
static int opt_field(lua_State *L, int idx, const char *field) {
  if (lua_isnoneornil(L, idx)) {
    lua_pushnil(L);
    return LUA_TNIL;
  }
  if (!lua_istable(L, idx)) mx__lua_error(L, "options must be a table, got %s", luaL_typename(L, idx));
  return lua_getfield(L, idx, field);
}

double mx__lua_opt_number(lua_State *L, int idx, const char *field, double def) {
  idx = lua_absindex(L, idx);
  int t = opt_field(L, idx, field);
  double v = def;
  if (t != LUA_TNIL) {
    int ok;
    v = (double)lua_tonumberx(L, -1, &ok);
    if (!ok || t != LUA_TNUMBER)
      mx__lua_error(L, "option '%s' must be a number, got %s", field, luaL_typename(L, -1));
  }
  lua_pop(L, 1);
  return v;
}

lua_Integer mx__lua_opt_integer(lua_State *L, int idx, const char *field, lua_Integer def) {
  idx = lua_absindex(L, idx);
  int t = opt_field(L, idx, field);
  lua_Integer v = def;
  if (t != LUA_TNIL) {
    int ok;
    v = lua_tointegerx(L, -1, &ok);
    if (!ok) mx__lua_error(L, "option '%s' must be an integer", field);
  }
  lua_pop(L, 1);
  return v;
}

int mx__lua_opt_boolean(lua_State *L, int idx, const char *field, int def) {
  idx = lua_absindex(L, idx);
  int t = opt_field(L, idx, field);
  int v = def;
  if (t != LUA_TNIL) {
    if (t != LUA_TBOOLEAN)
      mx__lua_error(L, "option '%s' must be a boolean, got %s", field, luaL_typename(L, -1));
    v = lua_toboolean(L, -1);
  }
  lua_pop(L, 1);
  return v;
}

const char *mx__lua_opt_string(lua_State *L, int idx, const char *field, const char *def) {
  idx = lua_absindex(L, idx);
  int t = opt_field(L, idx, field);
  const char *v = def;
  if (t != LUA_TNIL) {
    if (t != LUA_TSTRING)
      mx__lua_error(L, "option '%s' must be a string, got %s", field, luaL_typename(L, -1));
    v = lua_tostring(L, -1); /* owned by the options table */
  }
  lua_pop(L, 1);
  return v;
}

int mx__lua_dry_run(lua_State *L) {
  mx_run *run = mx__lua_run(L);
  return run && run->dry_run;
}

void mx__lua_check_run_active(lua_State *L, const char *what) {
  mx_run *run = mx__lua_run(L);
  if (run && run->ended)
    mx__lua_error(L, "%s used after its run ended (objects are valid only during the run "
                 "that created them)", what);
}

/* ------------------------------------------------------------ paths */

/* Lexically normalise an absolute path in place: collapse "//", "." and
 * "..". Returns 0, or -1 when ".." climbs above "/". */
static int normalise(char *p) {
  char *out = p, *in = p;
  size_t depth_marks[PATH_MAX / 2];
  int depth = 0;
  if (*in != '/') return -1;
  *out++ = '/';
  while (*in) {
    while (*in == '/') in++;
    if (!*in) break;
    char *s = in;
    while (*in && *in != '/') in++;
    size_t len = (size_t)(in - s);
    if (len == 1 && s[0] == '.') continue;
    if (len == 2 && s[0] == '.' && s[1] == '.') {
      if (depth == 0) return -1;
      out = p + depth_marks[--depth];
      continue;
    }
    if (depth >= (int)(sizeof depth_marks / sizeof depth_marks[0])) return -1;
    depth_marks[depth++] = (size_t)(out - p);
    if (out > p + 1) *out++ = '/';
    memmove(out, s, len);
    out += len;
  }
  *out = '\0';
  /* a mark is the position before the component's separator */
  return 0;
}

static int inside(const char *path, const char *dir) {
  size_t n = strlen(dir);
  if (n == 1 && dir[0] == '/') return 1;
  return strncmp(path, dir, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

/* The real path of the deepest existing ancestor of p (which may itself
 * exist) joined with the rest, so a symlink inside an allowed directory
 * cannot point outside it. */
static int real_prefix(const char *p, char *out) {
  char buf[PATH_MAX];
  snprintf(buf, sizeof buf, "%s", p);
  size_t n = strlen(buf);
  for (;;) {
    char *r = realpath(buf, NULL);
    if (r) {
      int k = snprintf(out, PATH_MAX, "%s%s", r, p + n);
      free(r);
      return k < PATH_MAX ? 0 : -1;
    }
    char *slash = strrchr(buf, '/');
    if (!slash || slash == buf) return -1;
    *slash = '\0';
    n = (size_t)(slash - buf);
  }
}

static int is_sqlite_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return 0;
  char magic[16];
  size_t got = fread(magic, 1, sizeof magic, f);
  fclose(f);
  return got == sizeof magic && memcmp(magic, "SQLite format 3", 16) == 0;
}

static int same_path(const char *real, const char *other) {
  char r[PATH_MAX];
  return real_prefix(other, r) == 0 && strcmp(real, r) == 0;
}

/* The SQLite journals and the scheduler's lock sit beside the database they
 * belong to, under its name with one of these suffixes. */
static const char *const sidecars[] = {"-wal", "-shm", "-journal", ".lock"};

const char *mx__run_output_refused(const mx_run *run, const char *path, char *why, size_t size) {
  char real[PATH_MAX];
  if (real_prefix(path, real) != 0) snprintf(real, sizeof real, "%s", path);
  if (run->log_path) {
    char p[PATH_MAX];
    if (same_path(real, run->log_path)) {
      snprintf(why, size, "is the decision log");
      return why;
    }
    for (size_t i = 0; i < sizeof sidecars / sizeof *sidecars; i++) {
      snprintf(p, sizeof p, "%s%s", run->log_path, sidecars[i]);
      if (same_path(real, p)) {
        snprintf(why, size, "belongs to the decision log %s", run->log_path);
        return why;
      }
    }
  }
  char store[PATH_MAX];
  if (run->store_dir && real_prefix(run->store_dir, store) == 0 && inside(real, store)) {
    snprintf(why, size, "is inside the store folder %s", run->store_dir);
    return why;
  }
  /* below --out only: a .logs higher up is the user's business */
  const char *below = real;
  char out[PATH_MAX];
  if (run->out_dir && real_prefix(run->out_dir, out) == 0 && inside(real, out))
    below = real + strlen(out);
  for (const char *c = below; (c = strstr(c, "/.logs")) != NULL; c++)
    if (c[6] == '/' || c[6] == '\0') {
      snprintf(why, size, "is inside a schedule's .logs folder");
      return why;
    }
  if (is_sqlite_file(real)) {
    snprintf(why, size, "is a SQLite database (a decision log or run history)");
    return why;
  }
  size_t n = strlen(real);
  for (size_t i = 0; i < sizeof sidecars / sizeof *sidecars; i++) {
    size_t k = strlen(sidecars[i]);
    if (n <= k || strcmp(real + n - k, sidecars[i]) != 0) continue;
    char db[PATH_MAX];
    snprintf(db, sizeof db, "%.*s", (int)(n - k), real);
    if (is_sqlite_file(db)) {
      snprintf(why, size, "belongs to the SQLite database %s", db);
      return why;
    }
  }
  return NULL;
}

/* Is the real path real inside one of the run's read-only data folders? */
static int in_data_dir(const mx_run *run, const char *real) {
  for (int i = 0; i < run->n_data_dirs; i++)
    if (inside(real, run->data_dirs[i])) return 1;
  return 0;
}

const char *mx__lua_path(lua_State *L, int idx, int write) {
  const char *given = luaL_checkstring(L, idx);
  mx_run *run = mx__lua_run(L);
  char why[PATH_MAX + 64];
  if (!run || !run->sandboxed) {
    if (run && !write && mx__run_note_input(run, given) != 0) mx__lua_error(L, "out of memory");
    if (run && write && mx__run_output_refused(run, given, why, sizeof why))
      mx__lua_error(L, "path '%s' %s: merx owns it and a script may not write it", given, why);
    lua_pushstring(L, given);
    return lua_tostring(L, -1);
  }
  if (!*given) mx__lua_error(L, "empty path");
  char abs[PATH_MAX], real[PATH_MAX];
  const char *base = write ? run->out_dir : run->script_dir;
  const char *may = write ? "write (--out)"
                    : run->n_data_dirs ? "read (the script's directory, --out and --data folders)"
                                       : "read (the script's directory and --out)";
  int k = given[0] == '/' ? snprintf(abs, sizeof abs, "%s", given)
                          : snprintf(abs, sizeof abs, "%s/%s", base, given);
  if (k < 0 || k >= (int)sizeof abs) mx__lua_error(L, "path too long: %s", given);
  if (normalise(abs) != 0)
    mx__lua_error(L, "path '%s' is outside the directories this script may %s", given, may);
  /* Data folders are real paths: a file counts as inside one where it really
   * is, so a symlink in a data folder cannot lead out of it. */
  int in_data = run->n_data_dirs && real_prefix(abs, real) == 0 && in_data_dir(run, real);
  if (write && in_data)
    mx__lua_error(L, "path '%s' is inside a read-only data folder (--data); write under --out",
                 given);
  int ok = write ? inside(abs, run->out_dir)
                 : inside(abs, run->script_dir) || inside(abs, run->out_dir) || in_data;
  if (!ok) mx__lua_error(L, "path '%s' is outside the directories this script may %s", given, may);
  if (write && mx__run_output_refused(run, abs, why, sizeof why))
    mx__lua_error(L, "path '%s' %s: merx owns it and a script may not write it", given, why);
  if (write && !run->dry_run) {
    /* create the parents inside --out, then re-check through symlinks */
    char parent[PATH_MAX];
    snprintf(parent, sizeof parent, "%s", abs);
    char *slash = strrchr(parent, '/');
    if (slash && slash != parent) {
      *slash = '\0';
      if (mx__mkdir_p(parent) != 0)
        mx__lua_error(L, "cannot create directory '%s': %s", parent, strerror(errno));
    }
  }
  if (real_prefix(abs, real) != 0) mx__lua_error(L, "cannot resolve path '%s'", given);
  char out_real[PATH_MAX], dir_real[PATH_MAX];
  int ok_real = 0;
  if (real_prefix(run->out_dir, out_real) == 0 && inside(real, out_real)) ok_real = 1;
  if (!write && real_prefix(run->script_dir, dir_real) == 0 && inside(real, dir_real)) ok_real = 1;
  if (!write && in_data_dir(run, real)) ok_real = 1;
  if (write && in_data_dir(run, real))
    mx__lua_error(L, "path '%s' is inside a read-only data folder (--data); write under --out",
                 given);
  if (!ok_real)
    mx__lua_error(L, "path '%s' leads outside the directories this script may %s (symbolic link)",
                 given, write ? "write" : "read");
  if (!write && mx__run_note_input(run, real) != 0) mx__lua_error(L, "out of memory");
  lua_pushstring(L, abs);
  return lua_tostring(L, -1);
}
