/* Shared by the inventory bindings ldist.c (merx.dist) and linventory.c
 * (merx.inventory). Internal to src/lua. */
#ifndef MERX_LUA_LINVENTORY_H
#define MERX_LUA_LINVENTORY_H

#include <stddef.h>
#include <lua.h>
#include "merx/inventory.h"

#define DIST_MT "merx.dist"

/* Raise err through the runtime's mx__lua_raise (the one place errors become
 * Lua errors): "script.lua:12: h (holding cost) must be ...". Never returns. */
int mx__linv_raise(lua_State *L, const mx_error *err);
/* Array of numbers at idx copied into a buffer owned by a userdata pushed on
 * the stack; *n receives the length. what names the argument in errors. */
double *mx__linv_numbers(lua_State *L, int idx, size_t *n, const char *what);
/* The merx.dist userdata at idx (argument error otherwise). */
mx_dist *mx__linv_check_dist(lua_State *L, int idx);
/* Push a new, zeroed merx.dist userdata. */
mx_dist *mx__linv_new_dist(lua_State *L);
/* Register the merx.dist metatable (idempotent). */
void mx__linv_dist_metatable(lua_State *L);

int mx__luaopen_inventory(lua_State *L);
int mx__luaopen_dist(lua_State *L);

#endif
