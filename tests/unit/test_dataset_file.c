/* .mxd packed datasets: a bit-exact round trip (ids, both CSRs, values,
 * times, what ingest saw), the same dataset as the CSV path, and refusal of
 * truncated, corrupt, foreign and crafted files with the file named. */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "merx/dataset.h"
#include "util/util.h"
#include "util/xxhash.h"

/* The header as dataset_file.c writes it (for crafted files). */
#define HEADER_SIZE 512
#define HASH_SEED 0x6d78643130303031ULL
typedef struct file_header {
  char magic[8];
  uint32_t version, byte_order, n_users, n_items, has_value, has_time;
  uint64_t nnz, rows_read, rows_skipped;
  double value_min, value_max, value_sum;
  int64_t time_min, time_max;
  uint64_t pseudonym_key, file_size;
  uint64_t offset[10], size[10];
  uint64_t payload_hash, header_hash;
} file_header;
enum { S_UIDS, S_IIDS, S_UPTR, S_UIDX, S_UVAL, S_UTIME, S_IPTR, S_IIDX, S_IVAL, S_ITIME };

static void write_bytes(const char *path, const void *p, size_t n) {
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(p, 1, n, f), n);
  fclose(f);
}

/* Recompute both checksums the way the writer does (one payload block here). */
static void fix_checksums(unsigned char *d, size_t n) {
  file_header h;
  memcpy(&h, d, sizeof h);
  h.payload_hash = mx__xxh64(d + HEADER_SIZE, n - HEADER_SIZE, HASH_SEED);
  h.header_hash = 0;
  h.header_hash = mx__xxh64(&h, sizeof h, HASH_SEED);
  memcpy(d, &h, sizeof h);
}

static void expect_refused(const char *path, const char *what) {
  mx_error err;
  mx_error_clear(&err);
  mx_dataset *d = (mx_dataset *)1;
  int rc = mx_dataset_load_packed(path, NULL, &d, &err);
  if (rc == MX_OK || !strstr(err.message, what) || strcmp(err.file, path) != 0)
    fail_msg("%s: rc %d, message '%s' (file '%s'), wanted '%s'", path, rc, err.message, err.file,
             what);
  assert_null(d);
}

static void assert_same_csr(const mx_csr *a, const mx_csr *b) {
  assert_int_equal(a->rows, b->rows);
  assert_int_equal(a->nnz, b->nnz);
  assert_memory_equal(a->indptr, b->indptr, (a->rows + 1) * sizeof *a->indptr);
  assert_memory_equal(a->indices, b->indices, a->nnz * sizeof *a->indices);
  assert_memory_equal(a->values, b->values, a->nnz * sizeof *a->values);
  assert_int_equal(a->times != NULL, b->times != NULL);
  if (a->times) assert_memory_equal(a->times, b->times, a->nnz * sizeof *a->times);
}

static void assert_same_dataset(const mx_dataset *a, const mx_dataset *b) {
  assert_int_equal(mx_dataset_users(a), mx_dataset_users(b));
  assert_int_equal(mx_dataset_items(a), mx_dataset_items(b));
  for (uint32_t u = 0; u < mx_dataset_users(a); u++)
    assert_string_equal(mx_idmap_name(a->users, u), mx_idmap_name(b->users, u));
  for (uint32_t i = 0; i < mx_dataset_items(a); i++)
    assert_string_equal(mx_idmap_name(a->items, i), mx_idmap_name(b->items, i));
  assert_same_csr(&a->by_user, &b->by_user);
  assert_same_csr(&a->by_item, &b->by_item);
  assert_int_equal(a->has_value, b->has_value);
  assert_int_equal(a->has_time, b->has_time);
  assert_int_equal(a->rows_read, b->rows_read);
  assert_int_equal(a->rows_skipped, b->rows_skipped);
  assert_memory_equal(&a->value_min, &b->value_min, sizeof a->value_min);
  assert_memory_equal(&a->value_max, &b->value_max, sizeof a->value_max);
  assert_memory_equal(&a->value_sum, &b->value_sum, sizeof a->value_sum);
  assert_int_equal(a->time_min, b->time_min);
  assert_int_equal(a->time_max, b->time_max);
  assert_int_equal(mx_dataset_fingerprint(a), mx_dataset_fingerprint(b));
}

static void round_trip(const mx_dataset *d, const char *name) {
  mx_error err;
  const char *path = tu_path(name);
  assert_int_equal(mx_dataset_save(d, 0, path, &err), MX_OK);
  assert_int_equal(mx_dataset_is_packed(path), 1);
  mx_dataset *back;
  if (mx_dataset_load_packed(path, NULL, &back, &err) != MX_OK) fail_msg("%s", err.message);
  assert_non_null(back->mapping);
  /* arrays come from the mapping, 64-byte aligned like owned ones */
  if (back->by_user.nnz) assert_int_equal((uintptr_t)back->by_user.indices % 64, 0);
  assert_same_dataset(d, back);
  mx_dataset_free(back);
}

static void test_round_trip_csv(void **state) {
  mx_error err;
  mx_ingest_options o = mx_ingest_defaults();
  assert_int_equal(mx_columns_parse("user=CustomerID,item=StockCode,value=Quantity,time=InvoiceDate",
                                    NULL, &o.columns, &err), MX_OK);
  mx_dataset *d;
  const char *csv = tu_examples("purchases.csv.gz");
  assert_int_equal(mx_dataset_load_csv(csv, &o, &d, &err), MX_OK);
  round_trip(d, "purchases.mxd");
  /* mx_dataset_load_csv takes a .mxd whatever its name */
  const char *renamed = tu_path("purchases.csv");
  assert_int_equal(rename(tu_path("purchases.mxd"), renamed), 0);
  mx_dataset *again;
  assert_int_equal(mx_dataset_load_csv(renamed, &o, &again, &err), MX_OK);
  assert_same_dataset(d, again);
  mx_dataset_free(again);
  mx_dataset_free(d);
  assert_int_equal(mx_dataset_is_packed(csv), 0);
  assert_int_equal(mx_dataset_is_packed(tu_path("missing.mxd")), 0);
}

static void test_round_trip_small(void **state) {
  mx_error err;
  const char *users[] = {"u1", "a-much-longer-user-id-than-sixteen", "u1", "u3"};
  const char *items[] = {"x", "y", "x", "z"};
  const float values[] = {1.5f, -2, 4, 0.25f};
  const int64_t times[] = {100, 50, 75, 0};
  mx_dataset *d;
  assert_int_equal(mx_dataset_from_triplets(users, items, values, times, 4, &d, &err), MX_OK);
  round_trip(d, "small.mxd");
  mx_dataset_free(d);
  assert_int_equal(mx_dataset_from_triplets(users, items, NULL, NULL, 4, &d, &err), MX_OK);
  round_trip(d, "implicit.mxd");
  mx_dataset_free(d);
  assert_int_equal(mx_dataset_from_triplets(users, items, values, times, 0, &d, &err), MX_OK);
  round_trip(d, "empty.mxd");
  mx_dataset_free(d);
}

/* Plain ids loaded with a rewrite (a keyed store) come out rewritten, in
 * the same order; a file of one key's pseudonyms is refused by another. */
static const char *upper(void *ctx, const char *id, size_t len, size_t *out_len) {
  char *buf = ctx;
  for (size_t k = 0; k < len; k++) buf[k] = (char)(id[k] >= 'a' && id[k] <= 'z' ? id[k] - 32 : id[k]);
  *out_len = len;
  return buf;
}

static void test_rewrite_and_key(void **state) {
  mx_error err;
  const char *users[] = {"b", "a", "b"};
  const char *items[] = {"x", "y", "y"};
  mx_dataset *d, *back;
  assert_int_equal(mx_dataset_from_triplets(users, items, NULL, NULL, 3, &d, &err), MX_OK);
  const char *plain = tu_path("plain.mxd"), *keyed = tu_path("keyed.mxd");
  assert_int_equal(mx_dataset_save(d, 0, plain, &err), MX_OK);
  assert_int_equal(mx_dataset_save(d, 42, keyed, &err), MX_OK);
  char buf[64];
  mx_ingest_options o = mx_ingest_defaults();
  o.user_rewrite = upper;
  o.user_rewrite_ctx = buf;
  o.user_rewrite_check = 42;
  assert_int_equal(mx_dataset_load_packed(plain, &o, &back, &err), MX_OK);
  assert_string_equal(mx_idmap_name(back->users, 0), "B");
  assert_string_equal(mx_idmap_name(back->users, 1), "A");
  assert_int_equal(back->pseudonym_key, 42);
  mx_dataset_free(back);
  /* the same key: as stored */
  assert_int_equal(mx_dataset_load_packed(keyed, &o, &back, &err), MX_OK);
  assert_string_equal(mx_idmap_name(back->users, 0), "b");
  mx_dataset_free(back);
  o.user_rewrite_check = 43;
  mx_error_clear(&err);
  assert_int_equal(mx_dataset_load_packed(keyed, &o, &back, &err), MX_EINVAL);
  assert_non_null(strstr(err.message, "another store key"));
  assert_string_equal(err.file, keyed);
  assert_null(back);
  /* without a rewrite a keyed file loads as it is and says whose it is */
  assert_int_equal(mx_dataset_load_packed(keyed, NULL, &back, &err), MX_OK);
  assert_int_equal(back->pseudonym_key, 42);
  mx_dataset_free(back);
  mx_dataset_free(d);
}

static void test_refuses_bad_files(void **state) {
  mx_error err;
  const char *users[] = {"u1", "u2", "u1", "u3"};
  const char *items[] = {"x", "y", "z", "z"};
  const float values[] = {1, 2, 3, 4};
  const int64_t times[] = {10, 20, 30, 40};
  mx_dataset *d;
  assert_int_equal(mx_dataset_from_triplets(users, items, values, times, 4, &d, &err), MX_OK);
  const char *good = tu_path("good.mxd");
  assert_int_equal(mx_dataset_save(d, 0, good, &err), MX_OK);
  mx_dataset_free(d);
  char *data;
  size_t n;
  assert_int_equal(mx__read_file(good, &data, &n, &err), MX_OK);
  const char *p = tu_path("bad.mxd");
  /* every truncation */
  for (size_t cut = 8; cut < n; cut++) {
    write_bytes(p, data, cut);
    expect_refused(p, "truncated");
  }
  /* every single-byte change in the payload or the header's fields */
  file_header h;
  memcpy(&h, data, sizeof h);
  for (size_t k = 8; k < n; k++) {
    if (k >= sizeof h && k < HEADER_SIZE) continue; /* padding the loader ignores */
    data[k] ^= 0x20;
    write_bytes(p, data, n);
    mx_dataset *out;
    mx_error_clear(&err);
    if (mx_dataset_load_packed(p, NULL, &out, &err) == MX_OK)
      fail_msg("byte %zu changed, file still loads", k);
    assert_string_equal(err.file, p);
    data[k] ^= 0x20;
  }
  p = tu_write("foreign.mxd", "user,item\n1,2\n");
  expect_refused(p, "magic");
  expect_refused(tu_path("missing.mxd"), "cannot open");

  /* crafted: checksums recomputed, contents hostile */
  struct {
    int sec;
    size_t at;
    uint64_t value;
    int width;
    const char *what;
  } cases[] = {
      {S_UIDX, 0, 9, 4, "interaction table out of range"},   /* item index >= items */
      {S_UPTR, 8, 99, 8, "interaction table out of range"},  /* row pointer past nnz */
      {S_UIDX, 4, 0, 4, "interaction table out of range"},   /* row not increasing */
      {S_IIDX, 0, 2, 4, "disagree"},                         /* the two tables differ */
      {S_UIDS, 0, 0, 1, "empty user id"},
      {S_UVAL, 0, 0x7fc00000, 4, "out of range"},            /* NaN value */
      {S_IIDS, 0, 'z', 1, "appears twice"},                  /* items x,y,z -> z,y,z */
  };
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    unsigned char *x = malloc(n);
    memcpy(x, data, n);
    uint64_t v = cases[c].value;
    memcpy(x + h.offset[cases[c].sec] + cases[c].at, &v, (size_t)cases[c].width);
    fix_checksums(x, n);
    write_bytes(p, x, n);
    expect_refused(p, cases[c].what);
    free(x);
  }
  /* a section table pointing outside the file */
  unsigned char *x = malloc(n);
  memcpy(x, data, n);
  file_header hx = h;
  hx.offset[S_UVAL] = (uint64_t)1 << 40;
  memcpy(x, &hx, sizeof hx);
  fix_checksums(x, n);
  write_bytes(p, x, n);
  expect_refused(p, "inconsistent section table");
  hx = h;
  hx.offset[S_UVAL] += 4; /* misaligned */
  memcpy(x, &hx, sizeof hx);
  fix_checksums(x, n);
  write_bytes(p, x, n);
  expect_refused(p, "inconsistent section table");
  free(x);
  free(data);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_round_trip_csv),
      cmocka_unit_test(test_round_trip_small),
      cmocka_unit_test(test_rewrite_and_key),
      cmocka_unit_test(test_refuses_bad_files),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
