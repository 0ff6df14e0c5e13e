/* merx — the run history (store layer, src/store/runs.c): one row per run
 * attempt of a scheduled job, in the store's ledger.
 * Table `runs` (one row per attempt) and `sched_state` (per job, the latest
 * slot the scheduler has dealt with). Status values: running, success,
 * failed, timeout, stopped, replaced, abandoned, skipped (overlap), missed. */
#ifndef MERX_RUNS_H
#define MERX_RUNS_H

#include <stdint.h>
#include "merx/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mx_runs mx_runs;

typedef struct mx_run_row {
  int64_t id;
  const char *job;
  int64_t scheduled; /* slot instant (UTC) */
  const char *scheduled_local; /* "YYYY-MM-DDTHH:MM:SS+HH:MM" in the job's zone */
  int attempt;       /* 1-based */
  const char *status;
  double started, ended; /* epoch seconds, 0 when not applicable */
  int exit_code;         /* -1 when not applicable */
  const char *error;     /* "" when none */
  const char *output_dir; /* committed outputs, "" when none */
  const char *outputs;    /* JSON array [{"path","bytes","digest"}], "[]" when none */
} mx_run_row;

/* Open (creating the tables if needed). readonly: refuse to create. */
MX_API int mx_runs_open(const char *path, int readonly, mx_runs **out, mx_error *err);
MX_API void mx_runs_close(mx_runs *db);
/* Insert a row (id ignored) and return its id in *id (may be NULL). */
MX_API int mx_runs_insert(mx_runs *db, const mx_run_row *r, int64_t *id, mx_error *err);
/* Insert a row and, in the same transaction, advance the job's handled-slot
 * state to the row's slot (never backwards). */
MX_API int mx_runs_insert_handled(mx_runs *db, const mx_run_row *r, int64_t *id, mx_error *err);
/* Record the end of a run started with mx_runs_insert. */
MX_API int mx_runs_finish(mx_runs *db, int64_t id, const char *status, double ended,
                          int exit_code, const char *error, const char *output_dir,
                          const char *outputs, mx_error *err);
/* Mark every row still 'running' as 'abandoned' (called at daemon start, under
 * the store lock, so those rows belong to a scheduler that died). Returns the
 * count (>= 0) or a negative MX_E* code. */
MX_API int mx_runs_abandon_running(mx_runs *db, double now, mx_error *err);
/* Slots whose latest attempt was interrupted ('abandoned' or 'stopped') and
 * not rerun or recorded since: what a restarted scheduler catches up. */
typedef void (*mx_runs_slot_fn)(void *ctx, const char *job, int64_t scheduled);
MX_API int mx_runs_interrupted(mx_runs *db, mx_runs_slot_fn fn, void *ctx, mx_error *err);
/* Latest handled slot of job; *found = 0 when the job has no state yet. */
MX_API int mx_runs_state_get(mx_runs *db, const char *job, int64_t *slot, int *found,
                             mx_error *err);
MX_API int mx_runs_state_set(mx_runs *db, const char *job, int64_t slot, mx_error *err);
/* Iterate rows (newest first; job NULL = all jobs; limit <= 0 = all). The row
 * passed to fn is valid only during the call. fn returns non-zero to stop. */
typedef int (*mx_runs_row_fn)(void *ctx, const mx_run_row *r);
MX_API int mx_runs_list(mx_runs *db, const char *job, long limit, mx_runs_row_fn fn, void *ctx,
                        mx_error *err);

#ifdef __cplusplus
}
#endif
#endif
