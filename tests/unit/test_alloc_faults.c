/* Fault injection (as Lua's ltests.c does): make the N-th allocation fail,
 * for every N, and check that ingest ends in a clean MX_ENOMEM (or succeeds
 * when the failed allocation was optional), never crashes, and leaks nothing
 * (the sanitizer build's LeakSanitizer checks the last part).
 *
 * The wrappers intercept malloc/calloc/realloc/posix_memalign calls made by
 * merx's own objects (linked with -Wl,--wrap=...; see tests/CMakeLists.txt);
 * allocations inside libc, zlib or cmocka are not counted. */
#include "testutil.h"
#include "faultalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "merx/data.h"
#include "core/data/internal.h"
#include "util/idmap_rename.h"


static const char *g_csv;
static int g_threads; /* 0: mx_dataset_load_csv; else the block loader, tiny blocks */

static int ingest_once(void) {
  mx_ingest_options o = mx_ingest_defaults();
  mx_error err;
  if (mx_columns_parse("user=u,item=i,value=v,time=t", NULL, &o.columns, &err)) return err.code;
  mx_dataset *d = NULL;
  int rc = g_threads ? mx__dataset_load_csv_threads(g_csv, &o, g_threads, 2048, &d, &err)
                     : mx_dataset_load_csv(g_csv, &o, &d, &err);
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
  g_threads = 0;
  long points = fa_sweep(ingest_once, "ingest");
  fprintf(stderr, "ingest: %ld allocation-failure points tested\n", points);
  /* the parallel loader: blocks, windows, per-thread maps, the merge */
  g_threads = 2;
  points = fa_sweep(ingest_once, "ingest (2 threads, 2 KB blocks)");
  fprintf(stderr, "ingest, 2 threads: %ld allocation-failure points tested\n", points);
  g_threads = 0;
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
  long points = fa_sweep(idmap_once, "idmap");
  fprintf(stderr, "idmap: %ld allocation-failure points tested\n", points);
}

/* The renamer of the rename below: "id<k>" -> "pseudonym-of-id<k>" (long). */
static const char *prefix_id(void *ctx, const char *id, size_t len, size_t *out_len) {
  char *buf = ctx;
  *out_len = (size_t)snprintf(buf, 64, "pseudonym-of-%.*s", (int)len, id);
  return buf;
}

/* A rename that fails leaves the map as it was (util/idmap_rename.h). */
static int rename_once(void) {
  mx_idmap *m = mx_idmap_create();
  if (!m) return MX_ENOMEM;
  char buf[64];
  for (int k = 0; k < 3000; k++) {
    int len = snprintf(buf, sizeof buf, "id%d", k);
    if (mx_idmap_intern(m, buf, (size_t)len) < 0) {
      mx_idmap_free(m);
      return MX_ENOMEM;
    }
  }
  int r = mx__idmap_rename(m, prefix_id, buf, NULL);
  int rc;
  if (r == 0)
    rc = mx_idmap_find(m, "pseudonym-of-id2999", 19) == 2999 && mx_idmap_find(m, "id2999", 6) < 0
             ? MX_OK
             : MX_EINVAL;
  else /* unchanged: the old names, all findable */
    rc = r == -1 && mx_idmap_find(m, "id2999", 6) == 2999 && mx_idmap_find(m, "id0", 3) == 0 &&
                 mx_idmap_find(m, "pseudonym-of-id0", 16) < 0
             ? MX_ENOMEM
             : MX_EINVAL;
  mx_idmap_free(m);
  return rc;
}

static void test_idmap_rename_every_allocation(void **s) {
  (void)s;
  long points = fa_sweep(rename_once, "idmap rename");
  fprintf(stderr, "idmap rename: %ld allocation-failure points tested\n", points);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_ingest_every_allocation),
      cmocka_unit_test(test_idmap_every_allocation),
      cmocka_unit_test(test_idmap_rename_every_allocation),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
