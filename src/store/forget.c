/* Erasure in a store folder (forget.h). */
#include "store/forget.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store/decisions.h"
#include "store/privacy.h"
#include "store/store.h"
#include "util/util.h"

static const char ERASED[] = "[erased]";

static int exec_count(sqlite3 *db, const char *sql, const char *id, long *count) {
  sqlite3_stmt *st;
  int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
  if (rc != SQLITE_OK) /* a ledger without that table (older, or no scheduler) */
    return strstr(sqlite3_errmsg(db), "no such table") ? SQLITE_OK : rc;
  sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, ERASED, -1, SQLITE_STATIC);
  rc = sqlite3_step(st);
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE) return rc;
  *count += sqlite3_changes(db);
  return SQLITE_OK;
}

int mx__store_forget_ledger(const char *ledger_path, const char *const *ids, int n,
                           mx_forget_counts *c, mx_error *err) {
  if (access(ledger_path, F_OK) != 0) return MX_OK;
  mx_decision_log *log;
  int rc = mx__decisions_open(ledger_path, 0, &log, err);
  if (rc != MX_OK) return rc;
  sqlite3 *db = mx__decisions_db(log);
  sqlite3_exec(db, "PRAGMA secure_delete=ON", NULL, NULL, NULL);
  if ((rc = mx__decisions_begin(log, err)) != MX_OK) {
    mx__decisions_close(log);
    return rc;
  }
  /* the person's own rows, by the indexed user column; then the id quoted
   * inside anybody else's (a reason naming a referrer, a --set user=X run) */
  static const struct {
    const char *sql;
    int counter;
  } steps[] = {
      {"DELETE FROM decisions WHERE user = ?1", 0},
      {"DELETE FROM exposures WHERE user = ?1", 1},
      {"DELETE FROM assignments WHERE user = ?1", 2},
      {"UPDATE decisions SET record = replace(record, ?1, ?2), reason = replace(reason, ?1, ?2)"
       " WHERE instr(record, ?1) OR instr(reason, ?1)", 3},
      {"UPDATE exposures SET record = replace(record, ?1, ?2) WHERE instr(record, ?1)", 3},
      {"UPDATE commits SET params = replace(params, ?1, ?2) WHERE instr(params, ?1)", 3},
      {"UPDATE decisions SET params = replace(params, ?1, ?2) WHERE instr(params, ?1)", 3},
      {"UPDATE runs SET error = replace(error, ?1, ?2) WHERE instr(error, ?1)", 4},
      {"DELETE FROM queries WHERE user = ?1", 5},
      {"UPDATE queries SET text = replace(text, ?1, ?2), session = replace(session, ?1, ?2)"
       " WHERE instr(text, ?1) OR instr(session, ?1)", 3},
  };
  long *counters[] = {&c->decisions, &c->exposures, &c->assignments, &c->mentions, &c->runs,
                      &c->queries};
  int src = SQLITE_OK;
  for (int i = 0; i < n && src == SQLITE_OK; i++)
    for (size_t s = 0; s < sizeof steps / sizeof *steps && src == SQLITE_OK; s++)
      src = exec_count(db, steps[s].sql, ids[i], counters[steps[s].counter]);
  if (src != SQLITE_OK) {
    rc = mx_error_at(err, MX_EIO, ledger_path, 0, 0, NULL, "forget: %s", sqlite3_errmsg(db));
    mx__decisions_rollback(log);
    mx__decisions_close(log);
    return rc;
  }
  if ((rc = mx__decisions_commit(log, err)) != MX_OK) {
    mx__decisions_close(log);
    return rc;
  }
  /* the WAL still holds the old pages: copy back (zeroed) and empty it */
  if (sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL) != SQLITE_OK &&
      sqlite3_errcode(db) != SQLITE_OK && sqlite3_errcode(db) != SQLITE_BUSY)
    rc = mx_error_at(err, MX_EIO, ledger_path, 0, 0, NULL, "forget: checkpoint: %s",
                     sqlite3_errmsg(db));
  else if (sqlite3_errcode(db) == SQLITE_BUSY)
    rc = mx_error_at(err, MX_EIO, ledger_path, 0, 0, NULL,
                     "forget: a reader kept the ledger's write-ahead log busy; its old pages "
                     "may still hold the id: run merx forget again when it is done");
  mx__decisions_close(log);
  return rc;
}

static int ends_with(const char *s, const char *suffix) {
  size_t a = strlen(s), b = strlen(suffix);
  return a >= b && strcmp(s + a - b, suffix) == 0;
}

static int is_cache_path(const char *rel) {
  return ends_with(rel, ".emb") || strncmp(rel, "cache/", 6) == 0 || strstr(rel, "/cache/") ||
         strncmp(rel, "caches/", 7) == 0;
}

/* Occurrences of any id in data, or -1. */
static long count_ids(const char *data, size_t len, const char *const *ids, int n) {
  long hits = 0;
  for (int i = 0; i < n; i++) {
    size_t il = strlen(ids[i]);
    if (!il) continue;
    for (const char *p = data; (p = memmem(p, len - (size_t)(p - data), ids[i], il)); p += il)
      hits++;
  }
  return hits;
}

static int scrub_file(const char *path, const char *rel, const char *const *ids, int n,
                      mx_forget_counts *c, mx_error *err) {
  char *data;
  size_t len;
  int rc = mx__read_file(path, &data, &len, err);
  if (rc != MX_OK) return rc;
  if (count_ids(data, len, ids, n) == 0) {
    free(data);
    return MX_OK;
  }
  if (is_cache_path(rel)) { /* a cache entry is rebuilt on demand */
    free(data);
    if (unlink(path) != 0 && errno != ENOENT)
      return mx_error_at(err, MX_EIO, path, 0, 0, NULL, "forget: %s", strerror(errno));
    c->files_deleted++;
    return MX_OK;
  }
  mx_atomic_file af;
  if ((rc = mx__atomic_open(&af, path, err)) != MX_OK) {
    free(data);
    return rc;
  }
  const char *p = data, *end = data + len;
  while (p < end) {
    const char *best = NULL;
    size_t best_len = 0;
    for (int i = 0; i < n; i++) {
      size_t il = strlen(ids[i]);
      const char *q = il ? memmem(p, (size_t)(end - p), ids[i], il) : NULL;
      if (q && (!best || q < best || (q == best && il > best_len))) best = q, best_len = il;
    }
    if (!best) best = end;
    fwrite(p, 1, (size_t)(best - p), af.f);
    if (best == end) break;
    fputs(ERASED, af.f);
    p = best + best_len;
  }
  free(data);
  if ((rc = mx__atomic_commit(&af, err)) != MX_OK) return rc;
  c->files_rewritten++;
  return MX_OK;
}

static int skip_name(const char *rel) {
  static const char *const own[] = {MX_STORE_LEDGER, MX_STORE_LEDGER "-wal", MX_STORE_LEDGER "-shm",
                                    MX_STORE_LEDGER ".lock", MX_STORE_KEY, MX_STORE_CONFIG, NULL};
  for (int i = 0; own[i]; i++)
    if (strcmp(rel, own[i]) == 0) return 1;
  return strncmp(rel, "erasures/", 9) == 0 || strstr(rel, ".tmp") != NULL;
}

static int walk(const char *dir, const char *rel, const char *const *ids, int n,
                mx_forget_model_fn model_fn, void *ctx, mx_forget_counts *c, mx_error *err) {
  char path[4096];
  snprintf(path, sizeof path, "%s%s%s", dir, *rel ? "/" : "", rel);
  DIR *d = opendir(path);
  if (!d) return mx_error_at(err, MX_EIO, path, 0, 0, NULL, "forget: %s", strerror(errno));
  int rc = MX_OK;
  struct dirent *e;
  while (rc == MX_OK && (e = readdir(d))) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    char sub[4096], full[8200];
    if (snprintf(sub, sizeof sub, "%s%s%s", rel, *rel ? "/" : "", e->d_name) >= (int)sizeof sub ||
        snprintf(full, sizeof full, "%s/%s", dir, sub) >= (int)sizeof full) {
      rc = mx_error_at(err, MX_EINVAL, path, 0, 0, NULL, "forget: path too long");
      break;
    }
    struct stat st;
    if (lstat(full, &st) != 0) continue;
    if (S_ISDIR(st.st_mode)) rc = walk(dir, sub, ids, n, model_fn, ctx, c, err);
    else if (!S_ISREG(st.st_mode) || skip_name(sub)) continue;
    else if (ends_with(sub, ".mxm")) rc = model_fn ? model_fn(ctx, full, err) : MX_OK;
    else rc = scrub_file(full, sub, ids, n, c, err);
  }
  closedir(d);
  return rc;
}

int mx__store_forget_files(const char *dir, const char *const *ids, int n,
                          mx_forget_model_fn model_fn, void *ctx, mx_forget_counts *c,
                          mx_error *err) {
  return walk(dir, "", ids, n, model_fn, ctx, c, err);
}
