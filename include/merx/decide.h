/* merx — deciding one request at a time with a warm rules script.
 *
 * A decider is one Lua state that has loaded a rules script once (its top
 * level ran: models loaded, tables built) and then calls a named function of
 * it per request, in the sandbox of `merx run` and under its limits, applied
 * per call: an instruction-count hook with a wall-clock deadline and a
 * memory cap on the state. What a call stages with merx.emit() is handed to
 * the caller (who queues it for the ledger) and cleared before the next call.
 *
 * Functions are looked up in the table the script returns, or, when it
 * returns none, among the script's globals. A call that errors or hits a
 * limit leaves the decider unusable (mx_decider_usable() == 0): a stopped
 * run stays stopped, and a half-run function may have left its tables in
 * any state, so the caller frees it and opens a fresh one.
 *
 * Not thread-safe: one decider serves one call at a time (`merx serve` keeps
 * a pool of them). */
#ifndef MERX_DECIDE_H
#define MERX_DECIDE_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "merx/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mx_decide_options {
  const char *path;       /* the rules script */
  double load_timeout;    /* seconds for the script's top level; <= 0: 60 */
  double timeout;         /* seconds per call; <= 0: no limit (default 0.25) */
  size_t memory_mb;       /* Lua + staged decisions per state; 0: none (default 64) */
  int n_data_dirs;        /* read-only data folders (borrowed), as merx run --data */
  const char *const *data_dirs;
  const char *store_dir;  /* merx.history reads its ledger; NULL: none */
} mx_decide_options;

MX_API mx_decide_options mx_decide_defaults(void);

typedef struct mx_decider mx_decider;

/* Load the script and run its top level under load_timeout. Errors name
 * SCRIPT:LINE (MX_ESCRIPT, MX_ELIMIT, MX_EIO). *out owned by the caller. */
MX_API int mx_decider_open(const mx_decide_options *opt, mx_decider **out, mx_error *err);
MX_API void mx_decider_free(mx_decider *d);
MX_API int mx_decider_usable(const mx_decider *d);
/* Lineage of the script: its SHA-256 and its 64-bit hash (16 hex digits,
 * the ledger's script_hash as merx run writes it). */
MX_API const char *mx_decider_script_sha256(const mx_decider *d);
MX_API void mx_decider_script_hash(const mx_decider *d, char hex[17]);

/* One staged decision: the record without its reason as a JSON object (as
 * the ledger stores it), its user (NULL when the record has none; user_len
 * bytes) and its reason. Strings live during the callback only. */
typedef struct mx_decision {
  const char *kind;
  const char *user;
  size_t user_len;
  const char *record_json;
  const char *reason;
  size_t reason_len;
} mx_decision;
typedef int (*mx_decide_emit_fn)(void *ctx, const mx_decision *d);

/* Call function(args) at time now (merx.now(), epoch seconds). args: a JSON
 * object or array (NULL: no argument), given to the function as a table.
 * *result: what the function returned as JSON (a new reference; null when
 * it returned nothing). Each staged decision goes to emit(ctx, ..) in
 * staging order, only when the call succeeded. Errors: MX_ENOTFOUND (no
 * such function; the decider stays usable), MX_ESCRIPT or MX_ELIMIT with
 * "SCRIPT:LINE: message" (the decider is then unusable), or emit's status. */
MX_API int mx_decider_call(mx_decider *d, const char *function, const json_t *args, int64_t now,
                           json_t **result, mx_decide_emit_fn emit, void *ctx, mx_error *err);

#ifdef __cplusplus
}
#endif
#endif
