/* The pure-Lua helpers of lua/merx/NAME.lua, embedded in the binary at build
 * time (cmake/embed_lua.cmake), so an installed merx or merx.so needs no
 * search path. Each helper is a chunk that receives the merx module as its
 * first argument (`local merx = ...`) and returns its table. */
#include <string.h>

#include <lauxlib.h>

#include "lua/internal.h"
#include "lua/lmerx.h"

typedef struct mx_lua_embedded_file {
  const char *name;
  const unsigned char *source;
  size_t len;
} mx_lua_embedded_file;

extern const mx_lua_embedded_file mx__lua_embedded[];

int mx__lua_load_helper(lua_State *L, const char *name, int env) {
  for (const mx_lua_embedded_file *f = mx__lua_embedded; f->name; f++) {
    if (strcmp(f->name, name) != 0) continue;
    char chunk[128];
    snprintf(chunk, sizeof chunk, "@lua/merx/%s.lua", name);
    if (luaL_loadbufferx(L, (const char *)f->source, f->len, chunk, "t") != LUA_OK)
      return lua_error(L);
    mx_run *run = mx__lua_run(L);
    if (env) {
      lua_pushvalue(L, env);
      lua_setupvalue(L, -2, 1);
    } else if (run && run->sandboxed) {
      /* helpers run inside the sandbox too, in their own environment */
      mx__sandbox_push_env(L);
      lua_setupvalue(L, -2, 1);
    }
    lua_getfield(L, LUA_REGISTRYINDEX, "merx.module");
    lua_call(L, 1, 1);
    return 1;
  }
  return 0;
}
