/* merx/allocate.h from files: the candidate CSV reader (roles, margin,
 * extra constraints, shards, errors naming line and field), the caps file
 * and the synthetic instances behind `merx allocate --synthetic`. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "merx/allocate.h"
#include "testutil.h"

static mx_error err;

static mx_ingest_options roles(int with_margin, int with_cost2) {
  mx_ingest_options io = mx_ingest_defaults();
  assert_int_equal(mx_columns_set(&io.columns, "user", "u", &err), MX_OK);
  assert_int_equal(mx_columns_set(&io.columns, "offer", "o", &err), MX_OK);
  assert_int_equal(mx_columns_set(&io.columns, "value", "v", &err), MX_OK);
  assert_int_equal(mx_columns_set(&io.columns, "cost", "c", &err), MX_OK);
  if (with_margin) assert_int_equal(mx_columns_set(&io.columns, "margin", "m", &err), MX_OK);
  if (with_cost2) assert_int_equal(mx_columns_set(&io.columns, "cost2", "sms", &err), MX_OK);
  return io;
}

static const char *const cost_roles[] = {"cost", "cost2"};

static void test_read_csv(void **state) {
  (void)state;
  const char *path = tu_write("cand.csv",
                              "u,o,v,c,m,sms\n"
                              "alice,A,0.5,2,10,1\n"
                              "bob,A,0.25,2,10,0\n"
                              "alice,B,0.1,1,20,0\n");
  mx_ingest_options io = roles(1, 1);
  mx_alloc_problem *p = NULL;
  assert_int_equal(mx_alloc_read_csv(path, &io, 2, cost_roles, 0, 1, &p, &err), MX_OK);
  assert_int_equal(p->n_users, 2);
  assert_int_equal(p->n_offers, 2);
  assert_int_equal(p->n_resources, 2);
  assert_string_equal(p->resource_name[0], "c");
  assert_string_equal(p->resource_name[1], "sms");
  /* alice: A then B, value x margin */
  assert_int_equal(p->indptr[1] - p->indptr[0], 2);
  NEAR(p->value[0], 5, 1e-6);
  NEAR(p->value[1], 2, 1e-6);
  NEAR(p->cost[1], 1, 0); /* alice,A sms */
  assert_int_equal(mx_alloc_problem_check(p, &err), MX_OK);
  /* caps by offer id */
  const char *caps = tu_write("caps.csv", "offer,cap\nB,3\n");
  assert_int_equal(mx_alloc_read_caps(caps, p, &err), MX_OK);
  NEAR(p->cap[1], 3, 0);
  assert_true(isinf(p->cap[0]));
  const char *unknown = tu_write("caps2.csv", "offer,cap\nZ,3\n");
  assert_int_equal(mx_alloc_read_caps(unknown, p, &err), MX_ENOTFOUND);
  assert_int_equal(err.line, 2);
  const char *negative = tu_write("caps3.csv", "offer,cap\nA,-1\n");
  assert_int_equal(mx_alloc_read_caps(negative, p, &err), MX_EINFEASIBLE);
  mx_alloc_problem_free(p);
  /* the two shards of 2 partition the users */
  char rows[1024] = "u,o,v,c\n";
  for (int u = 0; u < 16; u++)
    snprintf(rows + strlen(rows), sizeof rows - strlen(rows), "user%d,A,1,1\n", u);
  const char *many = tu_write("many.csv", rows);
  mx_ingest_options io1 = roles(0, 0);
  uint32_t users = 0;
  for (uint32_t s = 0; s < 2; s++) {
    assert_int_equal(mx_alloc_read_csv(many, &io1, 1, cost_roles, s, 2, &p, &err), MX_OK);
    assert_true(p->n_users > 0 && p->n_users < 16);
    users += p->n_users;
    mx_alloc_problem_free(p);
  }
  assert_int_equal(users, 16);
}

static void test_read_csv_errors(void **state) {
  (void)state;
  mx_ingest_options io = roles(0, 0);
  mx_alloc_problem *p = NULL;
  const char *nan = tu_write("e1.csv", "u,o,v,c\nalice,A,0.5,2\nbob,A,lots,2\n");
  assert_int_equal(mx_alloc_read_csv(nan, &io, 1, cost_roles, 0, 1, &p, &err), MX_EPARSE);
  assert_int_equal(err.line, 3);
  assert_int_equal(err.column, 3);
  assert_string_equal(err.field, "v");
  const char *neg = tu_write("e2.csv", "u,o,v,c\nalice,A,0.5,-2\n");
  assert_int_equal(mx_alloc_read_csv(neg, &io, 1, cost_roles, 0, 1, &p, &err), MX_EINVAL);
  assert_int_equal(err.column, 4); /* the builder's field, with its column added */
  const char *dup = tu_write("e3.csv", "u,o,v,c\nalice,A,0.5,2\nalice,A,0.6,2\n");
  assert_int_not_equal(mx_alloc_read_csv(dup, &io, 1, cost_roles, 0, 1, &p, &err), MX_OK);
  const char *empty = tu_write("e4.csv", "u,o,v,c\n,A,0.5,2\n");
  assert_int_equal(mx_alloc_read_csv(empty, &io, 1, cost_roles, 0, 1, &p, &err), MX_EPARSE);
  assert_non_null(strstr(err.message, "empty id"));
  assert_null(p);
}

static void test_synthetic(void **state) {
  (void)state;
  mx_alloc_problem *a = NULL, *b = NULL;
  assert_int_equal(mx_alloc_synthetic("50:4:3:7", 1, &a, &err), MX_OK);
  assert_int_equal(mx_alloc_synthetic("50:4:3:7", 3, &b, &err), MX_OK);
  assert_int_equal(a->n_users, 50);
  assert_int_equal(a->n_offers, 4);
  assert_int_equal(a->n_resources, 3);
  assert_string_equal(a->resource_name[1], "sms");
  assert_int_equal(mx_alloc_problem_check(a, &err), MX_OK);
  /* the same instance whatever the thread count */
  assert_memory_equal(a->value, b->value, 50 * 4 * sizeof *a->value);
  assert_memory_equal(a->cost, b->cost, 50 * 4 * 3 * sizeof *a->cost);
  for (int k = 0; k < 3; k++) {
    assert_true(a->limit[k] > 0);
    NEAR(a->limit[k], b->limit[k], 0);
  }
  mx_alloc_problem_free(a);
  mx_alloc_problem_free(b);
  assert_int_equal(mx_alloc_synthetic("50:0:3", 1, &a, &err), MX_EINVAL);
  assert_int_equal(mx_alloc_synthetic("50:4:9", 1, &a, &err), MX_EINVAL);
  assert_int_equal(mx_alloc_synthetic("50:4", 1, &a, &err), MX_EINVAL);
  assert_int_equal(mx_alloc_synthetic("-5:4:1", 1, &a, &err), MX_EINVAL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_read_csv),
      cmocka_unit_test(test_read_csv_errors),
      cmocka_unit_test(test_synthetic),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
