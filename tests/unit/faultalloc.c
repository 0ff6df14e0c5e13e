#include "faultalloc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "testutil.h"
#include "merx/error.h"

void *__real_malloc(size_t n);
void *__real_calloc(size_t a, size_t b);
void *__real_realloc(void *p, size_t n);
int __real_posix_memalign(void **p, size_t a, size_t n);

static long g_countdown = -1; /* fail when it reaches 0; -1: never */
static long g_calls;

static int should_fail(void) {
  g_calls++;
  if (g_countdown < 0) return 0;
  return g_countdown-- == 0;
}

void *__wrap_malloc(size_t n) { return should_fail() ? NULL : __real_malloc(n); }
void *__wrap_calloc(size_t a, size_t b) { return should_fail() ? NULL : __real_calloc(a, b); }
void *__wrap_realloc(void *p, size_t n) { return should_fail() ? NULL : __real_realloc(p, n); }
int __wrap_posix_memalign(void **p, size_t a, size_t n) {
  return should_fail() ? ENOMEM : __real_posix_memalign(p, a, n);
}

long fa_sweep(int (*fn)(void), const char *what) {
  g_countdown = -1;
  g_calls = 0;
  assert_int_equal(fn(), MX_OK);
  long total = g_calls;
  assert_true(total > 0);
  for (long k = 0; k < total; k++) {
    g_countdown = k;
    int rc = fn();
    g_countdown = -1;
    if (rc != MX_OK && rc != MX_ENOMEM) {
      fprintf(stderr, "%s: failing allocation %ld gave %s\n", what, k, mx_strerror(rc));
      fail();
    }
  }
  return total;
}
