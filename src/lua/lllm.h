/* merx.llm and merx.http: the Lua face of the HTTP services (src/net).
 *
 * The configuration (server, model, key variable, allowed webhook hosts) is
 * the run's, never the script's: the runtime sets it with
 * mx__lua_llm_set_config() before the script starts; without that call the
 * first use reads $MERX_LLM_CONFIG (a JSON file) and the MERX_LLM_* variables.
 * Scripts cannot widen the host allow list. */
#ifndef MERX_LUA_LLLM_H
#define MERX_LUA_LLLM_H

#include <lua.h>
#include "merx/http.h"

/* Copy cfg into L's registry for merx.llm / merx.http to use. */
void mx__lua_llm_set_config(lua_State *L, const mx_http_config *cfg);
int mx__luaopen_llm(lua_State *L);
int mx__luaopen_http(lua_State *L);

#endif
