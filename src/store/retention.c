/* Retention (retention.h). */
#include "store/retention.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "merx/csv.h"
#include "store/decisions.h"
#include "store/store.h"

static int64_t file_bytes(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 ? (int64_t)st.st_size : 0;
}

static int64_t ledger_bytes(const char *ledger) {
  char wal[4200];
  snprintf(wal, sizeof wal, "%s-wal", ledger);
  return file_bytes(ledger) + file_bytes(wal);
}

/* Rows changed by sql with ?1 bound to the cutoff (text or number); a table
 * the ledger does not have yet changes nothing. */
static int run_sql(sqlite3 *db, const char *sql, const char *cutoff_iso, int64_t cutoff,
                   long *count) {
  sqlite3_stmt *st;
  int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
  if (rc != SQLITE_OK) return strstr(sqlite3_errmsg(db), "no such table") ? SQLITE_OK : rc;
  if (cutoff_iso) sqlite3_bind_text(st, 1, cutoff_iso, -1, SQLITE_STATIC);
  else sqlite3_bind_int64(st, 1, cutoff);
  rc = sqlite3_step(st);
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE) return rc;
  *count += sqlite3_changes(db);
  return SQLITE_OK;
}

static int prune_cache(const char *dir, int64_t cutoff, long *count) {
  DIR *d = opendir(dir);
  if (!d) return 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    char path[8200];
    if (snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= (int)sizeof path) continue;
    struct stat st;
    if (lstat(path, &st) != 0) continue;
    if (S_ISDIR(st.st_mode)) prune_cache(path, cutoff, count);
    else if (S_ISREG(st.st_mode) && (int64_t)st.st_mtime < cutoff && unlink(path) == 0)
      (*count)++;
  }
  closedir(d);
  return 0;
}

int mx__store_vacuum(const char *dir, const mx_store_policy *p, int64_t now, mx_vacuum_counts *c,
                    mx_error *err) {
  memset(c, 0, sizeof *c);
  char *ledger = mx__store_ledger_path(dir);
  if (!ledger) return mx_error_set(err, MX_ENOMEM, "out of memory");
  int rc = MX_OK;
  if (access(ledger, F_OK) == 0) {
    c->bytes_before = ledger_bytes(ledger);
    mx_decision_log *log;
    if ((rc = mx__decisions_open(ledger, 0, &log, err)) != MX_OK) {
      free(ledger);
      return rc;
    }
    sqlite3 *db = mx__decisions_db(log);
    sqlite3_exec(db, "PRAGMA secure_delete=ON", NULL, NULL, NULL);
    char dec_iso[32], exp_iso[32];
    int64_t dec_cut = now - (int64_t)p->retain_decisions_days * 86400;
    int64_t exp_cut = now - (int64_t)p->retain_exposures_days * 86400;
    int64_t run_cut = now - (int64_t)p->retain_runs_days * 86400;
    mx_format_time(dec_cut, 0, dec_iso, sizeof dec_iso);
    mx_format_time(exp_cut, 0, exp_iso, sizeof exp_iso);
    int src = SQLITE_OK;
    if ((rc = mx__decisions_begin(log, err)) == MX_OK) {
      if (p->retain_decisions_days > 0)
        src = run_sql(db, "DELETE FROM decisions WHERE committed_at < ?1", dec_iso, 0,
                      &c->decisions);
      if (src == SQLITE_OK && p->retain_exposures_days > 0) {
        src = run_sql(db, "DELETE FROM exposures WHERE committed_at < ?1", exp_iso, 0,
                      &c->exposures);
        if (src == SQLITE_OK)
          src = run_sql(db,
                        "DELETE FROM assignments WHERE assigned_at < ?1 AND NOT EXISTS (SELECT 1"
                        " FROM exposures e WHERE e.experiment = assignments.experiment AND"
                        " e.user = assignments.user)",
                        exp_iso, 0, &c->assignments);
      }
      if (src == SQLITE_OK && p->retain_queries_days > 0) {
        char q_iso[32];
        mx_format_time(now - (int64_t)p->retain_queries_days * 86400, 0, q_iso, sizeof q_iso);
        src = run_sql(db, "DELETE FROM queries WHERE at < ?1", q_iso, 0, &c->queries);
      }
      if (src == SQLITE_OK && p->retain_runs_days > 0)
        src = run_sql(db, "DELETE FROM runs WHERE status != 'running' AND started < ?1", NULL,
                      run_cut, &c->runs);
      if (src != SQLITE_OK) {
        rc = mx_error_at(err, MX_EIO, ledger, 0, 0, NULL, "vacuum: %s", sqlite3_errmsg(db));
        mx__decisions_rollback(log);
      } else {
        rc = mx__decisions_commit(log, err);
      }
    }
    /* rebuild the file: freed pages go, the file shrinks; then empty the WAL */
    if (rc == MX_OK && sqlite3_exec(db, "VACUUM", NULL, NULL, NULL) != SQLITE_OK)
      rc = mx_error_at(err, MX_EIO, ledger, 0, 0, NULL, "vacuum: %s", sqlite3_errmsg(db));
    if (rc == MX_OK)
      sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
    mx__decisions_close(log);
    c->bytes_after = ledger_bytes(ledger);
  }
  free(ledger);
  if (rc == MX_OK && p->retain_cache_days > 0) {
    char cache[4200];
    snprintf(cache, sizeof cache, "%s/cache", dir);
    prune_cache(cache, now - (int64_t)p->retain_cache_days * 86400, &c->cache_files);
  }
  return rc;
}
