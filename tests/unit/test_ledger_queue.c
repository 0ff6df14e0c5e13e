/* Served decisions to the ledger (store/ledger_queue.h): batches, caps under
 * concurrent admission (no overshoot, counted in the ledger afterwards),
 * rows already in the ledger counting against a cap, and a full queue while
 * the ledger is locked refusing new rows without losing queued ones; the cap
 * queries, prepared once per log, see rows another connection commits
 * between calls and hold no read transaction open between them. */
#include "testutil.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/decisions.h"
#include "store/ledger_queue.h"
#include "store/queries.h"

static long count_in(const char *path, const char *table, const char *where) {
  sqlite3 *db;
  assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
  char sql[512];
  snprintf(sql, sizeof sql, "SELECT count(*) FROM %s WHERE %s", table, where);
  sqlite3_stmt *st;
  assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
  assert_int_equal(sqlite3_step(st), SQLITE_ROW);
  long n = (long)sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return n;
}

static long count_rows(const char *path, const char *where) { return count_in(path, "decisions", where); }

static mx_ledger_queue_options base(const char *path) {
  mx_ledger_queue_options o;
  memset(&o, 0, sizeof o);
  o.ledger_path = path;
  o.run_id = "serve-test";
  o.script = "rules.lua";
  o.flush_rows = 8;
  o.flush_seconds = 0.01;
  return o;
}

static const int64_t NOW = 1770000000; /* 2026-02-02 */

static int admit_one(mx_ledger_queue *q, const char *user, const char *offer, int64_t now) {
  char rec[128];
  snprintf(rec, sizeof rec, "{\"user\":\"%s\",\"offer\":\"%s\"}", user, offer);
  mx_queued_decision d = {"offer", user, strlen(user), rec, "test", 4, offer, NULL, NULL, NULL};
  const char *refused;
  mx_error err;
  int rc = mx__ledger_queue_admit(q, &d, 1, now, &refused, &err);
  assert_int_equal(rc, MX_OK);
  return refused == NULL;
}

typedef struct worker {
  mx_ledger_queue *q;
  int id, accepted;
} worker;

static void *hammer(void *arg) {
  worker *w = arg;
  char user[16];
  for (int i = 0; i < 60; i++) {
    snprintf(user, sizeof user, "u%d", (i + w->id) % 5);
    w->accepted += admit_one(w->q, user, i % 2 ? "SPRING10" : "VIP20", NOW);
  }
  return NULL;
}

static void test_caps_hold_under_concurrency(void **state) {
  (void)state;
  const char *path = tu_path("caps.db");
  mx_ledger_queue_options o = base(path);
  const char *ids[] = {"SPRING10"};
  long max[] = {7};
  o.caps = (mx_ledger_caps){"offer", 3, 30, "offer", NULL, NULL, 1, ids, max, -1};
  mx_ledger_queue *q;
  mx_error err;
  assert_int_equal(mx__ledger_queue_open(&o, &q, &err), MX_OK);
  pthread_t t[8];
  worker w[8];
  for (int i = 0; i < 8; i++) {
    w[i] = (worker){q, i, 0};
    assert_int_equal(pthread_create(&t[i], NULL, hammer, &w[i]), 0);
  }
  int accepted = 0;
  for (int i = 0; i < 8; i++) {
    pthread_join(t[i], NULL);
    accepted += w[i].accepted;
  }
  mx_ledger_queue_stats s;
  mx__ledger_queue_stats_get(q, &s);
  assert_int_equal(s.admitted + s.refused, 480);
  assert_int_equal(mx__ledger_queue_close(q, &err), MX_OK);
  /* 5 users x 3 contacts; of them at most 7 SPRING10 */
  assert_int_equal(accepted, 15);
  assert_int_equal(count_rows(path, "1"), 15);
  for (int u = 0; u < 5; u++) {
    char where[64];
    snprintf(where, sizeof where, "user = 'u%d'", u);
    assert_int_equal(count_rows(path, where), 3);
  }
  assert_true(count_rows(path, "json_extract(record, '$.offer') = 'SPRING10'") <= 7);
  /* a second server on the same ledger: the rows there count (contacts
   * from the ledger, the offer's stock from its counts at open) */
  assert_int_equal(mx__ledger_queue_open(&o, &q, &err), MX_OK);
  assert_int_equal(admit_one(q, "u0", "VIP20", NOW + 60), 0);
  assert_int_equal(admit_one(q, "new", "VIP20", NOW + 60), 1);
  long spring = count_rows(path, "json_extract(record, '$.offer') = 'SPRING10'");
  int more = 0;
  char user[16];
  for (int i = 0; i < 10; i++) {
    snprintf(user, sizeof user, "n%d", i);
    more += admit_one(q, user, "SPRING10", NOW + 60);
  }
  assert_int_equal(spring + more, 7);
  /* 31 days later the contacts have aged out of the window */
  assert_int_equal(admit_one(q, "u0", "VIP20", NOW + 31 * 86400), 1);
  assert_int_equal(mx__ledger_queue_close(q, &err), MX_OK);
}

static void test_batches_and_lineage(void **state) {
  (void)state;
  const char *path = tu_path("batches.db");
  mx_ledger_queue_options o = base(path);
  mx_ledger_queue *q;
  mx_error err;
  assert_int_equal(mx__ledger_queue_open(&o, &q, &err), MX_OK);
  char user[16];
  for (int i = 0; i < 100; i++) {
    snprintf(user, sizeof user, "b%d", i);
    assert_int_equal(admit_one(q, user, "X", NOW), 1);
  }
  assert_int_equal(mx__ledger_queue_flush(q, &err), MX_OK);
  mx_ledger_queue_stats s;
  mx__ledger_queue_stats_get(q, &s);
  assert_int_equal(s.written, 100);
  assert_int_equal(s.queued, 0);
  assert_true(s.batches >= 1 && s.batches <= 100);
  /* a lone row is written by the timer, without a flush (waits at most 5 s) */
  assert_int_equal(admit_one(q, "lone", "X", NOW), 1);
  for (int i = 0; i < 500; i++) {
    mx__ledger_queue_stats_get(q, &s);
    if (s.written == 101) break;
    struct timespec ts = {0, 10000000L};
    nanosleep(&ts, NULL);
  }
  assert_int_equal(s.written, 101);
  assert_int_equal(mx__ledger_queue_close(q, &err), MX_OK);
  assert_int_equal(count_rows(path, "run_id LIKE 'serve-test-b%' AND reason = 'test' "
                                    "AND time = '2026-02-02T02:40:00Z'"), 101);
}

static void test_full_queue_while_locked(void **state) {
  (void)state;
  const char *path = tu_path("locked.db");
  mx_ledger_queue_options o = base(path);
  o.max_rows = 20;
  o.busy_timeout = 0.05;
  mx_ledger_queue *q;
  mx_error err;
  assert_int_equal(mx__ledger_queue_open(&o, &q, &err), MX_OK);
  sqlite3 *db;
  assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
  assert_int_equal(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
  char user[16], rec[64];
  int full = 0, queued = 0;
  for (int i = 0; i < 40 && !full; i++) {
    snprintf(user, sizeof user, "l%d", i);
    snprintf(rec, sizeof rec, "{\"user\":\"%s\"}", user);
    mx_queued_decision d = {"offer", user, strlen(user), rec, "r", 1, NULL, NULL, NULL, NULL};
    const char *refused;
    int rc = mx__ledger_queue_admit(q, &d, 1, NOW, &refused, &err);
    if (rc == MX_ELIMIT) {
      full = 1;
      assert_non_null(strstr(err.message, "the ledger queue is full"));
    } else {
      assert_int_equal(rc, MX_OK);
      queued++;
    }
  }
  assert_true(full);
  assert_int_equal(queued, 20);
  assert_int_equal(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
  sqlite3_close(db);
  assert_int_equal(mx__ledger_queue_close(q, &err), MX_OK);
  assert_int_equal(count_rows(path, "1"), 20); /* nothing queued was lost */
}

static int sum_counts(void *ctx, const char *value, long count) {
  if (value && strcmp(value, "SPRING10") == 0) *(long *)ctx += count;
  return 0;
}

static void insert_offer(sqlite3 *db, const char *user) {
  char sql[512];
  snprintf(sql, sizeof sql,
           "INSERT INTO decisions(run_id, script, script_hash, params, time, committed_at, kind,"
           " user, record, reason) VALUES('other', 's.lua', '', '{}', '2026-02-02T00:00:00Z',"
           " '2026-02-02T00:00:00Z', 'offer', '%s', '{\"offer\":\"SPRING10\"}', 'r')",
           user);
  assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
}

/* The cap queries keep their prepared statements between calls: each call
 * must still see what another connection committed since, and leave no read
 * transaction open (the other connection's writes would then wait or the
 * reader see an old snapshot and an unchanged data_version). */
static void test_cap_queries_see_new_rows(void **state) {
  (void)state;
  const char *path = tu_path("caps_kept.db");
  mx_decision_log *log;
  mx_error err;
  assert_int_equal(mx__decisions_open(path, 1, &log, &err), MX_OK);
  sqlite3 *db;
  assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
  sqlite3_busy_timeout(db, 0);
  int64_t v0 = 0, v = 0, after = 0;
  long n = -1;
  for (int round = 1; round <= 3; round++) {
    assert_int_equal(mx__decisions_data_version(log, &v0, &err), MX_OK);
    assert_int_equal(mx__decisions_count_user(log, "offer", "ann", 3, "2026-01-01T00:00:00Z", &n, &err),
                     MX_OK);
    assert_int_equal(n, round - 1);
    insert_offer(db, "ann"); /* would be SQLITE_BUSY under a lingering read lock */
    assert_int_equal(mx__decisions_data_version(log, &v, &err), MX_OK);
    assert_true(v != v0);
    assert_int_equal(mx__decisions_count_user(log, "offer", "ann", 3, "2026-01-01T00:00:00Z", &n, &err),
                     MX_OK);
    assert_int_equal(n, round);
    long spring = 0;
    int64_t upto = -1;
    assert_int_equal(mx__decisions_count_field(log, "offer", "offer", "2026-01-01T00:00:00Z", after,
                                              &upto, sum_counts, &spring, &err),
                     MX_OK);
    assert_int_equal(upto, round);
    assert_int_equal(spring, 1); /* only the rows after the last call's rowid */
    after = upto;
  }
  sqlite3_close(db);
  mx__decisions_close(log);
}

/* A shopper's contact count reads that shopper's rows (the user index), not
 * every offer row in the window: without statistics SQLite preferred the
 * (kind, time) index, so each /v1/decide admission stepped through all the
 * window's decisions (cost growing with the ledger). Counted in VM steps of
 * the kept statement. */
static void test_contact_count_reads_the_users_rows(void **state) {
  (void)state;
  const char *path = tu_path("caps_index.db");
  mx_decision_log *log;
  mx_error err;
  assert_int_equal(mx__decisions_open(path, 1, &log, &err), MX_OK);
  sqlite3 *db;
  assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
  assert_int_equal(sqlite3_exec(db, "BEGIN", NULL, NULL, NULL), SQLITE_OK);
  char user[32];
  for (int i = 0; i < 3000; i++) {
    snprintf(user, sizeof user, "other%d", i);
    insert_offer(db, user);
  }
  insert_offer(db, "ann");
  assert_int_equal(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
  long n = -1;
  assert_int_equal(mx__decisions_count_user(log, "offer", "ann", 3, "2026-01-01T00:00:00Z", &n, &err),
                   MX_OK);
  assert_int_equal(n, 1);
  sqlite3_stmt *st = NULL;
  while ((st = sqlite3_next_stmt(mx__decisions_db(log), st)))
    if (strstr(sqlite3_sql(st), "count(*) FROM decisions WHERE user")) break;
  assert_non_null(st);
  int steps = sqlite3_stmt_status(st, SQLITE_STMTSTATUS_VM_STEP, 0);
  if (steps > 500) fail_msg("the contact count ran %d VM steps for one shopper's row", steps);
  sqlite3_close(db);
  mx__decisions_close(log);
}

/* Rows admitted by one call into an empty queue (a request's two decisions,
 * /v1/answer's question and answer) are written after flush_seconds, not
 * left until flush_rows more arrive; stored queries ride the same batches,
 * redacted, and a batch's lineage counts its decisions only. */
static void test_rows_admitted_together_written_in_time(void **state) {
  (void)state;
  const char *path = tu_path("together.db");
  mx_ledger_queue_options o = base(path);
  o.flush_rows = 100;
  mx_ledger_queue *q;
  mx_error err;
  assert_int_equal(mx__ledger_queue_open(&o, &q, &err), MX_OK);
  struct timespec idle = {0, 100000000}; /* the writer waits for rows by then */
  nanosleep(&idle, NULL);
  mx_queued_decision d[2] = {{"offer", "u1", 2, "{\"user\":\"u1\"}", "r", 1, NULL, NULL, NULL, NULL},
                             {"offer", "u2", 2, "{\"user\":\"u2\"}", "r", 1, NULL, NULL, NULL, NULL}};
  const char *refused[2];
  assert_int_equal(mx__ledger_queue_admit(q, d, 2, NOW, refused, &err), MX_OK);
  mx_query_row qr[2] = {{NOW, "serve/answer", "u1", "s1", "question", "mail me at jo@example.com"},
                        {NOW, "serve/answer", "u1", "s1", "answer", "call +44 20 7946 0958"}};
  assert_int_equal(mx__ledger_queue_admit_queries(q, qr, 2, &err), MX_OK);
  long got = 0;
  for (int i = 0; i < 200 && (got = count_rows(path, "1")) < 2; i++) {
    struct timespec ts = {0, 10000000};
    nanosleep(&ts, NULL);
  }
  assert_int_equal(got, 2); /* written within 2 s, no flush asked */
  assert_int_equal(mx__ledger_queue_flush(q, &err), MX_OK);
  assert_int_equal(count_in(path, "queries", "user = 'u1' AND session = 's1'"), 2);
  assert_int_equal(count_in(path, "queries", "text = 'mail me at [email]'"), 1);
  assert_int_equal(count_in(path, "queries", "text = 'call [phone]'"), 1);
  assert_int_equal(count_in(path, "queries", "instr(text, 'example') OR instr(text, '7946')"), 0);
  assert_int_equal(count_in(path, "commits", "1"), count_in(path, "commits", "decisions = 2") +
                                                   count_in(path, "commits", "decisions = 1"));
  assert_int_equal(count_in(path, "commits", "decisions = 0"), 0);
  assert_int_equal(mx__ledger_queue_close(q, &err), MX_OK);
}

int main(void) {
  tu_filters();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_caps_hold_under_concurrency),
      cmocka_unit_test(test_batches_and_lineage),
      cmocka_unit_test(test_full_queue_while_locked),
      cmocka_unit_test(test_cap_queries_see_new_rows),
      cmocka_unit_test(test_contact_count_reads_the_users_rows),
      cmocka_unit_test(test_rows_admitted_together_written_in_time),
  };
  return tu_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
