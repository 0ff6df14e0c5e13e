/* The SQLite decision log: one row per committed decision, so that
 * `merx explain` can answer "why did this customer get this offer?".
 *
 *   decisions(id, run_id, script, script_hash, params, time, committed_at,
 *             kind, user, record, reason)
 *
 * params and record are JSON objects; time is the run's merx.now() and
 * committed_at the wall clock at commit, both ISO 8601 UTC; user is the
 * record's `user` field (NULL when absent). Rows of one run are inserted in
 * one transaction. The table may share a file with the scheduler's run
 * history. */
#ifndef MERX_STORE_DECISIONS_H
#define MERX_STORE_DECISIONS_H

#include "merx/error.h"

typedef struct mx_decision_log mx_decision_log;

typedef struct mx_decision_row {
  const char *run_id, *script, *script_hash, *params, *time, *committed_at;
  const char *kind, *user, *record, *reason;
} mx_decision_row;

/* Open (creating file and schema when create is set). *out owned by the caller. */
int mx_decisions_open(const char *path, int create, mx_decision_log **out, mx_error *err);
void mx_decisions_close(mx_decision_log *log);
int mx_decisions_begin(mx_decision_log *log, mx_error *err);
/* Insert one row (inside begin/commit). user may be NULL. */
int mx_decisions_add(mx_decision_log *log, const mx_decision_row *row, mx_error *err);
int mx_decisions_commit(mx_decision_log *log, mx_error *err);
void mx_decisions_rollback(mx_decision_log *log);

/* Rows for user (and kind, run_id when not NULL), oldest first; fn returns 0
 * to go on. Returns the number of rows seen or a negative MX_E code. */
typedef int (*mx_decision_fn)(void *ctx, const mx_decision_row *row);
long mx_decisions_find(mx_decision_log *log, const char *user, const char *kind,
                       const char *run_id, mx_decision_fn fn, void *ctx, mx_error *err);

/* Number of decisions of kind per user committed at or after since_iso
 * (ISO 8601 UTC, compared as text). fn(ctx, user, count) per user. */
typedef int (*mx_decision_count_fn)(void *ctx, const char *user, long count);
int mx_decisions_counts(mx_decision_log *log, const char *kind, const char *since_iso,
                        mx_decision_count_fn fn, void *ctx, mx_error *err);

#endif
