/* SQLite decision log (decisions.h). */
#include "store/decisions.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

struct mx_decision_log {
  sqlite3 *db;
  sqlite3_stmt *insert;
  char path[512];
};

static const char *schema =
    "CREATE TABLE IF NOT EXISTS decisions("
    " id INTEGER PRIMARY KEY,"
    " run_id TEXT NOT NULL,"
    " script TEXT NOT NULL,"
    " script_hash TEXT NOT NULL,"
    " params TEXT NOT NULL,"
    " time TEXT NOT NULL,"
    " committed_at TEXT NOT NULL,"
    " kind TEXT NOT NULL,"
    " user TEXT,"
    " record TEXT NOT NULL,"
    " reason TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS decisions_user ON decisions(user);"
    "CREATE INDEX IF NOT EXISTS decisions_run ON decisions(run_id);";

static int db_fail(mx_decision_log *log, mx_error *err, const char *what) {
  return mx_error_at(err, MX_EIO, log->path, 0, 0, NULL, "decision log: %s: %s", what,
                     sqlite3_errmsg(log->db));
}

int mx_decisions_open(const char *path, int create, mx_decision_log **out, mx_error *err) {
  *out = NULL;
  mx_decision_log *log = calloc(1, sizeof *log);
  if (!log) return mx_error_set(err, MX_ENOMEM, "out of memory");
  snprintf(log->path, sizeof log->path, "%s", path);
  int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0);
  if (sqlite3_open_v2(path, &log->db, flags, NULL) != SQLITE_OK) {
    int rc = mx_error_at(err, create ? MX_EIO : MX_ENOTFOUND, path, 0, 0, NULL,
                         "cannot open the decision log: %s",
                         log->db ? sqlite3_errmsg(log->db) : "out of memory");
    mx_decisions_close(log);
    return rc;
  }
  sqlite3_busy_timeout(log->db, 10000);
  char *msg = NULL;
  if (sqlite3_exec(log->db, schema, NULL, NULL, &msg) != SQLITE_OK) {
    int rc = mx_error_at(err, MX_EFORMAT, path, 0, 0, NULL, "not a merx decision log: %s",
                         msg ? msg : "?");
    sqlite3_free(msg);
    mx_decisions_close(log);
    return rc;
  }
  *out = log;
  return MX_OK;
}

void mx_decisions_close(mx_decision_log *log) {
  if (!log) return;
  sqlite3_finalize(log->insert);
  sqlite3_close(log->db);
  free(log);
}

int mx_decisions_begin(mx_decision_log *log, mx_error *err) {
  if (sqlite3_exec(log->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
    return db_fail(log, err, "begin");
  return MX_OK;
}

int mx_decisions_add(mx_decision_log *log, const mx_decision_row *r, mx_error *err) {
  if (!log->insert &&
      sqlite3_prepare_v2(log->db,
                         "INSERT INTO decisions(run_id, script, script_hash, params, time,"
                         " committed_at, kind, user, record, reason)"
                         " VALUES(?,?,?,?,?,?,?,?,?,?)",
                         -1, &log->insert, NULL) != SQLITE_OK)
    return db_fail(log, err, "prepare");
  const char *v[10] = {r->run_id, r->script, r->script_hash, r->params, r->time,
                       r->committed_at, r->kind, r->user, r->record, r->reason};
  sqlite3_reset(log->insert);
  for (int i = 0; i < 10; i++) {
    if (v[i]) sqlite3_bind_text(log->insert, i + 1, v[i], -1, SQLITE_STATIC);
    else sqlite3_bind_null(log->insert, i + 1);
  }
  if (sqlite3_step(log->insert) != SQLITE_DONE) return db_fail(log, err, "insert");
  return MX_OK;
}

int mx_decisions_commit(mx_decision_log *log, mx_error *err) {
  if (sqlite3_exec(log->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
    int rc = db_fail(log, err, "commit");
    mx_decisions_rollback(log);
    return rc;
  }
  return MX_OK;
}

void mx_decisions_rollback(mx_decision_log *log) {
  if (log && !sqlite3_get_autocommit(log->db))
    sqlite3_exec(log->db, "ROLLBACK", NULL, NULL, NULL);
}

long mx_decisions_find(mx_decision_log *log, const char *user, const char *kind,
                       const char *run_id, mx_decision_fn fn, void *ctx, mx_error *err) {
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(log->db,
                         "SELECT run_id, script, script_hash, params, time, committed_at, kind,"
                         " user, record, reason FROM decisions WHERE user = ?1"
                         " AND (?2 IS NULL OR kind = ?2) AND (?3 IS NULL OR run_id = ?3)"
                         " ORDER BY id",
                         -1, &st, NULL) != SQLITE_OK)
    return db_fail(log, err, "query");
  sqlite3_bind_text(st, 1, user, -1, SQLITE_STATIC);
  if (kind) sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
  else sqlite3_bind_null(st, 2);
  if (run_id) sqlite3_bind_text(st, 3, run_id, -1, SQLITE_STATIC);
  else sqlite3_bind_null(st, 3);
  long n = 0;
  int s;
  while ((s = sqlite3_step(st)) == SQLITE_ROW) {
    mx_decision_row r;
    const char **f[10] = {&r.run_id, &r.script, &r.script_hash, &r.params, &r.time,
                          &r.committed_at, &r.kind, &r.user, &r.record, &r.reason};
    for (int i = 0; i < 10; i++) *f[i] = (const char *)sqlite3_column_text(st, i);
    n++;
    if (fn && fn(ctx, &r) != 0) break;
  }
  if (s != SQLITE_ROW && s != SQLITE_DONE) {
    long rc = db_fail(log, err, "query");
    sqlite3_finalize(st);
    return rc;
  }
  sqlite3_finalize(st);
  return n;
}

int mx_decisions_counts(mx_decision_log *log, const char *kind, const char *since_iso,
                        mx_decision_count_fn fn, void *ctx, mx_error *err) {
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(log->db,
                         "SELECT user, count(*) FROM decisions WHERE kind = ?1 AND time >= ?2"
                         " AND user IS NOT NULL GROUP BY user",
                         -1, &st, NULL) != SQLITE_OK)
    return db_fail(log, err, "query");
  sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, since_iso, -1, SQLITE_STATIC);
  int s;
  while ((s = sqlite3_step(st)) == SQLITE_ROW)
    if (fn(ctx, (const char *)sqlite3_column_text(st, 0), (long)sqlite3_column_int64(st, 1)) != 0) break;
  int rc = MX_OK;
  if (s != SQLITE_ROW && s != SQLITE_DONE) rc = db_fail(log, err, "query");
  sqlite3_finalize(st);
  return rc;
}
