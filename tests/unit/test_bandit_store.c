/* Bandit state in the ledger (store/bandit.h): a save lands whole or not at
 * all, refuses outcomes already applied and refuses a state another run
 * changed since it was read (the version check that keeps two concurrent
 * nightly runs from both counting the same outcomes). */
#include <sqlite3.h>
#include <string.h>

#include "store/bandit.h"
#include "store/decisions.h"
#include "testutil.h"

static mx_error err;

typedef struct {
  int n;
  double alpha[4], beta[4];
} arms;
static int collect(void *ctx, const mx_bandit_arm_row *r) {
  arms *a = ctx;
  a->alpha[a->n] = r->alpha;
  a->beta[a->n] = r->beta;
  a->n++;
  return 0;
}

static int save(mx_decision_log *log, long updates, const char *source, double a0) {
  const char *segs[2] = {"", ""}, *offs[2] = {"A", "B"};
  double alpha[2] = {a0, 1}, beta[2] = {1, 2};
  long dec = 3, conv = 1;
  mx_bandit_save s = {"b", "run", "2026-01-01T00:00:00Z", updates, 2, segs, offs, alpha, beta,
                      1, &source, &dec, &conv};
  int rc = mx__decisions_begin(log, &err);
  if (rc != MX_OK) return rc;
  if ((rc = mx__bandit_store_save(log, &s, &err)) != MX_OK) {
    mx__decisions_rollback(log);
    return rc;
  }
  return mx__decisions_commit(log, &err);
}

static void test_save_checks_version_and_sources(void **state) {
  (void)state;
  mx_decision_log *log;
  assert_int_equal(mx__decisions_open(tu_path("l.db"), 1, &log, &err), MX_OK);
  long updates = -1;
  arms a = {0};
  assert_int_equal(mx__bandit_store_arms(log, "b", collect, &a, &updates, &err), MX_OK);
  assert_int_equal(updates, 0);
  assert_int_equal(a.n, 0);
  assert_int_equal(save(log, 0, "night-1", 5), MX_OK);
  /* a second run that read version 0 too: refused, state unchanged */
  assert_int_equal(save(log, 0, "night-2", 9), MX_ESTATE);
  assert_non_null(strstr(err.message, "updated by another run"));
  /* the same outcomes again: refused */
  assert_int_equal(save(log, 1, "night-1", 9), MX_ESTATE);
  assert_non_null(strstr(err.message, "already applied"));
  int applied;
  assert_int_equal(mx__bandit_store_applied(log, "b", "night-1", &applied, &err), MX_OK);
  assert_int_equal(applied, 1);
  assert_int_equal(mx__bandit_store_applied(log, "b", "night-2", &applied, &err), MX_OK);
  assert_int_equal(applied, 0);
  memset(&a, 0, sizeof a);
  assert_int_equal(mx__bandit_store_arms(log, "b", collect, &a, &updates, &err), MX_OK);
  assert_int_equal(updates, 1);
  assert_int_equal(a.n, 2);
  assert_true(a.alpha[0] == 5 && a.beta[1] == 2);
  /* the current version goes through */
  assert_int_equal(save(log, 1, "night-2", 9), MX_OK);
  memset(&a, 0, sizeof a);
  assert_int_equal(mx__bandit_store_arms(log, NULL, collect, &a, &updates, &err), MX_OK);
  assert_true(a.alpha[0] == 9);
  mx__decisions_close(log);
}

/* a version-1 ledger (decisions and lineage only) gains the bandit tables */
static void test_upgrade_from_version_1(void **state) {
  (void)state;
  const char *path = tu_path("v1.db");
  sqlite3 *db;
  assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
  assert_int_equal(sqlite3_exec(db,
                                "CREATE TABLE decisions(id INTEGER PRIMARY KEY, run_id TEXT NOT NULL,"
                                " script TEXT NOT NULL, script_hash TEXT NOT NULL, params TEXT NOT NULL,"
                                " time TEXT NOT NULL, committed_at TEXT NOT NULL, kind TEXT NOT NULL,"
                                " user TEXT, record TEXT NOT NULL, reason TEXT NOT NULL);"
                                "PRAGMA user_version=1;",
                                NULL, NULL, NULL),
                   SQLITE_OK);
  sqlite3_close(db);
  mx_decision_log *log;
  assert_int_equal(mx__decisions_open(path, 0, &log, &err), MX_OK);
  assert_int_equal(save(log, 0, "w", 2), MX_OK);
  mx__decisions_close(log);
  assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
  sqlite3_stmt *st;
  assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL), SQLITE_OK);
  assert_int_equal(sqlite3_step(st), SQLITE_ROW);
  assert_int_equal(sqlite3_column_int(st, 0), MX_LEDGER_VERSION);
  sqlite3_finalize(st);
  sqlite3_close(db);
}

int main(void) {
  tu_filters();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_save_checks_version_and_sources),
      cmocka_unit_test(test_upgrade_from_version_1),
  };
  return tu_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
