/* The SQLite decision ledger (decisions.h). */
#include "store/decisions.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "store/bandit.h"
#include "merx/csv.h"
#include "store/experiments.h"
#include "util/util.h"

struct mx_decision_log {
  sqlite3 *db;
  sqlite3_stmt *insert;
  sqlite3_stmt *lineage, *lineage_inputs;
  /* the cap queries a served decision runs at admission (ledger_queue.c),
   * prepared once: parsing them again for every /v1/decide request was a
   * quarter of its instructions (scripts/bench/serve_profile.sh decide) */
  sqlite3_stmt *count_user, *max_rowid, *count_field, *data_version;
  mx_ledger_input *inputs; /* of the last mx__decisions_lineage */
  int n_inputs, cap_inputs;
  double busy_seconds;
  int wal;
  char path[512];
};

/* Version 1: decisions (as merx has always written them) + lineage. Every
 * statement is idempotent, so a log written before versioning (user_version
 * 0, decisions only) upgrades in place. */
static const char schema_v1[] =
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
    "CREATE INDEX IF NOT EXISTS decisions_run ON decisions(run_id);"
    "CREATE INDEX IF NOT EXISTS decisions_kind_time ON decisions(kind, time);"
    "CREATE TABLE IF NOT EXISTS commits("
    " run_id TEXT PRIMARY KEY,"
    " merx_version TEXT NOT NULL,"
    " script TEXT NOT NULL,"
    " script_sha256 TEXT NOT NULL,"
    " params TEXT NOT NULL,"
    " time TEXT NOT NULL,"
    " committed_at TEXT NOT NULL,"
    " decisions INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS inputs("
    " run_id TEXT NOT NULL,"
    " path TEXT NOT NULL,"
    " sha256 TEXT NOT NULL,"
    " bytes INTEGER NOT NULL,"
    " PRIMARY KEY(run_id, path));";

/* The schema as steps: step k takes a ledger from user_version k-1 to k.
 * Each step's statements are idempotent (CREATE ... IF NOT EXISTS), and a
 * ledger is upgraded by applying, in order, every step above its version,
 * in one transaction (a step interrupted before its version was written
 * simply runs again). A new step appends a line here (its SQL beside the
 * code that uses it) and raises MX_LEDGER_VERSION. */
static const char *const schema_steps[] = {
    schema_v1,                    /* 1: decisions, lineage */
    mx__ledger_schema_experiments, /* 2: experiments, assignments, exposures */
    mx__bandit_schema,             /* 3: bandit state (store/bandit.h) */
};
_Static_assert(sizeof schema_steps / sizeof *schema_steps == MX_LEDGER_VERSION,
               "one schema step per ledger version");


static int db_fail(mx_decision_log *log, mx_error *err, const char *what) {
  return mx_error_at(err, MX_EIO, log->path, 0, 0, NULL, "decision log: %s: %s", what,
                     sqlite3_errmsg(log->db));
}

static int busy(int rc) {
  rc &= 0xff;
  return rc == SQLITE_BUSY || rc == SQLITE_LOCKED;
}

static int locked_fail(mx_decision_log *log, mx_error *err, const char *what, double waited) {
  return mx_error_at(err, MX_EIO, log->path, 0, 0, NULL,
                     "decision log is locked by another process: %s gave up after waiting "
                     "%.3g s (busy timeout %g s): %s",
                     what, waited, log->busy_seconds, sqlite3_errmsg(log->db));
}

static double seconds_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int user_version(sqlite3 *db, int *v) {
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK) return -1;
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) *v = sqlite3_column_int(st, 0);
  sqlite3_finalize(st);
  return rc == SQLITE_ROW ? 0 : -1;
}

/* WAL is a property of the file: set once, by whichever process comes first.
 * The switch needs a moment with no other connection busy, so it is retried
 * within the busy timeout; a file that cannot switch (a network file system)
 * stays in rollback mode and mx__decisions_begin takes the lock exclusively. */
static void use_wal(mx_decision_log *log) {
  double until = seconds_now() + log->busy_seconds;
  for (;;) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(log->db, "PRAGMA journal_mode=WAL", -1, &st, NULL) != SQLITE_OK) return;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
      const char *mode = (const char *)sqlite3_column_text(st, 0);
      log->wal = mode && strcmp(mode, "wal") == 0;
    }
    sqlite3_finalize(st);
    if (rc == SQLITE_ROW || !busy(rc) || seconds_now() > until) return;
    sqlite3_sleep(10);
  }
}

static int upgrade(mx_decision_log *log, int create, mx_error *err) {
  int v = 0;
  if (user_version(log->db, &v) != 0)
    return mx_error_at(err, MX_EFORMAT, log->path, 0, 0, NULL, "not a merx decision log: %s",
                       sqlite3_errmsg(log->db));
  if (v > MX_LEDGER_VERSION)
    return mx_error_at(err, MX_EFORMAT, log->path, 0, 0, NULL,
                       "decision log of schema version %d, written by a newer merx (this one "
                       "reads up to version %d)",
                       v, MX_LEDGER_VERSION);
  if (v == MX_LEDGER_VERSION) return MX_OK;
  /* a reader of a write-protected log written before versioning reads it
   * as it is (no lineage) */
  if (!create && sqlite3_db_readonly(log->db, "main") == 1) return MX_OK;
  int rc = mx__decisions_begin(log, err);
  if (rc != MX_OK) return rc;
  char *msg = NULL, sql[64];
  snprintf(sql, sizeof sql, "PRAGMA user_version=%d", MX_LEDGER_VERSION);
  int ok = 1;
  for (int step = v < 0 ? 0 : v; ok && step < MX_LEDGER_VERSION; step++)
    ok = sqlite3_exec(log->db, schema_steps[step], NULL, NULL, &msg) == SQLITE_OK;
  if (!ok || sqlite3_exec(log->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
    rc = mx_error_at(err, MX_EFORMAT, log->path, 0, 0, NULL, "not a merx decision log: %s",
                     msg ? msg : sqlite3_errmsg(log->db));
    sqlite3_free(msg);
    mx__decisions_rollback(log);
    return rc;
  }
  return mx__decisions_commit(log, err);
}

static void set_busy_timeout(mx_decision_log *log, double seconds) {
  log->busy_seconds = seconds;
  sqlite3_busy_timeout(log->db, (int)(seconds * 1000.0));
}

int mx__decisions_open(const char *path, int create, mx_decision_log **out, mx_error *err) {
  return mx__decisions_open_wait(path, create, 10, out, err);
}

int mx__decisions_open_wait(const char *path, int create, double busy_seconds,
                           mx_decision_log **out, mx_error *err) {
  *out = NULL;
  mx_decision_log *log = calloc(1, sizeof *log);
  if (!log) return mx_error_set(err, MX_ENOMEM, "out of memory");
  snprintf(log->path, sizeof log->path, "%s", path);
  int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0);
  if (sqlite3_open_v2(path, &log->db, flags, NULL) != SQLITE_OK) {
    int rc = mx_error_at(err, create ? MX_EIO : MX_ENOTFOUND, path, 0, 0, NULL,
                         "cannot open the decision log: %s",
                         log->db ? sqlite3_errmsg(log->db) : "out of memory");
    mx__decisions_close(log);
    return rc;
  }
  set_busy_timeout(log, busy_seconds);
  use_wal(log);
  int rc = upgrade(log, create, err);
  if (rc != MX_OK) {
    mx__decisions_close(log);
    return rc;
  }
  *out = log;
  return MX_OK;
}


struct sqlite3 *mx__decisions_db(mx_decision_log *log) { return log->db; }
const char *mx__decisions_path(const mx_decision_log *log) { return log->path; }

void mx__decisions_close(mx_decision_log *log) {
  if (!log) return;
  sqlite3_finalize(log->insert);
  sqlite3_finalize(log->lineage);
  sqlite3_finalize(log->lineage_inputs);
  sqlite3_finalize(log->count_user);
  sqlite3_finalize(log->max_rowid);
  sqlite3_finalize(log->count_field);
  sqlite3_finalize(log->data_version);
  for (int i = 0; i < log->n_inputs; i++) {
    free((char *)log->inputs[i].path);
    free((char *)log->inputs[i].sha256);
  }
  free(log->inputs);
  sqlite3_close(log->db);
  free(log);
}

int mx__decisions_begin(mx_decision_log *log, mx_error *err) {
  /* In WAL mode IMMEDIATE takes the one write lock and readers go on; in
   * rollback mode a reader would make COMMIT itself wait, after the run's
   * files were renamed, so the lock is taken exclusively up front. */
  double t0 = seconds_now();
  int rc = sqlite3_exec(log->db, log->wal ? "BEGIN IMMEDIATE" : "BEGIN EXCLUSIVE", NULL, NULL,
                        NULL);
  if (rc == SQLITE_OK) return MX_OK;
  if (busy(rc)) return locked_fail(log, err, "taking the write lock", seconds_now() - t0);
  return db_fail(log, err, "begin");
}

static void bind_text(sqlite3_stmt *st, int i, const char *s, size_t len) {
  if (!s) sqlite3_bind_null(st, i);
  else sqlite3_bind_text(st, i, s, len ? (int)len : -1, SQLITE_STATIC);
}

/* The end of a row loop whose last sqlite3_step returned s: finalize st and
 * return n rows, or the error when the loop did not end at a row or the end. */
static long finish_rows(mx_decision_log *log, sqlite3_stmt *st, int s, long n, mx_error *err) {
  long rc = s == SQLITE_ROW || s == SQLITE_DONE ? n : db_fail(log, err, "query");
  sqlite3_finalize(st);
  return rc;
}

int mx__decisions_add(mx_decision_log *log, const mx_decision_row *r, mx_error *err) {
  if (!log->insert &&
      sqlite3_prepare_v2(log->db,
                         "INSERT INTO decisions(run_id, script, script_hash, params, time,"
                         " committed_at, kind, user, record, reason)"
                         " VALUES(?,?,?,?,?,?,?,?,?,?)",
                         -1, &log->insert, NULL) != SQLITE_OK)
    return db_fail(log, err, "prepare");
  if ((r->user_len | r->record_len | r->reason_len) > (size_t)INT32_MAX)
    return mx_error_at(err, MX_ELIMIT, log->path, 0, 0, NULL, "decision log: a field over 2 GB");
  const char *v[10] = {r->run_id, r->script, r->script_hash, r->params, r->time,
                       r->committed_at, r->kind, r->user, r->record, r->reason};
  size_t len[10] = {0, 0, 0, 0, 0, 0, 0, r->user_len, r->record_len, r->reason_len};
  sqlite3_reset(log->insert);
  for (int i = 0; i < 10; i++) bind_text(log->insert, i + 1, v[i], len[i]);
  if (sqlite3_step(log->insert) != SQLITE_DONE) return db_fail(log, err, "insert");
  return MX_OK;
}

int mx__decisions_commit(mx_decision_log *log, mx_error *err) {
  if (sqlite3_exec(log->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
    int rc = db_fail(log, err, "commit");
    mx__decisions_rollback(log);
    return rc;
  }
  return MX_OK;
}

void mx__decisions_rollback(mx_decision_log *log) {
  if (log && !sqlite3_get_autocommit(log->db))
    sqlite3_exec(log->db, "ROLLBACK", NULL, NULL, NULL);
}

int mx__decisions_add_commit(mx_decision_log *log, const mx_ledger_commit *c, mx_error *err) {
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(log->db,
                         "INSERT OR REPLACE INTO commits(run_id, merx_version, script,"
                         " script_sha256, params, time, committed_at, decisions)"
                         " VALUES(?,?,?,?,?,?,?,?)",
                         -1, &st, NULL) != SQLITE_OK)
    return db_fail(log, err, "prepare");
  const char *v[7] = {c->run_id, c->merx_version, c->script, c->script_sha256,
                      c->params, c->time, c->committed_at};
  for (int i = 0; i < 7; i++) bind_text(st, i + 1, v[i] ? v[i] : "", 0);
  sqlite3_bind_int64(st, 8, c->decisions);
  int rc = sqlite3_step(st);
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE) return db_fail(log, err, "insert lineage");
  if (sqlite3_prepare_v2(log->db,
                         "INSERT OR REPLACE INTO inputs(run_id, path, sha256, bytes)"
                         " VALUES(?,?,?,?)",
                         -1, &st, NULL) != SQLITE_OK)
    return db_fail(log, err, "prepare");
  rc = SQLITE_DONE;
  for (int i = 0; i < c->n_inputs && rc == SQLITE_DONE; i++) {
    sqlite3_reset(st);
    bind_text(st, 1, c->run_id, 0);
    bind_text(st, 2, c->inputs[i].path, 0);
    bind_text(st, 3, c->inputs[i].sha256, 0);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)c->inputs[i].bytes);
    rc = sqlite3_step(st);
  }
  sqlite3_finalize(st);
  return rc == SQLITE_DONE ? MX_OK : db_fail(log, err, "insert lineage");
}

int mx__decisions_lineage(mx_decision_log *log, const char *run_id, mx_ledger_commit *c,
                         int *found, mx_error *err) {
  memset(c, 0, sizeof *c);
  *found = 0;
  for (int i = 0; i < log->n_inputs; i++) {
    free((char *)log->inputs[i].path);
    free((char *)log->inputs[i].sha256);
  }
  log->n_inputs = 0;
  if (!log->lineage &&
      sqlite3_prepare_v2(log->db,
                         "SELECT merx_version, script, script_sha256, params, time, committed_at,"
                         " decisions FROM commits WHERE run_id = ?",
                         -1, &log->lineage, NULL) != SQLITE_OK) {
    if (strstr(sqlite3_errmsg(log->db), "no such table")) return MX_OK; /* an old log */
    return db_fail(log, err, "query");
  }
  if (!log->lineage_inputs &&
      sqlite3_prepare_v2(log->db,
                         "SELECT path, sha256, bytes FROM inputs WHERE run_id = ? ORDER BY path",
                         -1, &log->lineage_inputs, NULL) != SQLITE_OK)
    return db_fail(log, err, "query");
  sqlite3_stmt *st = log->lineage;
  sqlite3_reset(st);
  bind_text(st, 1, run_id, 0);
  int rc = sqlite3_step(st);
  if (rc == SQLITE_DONE) return MX_OK;
  if (rc != SQLITE_ROW) return db_fail(log, err, "query");
  *found = 1;
  c->run_id = run_id;
  const char **f[6] = {&c->merx_version, &c->script, &c->script_sha256,
                       &c->params, &c->time, &c->committed_at};
  for (int i = 0; i < 6; i++) *f[i] = (const char *)sqlite3_column_text(st, i);
  c->decisions = (long)sqlite3_column_int64(st, 6);
  sqlite3_stmt *in = log->lineage_inputs;
  sqlite3_reset(in);
  bind_text(in, 1, run_id, 0);
  while ((rc = sqlite3_step(in)) == SQLITE_ROW) {
    if (log->n_inputs == log->cap_inputs) {
      int nc = log->cap_inputs ? 2 * log->cap_inputs : 8;
      mx_ledger_input *ni = realloc(log->inputs, (size_t)nc * sizeof *ni);
      if (!ni) return mx_error_set(err, MX_ENOMEM, "out of memory");
      log->inputs = ni;
      log->cap_inputs = nc;
    }
    mx_ledger_input *x = &log->inputs[log->n_inputs];
    x->path = mx__strdup((const char *)sqlite3_column_text(in, 0));
    x->sha256 = mx__strdup((const char *)sqlite3_column_text(in, 1));
    x->bytes = (uint64_t)sqlite3_column_int64(in, 2);
    if (!x->path || !x->sha256) {
      free((char *)x->path);
      free((char *)x->sha256);
      return mx_error_set(err, MX_ENOMEM, "out of memory");
    }
    log->n_inputs++;
  }
  if (rc != SQLITE_DONE) return db_fail(log, err, "query");
  c->n_inputs = log->n_inputs;
  c->inputs = log->inputs;
  return MX_OK;
}

long mx__decisions_find(mx_decision_log *log, const char *user, const char *kind,
                       const char *run_id, mx_decision_fn fn, void *ctx, mx_error *err) {
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(log->db,
                         "SELECT run_id, script, script_hash, params, time, committed_at, kind,"
                         " user, record, reason FROM decisions WHERE user = ?1"
                         " AND (?2 IS NULL OR kind = ?2) AND (?3 IS NULL OR run_id = ?3)"
                         " ORDER BY id",
                         -1, &st, NULL) != SQLITE_OK)
    return db_fail(log, err, "query");
  bind_text(st, 1, user, 0);
  bind_text(st, 2, kind, 0);
  bind_text(st, 3, run_id, 0);
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
  return finish_rows(log, st, s, n, err);
}

int mx__decisions_counts(mx_decision_log *log, const char *kind, const char *since_iso,
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
  return (int)finish_rows(log, st, s, MX_OK, err);
}

/* ---- caps of served decisions (ledger_queue.c) */

/* A statement prepared on first use and kept (reset after each use, so no
 * read transaction stays open between calls). */
static sqlite3_stmt *kept(mx_decision_log *log, sqlite3_stmt **slot, const char *sql) {
  if (!*slot && sqlite3_prepare_v3(log->db, sql, -1, SQLITE_PREPARE_PERSISTENT, slot, NULL) != SQLITE_OK) {
    sqlite3_finalize(*slot);
    *slot = NULL;
  }
  return *slot;
}

static void done_with(sqlite3_stmt *st) {
  sqlite3_reset(st);
  sqlite3_clear_bindings(st); /* the bound strings are the caller's */
}

/* Step a kept statement (NULL: its prepare failed) for its one row's first
 * column, then reset it. */
static int kept_int64(mx_decision_log *log, sqlite3_stmt *st, int64_t *out, mx_error *err) {
  if (!st) return db_fail(log, err, "query");
  int s = sqlite3_step(st), rc = MX_OK;
  if (s == SQLITE_ROW) *out = sqlite3_column_int64(st, 0);
  else rc = db_fail(log, err, "query");
  done_with(st);
  return rc;
}

int mx__decisions_count_user(mx_decision_log *log, const char *kind, const char *user,
                            size_t user_len, const char *since_iso, long *count, mx_error *err) {
  *count = 0;
  sqlite3_stmt *st = kept(log, &log->count_user,
                          /* '+': filters, not index keys; the user index finds the
                           * shopper's few rows, where SQLite (no statistics) chose
                           * (kind, time): every row of the window, per request */
                          "SELECT count(*) FROM decisions WHERE user = ?1 AND +kind = ?2"
                          " AND +time >= ?3");
  if (st) {
    sqlite3_bind_text(st, 1, user, (int)user_len, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, since_iso, -1, SQLITE_STATIC);
  }
  int64_t n = 0;
  int rc = kept_int64(log, st, &n, err);
  *count = (long)n;
  return rc;
}

int mx__decisions_count_field(mx_decision_log *log, const char *kind, const char *field,
                             const char *since_iso, int64_t after_rowid, int64_t *upto_rowid,
                             mx_decision_count_fn fn, void *ctx, mx_error *err) {
  sqlite3_stmt *st;
  int rc;
  if (*upto_rowid < 0 &&
      (rc = kept_int64(log, kept(log, &log->max_rowid, "SELECT coalesce(max(rowid), 0) FROM decisions"),
                       upto_rowid, err)) != MX_OK)
    return rc;
  if (*upto_rowid <= after_rowid) return MX_OK;
  if (!(st = kept(log, &log->count_field,
                  "SELECT json_extract(record, '$.\"' || ?2 || '\"') AS v, count(*)"
                  " FROM decisions WHERE rowid > ?4 AND rowid <= ?5 AND kind = ?1"
                  " AND time >= ?3 AND v IS NOT NULL GROUP BY v")))
    return db_fail(log, err, "query");
  sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, field, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 3, since_iso ? since_iso : "", -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 4, after_rowid);
  sqlite3_bind_int64(st, 5, *upto_rowid);
  int s;
  while ((s = sqlite3_step(st)) == SQLITE_ROW)
    if (fn(ctx, (const char *)sqlite3_column_text(st, 0), (long)sqlite3_column_int64(st, 1)) != 0) break;
  rc = s == SQLITE_ROW || s == SQLITE_DONE ? MX_OK : db_fail(log, err, "query");
  done_with(st);
  return rc;
}

int mx__decisions_data_version(mx_decision_log *log, int64_t *version, mx_error *err) {
  return kept_int64(log, kept(log, &log->data_version, "PRAGMA data_version"), version, err);
}

long mx__decisions_values(mx_decision_log *log, const char *run_id, const char *kind,
                         const char *value_field, const char *score_field, int *runs,
                         mx_decision_values_fn fn, void *ctx, mx_error *err) {
  sqlite3_stmt *st;
  *runs = 0;
  if (sqlite3_prepare_v2(log->db, "SELECT 1 FROM commits WHERE run_id = ?1", -1, &st, NULL) !=
      SQLITE_OK)
    return db_fail(log, err, "query");
  sqlite3_bind_text(st, 1, run_id, -1, SQLITE_STATIC);
  int s = sqlite3_step(st);
  *runs = s == SQLITE_ROW;
  sqlite3_finalize(st);
  if (s != SQLITE_ROW && s != SQLITE_DONE) return db_fail(log, err, "query");
  /* json_extract in SQL: the record is merx's own JSON, and parsing it in
   * SQLite is several times faster than handing the text out */
  char vpath[160], spath[160];
  snprintf(vpath, sizeof vpath, "$.\"%s\"", value_field ? value_field : "value");
  snprintf(spath, sizeof spath, "$.\"%s\"", score_field ? score_field : "score");
  if (sqlite3_prepare_v2(log->db,
                         "SELECT user, json_extract(record, ?3), json_extract(record, ?4)"
                         " FROM decisions WHERE run_id = ?1 AND (?2 IS NULL OR kind = ?2)"
                         " ORDER BY id",
                         -1, &st, NULL) != SQLITE_OK)
    return db_fail(log, err, "query");
  bind_text(st, 1, run_id, 0);
  bind_text(st, 2, kind, 0);
  sqlite3_bind_text(st, 3, vpath, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 4, spath, -1, SQLITE_STATIC);
  long n = 0;
  while ((s = sqlite3_step(st)) == SQLITE_ROW) {
    double v[2];
    for (int i = 0; i < 2; i++) {
      int t = sqlite3_column_type(st, 1 + i);
      v[i] = NAN;
      if (t == SQLITE_INTEGER || t == SQLITE_FLOAT) v[i] = sqlite3_column_double(st, 1 + i);
      else if (t == SQLITE_TEXT && mx_parse_double((const char *)sqlite3_column_text(st, 1 + i),
                                                   &v[i]) != 0)
        v[i] = NAN; /* a number kept as text (a CSV column) counts; other text does not */
    }
    const char *user = (const char *)sqlite3_column_text(st, 0);
    size_t len = (size_t)sqlite3_column_bytes(st, 0);
    n++;
    if (fn && fn(ctx, user, len, v[0], v[1]) != 0) break;
  }
  return finish_rows(log, st, s, n, err);
}

long mx__decisions_group(mx_decision_log *log, const char *kind, const char *run_id,
                        const char *key_field, const char *time_field, mx_decision_group_fn fn,
                        void *ctx, mx_error *err) {
  char kpath[160], tpath[160];
  snprintf(kpath, sizeof kpath, "$.\"%s\"", key_field);
  snprintf(tpath, sizeof tpath, "$.\"%s\"", time_field ? time_field : "");
  sqlite3_stmt *st;
  /* CAST keeps a number under the key as text (an item id read as a number) */
  if (sqlite3_prepare_v2(log->db,
                         "SELECT CASE WHEN json_type(record, ?3) IN ('text', 'integer')"
                         " THEN CAST(json_extract(record, ?3) AS TEXT) END AS k,"
                         " CASE WHEN ?4 = '$.\"\"' THEN time"
                         " WHEN json_type(record, ?4) = 'text' THEN json_extract(record, ?4) END AS w,"
                         " COUNT(*) FROM decisions WHERE kind = ?1 AND (?2 IS NULL OR run_id = ?2)"
                         " GROUP BY k, w ORDER BY k, w",
                         -1, &st, NULL) != SQLITE_OK)
    return db_fail(log, err, "query");
  bind_text(st, 1, kind, 0);
  bind_text(st, 2, run_id, 0);
  sqlite3_bind_text(st, 3, kpath, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 4, tpath, -1, SQLITE_STATIC);
  long n = 0;
  int s;
  while ((s = sqlite3_step(st)) == SQLITE_ROW) {
    n++;
    if (fn && fn(ctx, (const char *)sqlite3_column_text(st, 0),
                 (const char *)sqlite3_column_text(st, 1), (long)sqlite3_column_int64(st, 2)) != 0)
      break;
  }
  return finish_rows(log, st, s, n, err);
}
