/* Stored queries (queries.h). */
#include "store/queries.h"

#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "merx/csv.h"
#include "store/store.h"
#include "util/util.h"

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS queries("
    " id INTEGER PRIMARY KEY,"
    " at TEXT NOT NULL,"
    " source TEXT NOT NULL,"
    " user TEXT,"
    " session TEXT,"
    " role TEXT NOT NULL,"
    " text TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS queries_user ON queries(user);"
    "CREATE INDEX IF NOT EXISTS queries_at ON queries(at);";

/* Bind s (NULL: SQL NULL) redacted into buf (sized for the longest text). */
static void bind_redacted(sqlite3_stmt *st, int col, const char *s, char *buf, size_t size) {
  if (!s) {
    sqlite3_bind_null(st, col);
    return;
  }
  size_t n = mx__redact_personal(s, strlen(s), buf, size);
  sqlite3_bind_text(st, col, buf, (int)n, SQLITE_TRANSIENT);
}

int mx__queries_add(mx_decision_log *log, const mx_query_row *rows, size_t n, mx_error *err) {
  if (n == 0) return MX_OK;
  sqlite3 *db = mx__decisions_db(log);
  const char *path = mx__decisions_path(log);
  if (sqlite3_exec(db, schema, NULL, NULL, NULL) != SQLITE_OK)
    return mx_error_at(err, MX_EIO, path, 0, 0, NULL, "stored queries: %s", sqlite3_errmsg(db));
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(db,
                         "INSERT INTO queries(at, source, user, session, role, text)"
                         " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                         -1, &st, NULL) != SQLITE_OK)
    return mx_error_at(err, MX_EIO, path, 0, 0, NULL, "stored queries: %s", sqlite3_errmsg(db));
  /* a redacted text is at most 7/6 of the original ("a@b.cd" -> "[email]") */
  size_t longest = 0;
  for (size_t i = 0; i < n; i++) {
    size_t a = strlen(rows[i].text), b = rows[i].session ? strlen(rows[i].session) : 0;
    if (a > longest) longest = a;
    if (b > longest) longest = b;
  }
  size_t size = longest + longest / 6 + 16;
  char *buf = malloc(size);
  int rc = buf ? MX_OK : mx_error_set(err, MX_ENOMEM, "out of memory");
  for (size_t i = 0; i < n && rc == MX_OK; i++) {
    const mx_query_row *r = &rows[i];
    char at[32];
    mx_format_time(r->at, 0, at, sizeof at);
    sqlite3_reset(st);
    sqlite3_bind_text(st, 1, at, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, r->source, -1, SQLITE_STATIC);
    if (r->user) sqlite3_bind_text(st, 3, r->user, -1, SQLITE_STATIC);
    else sqlite3_bind_null(st, 3);
    bind_redacted(st, 4, r->session, buf, size);
    sqlite3_bind_text(st, 5, r->role, -1, SQLITE_STATIC);
    bind_redacted(st, 6, r->text, buf, size);
    if (sqlite3_step(st) != SQLITE_DONE)
      rc = mx_error_at(err, MX_EIO, path, 0, 0, NULL, "stored queries: %s", sqlite3_errmsg(db));
  }
  sqlite3_finalize(st);
  free(buf);
  return rc;
}

int mx__queries_store(const char *dir, const mx_query_row *rows, size_t n, mx_error *err) {
  int rc = mx__store_create(dir, err);
  if (rc != MX_OK) return rc;
  char *ledger = mx__store_ledger_path(dir);
  if (!ledger) return mx_error_set(err, MX_ENOMEM, "out of memory");
  mx_decision_log *log;
  rc = mx__decisions_open(ledger, 1, &log, err);
  free(ledger);
  if (rc != MX_OK) return rc;
  if ((rc = mx__decisions_begin(log, err)) == MX_OK) {
    if ((rc = mx__queries_add(log, rows, n, err)) == MX_OK) rc = mx__decisions_commit(log, err);
    else mx__decisions_rollback(log);
  }
  mx__decisions_close(log);
  return rc;
}
