/* .mxm save/load: bit-exact round trip, mmap alignment, refusal of
 * truncated, corrupt and foreign files. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "merx/model.h"
#include "util/util.h"

/* A small model with every section filled: 5 users, 7 items, k = 3. */
static mx_model *make_model(mx_model_kind kind) {
  mx_error err;
  mx_model *m;
  uint32_t nu = 5, ni = 7, k = kind == MX_MODEL_EASE ? 0 : 3;
  assert_int_equal(mx_model_create(kind, nu, ni, k, kind != MX_MODEL_EASE, &m, &err), MX_OK);
  char buf[32];
  for (uint32_t u = 0; u < nu; u++) {
    snprintf(buf, sizeof buf, "user-%u", u * 7);
    assert_int_equal(mx_idmap_intern(m->users, buf, strlen(buf)), u);
  }
  for (uint32_t i = 0; i < ni; i++) {
    snprintf(buf, sizeof buf, "item %u", i);
    assert_int_equal(mx_idmap_intern(m->items, buf, strlen(buf)), i);
  }
  mx_rng r;
  mx__rng_seed(&r, 3);
  for (size_t q = 0; q < (size_t)nu * k; q++) m->user_factors[q] = (float)mx__rng_normal(&r);
  for (size_t q = 0; q < (size_t)ni * k; q++) m->item_factors[q] = (float)mx__rng_normal(&r);
  if (m->user_bias)
    for (uint32_t u = 0; u < nu; u++) m->user_bias[u] = (float)u * 0.25f;
  if (m->item_bias)
    for (uint32_t i = 0; i < ni; i++) m->item_bias[i] = -(float)i * 0.5f;
  if (m->ease_b)
    for (size_t q = 0; q < (size_t)ni * ni; q++) m->ease_b[q] = (float)mx__rng_uniform(&r);
  m->global_mean = 3.5f;
  m->rating_min = 1;
  m->rating_max = 5;
  m->hyper[0] = 0.05;
  m->hyper[1] = 20;
  m->n_hyper = 2;
  m->data_fingerprint = 0x1234567890abcdefULL;
  /* seen: user u saw items u and u+2 (mod 7) */
  mx_csr c = {0};
  c.rows = nu;
  c.nnz = 2 * nu;
  uint64_t indptr[6];
  uint32_t idx[10];
  float val[10];
  for (uint32_t u = 0; u <= nu; u++) indptr[u] = 2 * u;
  for (uint32_t u = 0; u < nu; u++) {
    idx[2 * u] = u;
    idx[2 * u + 1] = u + 2;
    val[2 * u] = 1;
    val[2 * u + 1] = (float)u + 0.5f;
  }
  c.indptr = indptr;
  c.indices = idx;
  c.values = val;
  assert_int_equal(mx_model_set_seen(m, &c, &err), MX_OK);
  return m;
}

static void assert_same(const mx_model *a, const mx_model *b) {
  assert_int_equal(a->kind, b->kind);
  assert_int_equal(a->implicit, b->implicit);
  assert_int_equal(a->n_users, b->n_users);
  assert_int_equal(a->n_items, b->n_items);
  assert_int_equal(a->factors, b->factors);
  assert_memory_equal(&a->global_mean, &b->global_mean, sizeof(float));
  assert_true(a->rating_min == b->rating_min && a->rating_max == b->rating_max);
  assert_int_equal(a->n_hyper, b->n_hyper);
  assert_memory_equal(a->hyper, b->hyper, sizeof(double) * (size_t)a->n_hyper);
  assert_true(a->data_fingerprint == b->data_fingerprint);
  size_t k = a->factors;
  if (k) {
    assert_memory_equal(a->user_factors, b->user_factors, a->n_users * k * 4);
    assert_memory_equal(a->item_factors, b->item_factors, a->n_items * k * 4);
  }
  assert_true((a->user_bias == NULL) == (b->user_bias == NULL));
  if (a->user_bias) {
    assert_memory_equal(a->user_bias, b->user_bias, a->n_users * 4);
    assert_memory_equal(a->item_bias, b->item_bias, a->n_items * 4);
  }
  assert_true((a->ease_b == NULL) == (b->ease_b == NULL));
  if (a->ease_b) assert_memory_equal(a->ease_b, b->ease_b, (size_t)a->n_items * a->n_items * 4);
  assert_int_equal(a->seen.nnz, b->seen.nnz);
  assert_memory_equal(a->seen.indptr, b->seen.indptr, (a->n_users + 1) * 8);
  assert_memory_equal(a->seen.indices, b->seen.indices, a->seen.nnz * 4);
  assert_memory_equal(a->seen.values, b->seen.values, a->seen.nnz * 4);
  for (uint32_t u = 0; u < a->n_users; u++)
    assert_string_equal(mx_idmap_name(a->users, u), mx_idmap_name(b->users, u));
  for (uint32_t i = 0; i < a->n_items; i++)
    assert_string_equal(mx_idmap_name(a->items, i), mx_idmap_name(b->items, i));
}

static void round_trip(mx_model_kind kind) {
  mx_error err;
  mx_model *m = make_model(kind);
  const char *path = tu_path("m.mxm");
  assert_int_equal(mx_model_save(m, path, &err), MX_OK);
  mx_model *l;
  assert_int_equal(mx_model_load(path, &l, &err), MX_OK);
  assert_int_equal(l->owns_arrays, 0);
  assert_non_null(l->mapping);
  if (l->user_factors) {
    assert_int_equal((uintptr_t)l->user_factors % 64, 0);
    assert_int_equal((uintptr_t)l->item_factors % 64, 0);
  }
  if (l->ease_b) assert_int_equal((uintptr_t)l->ease_b % 64, 0);
  assert_same(m, l);
  /* A loaded model saves to an identical file, and predictions agree. */
  assert_int_equal(mx_model_save(l, tu_path("m2.mxm"), &err), MX_OK);
  char *a, *b;
  size_t na, nb;
  assert_int_equal(mx__read_file(path, &a, &na, &err), MX_OK);
  assert_int_equal(mx__read_file(tu_path("m2.mxm"), &b, &nb, &err), MX_OK);
  assert_int_equal(na, nb);
  assert_memory_equal(a, b, na);
  free(a);
  free(b);
  for (uint32_t u = 0; u < m->n_users; u++)
    for (uint32_t i = 0; i < m->n_items; i++)
      assert_true(mx_model_predict(m, u, i) == mx_model_predict(l, u, i));
  mx_model *c;
  assert_int_equal(mx_model_clone(l, &c, &err), MX_OK);
  assert_same(l, c);
  mx_model_free(c);
  mx_model_free(l);
  mx_model_free(m);
}

static void test_round_trip_mf(void **state) { round_trip(MX_MODEL_MF); }
static void test_round_trip_ials(void **state) { round_trip(MX_MODEL_IALS); }
static void test_round_trip_ease(void **state) { round_trip(MX_MODEL_EASE); }

static void write_bytes(const char *path, const char *data, size_t n) {
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(data, 1, n, f), n);
  fclose(f);
}

static void expect_refused(const char *path, const char *needle) {
  mx_error err;
  mx_model *l = (mx_model *)1;
  int rc = mx_model_load(path, &l, &err);
  assert_int_not_equal(rc, MX_OK);
  assert_null(l);
  if (!strstr(err.message, needle)) fail_msg("message '%s' lacks '%s'", err.message, needle);
  assert_string_equal(err.file, path);
}

/* A model of pseudonyms keeps its key's check value (format version 2); a
 * model without stays version 1 (older merx reads it); a flipped byte of the
 * check value fails the header checksum. */
static void test_pseudonym_key_round_trip(void **state) {
  (void)state;
  mx_error err;
  mx_model *m = make_model(MX_MODEL_IALS), *l = NULL;
  const char *path = tu_path("p.mxm");
  uint32_t version;
  char *bytes;
  size_t n;
  assert_int_equal(mx_model_save(m, path, &err), MX_OK);
  assert_int_equal(mx__read_file(path, &bytes, &n, &err), MX_OK);
  memcpy(&version, bytes + 8, 4);
  assert_int_equal(version, 1);
  free(bytes);
  m->pseudonym_key = 0x0123456789abcdefULL;
  assert_int_equal(mx_model_save(m, path, &err), MX_OK);
  assert_int_equal(mx_model_load(path, &l, &err), MX_OK);
  assert_true(l->pseudonym_key == m->pseudonym_key);
  assert_same(m, l);
  mx_model *c = NULL;
  assert_int_equal(mx_model_clone(l, &c, &err), MX_OK);
  assert_true(c->pseudonym_key == m->pseudonym_key);
  mx_model_free(c);
  mx_model_free(l);
  assert_int_equal(mx__read_file(path, &bytes, &n, &err), MX_OK);
  memcpy(&version, bytes + 8, 4);
  assert_int_equal(version, 2);
  bytes[376] ^= 1; /* the check value, right after the version 1 header */
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(bytes, 1, n, f), n);
  fclose(f);
  free(bytes);
  expect_refused(path, "header checksum");
  mx_model_free(m);
}

static void test_refuses_bad_files(void **state) {
  mx_error err;
  mx_model *m = make_model(MX_MODEL_ALS);
  const char *path = tu_path("good.mxm");
  assert_int_equal(mx_model_save(m, path, &err), MX_OK);
  mx_model_free(m);
  char *data;
  size_t n;
  assert_int_equal(mx__read_file(path, &data, &n, &err), MX_OK);

  const char *p = tu_path("trunc.mxm");
  write_bytes(p, data, n - 100);
  expect_refused(p, "truncated");
  write_bytes(p, data, 300);
  expect_refused(p, "truncated");

  /* One flipped bit in the payload (item factors) -> checksum. */
  data[n - 200] ^= 0x10;
  p = tu_path("flip.mxm");
  write_bytes(p, data, n);
  expect_refused(p, "checksum");
  data[n - 200] ^= 0x10;

  /* Flipped header field -> header checksum. */
  data[20] ^= 1;
  write_bytes(p, data, n);
  expect_refused(p, "checksum");
  data[20] ^= 1;

  p = tu_write("foreign.mxm", "user,item\n1,2\n");
  expect_refused(p, "magic");
  char big[2048];
  memset(big, 'x', sizeof big);
  p = tu_path("foreign2.mxm");
  write_bytes(p, big, sizeof big);
  expect_refused(p, "magic");
  expect_refused(tu_path("missing.mxm"), "cannot open");
  free(data);
}

/* .npy: float32 C order round trip; a hand-written float64 Fortran-order
 * file (what numpy writes for np.asfortranarray(x.astype(float64))). */
static void test_npy(void **state) {
  mx_error err;
  float a[6] = {1, 2, 3, 4, 5, 6};
  const char *p = tu_path("a.npy");
  assert_int_equal(mx_npy_write(p, a, 2, 3, &err), MX_OK);
  float *b;
  uint64_t r, c;
  assert_int_equal(mx_npy_read(p, &b, &r, &c, &err), MX_OK);
  assert_int_equal(r, 2);
  assert_int_equal(c, 3);
  assert_memory_equal(a, b, sizeof a);
  mx_free_aligned(b);
  char hdr[128];
  int n = snprintf(hdr, sizeof hdr, "{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3), }");
  while ((10 + n + 1) % 64) hdr[n++] = ' ';
  hdr[n++] = '\n';
  char file[256];
  memcpy(file, "\x93NUMPY\x01\x00", 8);
  file[8] = (char)n;
  file[9] = 0;
  memcpy(file + 10, hdr, (size_t)n);
  /* column-major: (0,0) (1,0) (0,1) (1,1) (0,2) (1,2) */
  double col[6] = {1, 4, 2, 5, 3, 6};
  memcpy(file + 10 + n, col, sizeof col);
  p = tu_path("f.npy");
  write_bytes(p, file, 10 + (size_t)n + sizeof col);
  assert_int_equal(mx_npy_read(p, &b, &r, &c, &err), MX_OK);
  assert_int_equal(r, 2);
  assert_int_equal(c, 3);
  assert_memory_equal(a, b, sizeof a);
  mx_free_aligned(b);
  /* truncated data and foreign files are refused */
  write_bytes(p, file, 10 + (size_t)n + 20);
  assert_int_equal(mx_npy_read(p, &b, &r, &c, &err), MX_EFORMAT);
  assert_non_null(strstr(err.message, "truncated"));
  p = tu_write("x.npy", "hello");
  assert_int_equal(mx_npy_read(p, &b, &r, &c, &err), MX_EFORMAT);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_round_trip_mf),
      cmocka_unit_test(test_round_trip_ials),
      cmocka_unit_test(test_round_trip_ease),
      cmocka_unit_test(test_refuses_bad_files),
      cmocka_unit_test(test_pseudonym_key_round_trip),
      cmocka_unit_test(test_npy),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
