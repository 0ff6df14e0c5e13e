/* Run history of the scheduler in SQLite: one `runs` row per attempt, and a
 * `sched_state` row per job holding the latest slot the scheduler has dealt
 * with (started, skipped or recorded as missed: a slot only counts once its
 * row exists, written in the same transaction), which is what missed-slot
 * catch-up after downtime counts from.
 *
 * WAL mode so `merx runs` can read while the daemon writes; every write is its
 * own transaction, so a daemon killed at any point leaves a consistent table
 * (a run it never finished stays 'running' until the next daemon start marks
 * it 'abandoned'). */
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "merx/runs.h"
#include "util/util.h"

struct mx_runs {
  sqlite3 *db;
  char *path;
};

static const char *const schema =
    "CREATE TABLE IF NOT EXISTS runs ("
    " id INTEGER PRIMARY KEY,"
    " job TEXT NOT NULL,"
    " scheduled INTEGER NOT NULL,"     /* slot, epoch seconds UTC */
    " scheduled_local TEXT NOT NULL,"  /* slot in the job's zone, with offset */
    " attempt INTEGER NOT NULL,"
    " status TEXT NOT NULL,"
    " started REAL,"                   /* epoch seconds */
    " ended REAL,"
    " exit_code INTEGER,"
    " error TEXT NOT NULL DEFAULT '',"
    " output_dir TEXT NOT NULL DEFAULT '',"
    " outputs TEXT NOT NULL DEFAULT '[]');"  /* [{"path","bytes","digest"}] */
    "CREATE INDEX IF NOT EXISTS runs_job_slot ON runs(job, scheduled);"
    "CREATE TABLE IF NOT EXISTS sched_state ("
    " job TEXT PRIMARY KEY,"
    " last_slot INTEGER NOT NULL);";

static int db_fail(mx_runs *r, mx_error *err, const char *what) {
  return mx_error_at(err, MX_EIO, r->path, 0, 0, NULL, "%s: %s", what, sqlite3_errmsg(r->db));
}

int mx_runs_open(const char *path, int readonly, mx_runs **out, mx_error *err) {
  *out = NULL;
  mx_runs *r = calloc(1, sizeof *r);
  if (!r || !(r->path = mx__strdup(path))) {
    free(r);
    return mx_error_set(err, MX_ENOMEM, "out of memory");
  }
  int flags = readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
  if (sqlite3_open_v2(path, &r->db, flags | SQLITE_OPEN_FULLMUTEX, NULL) != SQLITE_OK) {
    int rc = mx_error_at(err, readonly ? MX_ENOTFOUND : MX_EIO, path, 0, 0, NULL,
                         "cannot open run history: %s",
                         r->db ? sqlite3_errmsg(r->db) : "out of memory");
    mx_runs_close(r);
    return rc;
  }
  sqlite3_busy_timeout(r->db, 10000);
  if (!readonly) {
    char *msg = NULL;
    if (sqlite3_exec(r->db, "PRAGMA journal_mode=WAL;", NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_exec(r->db, schema, NULL, NULL, &msg) != SQLITE_OK) {
      int rc = mx_error_at(err, MX_EIO, path, 0, 0, NULL, "cannot create run history: %s",
                           msg ? msg : sqlite3_errmsg(r->db));
      sqlite3_free(msg);
      mx_runs_close(r);
      return rc;
    }
  }
  *out = r;
  return MX_OK;
}

void mx_runs_close(mx_runs *r) {
  if (!r) return;
  sqlite3_close(r->db);
  free(r->path);
  free(r);
}

static void bind_text(sqlite3_stmt *st, int i, const char *s) {
  sqlite3_bind_text(st, i, s ? s : "", -1, SQLITE_TRANSIENT);
}

static int insert_row(mx_runs *r, const mx_run_row *row, int64_t *id, mx_error *err);

int mx_runs_insert(mx_runs *r, const mx_run_row *row, int64_t *id, mx_error *err) {
  return insert_row(r, row, id, err);
}

/* The row and the state move together: a slot is "handled" exactly when its
 * row exists, so a crash can neither lose a slot (state ahead of its row) nor
 * leave a recorded slot looking unhandled. */
int mx_runs_insert_handled(mx_runs *r, const mx_run_row *row, int64_t *id, mx_error *err) {
  if (sqlite3_exec(r->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
    return db_fail(r, err, "insert run");
  int rc = insert_row(r, row, id, err);
  if (rc == MX_OK) rc = mx_runs_state_set(r, row->job, row->scheduled, err);
  if (rc == MX_OK && sqlite3_exec(r->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
    rc = db_fail(r, err, "insert run");
  if (rc != MX_OK) sqlite3_exec(r->db, "ROLLBACK", NULL, NULL, NULL);
  return rc;
}

static int insert_row(mx_runs *r, const mx_run_row *row, int64_t *id, mx_error *err) {
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(r->db,
                         "INSERT INTO runs(job,scheduled,scheduled_local,attempt,status,started,"
                         "ended,exit_code,error,output_dir,outputs) VALUES(?,?,?,?,?,?,?,?,?,?,?)",
                         -1, &st, NULL) != SQLITE_OK)
    return db_fail(r, err, "insert run");
  bind_text(st, 1, row->job);
  sqlite3_bind_int64(st, 2, row->scheduled);
  bind_text(st, 3, row->scheduled_local);
  sqlite3_bind_int(st, 4, row->attempt);
  bind_text(st, 5, row->status);
  if (row->started > 0) sqlite3_bind_double(st, 6, row->started);
  if (row->ended > 0) sqlite3_bind_double(st, 7, row->ended);
  if (row->exit_code >= 0) sqlite3_bind_int(st, 8, row->exit_code);
  bind_text(st, 9, row->error);
  bind_text(st, 10, row->output_dir);
  bind_text(st, 11, row->outputs && *row->outputs ? row->outputs : "[]");
  int rc = sqlite3_step(st);
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE) return db_fail(r, err, "insert run");
  if (id) *id = sqlite3_last_insert_rowid(r->db);
  return MX_OK;
}

int mx_runs_finish(mx_runs *r, int64_t id, const char *status, double ended, int exit_code,
                   const char *error, const char *output_dir, const char *outputs,
                   mx_error *err) {
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(r->db,
                         "UPDATE runs SET status=?, ended=?, exit_code=?, error=?, output_dir=?,"
                         " outputs=? WHERE id=?",
                         -1, &st, NULL) != SQLITE_OK)
    return db_fail(r, err, "finish run");
  bind_text(st, 1, status);
  sqlite3_bind_double(st, 2, ended);
  if (exit_code >= 0) sqlite3_bind_int(st, 3, exit_code);
  else sqlite3_bind_null(st, 3);
  bind_text(st, 4, error);
  bind_text(st, 5, output_dir);
  bind_text(st, 6, outputs && *outputs ? outputs : "[]");
  sqlite3_bind_int64(st, 7, id);
  int rc = sqlite3_step(st);
  sqlite3_finalize(st);
  return rc == SQLITE_DONE ? MX_OK : db_fail(r, err, "finish run");
}

int mx_runs_abandon_running(mx_runs *r, double now, mx_error *err) {
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(r->db,
                         "UPDATE runs SET status='abandoned', ended=?, error='the scheduler "
                         "stopped during this run' WHERE status='running'",
                         -1, &st, NULL) != SQLITE_OK)
    return db_fail(r, err, "abandon running");
  sqlite3_bind_double(st, 1, now);
  int rc = sqlite3_step(st);
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE) return db_fail(r, err, "abandon running");
  return sqlite3_changes(r->db);
}

int mx_runs_interrupted(mx_runs *r, mx_runs_slot_fn fn, void *ctx, mx_error *err) {
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(r->db,
                         "SELECT job, scheduled FROM runs AS r WHERE status IN ('abandoned',"
                         "'stopped') AND id = (SELECT max(id) FROM runs WHERE job = r.job AND "
                         "scheduled = r.scheduled) ORDER BY job, scheduled",
                         -1, &st, NULL) != SQLITE_OK)
    return db_fail(r, err, "list interrupted runs");
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW)
    fn(ctx, (const char *)sqlite3_column_text(st, 0), sqlite3_column_int64(st, 1));
  sqlite3_finalize(st);
  return rc == SQLITE_DONE ? MX_OK : db_fail(r, err, "list interrupted runs");
}

int mx_runs_state_get(mx_runs *r, const char *job, int64_t *slot, int *found, mx_error *err) {
  sqlite3_stmt *st;
  *found = 0;
  if (sqlite3_prepare_v2(r->db, "SELECT last_slot FROM sched_state WHERE job=?", -1, &st,
                         NULL) != SQLITE_OK)
    return db_fail(r, err, "read state");
  bind_text(st, 1, job);
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    *slot = sqlite3_column_int64(st, 0);
    *found = 1;
  }
  sqlite3_finalize(st);
  return rc == SQLITE_ROW || rc == SQLITE_DONE ? MX_OK : db_fail(r, err, "read state");
}

int mx_runs_state_set(mx_runs *r, const char *job, int64_t slot, mx_error *err) {
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(r->db,
                         "INSERT INTO sched_state(job,last_slot) VALUES(?,?) ON CONFLICT(job) "
                         "DO UPDATE SET last_slot=max(last_slot, excluded.last_slot)",
                         -1, &st, NULL) != SQLITE_OK)
    return db_fail(r, err, "write state");
  bind_text(st, 1, job);
  sqlite3_bind_int64(st, 2, slot);
  int rc = sqlite3_step(st);
  sqlite3_finalize(st);
  return rc == SQLITE_DONE ? MX_OK : db_fail(r, err, "write state");
}

int mx_runs_list(mx_runs *r, const char *job, long limit, mx_runs_row_fn fn, void *ctx,
                 mx_error *err) {
  sqlite3_stmt *st;
  const char *sql =
      "SELECT id,job,scheduled,scheduled_local,attempt,status,started,ended,exit_code,error,"
      "output_dir,outputs FROM runs WHERE (?1 IS NULL OR job=?1) ORDER BY scheduled DESC, "
      "id DESC LIMIT ?2";
  if (sqlite3_prepare_v2(r->db, sql, -1, &st, NULL) != SQLITE_OK) {
    /* A store that no daemon has written yet has no table: an empty history. */
    if (strstr(sqlite3_errmsg(r->db), "no such table")) return MX_OK;
    return db_fail(r, err, "list runs");
  }
  if (job) bind_text(st, 1, job);
  sqlite3_bind_int64(st, 2, limit > 0 ? limit : -1);
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    mx_run_row row;
    row.id = sqlite3_column_int64(st, 0);
    row.job = (const char *)sqlite3_column_text(st, 1);
    row.scheduled = sqlite3_column_int64(st, 2);
    row.scheduled_local = (const char *)sqlite3_column_text(st, 3);
    row.attempt = sqlite3_column_int(st, 4);
    row.status = (const char *)sqlite3_column_text(st, 5);
    row.started = sqlite3_column_double(st, 6);
    row.ended = sqlite3_column_double(st, 7);
    row.exit_code = sqlite3_column_type(st, 8) == SQLITE_NULL ? -1 : sqlite3_column_int(st, 8);
    row.error = (const char *)sqlite3_column_text(st, 9);
    row.output_dir = (const char *)sqlite3_column_text(st, 10);
    row.outputs = (const char *)sqlite3_column_text(st, 11);
    if (fn(ctx, &row)) break;
  }
  int ok = rc == SQLITE_ROW || rc == SQLITE_DONE;
  sqlite3_finalize(st);
  return ok ? MX_OK : db_fail(r, err, "list runs");
}
