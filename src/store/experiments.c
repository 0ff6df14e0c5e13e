/* Experiments, assignments and exposures in the ledger (experiments.h). */
#include "store/experiments.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

const char mx__ledger_schema_experiments[] =
    "CREATE TABLE IF NOT EXISTS experiments("
    " name TEXT PRIMARY KEY,"
    " salt TEXT NOT NULL,"
    " arms TEXT NOT NULL,"
    " stratify TEXT,"
    " control TEXT NOT NULL,"
    " created TEXT NOT NULL,"
    " run_id TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS experiment_arms("
    " experiment TEXT NOT NULL,"
    " position INTEGER NOT NULL,"
    " arm TEXT NOT NULL,"
    " share REAL NOT NULL,"
    " PRIMARY KEY(experiment, position));"
    "CREATE TABLE IF NOT EXISTS assignments("
    " experiment TEXT NOT NULL,"
    " user TEXT NOT NULL,"
    " arm TEXT NOT NULL,"
    " stratum TEXT,"
    " run_id TEXT NOT NULL,"
    " assigned_at TEXT NOT NULL,"
    " PRIMARY KEY(experiment, user));"
    "CREATE INDEX IF NOT EXISTS assignments_user ON assignments(user);"
    "CREATE TABLE IF NOT EXISTS exposures("
    " id INTEGER PRIMARY KEY,"
    " run_id TEXT NOT NULL,"
    " experiment TEXT NOT NULL,"
    " arm TEXT NOT NULL,"
    " user TEXT NOT NULL,"
    " kind TEXT NOT NULL,"
    " delivered INTEGER NOT NULL,"
    " record TEXT NOT NULL,"
    " time TEXT NOT NULL,"
    " committed_at TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS exposures_experiment ON exposures(experiment, user);"
    "CREATE INDEX IF NOT EXISTS exposures_user ON exposures(user);"
    "CREATE INDEX IF NOT EXISTS exposures_run ON exposures(run_id);";

static int fail(mx_decision_log *log, mx_error *err, const char *what) {
  return mx_error_at(err, MX_EIO, mx__decisions_path(log), 0, 0, NULL, "ledger: %s: %s", what,
                     sqlite3_errmsg(mx__decisions_db(log)));
}

/* A ledger from before experiments has no such tables: nothing to read. */
static int no_tables(mx_decision_log *log) {
  return strstr(sqlite3_errmsg(mx__decisions_db(log)), "no such table") != NULL;
}

static void bind(sqlite3_stmt *st, int i, const char *s, size_t len) {
  if (!s) sqlite3_bind_null(st, i);
  else sqlite3_bind_text(st, i, s, len ? (int)len : -1, SQLITE_STATIC);
}

static const char *col(sqlite3_stmt *st, int i) { return (const char *)sqlite3_column_text(st, i); }

static int same(const char *a, const char *b) {
  return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

void mx__experiments_describe(const mx_experiment_def *d, char *buf, size_t size) {
  snprintf(buf, size, "salt '%s', arms %s, %s%s%s, control '%s'", d->salt, d->arms,
           d->stratify ? "stratified by '" : "not stratified", d->stratify ? d->stratify : "",
           d->stratify ? "'" : "", d->control);
}

typedef struct define_ctx {
  const mx_experiment_def *want;
  int found, differs;
  char had[1024];
} define_ctx;

static int define_cb(void *ctx, const mx_experiment_def *have) {
  define_ctx *c = ctx;
  c->found = 1;
  if (!same(have->salt, c->want->salt) || !same(have->arms, c->want->arms) ||
      !same(have->stratify, c->want->stratify) || !same(have->control, c->want->control)) {
    c->differs = 1;
    mx__experiments_describe(have, c->had, sizeof c->had);
    snprintf(c->had + strlen(c->had), sizeof c->had - strlen(c->had),
             " (first run %s at %s)", have->run_id, have->created);
  }
  return 1;
}

int mx__experiments_check(mx_decision_log *log, const mx_experiment_def *def, int *found,
                         mx_error *err) {
  define_ctx c = {def, 0, 0, ""};
  *found = 0;
  int rc = mx__experiments_each(log, def->name, define_cb, &c, err);
  if (rc != MX_OK) return rc;
  if (c.differs) {
    char now[1024];
    mx__experiments_describe(def, now, sizeof now);
    return mx_error_at(err, MX_EINVAL, mx__decisions_path(log), 0, 0, NULL,
                       "experiment '%s' is already in the ledger with %s; this run defines it "
                       "with %s: an experiment's definition cannot change (give it a new name)",
                       def->name, c.had, now);
  }
  *found = c.found;
  return MX_OK;
}

int mx__experiments_define(mx_decision_log *log, const mx_experiment_def *def, mx_error *err) {
  int found;
  int rc = mx__experiments_check(log, def, &found, err);
  if (rc != MX_OK || found) return rc;
  sqlite3 *db = mx__decisions_db(log);
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(db,
                         "INSERT INTO experiments(name, salt, arms, stratify, control, created,"
                         " run_id) VALUES(?,?,?,?,?,?,?)",
                         -1, &st, NULL) != SQLITE_OK)
    return fail(log, err, "prepare");
  const char *v[7] = {def->name, def->salt,    def->arms,  def->stratify,
                      def->control, def->created, def->run_id};
  for (int i = 0; i < 7; i++) bind(st, i + 1, v[i], 0);
  int s = sqlite3_step(st);
  sqlite3_finalize(st);
  if (s != SQLITE_DONE) return fail(log, err, "insert experiment");
  if (sqlite3_prepare_v2(db,
                         "INSERT OR REPLACE INTO experiment_arms(experiment, position, arm, share)"
                         " VALUES(?,?,?,?)",
                         -1, &st, NULL) != SQLITE_OK)
    return fail(log, err, "prepare");
  s = SQLITE_DONE;
  for (int i = 0; i < def->n_arms && s == SQLITE_DONE; i++) {
    sqlite3_reset(st);
    bind(st, 1, def->name, 0);
    sqlite3_bind_int(st, 2, i + 1);
    bind(st, 3, def->arm_names[i], 0);
    sqlite3_bind_double(st, 4, def->shares[i]);
    s = sqlite3_step(st);
  }
  sqlite3_finalize(st);
  return s == SQLITE_DONE ? MX_OK : fail(log, err, "insert experiment");
}

int mx__experiments_each(mx_decision_log *log, const char *name, mx_experiment_fn fn, void *ctx,
                        mx_error *err) {
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(mx__decisions_db(log),
                         "SELECT name, salt, arms, stratify, control, created, run_id"
                         " FROM experiments WHERE ?1 IS NULL OR name = ?1 ORDER BY name",
                         -1, &st, NULL) != SQLITE_OK)
    return no_tables(log) ? MX_OK : fail(log, err, "query");
  bind(st, 1, name, 0);
  int s;
  while ((s = sqlite3_step(st)) == SQLITE_ROW) {
    mx_experiment_def d = {col(st, 0), col(st, 1), col(st, 2), col(st, 3),
                           col(st, 4), col(st, 5), col(st, 6), 0, NULL, NULL};
    if (fn(ctx, &d) != 0) {
      s = SQLITE_DONE;
      break;
    }
  }
  sqlite3_finalize(st);
  return s == SQLITE_DONE ? MX_OK : fail(log, err, "query");
}

struct mx_experiment_writer {
  mx_decision_log *log;
  sqlite3_stmt *assign, *expose;
};

int mx__experiment_writer_open(mx_decision_log *log, mx_experiment_writer **out, mx_error *err) {
  *out = NULL;
  mx_experiment_writer *w = calloc(1, sizeof *w);
  if (!w) return mx_error_set(err, MX_ENOMEM, "out of memory");
  w->log = log;
  sqlite3 *db = mx__decisions_db(log);
  if (sqlite3_prepare_v2(db,
                         "INSERT OR IGNORE INTO assignments(experiment, user, arm, stratum, run_id,"
                         " assigned_at) VALUES(?,?,?,?,?,?)",
                         -1, &w->assign, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(db,
                         "INSERT INTO exposures(run_id, experiment, arm, user, kind, delivered,"
                         " record, time, committed_at) VALUES(?,?,?,?,?,?,?,?,?)",
                         -1, &w->expose, NULL) != SQLITE_OK) {
    int rc = fail(log, err, "prepare");
    mx__experiment_writer_close(w);
    return rc;
  }
  *out = w;
  return MX_OK;
}

void mx__experiment_writer_close(mx_experiment_writer *w) {
  if (!w) return;
  sqlite3_finalize(w->assign);
  sqlite3_finalize(w->expose);
  free(w);
}

int mx__experiments_assign(mx_experiment_writer *w, const mx_assignment_row *r, mx_error *err) {
  sqlite3_stmt *st = w->assign;
  sqlite3_reset(st);
  bind(st, 1, r->experiment, 0);
  bind(st, 2, r->user, r->user_len);
  bind(st, 3, r->arm, 0);
  bind(st, 4, r->stratum, 0);
  bind(st, 5, r->run_id, 0);
  bind(st, 6, r->assigned_at, 0);
  return sqlite3_step(st) == SQLITE_DONE ? MX_OK : fail(w->log, err, "insert assignment");
}

int mx__experiments_expose(mx_experiment_writer *w, const mx_exposure_row *r, mx_error *err) {
  sqlite3_stmt *st = w->expose;
  sqlite3_reset(st);
  bind(st, 1, r->run_id, 0);
  bind(st, 2, r->experiment, 0);
  bind(st, 3, r->arm, 0);
  bind(st, 4, r->user, r->user_len);
  bind(st, 5, r->kind, 0);
  sqlite3_bind_int(st, 6, r->delivered != 0);
  bind(st, 7, r->record, r->record_len);
  bind(st, 8, r->time, 0);
  bind(st, 9, r->committed_at, 0);
  return sqlite3_step(st) == SQLITE_DONE ? MX_OK : fail(w->log, err, "insert exposure");
}

int mx__experiments_assignments(mx_decision_log *log, const char *experiment, mx_assignment_fn fn,
                               void *ctx, mx_error *err) {
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(mx__decisions_db(log),
                         "SELECT experiment, user, arm, stratum, run_id, assigned_at"
                         " FROM assignments WHERE experiment = ? ORDER BY user",
                         -1, &st, NULL) != SQLITE_OK)
    return no_tables(log) ? MX_OK : fail(log, err, "query");
  bind(st, 1, experiment, 0);
  int s;
  while ((s = sqlite3_step(st)) == SQLITE_ROW) {
    mx_assignment_row r = {col(st, 0), col(st, 1), col(st, 2), col(st, 3), col(st, 4), col(st, 5),
                           (size_t)sqlite3_column_bytes(st, 1)};
    if (fn(ctx, &r) != 0) {
      s = SQLITE_DONE;
      break;
    }
  }
  sqlite3_finalize(st);
  return s == SQLITE_DONE ? MX_OK : fail(log, err, "query");
}

/* The exposures a prepared query selects, to fn. */
static int each_exposure(mx_decision_log *log, sqlite3_stmt *st, mx_exposure_fn fn, void *ctx,
                         mx_error *err) {
  int s;
  while ((s = sqlite3_step(st)) == SQLITE_ROW) {
    mx_exposure_row r = {col(st, 0), col(st, 1), col(st, 2), col(st, 3),
                         col(st, 4), col(st, 5), col(st, 6), col(st, 7),
                         sqlite3_column_int(st, 8), (size_t)sqlite3_column_bytes(st, 3),
                         (size_t)sqlite3_column_bytes(st, 5)};
    if (fn(ctx, &r) != 0) {
      s = SQLITE_DONE;
      break;
    }
  }
  sqlite3_finalize(st);
  return s == SQLITE_DONE ? MX_OK : fail(log, err, "query");
}

#define EXPOSURE_COLUMNS \
  "SELECT run_id, experiment, arm, user, kind, record, time, committed_at, delivered FROM exposures"

int mx__experiments_exposures(mx_decision_log *log, const char *experiment, const char *run_id,
                             mx_exposure_fn fn, void *ctx, mx_error *err) {
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(mx__decisions_db(log),
                         EXPOSURE_COLUMNS " WHERE experiment = ?1 AND (?2 IS NULL OR run_id = ?2)"
                         " ORDER BY id",
                         -1, &st, NULL) != SQLITE_OK)
    return no_tables(log) ? MX_OK : fail(log, err, "query");
  bind(st, 1, experiment, 0);
  bind(st, 2, run_id, 0);
  return each_exposure(log, st, fn, ctx, err);
}

int mx__experiments_user_exposures(mx_decision_log *log, const char *user, mx_exposure_fn fn,
                                  void *ctx, mx_error *err) {
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(mx__decisions_db(log), EXPOSURE_COLUMNS " WHERE user = ? ORDER BY id", -1,
                         &st, NULL) != SQLITE_OK)
    return no_tables(log) ? MX_OK : fail(log, err, "query");
  bind(st, 1, user, 0);
  return each_exposure(log, st, fn, ctx, err);
}

int mx__experiments_units(mx_decision_log *log, const char *experiment, const char *run_id,
                         mx_exposed_unit_fn fn, void *ctx, mx_error *err) {
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(mx__decisions_db(log),
                         "SELECT a.user, a.arm, a.stratum, min(e.time) FROM assignments a"
                         " JOIN exposures e ON e.experiment = a.experiment AND e.user = a.user"
                         " WHERE a.experiment = ?1 AND (?2 IS NULL OR e.run_id = ?2)"
                         " GROUP BY a.user ORDER BY a.user",
                         -1, &st, NULL) != SQLITE_OK)
    return no_tables(log) ? MX_OK : fail(log, err, "query");
  bind(st, 1, experiment, 0);
  bind(st, 2, run_id, 0);
  int s;
  while ((s = sqlite3_step(st)) == SQLITE_ROW) {
    mx_exposed_unit u = {col(st, 0), col(st, 1), col(st, 2), col(st, 3),
                            (size_t)sqlite3_column_bytes(st, 0)};
    if (fn(ctx, &u) != 0) {
      s = SQLITE_DONE;
      break;
    }
  }
  sqlite3_finalize(st);
  return s == SQLITE_DONE ? MX_OK : fail(log, err, "query");
}

int mx__experiments_summary(mx_decision_log *log, const char *experiment, mx_arm_summary_fn fn,
                           void *ctx, mx_error *err) {
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(
          mx__decisions_db(log),
          "SELECT a.arm, a.share,"
          " (SELECT count(*) FROM assignments s WHERE s.experiment = a.experiment"
          "  AND s.arm = a.arm),"
          " (SELECT count(DISTINCT user) FROM exposures e WHERE e.experiment = a.experiment"
          "  AND e.arm = a.arm),"
          " (SELECT count(*) FROM exposures e WHERE e.experiment = a.experiment AND e.arm = a.arm),"
          " (SELECT count(*) FROM exposures e WHERE e.experiment = a.experiment AND e.arm = a.arm"
          "  AND delivered),"
          " (SELECT min(time) FROM exposures e WHERE e.experiment = a.experiment AND e.arm = a.arm),"
          " (SELECT max(time) FROM exposures e WHERE e.experiment = a.experiment AND e.arm = a.arm)"
          " FROM experiment_arms a WHERE a.experiment = ? ORDER BY a.position",
          -1, &st, NULL) != SQLITE_OK)
    return no_tables(log) ? MX_OK : fail(log, err, "query");
  bind(st, 1, experiment, 0);
  int s;
  while ((s = sqlite3_step(st)) == SQLITE_ROW) {
    mx_arm_summary a = {col(st, 0),
                        col(st, 6),
                        col(st, 7),
                        sqlite3_column_double(st, 1),
                        (long)sqlite3_column_int64(st, 2),
                        (long)sqlite3_column_int64(st, 3),
                        (long)sqlite3_column_int64(st, 4),
                        (long)sqlite3_column_int64(st, 5)};
    if (fn(ctx, &a) != 0) {
      s = SQLITE_DONE;
      break;
    }
  }
  sqlite3_finalize(st);
  return s == SQLITE_DONE ? MX_OK : fail(log, err, "query");
}
