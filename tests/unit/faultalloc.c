#include "faultalloc.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "testutil.h"
#include "merx/error.h"

void *__real_malloc(size_t n);
void *__real_calloc(size_t a, size_t b);
void *__real_realloc(void *p, size_t n);
int __real_posix_memalign(void **p, size_t a, size_t n);

/* Atomic: the sweeps also run code that allocates in worker threads. */
static _Atomic long g_countdown = -1; /* fail when it reaches 0; < 0: never */
static _Atomic long g_calls;

static int should_fail(void) {
  atomic_fetch_add(&g_calls, 1);
  if (atomic_load(&g_countdown) < 0) return 0;
  return atomic_fetch_sub(&g_countdown, 1) == 0;
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
