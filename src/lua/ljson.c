/* merx.json: JSON for scripts (jansson), and the one Lua -> JSON conversion,
 * shared with merx.http.post_json (lmerx.h).
 *
 *   merx.json.encode(value) -> text   compact, object keys sorted
 *   merx.json.decode(text)  -> value  integers stay integers
 *   merx.json.null                    JSON null (a light userdata)
 *
 * Tables with keys 1..n are arrays, other tables objects (string keys); an
 * empty table is {}. Containers are attached to their parent before they are
 * filled, so everything built so far hangs off the root, which a guard owns:
 * an error half-way (a function value, a bad key) leaks nothing. */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>

#include "lua/lmerx.h"

#define JSON_MAX_DEPTH 64

typedef struct json_guard {
  json_t *root;
  char *text;
} json_guard;

static void json_guard_release(void *state) {
  json_guard *g = state;
  json_decref(g->root);
  g->root = NULL;
  free(g->text);
  g->text = NULL;
}

static int is_null(lua_State *L, int idx) {
  return lua_type(L, idx) == LUA_TLIGHTUSERDATA && lua_touserdata(L, idx) == NULL;
}

/* A scalar, or an empty array/object for a table (filled by fill_table). */
static json_t *make_value(lua_State *L, int idx, const char *what) {
  json_t *v = NULL;
  switch (lua_type(L, idx)) {
  case LUA_TNIL: return json_null();
  case LUA_TBOOLEAN: return json_boolean(lua_toboolean(L, idx));
  case LUA_TNUMBER:
    if (lua_isinteger(L, idx)) return json_integer((json_int_t)lua_tointeger(L, idx));
    if (!isfinite(lua_tonumber(L, idx)))
      mx__lua_error(L, "%s: cannot encode %g as JSON", what, lua_tonumber(L, idx));
    v = json_real(lua_tonumber(L, idx));
    break;
  case LUA_TSTRING:
    v = json_stringn(lua_tostring(L, idx), lua_rawlen(L, idx));
    if (!v) mx__lua_error(L, "%s: a string is not valid UTF-8", what);
    break;
  case LUA_TTABLE: {
    size_t n = (size_t)lua_rawlen(L, idx), count = 0;
    idx = lua_absindex(L, idx);
    lua_pushnil(L);
    while (lua_next(L, idx)) {
      count++;
      lua_pop(L, 1);
    }
    v = n > 0 && count == n ? json_array() : json_object();
    break;
  }
  default:
    if (is_null(L, idx)) return json_null();
    mx__lua_error(L, "%s: cannot encode a %s as JSON", what, luaL_typename(L, idx));
  }
  if (!v) mx__lua_error(L, "%s: out of memory", what);
  return v;
}

static void fill_table(lua_State *L, int idx, json_t *c, int depth, const char *what) {
  if (depth > JSON_MAX_DEPTH) mx__lua_error(L, "%s: nested too deeply", what);
  luaL_checkstack(L, 4, what); /* each level holds a key and a value */
  idx = lua_absindex(L, idx);
  if (json_is_array(c)) {
    size_t n = (size_t)lua_rawlen(L, idx);
    for (size_t i = 1; i <= n; i++) {
      lua_rawgeti(L, idx, (lua_Integer)i);
      json_t *v = make_value(L, -1, what);
      if (json_array_append_new(c, v) != 0) mx__lua_error(L, "%s: out of memory", what);
      if (lua_istable(L, -1)) fill_table(L, -1, v, depth + 1, what);
      lua_pop(L, 1);
    }
    return;
  }
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    if (lua_type(L, -2) != LUA_TSTRING)
      mx__lua_error(L, "%s: object keys must be strings (got a %s key)", what,
                   luaL_typename(L, -2));
    json_t *v = make_value(L, -1, what);
    /* set_new takes v even when it fails (an invalid UTF-8 key) */
    if (json_object_set_new(c, lua_tostring(L, -2), v) != 0)
      mx__lua_error(L, "%s: a key is not valid UTF-8", what);
    if (lua_istable(L, -1)) fill_table(L, -1, v, depth + 1, what);
    lua_pop(L, 1);
  }
}

const char *mx__lua_json_encode(lua_State *L, int idx, const char *what) {
  idx = lua_absindex(L, idx);
  json_guard *g = mx__lua_guard(L, sizeof *g, json_guard_release);
  g->root = make_value(L, idx, what);
  if (lua_istable(L, idx)) fill_table(L, idx, g->root, 0, what);
  g->text = json_dumps(g->root, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS);
  if (!g->text) mx__lua_error(L, "%s: out of memory", what);
  const char *text = lua_pushstring(L, g->text);
  mx__lua_guard_release(g);
  lua_remove(L, -2); /* the guard */
  return text;
}

static int l_encode(lua_State *L) {
  luaL_checkany(L, 1);
  mx__lua_json_encode(L, 1, "merx.json.encode");
  return 1;
}

static void push_json(lua_State *L, json_t *j) {
  luaL_checkstack(L, 4, "merx.json.decode: nested too deeply");
  switch (json_typeof(j)) {
  case JSON_OBJECT: {
    lua_createtable(L, 0, (int)json_object_size(j));
    const char *k;
    json_t *v;
    json_object_foreach(j, k, v) {
      push_json(L, v);
      lua_setfield(L, -2, k);
    }
    break;
  }
  case JSON_ARRAY: {
    size_t n = json_array_size(j);
    lua_createtable(L, (int)n, 0);
    for (size_t i = 0; i < n; i++) {
      push_json(L, json_array_get(j, i));
      lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    break;
  }
  case JSON_STRING: lua_pushlstring(L, json_string_value(j), json_string_length(j)); break;
  case JSON_INTEGER: lua_pushinteger(L, (lua_Integer)json_integer_value(j)); break;
  case JSON_REAL: lua_pushnumber(L, json_real_value(j)); break;
  case JSON_TRUE: lua_pushboolean(L, 1); break;
  case JSON_FALSE: lua_pushboolean(L, 0); break;
  default: lua_pushlightuserdata(L, NULL); break;
  }
}

static int l_decode(lua_State *L) {
  size_t len;
  const char *s = luaL_checklstring(L, 1, &len);
  json_guard *g = mx__lua_guard(L, sizeof *g, json_guard_release);
  json_error_t e;
  g->root = json_loadb(s, len, JSON_DECODE_ANY, &e);
  if (!g->root)
    return mx__lua_error(L, "merx.json.decode: line %d column %d: %s", e.line, e.column, e.text);
  push_json(L, g->root);
  mx__lua_guard_release(g);
  return 1;
}

int mx__luaopen_json(lua_State *L) {
  static const luaL_Reg f[] = {{"encode", l_encode}, {"decode", l_decode}, {NULL, NULL}};
  luaL_newlib(L, f);
  lua_pushlightuserdata(L, NULL);
  lua_setfield(L, -2, "null");
  return 1;
}
