/* Forecast reconciliation: coherence, bottom-up identity, OLS and MinT-shrink
 * against an independent pure-Python computation
 * (tests/unit/forecast_fixtures/recon_reference.py, its output pasted below),
 * and bad hierarchy files named by file, line and field. */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "merx/forecast.h"

static const char *const ids[] = {"T", "A", "B", "AA", "AB", "BA", "BB"};
static const char *const parents[] = {"", "T", "T", "A", "A", "B", "B"};
static const double base[7] = {100, 55, 40, 30, 22, 18, 25};
static const double resid[7 * 8] = {
    3.0, -2.0, 1.5,  -4.0, 2.5, 0.5,  -1.0, 2.0,  2.0, -1.0, 0.5, -2.5, 1.0, 0.0,
    -0.5, 1.5, 1.2,  -0.8, 1.1, -1.4, 1.3,  0.4,  -0.6, 0.3, 1.0, -0.4, 0.2, -1.5,
    0.7, 0.3,  0.1,  0.9,  0.9, -0.7, 0.4,  -0.9, 0.2,  -0.4, -0.5, 0.7, 0.5, -0.3,
    0.6, -0.8, 0.9,  0.1,  -0.2, 0.4, 0.6,  -0.6, 0.4,  -0.5, 0.5, 0.4, -0.3, -0.2};

static void check_coherent(const double *y) {
  assert_true(fabs(y[0] - y[1] - y[2]) < 1e-9);
  assert_true(fabs(y[1] - y[3] - y[4]) < 1e-9);
  assert_true(fabs(y[2] - y[5] - y[6]) < 1e-9);
}

static void test_methods(void **state) {
  (void)state;
  mx_hierarchy *h;
  mx_error err;
  assert_int_equal(mx_hierarchy_from_arrays(ids, parents, 7, &h, &err), MX_OK);
  double out[7], lambda;
  /* bottom-up keeps the leaves and sums them */
  assert_int_equal(mx_reconcile(h, MX_RECON_BU, base, 1, NULL, 0, out, NULL, &err), MX_OK);
  check_coherent(out);
  for (int i = 3; i < 7; i++) assert_true(out[i] == base[i]);
  assert_true(fabs(out[0] - 95) < 1e-12);
  /* bottom-up is the identity on coherent forecasts; so are OLS and MinT */
  double coh[7];
  memcpy(coh, out, sizeof coh);
  for (int m = MX_RECON_BU; m <= MX_RECON_MINT; m++) {
    assert_int_equal(mx_reconcile(h, m, coh, 1, resid, 8, out, NULL, &err), MX_OK);
    for (int i = 0; i < 7; i++) assert_true(fabs(out[i] - coh[i]) < 1e-9);
  }
  static const double ols[7] = {97.8571428571428, 55.4285714285714, 42.4285714285714,
                                31.7142857142857, 23.7142857142857, 17.7142857142857,
                                24.7142857142857};
  static const double mint[7] = {95.459307623354,  53.5604922035248, 41.8988154198291,
                                 30.7134463179842, 22.8470458855407, 17.4218764838294,
                                 24.4769389359997};
  assert_int_equal(mx_reconcile(h, MX_RECON_OLS, base, 1, NULL, 0, out, NULL, &err), MX_OK);
  check_coherent(out);
  for (int i = 0; i < 7; i++) assert_true(fabs(out[i] - ols[i]) < 1e-9);
  assert_int_equal(mx_reconcile(h, MX_RECON_MINT, base, 1, resid, 8, out, &lambda, &err), MX_OK);
  check_coherent(out);
  assert_true(fabs(lambda - 0.137971868065282) < 1e-12);
  for (int i = 0; i < 7; i++) assert_true(fabs(out[i] - mint[i]) < 1e-9);
  /* MinT without residuals is refused */
  assert_int_equal(mx_reconcile(h, MX_RECON_MINT, base, 1, NULL, 0, out, NULL, &err), MX_EINVAL);
  int m;
  assert_int_equal(mx_reconcile_parse("mint-shrink", &m, &err), MX_OK);
  assert_int_equal(m, MX_RECON_MINT);
  assert_int_equal(mx_reconcile_parse("mint", &m, &err), MX_ENOTFOUND);
  mx_hierarchy_free(h);
}

static void bad_file(const char *text, int code, long line, const char *needle) {
  char path[] = "recon_hier_XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  FILE *f = fdopen(fd, "w");
  fputs(text, f);
  fclose(f);
  mx_hierarchy *h = NULL;
  mx_error err;
  mx_error_clear(&err);
  assert_int_equal(mx_hierarchy_read(path, &h, &err), code);
  assert_null(h);
  assert_int_equal(err.line, line);
  assert_non_null(strstr(err.message, needle));
  remove(path);
}

static void test_bad_hierarchy(void **state) {
  (void)state;
  bad_file("id,parent\nT,\nA,T\nA,T\n", MX_EINVAL, 4, "duplicate id 'A'");
  bad_file("id,parent\nT,\nA,X\n", MX_ENOTFOUND, 3, "unknown parent 'X'");
  bad_file("id,parent\nT,\nA,B\nB,A\n", MX_EINVAL, 3, "cycle");
  bad_file("id,parent\nA,A\n", MX_EINVAL, 2, "cycle");
  /* a good file */
  char path[] = "recon_hier_XXXXXX";
  int fd = mkstemp(path);
  FILE *f = fdopen(fd, "w");
  fputs("id,parent\nAA,A\nT,\nA,T\nAB,A\n", f);
  fclose(f);
  mx_hierarchy *h;
  mx_error err;
  assert_int_equal(mx_hierarchy_read(path, &h, &err), MX_OK);
  assert_int_equal(h->count, 4);
  assert_int_equal(h->parent[0], 2);
  assert_int_equal(h->parent[1], -1);
  assert_int_equal(h->leaf[0] + h->leaf[1] + h->leaf[2] + h->leaf[3], 2);
  mx_hierarchy_free(h);
  remove(path);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_methods),
                                     cmocka_unit_test(test_bad_hierarchy)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
