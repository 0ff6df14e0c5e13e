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
static _Atomic long g_fail_at = -1; /* index of the allocation that fails; < 0: none */
static _Atomic int g_fail_after;    /* 1: every allocation after it fails too */
static _Atomic long g_calls;        /* allocations since the run started */

static int should_fail(void) {
  long n = atomic_fetch_add(&g_calls, 1), k = atomic_load(&g_fail_at);
  if (k < 0) return 0;
  return n == k || (n > k && atomic_load(&g_fail_after));
}

void *__wrap_malloc(size_t n) { return should_fail() ? NULL : __real_malloc(n); }
void *__wrap_calloc(size_t a, size_t b) { return should_fail() ? NULL : __real_calloc(a, b); }
void *__wrap_realloc(void *p, size_t n) { return should_fail() ? NULL : __real_realloc(p, n); }
int __wrap_posix_memalign(void **p, size_t a, size_t n) {
  return should_fail() ? ENOMEM : __real_posix_memalign(p, a, n);
}

static long sweep(int (*fn)(void), const char *what, int persistent) {
  g_fail_at = -1;
  g_calls = 0;
  assert_int_equal(fn(), MX_OK);
  long total = g_calls;
  assert_true(total > 0);
  for (long k = 0; k < total; k++) {
    g_calls = 0;
    g_fail_after = persistent;
    g_fail_at = k;
    int rc = fn();
    g_fail_at = -1;
    if (rc != MX_OK && rc != MX_ENOMEM) {
      fprintf(stderr, "%s: failing allocation %ld%s gave %s\n", what, k,
              persistent ? " and every later one" : "", mx_strerror(rc));
      fail();
    }
  }
  return total;
}

long fa_sweep(int (*fn)(void), const char *what) { return sweep(fn, what, 0); }

long fa_sweep_persistent(int (*fn)(void), const char *what) { return sweep(fn, what, 1); }
