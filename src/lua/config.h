/* Configuration chunks (schedule files) evaluated in the script sandbox.
 *
 * A schedule file is Lua returning a table. It gets what a `merx run` script
 * gets, minus the merx module: the sandbox's globals, the capped allocator,
 * the count hook with a wall-clock deadline and the sticky stop that pcall
 * cannot swallow (runtime.c, sandbox.c), so a file that loops fails to load
 * within `timeout` seconds instead of hanging the CLI or a daemon's reload. */
#ifndef MERX_LUA_CONFIG_H
#define MERX_LUA_CONFIG_H

#include <stddef.h>
#include <lua.h>
#include "merx/error.h"

typedef struct mx_config_limits {
  double timeout;     /* seconds, > 0 */
  size_t memory_mb;   /* > 0 */
  const char *during; /* ends limit messages: "while loading the schedule file" */
} mx_config_limits;

/* Reads the chunk's value (at the top of L's stack) into ctx. It runs in a
 * protected call under the same limits, so metamethods it triggers are
 * bounded too. Returns MX_OK or an MX_E* code with err filled. */
typedef int (*mx_config_reader)(lua_State *L, void *ctx, mx_error *err);

/* Evaluate src (the text of path, named "@path") and pass its first result
 * to read. The state is closed before returning. Errors: the reader's, or
 * MX_EPARSE (syntax or runtime error) / MX_ELIMIT (time or memory limit)
 * with "PATH:LINE: message" in err->message. */
int mx__config_eval(const char *path, const char *src, size_t len, const mx_config_limits *lim,
                   mx_config_reader read, void *ctx, mx_error *err);

#endif
