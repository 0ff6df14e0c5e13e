/* The experiment tables of the ledger (store/experiments.h): a definition
 * is fixed by the first run (another one under the same name is refused,
 * naming both), a user's first assignment is kept, and the iterators give
 * assignments, exposures, measurement units and per-arm summaries. */
#include "testutil.h"

#include <string.h>

#include "store/decisions.h"
#include "store/experiments.h"

static const char *arms_names[2] = {"control", "coupon"};
static const double arms_shares[2] = {0.1, 0.9};

static mx_experiment_def def(const char *salt) {
  mx_experiment_def d = {"spring", salt, "[[\"control\",0.1],[\"coupon\",0.9]]", NULL, "control",
                         "2026-01-01T00:00:00Z", "r1", 2, arms_names, arms_shares};
  return d;
}

static mx_decision_log *open_log(const char *name) {
  mx_decision_log *log;
  mx_error err;
  assert_int_equal(mx__decisions_open(tu_path(name), 1, &log, &err), MX_OK);
  return log;
}

typedef struct units {
  int n;
  const char *first; /* u1's first exposure in the runs asked for */
} units;

static int count_units(void *ctx, const mx_exposed_unit *u) {
  units *c = ctx;
  if (strcmp(u->user, "u1") == 0) {
    assert_string_equal(u->arm, "control"); /* the first assignment */
    assert_string_equal(u->first_exposure, c->first);
  }
  c->n++;
  return 0;
}

static int check_arm(void *ctx, const mx_arm_summary *a) {
  int *n = ctx;
  if (strcmp(a->arm, "control") == 0) {
    assert_true(a->share == 0.1);
    assert_int_equal(a->users, 1);
    assert_int_equal(a->exposures, 2);
    assert_int_equal(a->delivered, 0);
  } else {
    assert_int_equal(a->users, 1);
    assert_int_equal(a->exposures, 1);
    assert_int_equal(a->delivered, 1);
  }
  (*n)++;
  return 0;
}

static void test_definition_fixed_first_assignment_kept(void **s) {
  (void)s;
  mx_decision_log *log = open_log("ledger.db");
  mx_error err;
  mx_experiment_def d = def("spring");
  assert_int_equal(mx__decisions_begin(log, &err), MX_OK);
  assert_int_equal(mx__experiments_define(log, &d, &err), MX_OK);
  mx_experiment_writer *w;
  assert_int_equal(mx__experiment_writer_open(log, &w, &err), MX_OK);
  mx_assignment_row a1 = {"spring", "u1", "control", NULL, "r1", "2026-01-01T00:00:00Z", 0};
  mx_assignment_row a2 = {"spring", "u2", "coupon", NULL, "r1", "2026-01-01T00:00:00Z", 0};
  mx_exposure_row e1 = {"r1", "spring", "control", "u1", "offer", "{}", "2026-01-01T00:00:00Z",
                        "2026-01-01T00:00:01Z", 0, 0, 0};
  mx_exposure_row e2 = {"r1", "spring", "coupon", "u2", "offer", "{}", "2026-01-01T00:00:00Z",
                        "2026-01-01T00:00:01Z", 1, 0, 0};
  assert_int_equal(mx__experiments_assign(w, &a1, &err), MX_OK);
  assert_int_equal(mx__experiments_assign(w, &a2, &err), MX_OK);
  assert_int_equal(mx__experiments_expose(w, &e1, &err), MX_OK);
  assert_int_equal(mx__experiments_expose(w, &e2, &err), MX_OK);
  mx__experiment_writer_close(w);
  assert_int_equal(mx__decisions_commit(log, &err), MX_OK);

  /* a second run: the same definition is accepted, u1's arm is kept */
  assert_int_equal(mx__decisions_begin(log, &err), MX_OK);
  assert_int_equal(mx__experiments_define(log, &d, &err), MX_OK);
  assert_int_equal(mx__experiment_writer_open(log, &w, &err), MX_OK);
  mx_assignment_row again = {"spring", "u1", "coupon", NULL, "r2", "2026-01-02T00:00:00Z", 0};
  e1.run_id = "r2";
  e1.time = "2026-01-02T00:00:00Z";
  assert_int_equal(mx__experiments_assign(w, &again, &err), MX_OK);
  assert_int_equal(mx__experiments_expose(w, &e1, &err), MX_OK);
  mx__experiment_writer_close(w);
  assert_int_equal(mx__decisions_commit(log, &err), MX_OK);

  /* another salt under the same name: refused, naming both */
  mx_experiment_def other = def("spring-2");
  int found = 0;
  assert_int_equal(mx__experiments_check(log, &other, &found, &err), MX_EINVAL);
  assert_non_null(strstr(err.message, "salt 'spring'"));
  assert_non_null(strstr(err.message, "salt 'spring-2'"));

  units all = {0, "2026-01-01T00:00:00Z"}, r2 = {0, "2026-01-02T00:00:00Z"};
  assert_int_equal(mx__experiments_units(log, "spring", NULL, count_units, &all, &err), MX_OK);
  assert_int_equal(all.n, 2);
  assert_int_equal(mx__experiments_units(log, "spring", "r2", count_units, &r2, &err), MX_OK);
  assert_int_equal(r2.n, 1);
  int n = 0;
  assert_int_equal(mx__experiments_summary(log, "spring", check_arm, &n, &err), MX_OK);
  assert_int_equal(n, 2);
  mx__decisions_close(log);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_definition_fixed_first_assignment_kept),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
