/* The fast ingest path: the id map's in-slot short ids against a naive
 * reference, and (below) the chunked parallel parse against the sequential
 * one on awkward files. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "merx/data.h"
#include "util/util.h"

/* Ids of every length around the in-slot limit (11 bytes), sharing prefixes,
 * differing only in their last byte, holding NUL and 0xFF bytes: each gets
 * its own index in first-seen order, and finds/names agree with a list. */
static void test_idmap_short_and_long_ids(void **s) {
  (void)s;
  enum { N = 4000 };
  static char ids[N][40];
  static size_t lens[N];
  size_t n = 0;
  for (size_t len = 0; len <= 30; len++)
    for (int v = 0; v < 120 && n < N; v++) {
      memset(ids[n], 'a', len);
      if (len > 0) ids[n][len - 1] = (char)(v * 2 + 1);        /* last byte differs */
      if (len > 3 && v % 3 == 0) ids[n][len / 2] = '\0';       /* embedded NUL */
      if (len > 5 && v % 5 == 0) ids[n][1] = (char)0xff;       /* 0xFF byte */
      lens[n++] = len;
    }
  /* the naive reference: index = first position of an equal id */
  int64_t *want = malloc(n * sizeof *want);
  uint32_t distinct = 0;
  for (size_t k = 0; k < n; k++) {
    want[k] = -1;
    for (size_t j = 0; j < k; j++)
      if (lens[j] == lens[k] && memcmp(ids[j], ids[k], lens[k]) == 0) {
        want[k] = want[j];
        break;
      }
    if (want[k] < 0) want[k] = distinct++;
  }
  mx_idmap *m = mx_idmap_create();
  for (size_t k = 0; k < n; k++) assert_int_equal(mx_idmap_intern(m, ids[k], lens[k]), want[k]);
  assert_int_equal(mx_idmap_size(m), distinct);
  for (size_t k = 0; k < n; k++) {
    assert_int_equal(mx_idmap_find(m, ids[k], lens[k]), want[k]);
    assert_memory_equal(mx_idmap_name(m, (uint32_t)want[k]), ids[k], lens[k]);
  }
  /* a prefix, an extension and a zero-padded twin of a short id are other ids */
  assert_int_equal(mx_idmap_find(m, "aaaa", 4), -1);
  int64_t a = mx_idmap_intern(m, "17850", 5);
  assert_int_not_equal(mx_idmap_intern(m, "17850\0", 6), a);
  assert_int_not_equal(mx_idmap_intern(m, "1785", 4), a);
  assert_int_equal(mx_idmap_find(m, "17850", 5), a);
  mx_idmap_free(m);
  free(want);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_idmap_short_and_long_ids),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
