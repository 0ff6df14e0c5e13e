/* Helpers for the cmocka unit tests. */
#ifndef MERX_TESTUTIL_H
#define MERX_TESTUTIL_H
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>

/* |a - b| <= tol, else fail naming the expression and both values. */
#define NEAR(a, b, tol)                                                                       \
  do {                                                                                        \
    double a_ = (a), b_ = (b);                                                                \
    if (!(fabs(a_ - b_) <= (tol))) {                                                          \
      print_error("%s = %.15g, expected %.15g (tol %g)\n", #a, a_, b_, (double)(tol));        \
      fail();                                                                                 \
    }                                                                                         \
  } while (0)

/* A fresh temporary directory for this test process (removed at exit). */
const char *tu_tmpdir(void);
/* Path inside tu_tmpdir(); returns a static buffer rotated over 8 slots. */
const char *tu_path(const char *name);
/* Write text to a file (returns path). */
const char *tu_write(const char *name, const char *text);
/* The example data directory of the source tree. */
const char *tu_examples(const char *name);
/* Directory of ../shared/data relative to the source tree ($MERX_SHARED_DATA
 * instead when set), or NULL if absent. */
const char *tu_shared_data(const char *name);

/* Skipped tests report as skipped in ctest (SKIP_RETURN_CODE 77), not as
 * passed: tu_skip(why) prints why, counts the skip and ends the test like
 * cmocka's skip(); main ends with `return tu_exit(cmocka_run_group_tests(...))`,
 * which returns the failure count, else 77 when a test skipped, else 0.
 * tu_filters() applies $TU_TEST_FILTER / $TU_SKIP_FILTER (cmocka patterns), so
 * one executable can be split into ctest cases (tests/CMakeLists.txt). */
void tu_skip(const char *why);
int tu_exit(int failed);
void tu_filters(void);
#endif
