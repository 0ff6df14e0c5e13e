/* Fault injection (as Lua's ltests.c does): make the N-th allocation fail,
 * for every N, and check that ingest ends in a clean MX_ENOMEM (or succeeds
 * when the failed allocation was optional), never crashes, and leaks nothing
 * (the sanitizer build's LeakSanitizer checks the last part).
 *
 * The wrappers intercept malloc/calloc/realloc/posix_memalign calls made by
 * merx's own objects (linked with -Wl,--wrap=...; see tests/CMakeLists.txt);
 * allocations inside libc, zlib or cmocka are not counted. */
#include "testutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "merx/data.h"

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

/* Run fn with the k-th allocation failing, for k = 0 .. (allocations of a
 * clean run); returns the number of failure points tried. */
static long sweep(int (*fn)(void), const char *what) {
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

static const char *g_csv;

static int ingest_once(void) {
  mx_ingest_options o = mx_ingest_defaults();
  mx_error err;
  if (mx_columns_parse("user=u,item=i,value=v,time=t", NULL, &o.columns, &err)) return err.code;
  mx_dataset *d = NULL;
  int rc = mx_dataset_load_csv(g_csv, &o, &d, &err);
  if (rc == MX_OK) {
    if (mx_dataset_nnz(d) != 500) rc = MX_EINVAL; /* success must be complete */
    mx_dataset_free(d);
  } else if (rc == MX_ENOMEM && err.message[0] == '\0') {
    rc = MX_EINVAL; /* an error without a message is not clean */
  }
  return rc;
}

static void test_ingest_every_allocation(void **s) {
  (void)s;
  char *text = malloc(1 << 16);
  size_t n = (size_t)sprintf(text, "u,i,v,t\n");
  for (int k = 0; k < 500; k++)
    n += (size_t)sprintf(text + n, "user%d,\"item,%d\",%d,2011-01-%02d\n", k % 37, k, k % 5 + 1,
                         k % 28 + 1);
  g_csv = tu_write("faults.csv", text);
  free(text);
  long points = sweep(ingest_once, "ingest");
  fprintf(stderr, "ingest: %ld allocation-failure points tested\n", points);
}

static int idmap_once(void) {
  mx_idmap *m = mx_idmap_create();
  if (!m) return MX_ENOMEM;
  char buf[32];
  for (int k = 0; k < 3000; k++) {
    int len = snprintf(buf, sizeof buf, "id%d", k);
    if (mx_idmap_intern(m, buf, (size_t)len) < 0) {
      mx_idmap_free(m);
      return MX_ENOMEM;
    }
  }
  /* everything interned before a failure is still findable */
  int rc = mx_idmap_find(m, "id2999", 6) == 2999 ? MX_OK : MX_EINVAL;
  mx_idmap_free(m);
  return rc;
}

static void test_idmap_every_allocation(void **s) {
  (void)s;
  long points = sweep(idmap_once, "idmap");
  fprintf(stderr, "idmap: %ld allocation-failure points tested\n", points);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_ingest_every_allocation),
      cmocka_unit_test(test_idmap_every_allocation),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
