/* Bandit state in the ledger (store/bandit.h). */
#include "store/bandit.h"

#include <string.h>

#include <sqlite3.h>

const char mx__bandit_schema[] =
    "CREATE TABLE IF NOT EXISTS bandit_arms("
    " bandit TEXT NOT NULL,"
    " segment TEXT NOT NULL,"
    " offer TEXT NOT NULL,"
    " alpha REAL NOT NULL,"
    " beta REAL NOT NULL,"
    " updated TEXT NOT NULL,"
    " PRIMARY KEY(bandit, segment, offer));"
    "CREATE TABLE IF NOT EXISTS bandit_updates("
    " bandit TEXT NOT NULL,"
    " source TEXT NOT NULL,"
    " run_id TEXT NOT NULL,"
    " applied_at TEXT NOT NULL,"
    " decisions INTEGER NOT NULL,"
    " conversions INTEGER NOT NULL,"
    " PRIMARY KEY(bandit, source));";

static int fail(mx_decision_log *log, mx_error *err, const char *what) {
  return mx_error_set(err, MX_EIO, "bandit state: %s: %s", what,
                      sqlite3_errmsg(mx__decisions_db(log)));
}

static int prepare(mx_decision_log *log, const char *sql, sqlite3_stmt **st, mx_error *err) {
  if (sqlite3_prepare_v2(mx__decisions_db(log), sql, -1, st, NULL) == SQLITE_OK) return MX_OK;
  *st = NULL;
  /* a ledger opened read-only before its upgrade has no bandit tables */
  if (strstr(sqlite3_errmsg(mx__decisions_db(log)), "no such table")) return 1;
  return fail(log, err, "query");
}

static int update_count(mx_decision_log *log, const char *bandit, long *n, mx_error *err) {
  sqlite3_stmt *st;
  *n = 0;
  int rc = prepare(log, "SELECT count(*) FROM bandit_updates WHERE bandit = ?", &st, err);
  if (rc != MX_OK) return rc > 0 ? MX_OK : rc;
  sqlite3_bind_text(st, 1, bandit, -1, SQLITE_STATIC);
  rc = sqlite3_step(st) == SQLITE_ROW ? MX_OK : fail(log, err, "query");
  if (rc == MX_OK) *n = (long)sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return rc;
}

int mx__bandit_store_arms(mx_decision_log *log, const char *bandit, mx_bandit_arm_fn fn,
                         void *ctx, long *updates, mx_error *err) {
  int rc;
  if (updates && bandit && (rc = update_count(log, bandit, updates, err)) != MX_OK) return rc;
  sqlite3_stmt *st;
  rc = prepare(log,
               "SELECT bandit, segment, offer, alpha, beta, updated FROM bandit_arms"
               " WHERE ?1 IS NULL OR bandit = ?1 ORDER BY bandit, segment, offer",
               &st, err);
  if (rc != MX_OK) return rc > 0 ? MX_OK : rc;
  if (bandit) sqlite3_bind_text(st, 1, bandit, -1, SQLITE_STATIC);
  int s;
  while ((s = sqlite3_step(st)) == SQLITE_ROW) {
    mx_bandit_arm_row r = {(const char *)sqlite3_column_text(st, 0),
                           (const char *)sqlite3_column_text(st, 1),
                           (const char *)sqlite3_column_text(st, 2),
                           (const char *)sqlite3_column_text(st, 5), sqlite3_column_double(st, 3),
                           sqlite3_column_double(st, 4)};
    if (fn(ctx, &r) != 0) break;
  }
  rc = s == SQLITE_ROW || s == SQLITE_DONE ? MX_OK : fail(log, err, "query");
  sqlite3_finalize(st);
  return rc;
}

int mx__bandit_store_applied(mx_decision_log *log, const char *bandit, const char *source,
                            int *applied, mx_error *err) {
  sqlite3_stmt *st;
  *applied = 0;
  int rc = prepare(log, "SELECT 1 FROM bandit_updates WHERE bandit = ? AND source = ?", &st, err);
  if (rc != MX_OK) return rc > 0 ? MX_OK : rc;
  sqlite3_bind_text(st, 1, bandit, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, source, -1, SQLITE_STATIC);
  int s = sqlite3_step(st);
  *applied = s == SQLITE_ROW;
  rc = s == SQLITE_ROW || s == SQLITE_DONE ? MX_OK : fail(log, err, "query");
  sqlite3_finalize(st);
  return rc;
}

int mx__bandit_store_pending(mx_decision_log *log, const char *bandit, const char *kind,
                            const char *before_iso, mx_bandit_decision_fn fn, void *ctx,
                            mx_error *err) {
  sqlite3_stmt *st;
  /* kind and time use the decisions_kind_time index; the record is merx's
   * own JSON, so json_extract cannot meet a malformed one */
  int rc = prepare(log,
                   "SELECT run_id, user, coalesce(json_extract(record, '$.segment'), ''),"
                   " json_extract(record, '$.offer') FROM decisions"
                   " WHERE kind = ?1 AND time < ?2 AND user IS NOT NULL"
                   " AND json_extract(record, '$.bandit') = ?3"
                   " AND run_id NOT IN (SELECT source FROM bandit_updates WHERE bandit = ?3)"
                   " ORDER BY id",
                   &st, err);
  if (rc != MX_OK) return rc > 0 ? MX_OK : rc;
  sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, before_iso, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 3, bandit, -1, SQLITE_STATIC);
  int s;
  while ((s = sqlite3_step(st)) == SQLITE_ROW) {
    const char *offer = (const char *)sqlite3_column_text(st, 3);
    if (!offer) continue; /* not a choice of this bandit's shape */
    if (fn(ctx, (const char *)sqlite3_column_text(st, 0), (const char *)sqlite3_column_text(st, 1),
           (const char *)sqlite3_column_text(st, 2), offer) != 0)
      break;
  }
  rc = s == SQLITE_ROW || s == SQLITE_DONE ? MX_OK : fail(log, err, "query");
  sqlite3_finalize(st);
  return rc;
}

int mx__bandit_store_save(mx_decision_log *log, const mx_bandit_save *s, mx_error *err) {
  long now;
  int rc = update_count(log, s->bandit, &now, err);
  if (rc != MX_OK) return rc;
  if (now != s->updates)
    return mx_error_set(err, MX_ESTATE,
                        "bandit '%s' was updated by another run while this one ran (%ld update "
                        "batches then, %ld now); nothing committed, run again",
                        s->bandit, s->updates, now);
  for (size_t i = 0; i < s->n_sources; i++) {
    int applied;
    if ((rc = mx__bandit_store_applied(log, s->bandit, s->sources[i], &applied, err)) != MX_OK)
      return rc;
    if (applied)
      return mx_error_set(err, MX_ESTATE,
                          "bandit '%s': the outcomes of '%s' were already applied; nothing "
                          "committed",
                          s->bandit, s->sources[i]);
  }
  sqlite3_stmt *st;
  if ((rc = prepare(log,
                    "INSERT INTO bandit_updates(bandit, source, run_id, applied_at, decisions,"
                    " conversions) VALUES(?,?,?,?,?,?)",
                    &st, err)) != MX_OK)
    return rc > 0 ? fail(log, err, "no bandit tables") : rc;
  int s_rc = SQLITE_DONE;
  for (size_t i = 0; i < s->n_sources && s_rc == SQLITE_DONE; i++) {
    sqlite3_reset(st);
    sqlite3_bind_text(st, 1, s->bandit, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, s->sources[i], -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, s->run_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, s->time_iso, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, s->decisions[i]);
    sqlite3_bind_int64(st, 6, s->conversions[i]);
    s_rc = sqlite3_step(st);
  }
  sqlite3_finalize(st);
  if (s_rc != SQLITE_DONE) return fail(log, err, "insert");
  if ((rc = prepare(log,
                    "INSERT OR REPLACE INTO bandit_arms(bandit, segment, offer, alpha, beta,"
                    " updated) VALUES(?,?,?,?,?,?)",
                    &st, err)) != MX_OK)
    return rc > 0 ? fail(log, err, "no bandit tables") : rc;
  for (size_t i = 0; i < s->n_arms && s_rc == SQLITE_DONE; i++) {
    sqlite3_reset(st);
    sqlite3_bind_text(st, 1, s->bandit, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, s->segments[i], -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, s->offers[i], -1, SQLITE_STATIC);
    sqlite3_bind_double(st, 4, s->alpha[i]);
    sqlite3_bind_double(st, 5, s->beta[i]);
    sqlite3_bind_text(st, 6, s->time_iso, -1, SQLITE_STATIC);
    s_rc = sqlite3_step(st);
  }
  sqlite3_finalize(st);
  return s_rc == SQLITE_DONE ? MX_OK : fail(log, err, "insert");
}
