/* Allocation problems from candidate columns (mx_alloc_from_columns), the
 * choice merx.util.select and the campaign DSL make: candidates grouped by
 * user, the budget and capped groups as constraints, offer caps, rows below
 * min_value left out, the errors naming a 1-based row, repeated pairs found,
 * and the chosen rows of a solve back in input order. */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "merx/allocate.h"

/* Four candidates of three users; caps let offer X go twice. */
static const uint32_t user4[] = {0, 0, 1, 2}, offer4[] = {0, 1, 0, 0};
static const double value4[] = {5, 4, 3, 2}, cost4[] = {1, 1, 1, 1};

static mx_alloc_columns four(void) {
  static const uint32_t ocap[] = {2, UINT32_MAX};
  mx_alloc_columns c = {4, user4, offer4, NULL, 3, 2, 0, value4, cost4, 0, 10, 1, ocap, NULL, NULL};
  return c;
}

/* The optimum (9: the first user takes Y so that the others share X's cap),
 * not greedy by value (8), and the rows come back in input order. */
static void test_caps_and_chosen_rows(void **state) {
  (void)state;
  mx_alloc_columns c = four();
  mx_alloc_problem *p;
  uint32_t *row;
  mx_error err;
  assert_int_equal(mx_alloc_from_columns(&c, &p, &row, &err), MX_OK);
  assert_non_null(p);
  assert_int_equal(p->n_users, 3);
  assert_int_equal(p->n_candidates, 4);
  assert_int_equal(p->n_resources, 1);
  assert_string_equal(p->resource_name[0], "budget");
  NEAR(p->limit[0], 10, 0);
  NEAR(p->cap[0], 2, 0);
  assert_true(isinf(p->cap[1]));
  assert_int_equal(p->indptr[1], 2);
  assert_int_equal(mx_alloc_problem_check(p, &err), MX_OK);
  mx_alloc_options o = mx_alloc_defaults();
  mx_alloc_result res;
  assert_int_equal(mx_alloc_solve(p, &o, &res, &err), MX_OK);
  NEAR(res.objective, 9, 1e-6);
  uint32_t pick[4];
  mx_alloc_chosen_rows(&res, row, pick);
  assert_int_equal(res.assigned, 3);
  assert_int_equal(pick[0], 1);
  assert_int_equal(pick[1], 2);
  assert_int_equal(pick[2], 3);
  mx_alloc_result_free(&res);
  mx_alloc_problem_free(p);
  free(row);
}

/* Rows not above min_value are left out (their bad costs too); the
 * candidates of a user keep input order; no choosable row: no problem. */
static void test_min_value_and_grouping(void **state) {
  (void)state;
  static const uint32_t user[] = {1, 0, 1, 0, 1}, offer[] = {0, 0, 1, 1, 2};
  static const double value[] = {1, NAN, 3, 0.5, 2}, cost[] = {1, -5, 1, 1, 1};
  mx_alloc_columns c = {5, user, offer, NULL, 2, 3, 0, value, cost, 0.5, INFINITY, 1, NULL, NULL, NULL};
  mx_alloc_problem *p;
  uint32_t *row;
  mx_error err;
  assert_int_equal(mx_alloc_from_columns(&c, &p, &row, &err), MX_OK);
  assert_int_equal(p->n_resources, 0); /* no budget */
  assert_int_equal(p->n_candidates, 3);
  assert_int_equal(p->indptr[1], 0); /* user 0: nothing above 0.5 */
  assert_int_equal(row[0], 0);
  assert_int_equal(row[1], 2);
  assert_int_equal(row[2], 4);
  mx_alloc_problem_free(p);
  free(row);
  c.min_value = 10;
  assert_int_equal(mx_alloc_from_columns(&c, &p, &row, &err), MX_OK);
  assert_null(p);
  assert_null(row);
}

/* Each capped group is a count constraint named after it, after the budget. */
static void test_group_caps(void **state) {
  (void)state;
  static const uint32_t user[] = {0, 1, 2, 3}, offer[] = {0, 0, 0, 0}, group[] = {0, 1, 2, 1};
  static const double value[] = {4, 3, 2, 1}, cost[] = {2, 2, 2, 2};
  static const uint32_t gcap[] = {UINT32_MAX, 1, 0};
  static const char *gname[] = {"north", "south", "west"};
  mx_alloc_columns c = {4, user, offer, group, 4, 1, 3, value, cost, 0, 5, 1, NULL, gcap, gname};
  mx_alloc_problem *p;
  uint32_t *row;
  mx_error err;
  assert_int_equal(mx_alloc_from_columns(&c, &p, &row, &err), MX_OK);
  assert_int_equal(p->n_resources, 3);
  assert_string_equal(p->resource_name[1], "group south");
  assert_string_equal(p->resource_name[2], "group west");
  NEAR(p->limit[1], 1, 0);
  NEAR(p->limit[2], 0, 0);
  /* candidate of user 1 (group south): budget cost 2, one south, no west */
  const float *c1 = p->cost + 1 * 3;
  NEAR(c1[0], 2, 0);
  NEAR(c1[1], 1, 0);
  NEAR(c1[2], 0, 0);
  mx_alloc_options o = mx_alloc_defaults();
  mx_alloc_result res;
  assert_int_equal(mx_alloc_solve(p, &o, &res, &err), MX_OK);
  NEAR(res.objective, 7, 1e-6); /* north 4 + south 3; west capped at 0, budget 5 */
  mx_alloc_result_free(&res);
  mx_alloc_problem_free(p);
  free(row);
}

static void test_errors_and_repeats(void **state) {
  (void)state;
  mx_alloc_columns c = four();
  double bad[] = {1, 1, -1, 1};
  c.cost = bad;
  mx_alloc_problem *p;
  uint32_t *row;
  mx_error err;
  assert_int_equal(mx_alloc_from_columns(&c, &p, &row, &err), MX_EINVAL);
  assert_string_equal(err.message, "cost[3] is -1: costs must be finite and >= 0");
  double inf[] = {5, INFINITY, 3, 2};
  c = four();
  c.value = inf;
  assert_int_equal(mx_alloc_from_columns(&c, &p, &row, &err), MX_EINVAL);
  assert_string_equal(err.message, "value[2] is not finite");
  /* a user offered X twice */
  static const uint32_t twice[] = {0, 0, 1, 0};
  c = four();
  c.offer = twice;
  assert_int_equal(mx_alloc_from_columns(&c, &p, &row, &err), MX_OK);
  assert_int_not_equal(mx_alloc_problem_check(p, &err), MX_OK);
  uint64_t a, b;
  assert_int_equal(mx_alloc_find_repeat(p, &a, &b), 1);
  assert_int_equal(row[a], 0);
  assert_int_equal(row[b], 1);
  mx_alloc_problem_free(p);
  free(row);
  c = four();
  assert_int_equal(mx_alloc_from_columns(&c, &p, &row, &err), MX_OK);
  assert_int_equal(mx_alloc_find_repeat(p, &a, &b), 0);
  mx_alloc_problem_free(p);
  free(row);
}

int main(void) {
  tu_filters();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_caps_and_chosen_rows), cmocka_unit_test(test_min_value_and_grouping),
      cmocka_unit_test(test_group_caps), cmocka_unit_test(test_errors_and_repeats)};
  return tu_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
