/* Helpers shared by every Lua binding file (src/lua/l<area>.c).
 *
 * Errors: convert an mx_error to a Lua error in exactly one place,
 * mx__lua_raise(). Error messages carry the script position of the Lua code
 * that called the binding ("campaign.lua:12: ..."), found by walking up the
 * stack to the first Lua function, so C bindings report script lines.
 *
 * Arrays: bulk functions take Lua arrays (tables with keys 1..n). The readers
 * below copy them into a buffer owned by a full userdata that they push on
 * the stack, so nothing leaks when a later check raises an error; the buffer
 * lives while that stack slot (or any reference to it) does.
 *
 * Files: scripts may only touch files inside the script's directory (read)
 * and inside --out (read and write). mx__lua_path() resolves a path argument
 * against those rules. */
#ifndef MERX_LUA_LMERX_H
#define MERX_LUA_LMERX_H

#include <stddef.h>
#include <stdint.h>
#include <lua.h>
#include <lauxlib.h>
#include "merx/error.h"

/* Raise err as a Lua error: "SCRIPT:LINE: <file:line:col: field 'f': message>".
 * Never returns. */
int mx__lua_raise(lua_State *L, const mx_error *err);
/* printf-style Lua error prefixed with the calling script's position. Never returns. */
int mx__lua_error(lua_State *L, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Array of strings at idx (numbers are converted to their string form, like
 * tostring; other types raise "bad argument #idx ... element k"). Pushes one
 * userdata that owns the pointer array; the strings themselves stay owned by
 * the table at idx, which must stay alive (it is on the stack) while they
 * are used. *n receives the count. Returns the array (NULL when n == 0). */
const char **mx__lua_check_strings(lua_State *L, int idx, size_t *n);
/* Array of numbers at idx as doubles / floats / 32-bit indices (1-based in
 * Lua, returned 0-based when zero_based is set). Pushes one owning userdata. */
double *mx__lua_check_doubles(lua_State *L, int idx, size_t *n);
float *mx__lua_check_floats(lua_State *L, int idx, size_t *n);
/* Push a new Lua array (table) from C arrays. */
void mx__lua_push_doubles(lua_State *L, const double *v, size_t n);
void mx__lua_push_floats(lua_State *L, const float *v, size_t n);
void mx__lua_push_strings(lua_State *L, const char *const *v, size_t n);

/* Optional fields of an options table at idx (idx may be none or nil: the
 * default is returned). Wrong types raise an error naming the field. */
double mx__lua_opt_number(lua_State *L, int idx, const char *field, double def);
lua_Integer mx__lua_opt_integer(lua_State *L, int idx, const char *field, lua_Integer def);
int mx__lua_opt_boolean(lua_State *L, int idx, const char *field, int def);
/* The string stays owned by the options table. */
const char *mx__lua_opt_string(lua_State *L, int idx, const char *field, const char *def);

/* Strict options: raise "FN: unknown option 'KEY' (did you mean 'NAME'?)"
 * (or "(options: a, b, ...)" when no name is close) for a key of the table at
 * idx that is not one of `known`, a space-separated list of the names the
 * function reads. Call it before reading any option, so a misspelt key never
 * falls back to a default. idx may be none or nil; a non-table is left to the
 * binding's own type check. Nested records (items, constraints) are checked
 * the same way with their own list. */
void mx__lua_check_options(lua_State *L, int idx, const char *fn, const char *known);

/* Scratch memory owned by a userdata pushed on the stack (freed by the GC). */
void *mx__lua_scratch(lua_State *L, size_t size);
/* C memory a binding holds while Lua may raise (any Lua allocation can, as
 * does mx__lua_error) belongs to a guard: a userdata, pushed, with `size`
 * zeroed bytes of state whose `release` (called with the state) runs at
 * collection, after an error, or at once through mx__lua_guard_release. Keep
 * every owned pointer in the state, so release sees the current ones. */
void *mx__lua_guard(lua_State *L, size_t size, void (*release)(void *state));

/* The value at idx as compact JSON (ljson.c: tables with keys 1..n are
 * arrays, others objects with string keys; merx.json.null is null; keys
 * sorted), pushed as a Lua string, which is returned. Raises "WHAT: ..." for
 * a value JSON cannot hold. */
const char *mx__lua_json_encode(lua_State *L, int idx, const char *what);
void mx__lua_guard_release(void *state);

/* Long C calls. The core polls an mx_cancel (merx/error.h) between units
 * of work; mx__lua_cancel gives the run's one (its --timeout deadline and the
 * signal flag; nothing cancels outside `merx run`) to put in the call's
 * options. When such a call fails with MX_ELIMIT or MX_EINTERRUPTED,
 * mx__lua_raise raises the run's stop instead ("script.lua:12: time limit of
 * 2 s exceeded (--timeout)", at the line of the call), and the run stays
 * stopped. mx__lua_check_stop raises it after a call that succeeded but
 * overran (a call with no cancellation points, or stopped between them). */
mx_cancel mx__lua_cancel(lua_State *L);
void mx__lua_check_stop(lua_State *L);

/* Metatables scripts cannot reach. A script that could change the metatable
 * shared by every object of a kind could add a looping __gc (finalizers run
 * with hooks off, so no limit stops it) or replace methods; with a
 * __metatable field getmetatable() returns the name instead, and
 * setmetatable() refuses. mx__lua_newmetatable is luaL_newmetatable plus that
 * field (same result); mx__lua_protect_metatable sets it on the table at the
 * top of the stack (for metatables made with lua_createtable). */
int mx__lua_newmetatable(lua_State *L, const char *name);
void mx__lua_protect_metatable(lua_State *L, const char *name);

/* Resolve a script-supplied path for reading (write = 0) or writing
 * (write = 1). Relative paths are taken relative to the script's directory
 * for reading and to the --out directory for writing. Reading is allowed
 * inside the script's directory or --out; writing only inside --out.
 * Raises a Lua error otherwise. Pushes the resolved absolute path (a Lua
 * string) and returns it. Outside `merx run` (merx.so in a stock lua5.4)
 * there is no sandbox and paths are used as given. */
const char *mx__lua_path(lua_State *L, int idx, int write);

/* 1 during `merx run --dry-run`: bindings with side effects outside the
 * plan (webhooks, HTTP posts) should skip them and say what they would do. */
int mx__lua_dry_run(lua_State *L);

/* Raise an error when called after the current run has ended (an object
 * kept alive by a finalizer, say). Bindings of long-lived objects call it in
 * every method. what names the object ("model"). */
void mx__lua_check_run_active(lua_State *L, const char *what);

/* Global limits in a sharded run (lshard.c). Before solving p, whose limits
 * and caps are the global ones the script gave: with --duals, p gets this
 * shard's quota of every limit and lambda[K], mu[n_offers] the saved prices
 * (returns 1: apply them, do not solve); with --shard and no prices, p gets
 * its even quota and a warning is printed once (returns 0: solve); else
 * returns 0 and p is untouched. After solving, mx__lua_alloc_solved keeps the
 * prices for --solve (and with --shards, each shard's use of every limit).
 * offer_names[j] names offer j in the saved prices, user_names[u] is user
 * u's id (hashed to its shard); what names the caller in errors. */
struct mx_alloc_problem;
struct mx_alloc_result;
int mx__lua_alloc_share(lua_State *L, struct mx_alloc_problem *p, const char *const *offer_names,
                       double *lambda, double *mu, const char *what);
/* Parity constraints (lparity.c): grp[u] the group of problem user u
 * (UINT32_MAX: none, counted nowhere), names its npg names; options
 * parity_users = { name = n } (population per group), group_shares = { name
 * = { min, max } } and parity (the rate ratio) of the table at opts. */
struct mx_alloc_result;
struct mx_idmap;
int mx__lua_alloc_parity(lua_State *L, int opts, struct mx_alloc_problem *p, uint32_t *grp,
                        struct mx_idmap *names, uint32_t npg, double parity, const char *what,
                        mx_error *err);
/* Push { unconstrained_objective, value_lost, prices = { name = nu },
 * groups = { name = { users, offers, rate, share } } }. */
void mx__lua_push_parity(lua_State *L, const struct mx_alloc_problem *p,
                        const struct mx_alloc_result *r, double unconstrained);
void mx__lua_alloc_solved(lua_State *L, const struct mx_alloc_problem *p,
                         const char *const *offer_names, const char *const *user_names,
                         const struct mx_alloc_result *res, const char *what);

#endif
