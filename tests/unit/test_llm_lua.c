/* merx.llm / merx.http bindings in a plain lua_State, against the fake
 * OpenAI-compatible server on 127.0.0.1. */
#include "testutil.h"
#include "fake_openai.h"

#include <lauxlib.h>
#include <lualib.h>

#include "lua/lllm.h"

static fake_server srv;

static int setup(void **state) {
  (void)state;
  return fake_server_start(&srv);
}
static int teardown(void **state) {
  (void)state;
  fake_server_stop(&srv);
  return 0;
}

static lua_State *new_state(const char *prefix) {
  lua_State *L = luaL_newstate();
  luaL_openlibs(L);
  lua_newtable(L);
  mx__luaopen_llm(L);
  lua_setfield(L, -2, "llm");
  mx__luaopen_http(L);
  lua_setfield(L, -2, "http");
  lua_setglobal(L, "merx");
  mx_http_config c = mx_http_config_defaults();
  if (prefix) {
    snprintf(c.base_url, sizeof c.base_url, "http://127.0.0.1:%d/%s/v1", srv.port, prefix);
    strcpy(c.model, "fake-embed");
  }
  c.backoff_base = 0.01;
  c.max_retries = 1;
  strcpy(c.allow_hosts[c.n_allow_hosts++], "127.0.0.1");
  mx__lua_llm_set_config(L, &c);
  lua_pushinteger(L, srv.port);
  lua_setglobal(L, "PORT");
  return L;
}

/* Run code as chunk "script.lua"; returns NULL on success or the error text. */
static const char *run(lua_State *L, const char *code) {
  if (luaL_loadbuffer(L, code, strlen(code), "@script.lua") || lua_pcall(L, 0, 0, 0))
    return lua_tostring(L, -1);
  return NULL;
}

static void test_embed_builtin_and_server(void **state) {
  (void)state;
  lua_State *L = new_state(NULL); /* no server: built-in embedder */
  const char *e = run(L,
      "local v = merx.llm.embed({'red metal lantern', 'RED  metal lantern!', 'cake stand'}, {dim = 64})\n"
      "assert(#v == 3 and #v[1] == 64)\n"
      "local function dot(a, b) local s = 0 for i = 1, #a do s = s + a[i] * b[i] end return s end\n"
      "assert(math.abs(dot(v[1], v[2]) - 1) < 1e-5, 'case and punctuation are ignored')\n"
      "assert(dot(v[1], v[3]) < 0.5)\n");
  if (e) fail_msg("%s", e);
  lua_close(L);
  L = new_state("ok");
  e = run(L, "local v = merx.llm.embed({'a', 'b'})\nassert(#v == 2 and #v[1] == 8)\n");
  if (e) fail_msg("%s", e);
  e = run(L, "merx.llm.embed({'a', 42})");
  assert_non_null(e);
  assert_non_null(strstr(e, "element 2 is a number"));
  lua_close(L);
  L = new_state("500");
  e = run(L, "local x = 1\nmerx.llm.embed({'a'})\n");
  assert_non_null(e);
  assert_non_null(strstr(e, "script.lua:2:"));
  assert_non_null(strstr(e, "HTTP 500 after 2 attempts"));
  lua_close(L);
}

static void test_chat_with_context(void **state) {
  (void)state;
  lua_State *L = new_state("ok");
  const char *e = run(L,
      "local r = merx.llm.chat{ system = 'Answer briefly.',\n"
      "  messages = {{role = 'user', content = 'Which lantern?'}},\n"
      "  context_items = {{id = '71053', text = 'WHITE METAL LANTERN'}, 'plain text item'} }\n"
      "assert(r:find('echo: Which lantern%?'), r)\n"
      "assert(r:find('messages: 2'), r)\n"
      "local sys = #'Answer briefly.' + #'\\n\\nProducts:\\n' + #'- 71053: WHITE METAL LANTERN\\n' + #'- plain text item\\n'\n"
      "assert(r:find('system: ' .. sys .. ' chars', 1, true), r .. ' want ' .. sys)\n"
      "assert(merx.llm.chat{messages = 'hi'}:find('messages: 1'))\n");
  if (e) fail_msg("%s", e);
  e = run(L, "merx.llm.chat{messages = {{role = 'robot', content = 'x'}}}");
  assert_non_null(e);
  assert_non_null(strstr(e, "role"));
  lua_close(L);
}

static void test_post_json(void **state) {
  (void)state;
  lua_State *L = new_state("ok");
  const char *e = run(L,
      "local s, body = merx.http.post_json('http://127.0.0.1:' .. PORT .. '/ok/hook',\n"
      "  {event = 'reorder', items = {'85123A', '71053'}, qty = 12, urgent = true})\n"
      "assert(s == 200 and body:find('true'))\n");
  if (e) fail_msg("%s", e);
  e = run(L, "merx.http.post_json('http://localhost:' .. PORT .. '/ok/hook', {})");
  assert_non_null(e);
  assert_non_null(strstr(e, "script.lua:1:"));
  assert_non_null(strstr(e, "'localhost' is not in the run's allow_hosts"));
  e = run(L, "merx.http.post_json('http://127.0.0.1:' .. PORT .. '/ok/hook', {f = print})");
  assert_non_null(e);
  assert_non_null(strstr(e, "cannot encode a function"));
  lua_close(L);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_embed_builtin_and_server),
      cmocka_unit_test(test_chat_with_context),
      cmocka_unit_test(test_post_json),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
