/* The serve configuration: a Lua chunk returning a table, evaluated in the
 * script sandbox like a schedule file (lua/config.h: no files, no OS, time
 * and memory limits), converted to JSON so that every part of the service —
 * the framework and each handler module — reads its keys the same way and
 * the Lua state is gone before anything serves. Strict keys: a top-level key
 * that neither the framework nor an extension (ext.def) claims is an error
 * with a did-you-mean. */
#include <lauxlib.h>
#include <lua.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lua/config.h"
#include "serve/internal.h"
#include "util/util.h"

#define CONFIG_TIME_LIMIT 3.0
#define CONFIG_MEMORY_MB 64
#define CONFIG_MAX_DEPTH 16

/* The framework's own keys (docs/cli/serve.md). */
static const char core_keys[] =
    "listen model token_file store threads io_threads max_queue max_body timeout access_log "
    "watch";

static const char ext_keys[] =
#define MX_SERVE_EXT(NAME, keys, load, free_fn, metrics) " " keys
#include "serve/ext.def"
#undef MX_SERVE_EXT
    "";

typedef struct {
  const char *path;
  json_t *value;
  char where[256]; /* "models.main" while converting, for messages */
} read_ctx;

/* Convert the Lua value at idx to JSON. Tables whose keys are exactly 1..n
 * become arrays (an empty table is an empty object); other tables need
 * string keys. */
static int to_json(lua_State *L, int idx, read_ctx *c, int depth, json_t **out, mx_error *err) {
  idx = lua_absindex(L, idx);
  *out = NULL;
  switch (lua_type(L, idx)) {
  case LUA_TBOOLEAN:
    *out = json_boolean(lua_toboolean(L, idx));
    break;
  case LUA_TNUMBER:
    if (lua_isinteger(L, idx)) *out = json_integer((json_int_t)lua_tointeger(L, idx));
    else {
      double v = lua_tonumber(L, idx);
      if (!isfinite(v))
        return mx_error_at(err, MX_EINVAL, c->path, 0, 0, c->where, "not a finite number");
      *out = json_real(v);
    }
    break;
  case LUA_TSTRING: {
    size_t n;
    const char *s = lua_tolstring(L, idx, &n);
    *out = json_stringn(s, n);
    if (!*out) return mx_error_at(err, MX_EINVAL, c->path, 0, 0, c->where, "not UTF-8 text");
    break;
  }
  case LUA_TTABLE: {
    if (depth > CONFIG_MAX_DEPTH)
      return mx_error_at(err, MX_EINVAL, c->path, 0, 0, c->where, "nested too deeply");
    lua_Integer len = (lua_Integer)lua_rawlen(L, idx), count = 0;
    int array = 1;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
      count++;
      if (!lua_isinteger(L, -2) || lua_tointeger(L, -2) < 1 || lua_tointeger(L, -2) > len)
        array = 0;
      lua_pop(L, 1);
    }
    if (count == 0 || !array || count != len) {
      array = 0;
    }
    json_t *t = array ? json_array() : json_object();
    if (!t) return mx_error_set(err, MX_ENOMEM, "out of memory");
    size_t wlen = strlen(c->where);
    if (array) {
      for (lua_Integer i = 1; i <= len; i++) {
        snprintf(c->where + wlen, sizeof c->where - wlen, "[%lld]", (long long)i);
        lua_rawgeti(L, idx, i);
        json_t *v;
        int rc = to_json(L, -1, c, depth + 1, &v, err);
        lua_pop(L, 1);
        if (rc) {
          json_decref(t);
          return rc;
        }
        json_array_append_new(t, v);
      }
    } else {
      lua_pushnil(L);
      while (lua_next(L, idx)) {
        if (lua_type(L, -2) != LUA_TSTRING) {
          lua_pop(L, 2);
          json_decref(t);
          return mx_error_at(err, MX_EINVAL, c->path, 0, 0, c->where[0] ? c->where : NULL,
                             "table keys must be names (strings), or the table a list");
        }
        const char *k = lua_tostring(L, -2);
        snprintf(c->where + wlen, sizeof c->where - wlen, "%s%s", wlen ? "." : "", k);
        json_t *v;
        int rc = to_json(L, -1, c, depth + 1, &v, err);
        lua_pop(L, 1);
        if (rc) {
          lua_pop(L, 1);
          json_decref(t);
          return rc;
        }
        json_object_set_new(t, k, v);
      }
    }
    c->where[wlen] = '\0';
    *out = t;
    break;
  }
  default:
    return mx_error_at(err, MX_EINVAL, c->path, 0, 0, c->where[0] ? c->where : NULL,
                       "a %s cannot be configuration (strings, numbers, booleans and tables "
                       "only)", luaL_typename(L, idx));
  }
  return *out ? MX_OK : mx_error_set(err, MX_ENOMEM, "out of memory");
}

static int read_value(lua_State *L, void *ctx, mx_error *err) {
  read_ctx *c = ctx;
  if (!lua_istable(L, -1))
    return mx_error_at(err, MX_EINVAL, c->path, 0, 0, NULL,
                       "the config file must return a table, not %s", luaL_typename(L, -1));
  return to_json(L, -1, c, 0, &c->value, err);
}

int mx__serve_config_load(const char *path, json_t **out, mx_error *err) {
  *out = NULL;
  char *src = NULL;
  size_t len = 0;
  int rc = mx__read_file(path, &src, &len, err);
  if (rc) return rc;
  read_ctx c = {path, NULL, ""};
  mx_config_limits lim = {CONFIG_TIME_LIMIT, CONFIG_MEMORY_MB, "while loading the serve config"};
  rc = mx__config_eval(path, src, len, &lim, read_value, &c, err);
  free(src);
  if (rc) {
    json_decref(c.value);
    return rc;
  }
  if (json_is_array(c.value)) { /* a list at the top: not a config */
    json_decref(c.value);
    return mx_error_at(err, MX_EINVAL, path, 0, 0, NULL,
                       "the config file must return a table of settings, not a list");
  }
  *out = c.value;
  return MX_OK;
}

int mx__serve_config_check(const json_t *cfg, const char *path, mx_error *err) {
  char known[1024];
  snprintf(known, sizeof known, "%s%s", core_keys, ext_keys);
  int rc = mx__serve_check_fields(cfg, known, err);
  if (rc == MX_OK) return MX_OK;
  char msg[MX_ERROR_MESSAGE_MAX];
  snprintf(msg, sizeof msg, "%s", err->message);
  /* "unknown field" is the request wording; a config has keys */
  const char *rest = strncmp(msg, "unknown field", 13) == 0 ? msg + 13 : NULL;
  if (rest) return mx_error_at(err, rc, path, 0, 0, NULL, "unknown key%s", rest);
  return mx_error_at(err, rc, path, 0, 0, NULL, "%s", msg);
}

int mx__serve_config_error(const mx_serve_gen *gen, const char *section, mx_error *err) {
  char msg[MX_ERROR_MESSAGE_MAX];
  snprintf(msg, sizeof msg, "%s", err->message);
  const char *path = gen->config_path ? gen->config_path : "(flags)";
  int code = err->code ? err->code : MX_EINVAL;
  /* the field getters say "field 'NAME'" / "unknown field": in a config
   * those are keys of the section */
  if (strncmp(msg, "field '", 7) == 0)
    return mx_error_at(err, code, path, 0, 0, NULL, "key '%s.%s", section, msg + 7);
  if (strncmp(msg, "unknown field", 13) == 0)
    return mx_error_at(err, code, path, 0, 0, NULL, "%s: unknown key%s", section, msg + 13);
  return mx_error_at(err, code, path, 0, 0, NULL, "%s: %s", section, msg);
}
