/* merx — running sandboxed Lua rule scripts.
 *
 * One call, one run: a fresh lua_State with a capped allocator, an
 * instruction-count hook enforcing a wall-clock deadline, the sandboxed
 * environment and the `merx` module. Decisions the script stages with
 * merx.emit() and files it writes with merx.data.write() are committed only
 * when the script returns without error: one CSV (and/or JSONL) file per kind
 * in out_dir, written atomically, and rows in the SQLite decision log (the
 * store's ledger with a store), in one transaction: all of them or none. On
 * an error, a stop (timeout, memory, signal) or a dry run, nothing is
 * committed. */
#ifndef MERX_SCRIPT_H
#define MERX_SCRIPT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "merx/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mx_script_options {
  const char *path;     /* script file, or NULL when code is given */
  const char *code;     /* Lua source for `merx run -e` (named "(command line)") */
  int n_params;         /* merx.params: key=value strings (borrowed) */
  const char *const *param_keys;
  const char *const *param_values;
  int dry_run;          /* print the staged plan, commit nothing */
  const char *out_dir;  /* outputs; default "out" (created when something is committed) */
  const char *log_path; /* SQLite decision log; NULL: OUT/decisions.db; "": no log */
  const char *store_dir; /* store folder (its ledger replaces log_path, which must
                            then be NULL); NULL: none */
  double busy_timeout;  /* seconds the commit waits for the ledger's lock; <= 0: 60 */
  double timeout;       /* seconds of wall time; <= 0: no limit (default 300) */
  size_t memory_mb;     /* Lua + staged plan memory; 0: no limit (default 1024) */
  int has_now;          /* merx.now() is `now` instead of the clock */
  int64_t now;          /* epoch seconds */
  uint32_t shard_index; /* 0-based shard of this run ... */
  uint32_t shard_count; /* ... out of shard_count (1: no sharding) */
  const char *solve_path; /* all users: save the prices of the script's budgeted
                             choice to this file, commit nothing (not with shards) */
  uint32_t solve_shards;  /* with solve_path: also save each of this many shards'
                             use of every limit in the whole-data plan (its quota) */
  const char *duals_path; /* apply prices saved by solve_path, each shard under its
                             quota of the global limits */
  int csv, jsonl;       /* committed file formats (default: csv only) */
  FILE *out;            /* print() and the dry-run plan; NULL: stdout */
  FILE *err;            /* merx.log, warnings, dry-run summary; NULL: stderr */
  int n_data_dirs;      /* read-only data folders (borrowed): the script may read files */
  const char *const *data_dirs; /* under them, never write there; each must exist */
  const char *reidentify_path; /* with a store key: real ids (first column or `user`)
                                  whose pseudonyms become real ids again in the
                                  KIND.csv / KIND.jsonl outputs (not the ledger) */
} mx_script_options;

typedef struct mx_script_result {
  char run_id[64];
  size_t decisions;     /* staged decisions */
  int committed;        /* 1 when outputs were committed */
  char *traceback;      /* on a script error: Lua traceback (malloc'd) or NULL */
  uint64_t reidentified, not_reidentified; /* --reidentify: output rows given a real
                                              id / left with a pseudonym (not in FILE) */
} mx_script_result;

MX_API mx_script_options mx_script_defaults(void);

/* Run a script. On failure err->message is "SCRIPT:LINE: message" (code
 * MX_ESCRIPT for script errors, MX_ELIMIT for the time or memory limit,
 * MX_EINTERRUPTED after mx_script_interrupt) and result->traceback holds the
 * traceback. result may be NULL. Free the result with mx_script_result_free. */
MX_API int mx_script_run(const mx_script_options *opt, mx_script_result *result, mx_error *err);
MX_API void mx_script_result_free(mx_script_result *result);

/* Ask running scripts to stop (async-signal-safe: call it from a SIGINT or
 * SIGTERM handler). They fail with MX_EINTERRUPTED and commit nothing. */
MX_API void mx_script_interrupt(void);

/* The environment variables a script run reads secrets from: the key_env and
 * webhook credential names of the LLM config ($MERX_LLM_CONFIG, then
 * MERX_LLM_KEY_ENV and the other MERX_LLM_* variables), as a
 * NULL-terminated malloc'd array of malloc'd names (free with
 * mx_script_names_free); NULL when memory ran out. A config that fails to
 * load yields the names read so far: the run that uses it reports the
 * error. The scheduler passes these names to its children. */
MX_API char **mx_script_secret_env(void);
MX_API void mx_script_names_free(char **names);

#ifdef __cplusplus
}
#endif
#endif
