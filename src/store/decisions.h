/* The decision ledger in SQLite: one row per committed decision, so that
 * `merx explain` can answer "why did this customer get this offer?", and
 * the lineage of every committed run.
 *
 *   decisions(id, run_id, script, script_hash, params, time, committed_at,
 *             kind, user, record, reason)
 *   commits(run_id, merx_version, script, script_sha256, params, time,
 *           committed_at, decisions)
 *   inputs(run_id, path, sha256, bytes)   -- every model/data file the run opened
 *
 *   bandit_arms, bandit_updates           -- merx.bandit's state (bandit.h)
 *
 * params and record are JSON objects; time is the run's merx.now() and
 * committed_at the wall clock at commit, both ISO 8601 UTC; user is the
 * record's `user` field (NULL when absent). Rows of one run are inserted in
 * one transaction. The file may also hold the scheduler's run history
 * (runs.c): in a store folder both live in DIR/ledger.db (store.h).
 *
 * WAL journal, so readers (explain, history, a sqlite3 shell) never block a
 * commit, with a busy timeout for concurrent writers; the schema version is
 * PRAGMA user_version (MX_LEDGER_VERSION), upgraded in place. */
#ifndef MERX_STORE_DECISIONS_H
#define MERX_STORE_DECISIONS_H

#include <stddef.h>
#include <stdint.h>

#include "merx/error.h"

#define MX_LEDGER_VERSION 3 /* 2: experiments (experiments.h), 3: bandit state (bandit.h) */

typedef struct mx_decision_log mx_decision_log;

struct sqlite3;
/* Strings are NUL-terminated unless their length is given (> 0); lengths
 * are filled only by the caller of mx__decisions_add. */
typedef struct mx_decision_row {
  const char *run_id, *script, *script_hash, *params, *time, *committed_at;
  const char *kind, *user, *record, *reason;
  size_t user_len, record_len, reason_len;
} mx_decision_row;

/* Open (creating file and schema when create is set). *out owned by the caller. */
int mx__decisions_open(const char *path, int create, mx_decision_log **out, mx_error *err);
/* The same, waiting at most busy_seconds for another process's lock (the
 * default, 10 s, otherwise). */
int mx__decisions_open_wait(const char *path, int create, double busy_seconds,
                           mx_decision_log **out, mx_error *err);
void mx__decisions_close(mx_decision_log *log);
/* The connection and file, for the store's own files that keep tables in
 * the ledger (experiments.c, bandit.c): borrowed, valid until close; nothing
 * above src/store uses them. */
struct sqlite3 *mx__decisions_db(mx_decision_log *log);
const char *mx__decisions_path(const mx_decision_log *log);
/* Take the write lock (BEGIN IMMEDIATE). When another process holds it past
 * the busy timeout: MX_EIO, the message naming the file and the wait. */
int mx__decisions_begin(mx_decision_log *log, mx_error *err);
/* Insert one row (inside begin/commit). user may be NULL. */
int mx__decisions_add(mx_decision_log *log, const mx_decision_row *row, mx_error *err);
int mx__decisions_commit(mx_decision_log *log, mx_error *err);
void mx__decisions_rollback(mx_decision_log *log);

/* Lineage of one committed run. */
typedef struct mx_ledger_input {
  const char *path, *sha256;
  uint64_t bytes;
} mx_ledger_input;
typedef struct mx_ledger_commit {
  const char *run_id, *merx_version, *script, *script_sha256, *params, *time, *committed_at;
  long decisions;
  int n_inputs;
  const mx_ledger_input *inputs;
} mx_ledger_commit;
/* Record a run's lineage (inside begin/commit). */
int mx__decisions_add_commit(mx_decision_log *log, const mx_ledger_commit *c, mx_error *err);
/* Lineage of run_id: *found = 0 when the ledger has none (a log written by
 * an older merx). The strings of *c live until the next call or close. */
int mx__decisions_lineage(mx_decision_log *log, const char *run_id, mx_ledger_commit *c,
                         int *found, mx_error *err);

/* Rows for user (and kind, run_id when not NULL), oldest first; fn returns 0
 * to go on. Returns the number of rows seen or a negative MX_E code. */
typedef int (*mx_decision_fn)(void *ctx, const mx_decision_row *row);
long mx__decisions_find(mx_decision_log *log, const char *user, const char *kind,
                       const char *run_id, mx_decision_fn fn, void *ctx, mx_error *err);

/* Number of decisions of kind per user committed at or after since_iso
 * (ISO 8601 UTC, compared as text). fn(ctx, user, count) per user. */
typedef int (*mx_decision_count_fn)(void *ctx, const char *user, long count);
int mx__decisions_counts(mx_decision_log *log, const char *kind, const char *since_iso,
                        mx_decision_count_fn fn, void *ctx, mx_error *err);

/* Caps of served decisions (ledger_queue.c): decisions of kind for one
 * user at or after since_iso; and, per value of the record's field (e.g.
 * "offer"), decisions of kind at or after since_iso (NULL: ever) among the
 * rows with after_rowid < rowid <= *upto_rowid. *upto_rowid < 0 on entry:
 * up to the newest row, whose rowid it receives (read before counting, so
 * rows committed meanwhile are left for the next call). */
int mx__decisions_count_user(mx_decision_log *log, const char *kind, const char *user,
                            size_t user_len, const char *since_iso, long *count, mx_error *err);
int mx__decisions_count_field(mx_decision_log *log, const char *kind, const char *field,
                             const char *since_iso, int64_t after_rowid, int64_t *upto_rowid,
                             mx_decision_count_fn fn, void *ctx, mx_error *err);
/* SQLite's data version of this connection's database (PRAGMA
 * data_version): it changes when another connection commits. */
int mx__decisions_data_version(mx_decision_log *log, int64_t *version, mx_error *err);

/* Every decision of run_id (of kind when not NULL), oldest first, as
 * (user, the record's numeric fields value_field and score_field: NaN when
 * absent or not a number); user NULL when the record has none. For `merx
 * audit`. Returns the number of rows or a negative MX_E code; *runs = 1 when
 * the ledger has a commit of run_id (so an empty run is told from a typo). */
typedef int (*mx_decision_values_fn)(void *ctx, const char *user, size_t user_len, double value,
                                     double score);
long mx__decisions_values(mx_decision_log *log, const char *run_id, const char *kind,
                         const char *value_field, const char *score_field, int *runs,
                         mx_decision_values_fn fn, void *ctx, mx_error *err);

/* Decisions of kind (and run_id when not NULL) grouped by the record's
 * key_field and by a time: the record's time_field when not NULL, else the
 * decision's time (the run's merx.now()). fn(ctx, key, when, count) per
 * group, keys then times in order; key or when is NULL for decisions that
 * lack the field (or hold a non-text value there). For `merx data
 * promotions`. Returns the number of groups or a negative MX_E code. */
typedef int (*mx_decision_group_fn)(void *ctx, const char *key, const char *when, long count);
long mx__decisions_group(mx_decision_log *log, const char *kind, const char *run_id,
                        const char *key_field, const char *time_field, mx_decision_group_fn fn,
                        void *ctx, mx_error *err);

#endif
