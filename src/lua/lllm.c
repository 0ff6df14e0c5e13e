/* merx.llm.embed, merx.llm.chat and merx.http.post_json (see lllm.h).
 *
 *   local v = merx.llm.embed({"red metal lantern", "cake stand"})  -- {{...}, {...}}
 *   local a = merx.llm.chat{ system = "...", messages = {{role="user", content="..."}},
 *                            context_items = {{id="71053", text="WHITE METAL LANTERN"}} }
 *   local status, body = merx.http.post_json("https://hooks.example/x", {sku = "85123A"})
 *
 * Every failure raises a Lua error naming the script line, so a script whose
 * call failed stops and nothing it staged is committed. In a dry run
 * (merx run --dry-run) post_json sends nothing and returns 0, "". */
#include "lua/lllm.h"
#include "lua/internal.h"
#include "lua/lmerx.h"
#include "merx/embed.h"
#include "merx/script.h"
#include "util/util.h"

#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>

static const char *CFG_KEY = "merx.llm.config";

/* Errors go through the runtime's single conversion point, which prefixes
 * the calling script's position. */
static int raise_err(lua_State *L, const mx_error *err) { return mx__lua_raise(L, err); }

/* A call cut short by the run's limits (MX_EINTERRUPTED from the client)
 * stops the run, as the hook would have: the message names the script line
 * and the limit, and no pcall can swallow it (the sandbox re-raises). */
static int raise_http(lua_State *L, const mx_error *err, const char *fn) {
  mx_run *run = mx__lua_run(L);
  if (err->code != MX_EINTERRUPTED || !run) return raise_err(L, err);
  /* The client's only limits are the run's: a signal, a stop, the deadline. */
  char what[256];
  if (mx__script_interrupted())
    snprintf(what, sizeof what, "interrupted by a signal during %s", fn);
  else
    snprintf(what, sizeof what, "time limit of %g s exceeded (--timeout) during %s", run->timeout, fn);
  lua_Debug ar;
  int line = 0;
  for (int level = 1; !line && lua_getstack(L, level, &ar); level++)
    if (lua_getinfo(L, "Sl", &ar) && ar.currentline > 0) line = ar.currentline;
  if (!run->stopped) {
    if (line) snprintf(run->stop_msg, sizeof run->stop_msg, "%s:%d: %s", ar.short_src, line, what);
    else snprintf(run->stop_msg, sizeof run->stop_msg, "%s", what);
    run->stopped = 1;
  }
  lua_pushstring(L, run->stop_msg);
  return lua_error(L);
}

/* The client's calls end with the run: by its deadline, at a signal, or
 * once it was stopped. */
static int run_should_stop(void *ud) {
  const mx_run *run = ud;
  return mx__script_interrupted() || run->stopped;
}

void mx__lua_llm_set_config(lua_State *L, const mx_http_config *cfg) {
  mx_http_config *c = lua_newuserdatauv(L, sizeof *c, 0);
  *c = *cfg;
  lua_setfield(L, LUA_REGISTRYINDEX, CFG_KEY);
}

static const mx_http_config *get_config(lua_State *L) {
  lua_getfield(L, LUA_REGISTRYINDEX, CFG_KEY);
  mx_http_config *c = lua_touserdata(L, -1);
  lua_pop(L, 1);
  if (c) return c;
  mx_http_config cfg = mx_http_config_defaults();
  mx_error err;
  mx_error_clear(&err);
  const char *file = getenv("MERX_LLM_CONFIG");
  if ((file && *file && mx_http_config_load(&cfg, file, &err) != MX_OK) ||
      mx_http_config_from_env(&cfg, &err) != MX_OK)
    raise_err(L, &err);
  mx__lua_llm_set_config(L, &cfg);
  return get_config(L);
}

char **mx_script_secret_env(void) {
  mx_http_config cfg = mx_http_config_defaults();
  mx_error err;
  const char *file = getenv("MERX_LLM_CONFIG");
  if (file && *file) mx_http_config_load(&cfg, file, &err);
  mx_http_config_from_env(&cfg, &err);
  char **names = calloc((size_t)cfg.n_credentials + 2, sizeof *names);
  if (!names) return NULL;
  int k = 0;
  if (cfg.key_env[0] && !(names[k++] = mx__strdup(cfg.key_env))) goto oom;
  for (int i = 0; i < cfg.n_credentials; i++)
    if (!(names[k++] = mx__strdup(cfg.credentials[i].key_env))) goto oom;
  return names;
oom:
  mx_script_names_free(names);
  return NULL;
}

void mx_script_names_free(char **names) {
  if (!names) return;
  for (char **p = names; *p; p++) free(*p);
  free(names);
}

/* A client owned by a guard on the stack, so an error frees it. */
typedef struct client_box {
  mx_http_client *c;
} client_box;

static void client_release(void *state) {
  client_box *b = state;
  mx_http_client_free(b->c);
  b->c = NULL;
}

static mx_http_client *push_client(lua_State *L, const mx_http_config *cfg) {
  client_box *b = mx__lua_guard(L, sizeof *b, client_release);
  mx_error err;
  mx_error_clear(&err);
  if (mx_http_client_create(cfg, &b->c, &err) != MX_OK) raise_err(L, &err);
  mx_run *run = mx__lua_run(L);
  if (run) {
    double left = run->deadline > 0 ? run->deadline - mx__now_seconds() : 0;
    mx_http_client_set_limit(b->c, run->deadline > 0 && left < 1e-3 ? 1e-3 : left, run_should_stop,
                             run);
  }
  return b->c;
}

/* Strings of the array at idx; the table keeps them alive while it is on
 * the stack. Pushes the userdata that owns the pointer array. */
static const char **check_strings(lua_State *L, int idx, size_t *n) {
  luaL_checktype(L, idx, LUA_TTABLE);
  *n = (size_t)lua_rawlen(L, idx);
  const char **v = lua_newuserdatauv(L, (*n ? *n : 1) * sizeof *v, 0);
  for (size_t i = 0; i < *n; i++) {
    if (lua_rawgeti(L, idx, (lua_Integer)i + 1) != LUA_TSTRING)
      luaL_error(L, "bad argument #%d: element %d is a %s, expected a string", idx, (int)i + 1,
                 luaL_typename(L, -1));
    v[i] = lua_tostring(L, -1);
    lua_pop(L, 1);
  }
  return v;
}

/* merx.llm.embed(texts [, {builtin = bool, dim = 256}]) -> array of vectors */
static int l_embed(lua_State *L) {
  size_t n;
  const char **texts = check_strings(L, 1, &n);
  int builtin = 0;
  lua_Integer dim = 256;
  mx__lua_check_options(L, 2, "merx.llm.embed", "builtin dim");
  if (lua_istable(L, 2)) {
    lua_getfield(L, 2, "builtin");
    builtin = lua_toboolean(L, -1);
    lua_getfield(L, 2, "dim");
    if (!lua_isnil(L, -1)) dim = luaL_checkinteger(L, -1);
    lua_pop(L, 2);
  }
  const mx_http_config *cfg = get_config(L);
  mx_error err;
  mx_error_clear(&err);
  float *v = NULL;
  uint32_t d = 0;
  if (!cfg->base_url[0] || builtin) {
    mx_builtin_embed_options o = mx_builtin_embed_defaults();
    if (dim < 2 || dim > 65536) luaL_error(L, "merx.llm.embed: dim must be in 2..65536");
    o.dim = (uint32_t)dim;
    d = o.dim;
    v = lua_newuserdatauv(L, (n ? n : 1) * d * sizeof *v, 0);
    if (mx_builtin_embed(texts, n, &o, 1, v, &err) != MX_OK) raise_err(L, &err);
    lua_createtable(L, (int)n, 0);
    for (size_t i = 0; i < n; i++) {
      lua_createtable(L, (int)d, 0);
      for (uint32_t j = 0; j < d; j++) {
        lua_pushnumber(L, v[i * d + j]);
        lua_rawseti(L, -2, (lua_Integer)j + 1);
      }
      lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return 1;
  }
  mx_http_client *c = push_client(L, cfg);
  int rc = mx_openai_embed(c, texts, n, &v, &d, NULL, &err);
  if (rc) raise_http(L, &err, "merx.llm.embed");
  /* Copy into Lua tables; v is malloc'd, so no Lua error may happen before
   * it is freed: lua_createtable can only fail on memory, where the leak is
   * the lesser evil against a longjmp. Free promptly. */
  lua_createtable(L, (int)n, 0);
  for (size_t i = 0; i < n; i++) {
    lua_createtable(L, (int)d, 0);
    for (uint32_t j = 0; j < d; j++) {
      lua_pushnumber(L, v[i * d + j]);
      lua_rawseti(L, -2, (lua_Integer)j + 1);
    }
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  free(v);
  return 1;
}

/* merx.llm.chat{system=, messages= string | {{role=, content=}, ...},
 *               context_items = {{id=, text=} | string, ...},
 *               temperature=, max_tokens=} -> reply text */
static int l_chat(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  mx__lua_check_options(L, 1, "merx.llm.chat", "system messages context_items temperature max_tokens");
  luaL_Buffer sys;
  luaL_buffinit(L, &sys);
  lua_getfield(L, 1, "system");
  if (!lua_isnil(L, -1)) {
    if (!lua_isstring(L, -1)) luaL_error(L, "merx.llm.chat: 'system' must be a string");
    luaL_addvalue(&sys);
  } else {
    lua_pop(L, 1);
  }
  /* Retrieved products ground the answer: listed after the system text. */
  lua_getfield(L, 1, "context_items");
  int ctx = lua_gettop(L);
  if (lua_istable(L, ctx)) {
    luaL_addstring(&sys, "\n\nProducts:\n");
    lua_Integer nc = (lua_Integer)lua_rawlen(L, ctx);
    for (lua_Integer i = 1; i <= nc; i++) {
      lua_rawgeti(L, ctx, i);
      luaL_addstring(&sys, "- ");
      if (lua_istable(L, -1)) {
        char what[64];
        snprintf(what, sizeof what, "merx.llm.chat: context_items[%d]", (int)i);
        mx__lua_check_options(L, -1, what, "id text");
        lua_getfield(L, -1, "id");
        lua_getfield(L, -2, "text");
        const char *id = lua_tostring(L, -2), *text = lua_tostring(L, -1);
        if (!text) luaL_error(L, "merx.llm.chat: context_items[%d] needs a 'text' string", (int)i);
        if (id) {
          luaL_addstring(&sys, id);
          luaL_addstring(&sys, ": ");
        }
        luaL_addstring(&sys, text);
        lua_pop(L, 2);
      } else if (lua_isstring(L, -1)) {
        luaL_addstring(&sys, lua_tostring(L, -1));
      } else {
        luaL_error(L, "merx.llm.chat: context_items[%d] must be a string or {id=, text=}", (int)i);
      }
      lua_pop(L, 1);
      luaL_addchar(&sys, '\n');
    }
  } else if (!lua_isnil(L, ctx)) {
    luaL_error(L, "merx.llm.chat: 'context_items' must be an array");
  }
  lua_pop(L, 1);
  luaL_pushresult(&sys);
  int sys_idx = lua_gettop(L);
  lua_getfield(L, 1, "messages");
  int mi = lua_gettop(L);
  size_t nm = lua_istable(L, mi) ? (size_t)lua_rawlen(L, mi) : lua_isstring(L, mi) ? 1 : 0;
  if (nm == 0) luaL_error(L, "merx.llm.chat: 'messages' must be a string or a non-empty array");
  mx_chat_message *m = lua_newuserdatauv(L, (nm + 1) * sizeof *m, 0);
  size_t k = 0;
  if (lua_rawlen(L, sys_idx) > 0) m[k++] = (mx_chat_message){"system", lua_tostring(L, sys_idx)};
  if (lua_isstring(L, mi)) {
    m[k++] = (mx_chat_message){"user", lua_tostring(L, mi)};
  } else {
    for (size_t i = 1; i <= nm; i++) {
      lua_rawgeti(L, mi, (lua_Integer)i);
      if (!lua_istable(L, -1)) luaL_error(L, "merx.llm.chat: messages[%d] must be {role=, content=}", (int)i);
      char what[64];
      snprintf(what, sizeof what, "merx.llm.chat: messages[%d]", (int)i);
      mx__lua_check_options(L, -1, what, "role content");
      lua_getfield(L, -1, "role");
      lua_getfield(L, -2, "content");
      const char *role = lua_tostring(L, -2), *content = lua_tostring(L, -1);
      if (!role || !content || (strcmp(role, "user") && strcmp(role, "assistant") && strcmp(role, "system")))
        luaL_error(L, "merx.llm.chat: messages[%d] needs role (user, assistant, system) and content", (int)i);
      m[k++] = (mx_chat_message){role, content};
      /* The strings stay referenced by the messages table. */
      lua_pop(L, 3);
    }
  }
  lua_getfield(L, 1, "temperature");
  double temp = lua_isnil(L, -1) ? -1 : luaL_checknumber(L, -1);
  lua_getfield(L, 1, "max_tokens");
  int max_tokens = lua_isnil(L, -1) ? 0 : (int)luaL_checkinteger(L, -1);
  lua_pop(L, 2);
  const mx_http_config *cfg = get_config(L);
  mx_http_client *c = push_client(L, cfg);
  mx_error err;
  mx_error_clear(&err);
  char *reply = NULL;
  if (mx_openai_chat(c, m, k, temp, max_tokens, &reply, &err) != MX_OK)
    raise_http(L, &err, "merx.llm.chat");
  lua_pushstring(L, reply);
  free(reply);
  return 1;
}

/* merx.http.post_json(url, body) -> status, response text.
 * body: a table (encoded as JSON) or a JSON string. */
static int l_post_json(lua_State *L) {
  const char *url = luaL_checkstring(L, 1);
  if (lua_type(L, 2) == LUA_TSTRING) {
    lua_pushvalue(L, 2);
  } else {
    luaL_checktype(L, 2, LUA_TTABLE);
    mx__lua_json_encode(L, 2, "merx.http.post_json");
  }
  const char *body = lua_tostring(L, -1);
  const mx_http_config *cfg = get_config(L);
  mx_error err;
  mx_error_clear(&err);
  char host[256];
  if (!mx_http_host_allowed(cfg, url, host, sizeof host)) {
    if (!host[0]) mx_error_set(&err, MX_EINVAL, "merx.http.post_json: not an http(s) URL: '%s'", url);
    else mx_error_set(&err, MX_EINVAL, "merx.http.post_json: host '%s' is not in the run's allow_hosts", host);
    raise_err(L, &err);
  }
  /* Idempotency-Key "RUN_ID.N", N counting this run's post_json calls from
   * 1: unique per call, so a receiver that saw a key can drop a second
   * delivery of it. (merx.so has no run id and sends no key.) */
  mx_run *run = mx__lua_run(L);
  lua_getfield(L, LUA_REGISTRYINDEX, "merx.http.calls");
  lua_Integer calls = lua_tointeger(L, -1) + 1;
  lua_pop(L, 1);
  lua_pushinteger(L, calls);
  lua_setfield(L, LUA_REGISTRYINDEX, "merx.http.calls");
  char key[96];
  snprintf(key, sizeof key, "%s.%lld", run ? run->run_id : "", (long long)calls);
  /* A dry run touches nothing outside: the webhook is reported, not sent. */
  if (run && run->dry_run) {
    fprintf(run->err ? run->err : stderr, "dry run: merx.http.post_json %s (%zu bytes) not sent\n",
            url, strlen(body));
    lua_pushinteger(L, 0);
    lua_pushliteral(L, "");
    return 2;
  }
  mx_http_client *c = push_client(L, cfg);
  long status = 0;
  char *resp = NULL;
  if (mx_http_post_json(c, url, body, run && run->run_id[0] ? key : NULL, &status, &resp, &err) !=
      MX_OK)
    raise_http(L, &err, "merx.http.post_json");
  lua_pushinteger(L, status);
  lua_pushstring(L, resp ? resp : "");
  free(resp);
  return 2;
}

int mx__luaopen_llm(lua_State *L) {
  static const luaL_Reg fns[] = {{"embed", l_embed}, {"chat", l_chat}, {NULL, NULL}};
  luaL_newlib(L, fns);
  return 1;
}

int mx__luaopen_http(lua_State *L) {
  static const luaL_Reg fns[] = {{"post_json", l_post_json}, {NULL, NULL}};
  luaL_newlib(L, fns);
  return 1;
}
