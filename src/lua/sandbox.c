/* The sandbox a script runs in.
 *
 * A script sees a fresh environment table holding only allow-listed globals
 * (the model is Redis's scripting sandbox): the base functions minus dofile,
 * loadfile and collectgarbage, and copies of table, string, math, utf8 and
 * coroutine. io, os, package, debug and require are absent. load accepts
 * only text chunks and always binds them to the script's environment, so a
 * binary chunk (which could corrupt the VM) never reaches the loader.
 *
 * Builtins that run long inside C, where the instruction-count hook cannot
 * see them, are capped: string.rep (also reachable as ("x"):rep through the
 * string metatable, so the shared string table is patched, not a copy),
 * table.concat and table.move spans. Pattern matching (find, match, gmatch,
 * gsub) backtracks inside C: it runs lpattern.c's matcher, which polls the
 * run's limits as it goes. The string metatable is protected with
 * __metatable so getmetatable("") cannot reach it.
 *
 * setmetatable refuses metatables with __gc: finalizers run with hooks off.
 * Every metatable merx makes carries __metatable (mx__lua_newmetatable), and
 * getmetatable never returns a userdata's real metatable.
 *
 * pcall, xpcall and coroutine.resume are wrapped: once the runtime has
 * stopped the script (timeout, memory, signal) they re-raise the stop
 * instead of returning false, so no handler can swallow it. */
#include <limits.h>
#include <string.h>

#include <lauxlib.h>
#include <lualib.h>

#include "lua/internal.h"
#include "lua/lmerx.h"

/* Largest string string.rep may build, and longest span table.concat and
 * table.move may walk in one call. */
#define MX_STRING_CAP ((size_t)256 << 20)
#define MX_SPAN_CAP ((lua_Integer)1 << 27)

static int run_stopped(lua_State *L) {
  mx_run *run = mx__lua_run(L);
  return run && run->sandboxed && run->stopped;
}

static int raise_stop(lua_State *L) {
  mx_run *run = mx__lua_run(L);
  lua_pushstring(L, run->stop_msg);
  return lua_error(L);
}

static int capped_rep(lua_State *L) {
  size_t l, lsep;
  luaL_checklstring(L, 1, &l);
  lua_Integer n = luaL_checkinteger(L, 2);
  luaL_optlstring(L, 3, "", &lsep);
  if (n > 0) {
    double total = (double)l * (double)n + (double)lsep * (double)(n - 1);
    size_t cap = MX_STRING_CAP;
    mx_run *run = mx__lua_run(L);
    if (run && run->mem_limit && run->mem_limit - (run->mem_used < run->mem_limit ? run->mem_used : run->mem_limit) < cap)
      cap = run->mem_limit - (run->mem_used < run->mem_limit ? run->mem_used : run->mem_limit);
    if (total > (double)cap)
      return mx__lua_error(L, "string.rep: result of %.0f bytes is over the limit of %zu bytes",
                          total, cap);
  }
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, 1);
  return 1;
}

static int capped_concat(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_Integer i = luaL_optinteger(L, 3, 1);
  lua_Integer j = lua_isnoneornil(L, 4) ? (lua_Integer)luaL_len(L, 1) : luaL_checkinteger(L, 4);
  if (j > i && (lua_Unsigned)j - (lua_Unsigned)i > (lua_Unsigned)MX_SPAN_CAP)
    return mx__lua_error(L, "table.concat: span of %lld elements is over the limit of %lld",
                        (long long)(j - i), (long long)MX_SPAN_CAP);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, 1);
  return 1;
}

static int capped_move(lua_State *L) {
  lua_Integer f = luaL_checkinteger(L, 2);
  lua_Integer e = luaL_checkinteger(L, 3);
  if (e > f && (lua_Unsigned)e - (lua_Unsigned)f > (lua_Unsigned)MX_SPAN_CAP)
    return mx__lua_error(L, "table.move: span of %llu elements is over the limit of %lld",
                        (unsigned long long)((lua_Unsigned)e - (lua_Unsigned)f),
                        (long long)MX_SPAN_CAP);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, 1);
  return 1;
}

/* pcall / xpcall / coroutine.resume: call the original (upvalue 1) and
 * re-raise when the run was stopped meanwhile. */
static int guarded_k(lua_State *L, int status, lua_KContext ctx) {
  (void)status;
  (void)ctx;
  if (run_stopped(L)) return raise_stop(L);
  return lua_gettop(L);
}

static int guarded(lua_State *L) {
  if (run_stopped(L)) return raise_stop(L);
  int base = lua_gettop(L);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  /* with a continuation, so a coroutine may still yield inside pcall */
  lua_callk(L, base, LUA_MULTRET, 0, guarded_k);
  return guarded_k(L, LUA_OK, 0);
}

/* Call the original (upvalue 1) with the arguments while coroutine co runs,
 * telling the run so: the alarm sets the count hook on the running coroutine
 * (hooks are per Lua thread and a coroutine starts without one; watchdog.c).
 * Called protected so the switch back is always made; an error is raised
 * again after it, and a stop meanwhile is raised whatever the result. */
static int run_in(lua_State *L, lua_State *co) {
  mx_run *run = mx__lua_run(L);
  if (run_stopped(L)) return raise_stop(L);
  int base = lua_gettop(L);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_State *prev = run ? run->running : NULL;
  if (run && co) {
    run->running = co;
    if (run->stopped || run->mem_over) mx__run_arm_hook(run);
  }
  int status = lua_pcall(L, base, LUA_MULTRET, 0);
  if (run) run->running = prev;
  if (run_stopped(L)) return raise_stop(L);
  if (status != LUA_OK) return lua_error(L);
  return lua_gettop(L);
}

/* coroutine.resume and coroutine.close (which runs the coroutine's __close
 * handlers in it): the coroutine is argument 1. */
static int guarded_resume(lua_State *L) { return run_in(L, lua_tothread(L, 1)); }

/* A function made by coroutine.wrap (upvalues: the original function and
 * its coroutine). */
static int guarded_wrapped(lua_State *L) { return run_in(L, lua_tothread(L, lua_upvalueindex(2))); }

static int guarded_wrap(lua_State *L) {
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, 1);
  /* the original's closure holds its coroutine as upvalue 1 (lcorolib.c) */
  if (!lua_getupvalue(L, -1, 1)) lua_pushnil(L);
  lua_pushcclosure(L, guarded_wrapped, 2);
  return 1;
}

/* xpcall's message handler, wrapped (the script's handler as upvalue 1).
 * A stop is raised from inside the count hook, where Lua has switched hooks
 * off (ldo.c, luaD_hook), and the handler runs before the unwinding turns
 * them back on: a looping handler would never be stopped. So after a stop
 * the script's handler is skipped and the stop message is the result. */
static int guarded_handler(lua_State *L) {
  if (run_stopped(L)) {
    lua_pushstring(L, mx__lua_run(L)->stop_msg);
    return 1;
  }
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, 1);
  return 1;
}

static int guarded_xpcall(lua_State *L) {
  if (run_stopped(L)) return raise_stop(L);
  if (lua_type(L, 2) == LUA_TFUNCTION) {
    lua_pushvalue(L, 2);
    lua_pushcclosure(L, guarded_handler, 1);
    lua_replace(L, 2);
  }
  return guarded(L);
}

static int safe_print(lua_State *L) {
  mx_run *run = mx__lua_run(L);
  FILE *f = run && run->out ? run->out : stdout;
  int n = lua_gettop(L);
  for (int i = 1; i <= n; i++) {
    size_t len;
    const char *s = luaL_tolstring(L, i, &len);
    if (i > 1) fputc('\t', f);
    fwrite(s, 1, len, f);
    lua_pop(L, 1);
  }
  fputc('\n', f);
  return 0;
}

/* setmetatable without finalizers: Lua runs __gc metamethods with debug
 * hooks off (lgc.c, GCTM), so a looping finalizer would escape the time
 * limit and hang the run, even in lua_close. An object is marked for
 * finalization only when its metatable has a __gc field at setmetatable
 * time, so refusing that here covers adding __gc later too. */
static int rawget_gc(lua_State *L) {
  lua_pushliteral(L, "__gc");
  int t = lua_rawget(L, 2);
  lua_pop(L, 1);
  return t;
}

static int safe_setmetatable(lua_State *L) {
  if (lua_type(L, 2) == LUA_TTABLE && rawget_gc(L) != LUA_TNIL)
    return mx__lua_error(L, "setmetatable: __gc metamethods are not allowed in scripts");
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, 1);
  return 1;
}

/* getmetatable never hands out the metatable of a value a script cannot
 * make itself (userdata: merx objects), even one whose binding forgot the
 * __metatable field (mx__lua_newmetatable): a net under #14.8. */
static int safe_getmetatable(lua_State *L) {
  luaL_checkany(L, 1);
  lua_settop(L, 1);
  int userdata = lua_type(L, 1) == LUA_TUSERDATA;
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, 1, 1);
  if (userdata && lua_type(L, 1) == LUA_TTABLE) lua_pushliteral(L, "protected");
  return 1;
}

/* load(chunk [, chunkname [, mode]]): text only, in the script's
 * environment (upvalue 1). */
static int safe_load(lua_State *L) {
  if (!lua_isnoneornil(L, 3)) {
    const char *mode = luaL_checkstring(L, 3);
    if (strcmp(mode, "t") != 0)
      return mx__lua_error(L, "load: only text chunks may be loaded (mode \"t\")");
  }
  if (!lua_isnoneornil(L, 4))
    return mx__lua_error(L, "load: a custom environment is not allowed in scripts");
  int status;
  if (lua_type(L, 1) == LUA_TSTRING) {
    size_t len;
    const char *s = lua_tolstring(L, 1, &len);
    const char *name = luaL_optstring(L, 2, s);
    status = luaL_loadbufferx(L, s, len, name, "t");
  } else {
    luaL_checktype(L, 1, LUA_TFUNCTION);
    /* the name is read before anything is pushed: with one argument,
     * index 2 would otherwise be the value pushed next */
    const char *name = luaL_optstring(L, 2, "=(load)");
    /* a reader function: let the base library's load drive it, text only */
    lua_getfield(L, LUA_REGISTRYINDEX, "merx.base_load");
    lua_pushvalue(L, 1);
    lua_pushstring(L, name);
    lua_pushliteral(L, "t");
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_call(L, 4, 2);
    return 2;
  }
  if (status != LUA_OK) {
    luaL_pushfail(L);
    lua_insert(L, -2);
    return 2;
  }
  lua_pushvalue(L, lua_upvalueindex(1));
  if (!lua_setupvalue(L, -2, 1)) lua_pop(L, 1);
  return 1;
}

/* Wrap table[name] with fn (the original as upvalue 1). */
static void wrap_field(lua_State *L, int table, const char *name, lua_CFunction fn) {
  table = lua_absindex(L, table);
  lua_getfield(L, table, name);
  lua_pushcclosure(L, fn, 1);
  lua_setfield(L, table, name);
}

void mx__sandbox_prepare(lua_State *L) {
  luaL_requiref(L, LUA_GNAME, luaopen_base, 1);
  lua_pop(L, 1);
  luaL_requiref(L, LUA_TABLIBNAME, luaopen_table, 1);
  wrap_field(L, -1, "concat", capped_concat);
  wrap_field(L, -1, "move", capped_move);
  lua_pop(L, 1);
  luaL_requiref(L, LUA_STRLIBNAME, luaopen_string, 1);
  /* the string metatable's __index is this very table: patch it here */
  wrap_field(L, -1, "rep", capped_rep);
  /* find/match/gmatch/gsub with a step budget: Lua's matcher backtracks
   * inside one C call, out of the hook's sight */
  mx__pattern_install(L, -1);
  /* bytecode is never loadable here; no reason to produce it */
  lua_pushnil(L);
  lua_setfield(L, -2, "dump");
  lua_pop(L, 1);
  luaL_requiref(L, LUA_MATHLIBNAME, luaopen_math, 1);
  lua_pop(L, 1);
  luaL_requiref(L, LUA_UTF8LIBNAME, luaopen_utf8, 1);
  lua_pop(L, 1);
  luaL_requiref(L, LUA_COLIBNAME, luaopen_coroutine, 1);
  wrap_field(L, -1, "resume", guarded_resume);
  wrap_field(L, -1, "wrap", guarded_wrap);
  wrap_field(L, -1, "close", guarded_resume);
  lua_pop(L, 1);
  lua_pushliteral(L, "");
  lua_getmetatable(L, -1);
  lua_pushliteral(L, "protected");
  lua_setfield(L, -2, "__metatable");
  lua_pop(L, 2);
  lua_getglobal(L, "load");
  lua_setfield(L, LUA_REGISTRYINDEX, "merx.base_load");
}

static const char *const base_allowed[] = {
    "assert", "error", "ipairs", "next", "pairs", "rawequal", "rawget",
    "rawlen", "rawset", "select", "tonumber", "tostring", "type", "_VERSION",
    NULL};
static const char *const libs_allowed[] = {"table", "string", "math", "utf8", "coroutine", NULL};

void mx__sandbox_push_env(lua_State *L) {
  lua_newtable(L);
  int env = lua_gettop(L);
  lua_pushglobaltable(L);
  int g = lua_gettop(L);
  for (const char *const *n = base_allowed; *n; n++) {
    lua_getfield(L, g, *n);
    lua_setfield(L, env, *n);
  }
  lua_getfield(L, g, "pcall");
  lua_pushcclosure(L, guarded, 1);
  lua_setfield(L, env, "pcall");
  lua_getfield(L, g, "xpcall");
  lua_pushcclosure(L, guarded_xpcall, 1);
  lua_setfield(L, env, "xpcall");
  for (const char *const *n = libs_allowed; *n; n++) {
    /* a shallow copy, so a script replacing string.format does not change
     * what the runtime's own helpers see */
    lua_newtable(L);
    lua_getfield(L, g, *n);
    lua_pushnil(L);
    while (lua_next(L, -2)) {
      lua_pushvalue(L, -2);
      lua_insert(L, -2);
      lua_settable(L, -5);
    }
    lua_pop(L, 1);
    lua_setfield(L, env, *n);
  }
  lua_getfield(L, g, "getmetatable");
  lua_pushcclosure(L, safe_getmetatable, 1);
  lua_setfield(L, env, "getmetatable");
  lua_getfield(L, g, "setmetatable");
  lua_pushcclosure(L, safe_setmetatable, 1);
  lua_setfield(L, env, "setmetatable");
  lua_pushcfunction(L, safe_print);
  lua_setfield(L, env, "print");
  lua_pushvalue(L, env);
  lua_pushcclosure(L, safe_load, 1);
  lua_setfield(L, env, "load");
  lua_pushvalue(L, env);
  lua_setfield(L, env, "_G");
  lua_pop(L, 1); /* globals */
}
