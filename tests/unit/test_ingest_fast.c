/* The fast ingest path: the id map's in-slot short ids against a naive
 * reference, and (below) the chunked parallel parse against the sequential
 * one on awkward files. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "merx/data.h"
#include "core/data/internal.h"
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

/* An awkward file: a header, CRLF and LF line ends, blank lines, quoted ids
 * holding the separator, doubled quotes and newlines (records spanning
 * lines, so block and window cuts fall inside them), repeated pairs, values,
 * times and rows with an empty id. bad_line > 0 puts an unparsable value on
 * that row (1-based data row). Returns the text (caller frees). */
static char *awkward_csv(int rows, int bad_row, long *bad_line) {
  size_t cap = (size_t)rows * 96 + 256, n = 0;
  char *s = malloc(cap);
  assert_non_null(s);
  long line = 1;
  n += (size_t)snprintf(s + n, cap - n, "user,item,value,time\r\n");
  line++;
  mx_rng r;
  mx__rng_seed(&r, 11);
  for (int k = 1; k <= rows; k++) {
    uint32_t u = mx__rng_below(&r, 97), i = mx__rng_below(&r, 61), kind = mx__rng_below(&r, 10);
    if (kind == 0) { n += (size_t)snprintf(s + n, cap - n, "\n"); line++; }
    if (kind == 1) { n += (size_t)snprintf(s + n, cap - n, "\r\n"); line++; }
    const char *eol = kind < 5 ? "\r\n" : "\n";
    if (k == bad_row) *bad_line = line;
    const char *value = k == bad_row ? "x1" : "2.5";
    if (kind == 2) /* a quoted user id spanning two lines, with a doubled quote */
      n += (size_t)snprintf(s + n, cap - n, "\"u%u \"\"big\"\",\nline\",i%u,%s,2011-01-%02u%s", u, i,
                            value, 1 + u % 28, eol), line += 2;
    else if (kind == 3) /* a quoted item holding the separator */
      n += (size_t)snprintf(s + n, cap - n, "u%u,\"i%u,x\",%s,%u%s", u, i, value,
                            1300000000u + i, eol), line++;
    else if (kind == 4) /* an empty item: skipped and counted */
      n += (size_t)snprintf(s + n, cap - n, "u%u,,%s,%u%s", u, value, 1300000000u, eol), line++;
    else
      n += (size_t)snprintf(s + n, cap - n, "u%u,i%u,%s,%u%s", u, i, value,
                            1300000000u + 60 * (uint32_t)k, eol), line++;
    assert_true(n + 96 < cap);
  }
  return s;
}

static void assert_same_dataset(const mx_dataset *a, const mx_dataset *b) {
  assert_int_equal(a->rows_read, b->rows_read);
  assert_int_equal(a->rows_skipped, b->rows_skipped);
  assert_int_equal(mx_dataset_users(a), mx_dataset_users(b));
  assert_int_equal(mx_dataset_items(a), mx_dataset_items(b));
  for (uint32_t u = 0; u < mx_dataset_users(a); u++)
    assert_string_equal(mx_idmap_name(a->users, u), mx_idmap_name(b->users, u));
  for (uint32_t i = 0; i < mx_dataset_items(a); i++)
    assert_string_equal(mx_idmap_name(a->items, i), mx_idmap_name(b->items, i));
  const mx_csr *x = &a->by_user, *y = &b->by_user;
  assert_int_equal(x->nnz, y->nnz);
  assert_memory_equal(x->indptr, y->indptr, (x->rows + 1) * sizeof *x->indptr);
  assert_memory_equal(x->indices, y->indices, x->nnz * sizeof *x->indices);
  assert_memory_equal(x->values, y->values, x->nnz * sizeof *x->values);
  assert_int_equal(a->has_time, b->has_time);
  if (a->has_time) assert_memory_equal(x->times, y->times, x->nnz * sizeof *x->times);
  assert_int_equal(mx_dataset_fingerprint(a), mx_dataset_fingerprint(b));
}

/* Threads and block sizes change nothing: the same ids in the same
 * (first-appearance) order, the same pairs, values, times and counts as
 * the sequential reader, with blocks of 200 bytes to 64 KB cut inside quoted
 * records and between CR and LF. */
static void test_chunked_parse_matches_sequential(void **s) {
  (void)s;
  long unused = 0;
  char *text = awkward_csv(3000, 0, &unused);
  const char *path = tu_write("awkward.csv", text);
  free(text);
  mx_ingest_options o = mx_ingest_defaults();
  mx_error err;
  assert_int_equal(mx_columns_parse("user=user,item=item,value=value,time=time", NULL,
                                    &o.columns, &err), MX_OK);
  mx_dataset *ref, *d;
  assert_int_equal(mx__dataset_load_csv_threads(path, &o, 1, 1 << 20, &ref, &err), MX_OK);
  assert_true(ref->rows_skipped > 0);
  assert_true(mx_dataset_nnz(ref) < ref->rows_read - ref->rows_skipped); /* repeated pairs */
  assert_non_null(strchr(mx_idmap_name(ref->users, 0), 'u'));
  const int threads[] = {2, 3, 4, 2};
  const size_t blocks[] = {200, 997, 4096, 65536};
  for (int c = 0; c < 4; c++) {
    assert_int_equal(mx__dataset_load_csv_threads(path, &o, threads[c], blocks[c], &d, &err),
                     MX_OK);
    assert_same_dataset(ref, d);
    mx_dataset_free(d);
  }
  /* the public loader agrees too */
  assert_int_equal(mx_dataset_load_csv(path, &o, &d, &err), MX_OK);
  assert_same_dataset(ref, d);
  mx_dataset_free(d);
  mx_dataset_free(ref);
}

/* An error deep in the file names the same file, line, column and field
 * with several threads as with one: the first bad row in file order, its
 * line counted across blocks, windows and quoted newlines. */
static void test_chunked_parse_error_location(void **s) {
  (void)s;
  const int bad_rows[] = {2, 1234, 2999};
  for (int c = 0; c < 3; c++) {
    long bad_line = 0;
    char *text = awkward_csv(3000, bad_rows[c], &bad_line);
    const char *path = tu_write("bad.csv", text);
    free(text);
    mx_ingest_options o = mx_ingest_defaults();
    mx_error e1, e2;
    assert_int_equal(mx_columns_parse("user=user,item=item,value=value,time=time", NULL,
                                      &o.columns, &e1), MX_OK);
    mx_dataset *d;
    assert_int_equal(mx__dataset_load_csv_threads(path, &o, 1, 1 << 20, &d, &e1), MX_EPARSE);
    assert_int_equal(mx__dataset_load_csv_threads(path, &o, 3, 300, &d, &e2), MX_EPARSE);
    assert_null(d);
    assert_int_equal(e1.line, bad_line);
    assert_int_equal(e2.line, bad_line);
    assert_int_equal(e2.column, e1.column);
    assert_string_equal(e2.file, e1.file);
    assert_string_equal(e2.field, "value");
    assert_string_equal(e2.message, e1.message);
  }
  /* without a header the first row fixes the width; a short row far
   * behind it is found with its line */
  char text[16384];
  size_t n = 0;
  for (int k = 1; k <= 1000; k++)
    n += (size_t)snprintf(text + n, sizeof text - n, k == 900 ? "u%d\n" : "u%d,i%d\n", k % 13,
                          k % 7);
  const char *path = tu_write("nohdr.csv", text);
  mx_ingest_options o = mx_ingest_defaults();
  o.csv.has_header = 0;
  mx_error e;
  mx_dataset *d;
  assert_int_equal(mx__dataset_load_csv_threads(path, &o, 2, 256, &d, &e), MX_EPARSE);
  assert_int_equal(e.line, 900);
  assert_non_null(strstr(e.message, "row has 1 fields, expected 2"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_idmap_short_and_long_ids),
      cmocka_unit_test(test_chunked_parse_matches_sequential),
      cmocka_unit_test(test_chunked_parse_error_location),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
