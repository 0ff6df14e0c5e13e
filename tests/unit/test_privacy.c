/* Pseudonyms (util/pseudonym.c) and the store's key and policy
 * (store/privacy.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "store/privacy.h"
#include "testutil.h"
#include "util/idmap_rename.h"
#include "util/pseudonym.h"
#include "util/util.h"

static void hex(const unsigned char *d, size_t n, char *out) {
  for (size_t i = 0; i < n; i++) snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* RFC 4231 test cases 1, 2 and 6 (a key longer than the block). */
static void test_hmac_rfc4231(void **state) {
  (void)state;
  unsigned char key1[20], d[32], key6[131];
  char h[65];
  memset(key1, 0x0b, sizeof key1);
  memset(key6, 0xaa, sizeof key6);
  mx_hmac_key k;
  mx__hmac_key_init(&k, key1, sizeof key1);
  mx__hmac_sha256(&k, "Hi There", 8, d);
  hex(d, 32, h);
  assert_string_equal(h, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  mx__hmac_key_init(&k, "Jefe", 4);
  mx__hmac_sha256(&k, "what do ya want for nothing?", 28, d);
  hex(d, 32, h);
  assert_string_equal(h, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  mx__hmac_key_init(&k, key6, sizeof key6);
  const char *m = "Test Using Larger Than Block-Size Key - Hash Key First";
  mx__hmac_sha256(&k, m, strlen(m), d);
  hex(d, 32, h);
  assert_string_equal(h, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
  char p[MX_PSEUDONYM_LEN + 1];
  mx__pseudonym(&k, m, strlen(m), p);
  assert_string_equal(p, "60e431591ee0b67f0d8a26aacbf5b77f");
}

/* RFC 4231 test cases 3, 4 and 7 (key and data both longer than a block). */
static void test_hmac_rfc4231_more(void **state) {
  (void)state;
  unsigned char key3[20], data3[50], key4[25], data4[50], key7[131], d[32];
  char h[65];
  memset(key3, 0xaa, sizeof key3);
  memset(data3, 0xdd, sizeof data3);
  for (int i = 0; i < 25; i++) key4[i] = (unsigned char)(i + 1);
  memset(data4, 0xcd, sizeof data4);
  memset(key7, 0xaa, sizeof key7);
  mx_hmac_key k;
  mx__hmac_key_init(&k, key3, sizeof key3);
  mx__hmac_sha256(&k, data3, sizeof data3, d);
  hex(d, 32, h);
  assert_string_equal(h, "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
  mx__hmac_key_init(&k, key4, sizeof key4);
  mx__hmac_sha256(&k, data4, sizeof data4, d);
  hex(d, 32, h);
  assert_string_equal(h, "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b");
  const char *m = "This is a test using a larger than block-size key and a larger than block-size "
                  "data. The key needs to be hashed before being used by the HMAC algorithm.";
  mx__hmac_key_init(&k, key7, sizeof key7);
  mx__hmac_sha256(&k, m, strlen(m), d);
  hex(d, 32, h);
  assert_string_equal(h, "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
  mx__hmac_key_clear(&k);
}

/* The reused key states give libcrypto's one-shot HMAC for every message
 * length around the block boundaries (0..200 bytes), key after key. */
static void test_hmac_matches_libcrypto(void **state) {
  (void)state;
  unsigned char key[100], msg[200], d[32], want[32];
  for (size_t i = 0; i < sizeof msg; i++) msg[i] = (unsigned char)(i * 7 + 3);
  for (size_t kl = 1; kl <= sizeof key; kl += 33) {
    for (size_t i = 0; i < kl; i++) key[i] = (unsigned char)(i * 13 + kl);
    mx_hmac_key k;
    mx__hmac_key_init(&k, key, kl);
    for (size_t len = 0; len <= sizeof msg; len++) {
      unsigned int wl = 0;
      mx__hmac_sha256(&k, msg, len, d);
      assert_non_null(HMAC(EVP_sha256(), key, (int)kl, msg, len, want, &wl));
      assert_int_equal(wl, 32);
      assert_memory_equal(d, want, 32);
    }
    mx__hmac_key_clear(&k);
  }
}

static void test_pseudonymiser_memo(void **state) {
  (void)state;
  mx_hmac_key k;
  mx__hmac_key_init(&k, "0123456789abcdef", 16);
  mx_pseudonymiser *ps = mx__pseudonymiser_create(&k);
  assert_non_null(ps);
  char want[MX_PSEUDONYM_LEN + 1], id[32];
  for (int round = 0; round < 2; round++)
    for (int i = 0; i < 3000; i++) { /* past the first growth of the table */
      snprintf(id, sizeof id, "%d.0", i);
      mx__pseudonym(&k, id, strlen(id), want);
      const char *got = mx__pseudonymise(ps, id, strlen(id));
      assert_non_null(got);
      assert_string_equal(got, want);
    }
  mx__pseudonymiser_free(ps);
}

static void test_store_key_file(void **state) {
  (void)state;
  unsetenv("MERX_STORE_KEY");
  mx_hmac_key k;
  int has = 1;
  mx_error err;
  const char *dir = tu_tmpdir();
  assert_int_equal(mx__store_key(dir, &k, &has, &err), MX_OK);
  assert_int_equal(has, 0);
  const char *path = tu_write("store.key", "a secret of more than sixteen bytes\n");
  chmod(path, 0640);
  assert_int_equal(mx__store_key(dir, &k, &has, &err), MX_EINVAL);
  assert_non_null(strstr(err.message, "chmod 600"));
  chmod(path, 0600);
  assert_int_equal(mx__store_key(dir, &k, &has, &err), MX_OK);
  assert_int_equal(has, 1);
  /* the trailing newline is not part of the key: same as the environment's */
  char a[MX_PSEUDONYM_LEN + 1], b[MX_PSEUDONYM_LEN + 1];
  mx__pseudonym(&k, "u1", 2, a);
  setenv("MERX_STORE_KEY", "a secret of more than sixteen bytes", 1);
  assert_int_equal(mx__store_key(NULL, &k, &has, &err), MX_OK);
  mx__pseudonym(&k, "u1", 2, b);
  assert_string_equal(a, b);
  unsetenv("MERX_STORE_KEY");
  tu_write("store.key", "short");
  chmod(path, 0600);
  assert_int_equal(mx__store_key(dir, &k, &has, &err), MX_EINVAL);
  assert_non_null(strstr(err.message, "at least 16"));
  remove(path);
}

static void test_store_policy(void **state) {
  (void)state;
  mx_store_policy p;
  mx_error err;
  const char *dir = tu_tmpdir();
  const char *path = tu_write("store.conf", "# policy\nretain_days = 90\nretain_runs_days=7\n"
                                            "store_queries = yes\n");
  assert_int_equal(mx__store_policy_load(dir, &p, &err), MX_OK);
  assert_int_equal(p.retain_decisions_days, 90);
  assert_int_equal(p.retain_exposures_days, 90);
  assert_int_equal(p.retain_runs_days, 7);
  assert_int_equal(p.retain_cache_days, 90);
  assert_int_equal(p.store_queries, 1);
  tu_write("store.conf", "retain_days = 90\nretian_runs_days = 3\n");
  assert_int_equal(mx__store_policy_load(dir, &p, &err), MX_EPARSE);
  assert_int_equal(err.line, 2);
  assert_non_null(strstr(err.message, "did you mean retain_runs_days"));
  tu_write("store.conf", "retain_days = -1\n");
  assert_int_equal(mx__store_policy_load(dir, &p, &err), MX_EPARSE);
  remove(path);
  assert_int_equal(mx__store_policy_load(dir, &p, &err), MX_OK);
  assert_int_equal(p.retain_decisions_days, 0);
}

static void test_personal_data(void **state) {
  (void)state;
  const char *what = NULL;
  const char *clean[] = {"score 0.600; value 14.00 = 0.600 score x 30.00 margin - 4.00 cost",
                         "budget left 396.00 of 400.00", "at 1733788800", "order 12345678901",
                         "user@host", "spring: segment champions"};
  for (size_t i = 0; i < sizeof clean / sizeof *clean; i++)
    assert_int_equal(mx__personal_find(clean[i], strlen(clean[i]), NULL), 0);
  const char *a = "mail jane.doe+x@example.co.uk.";
  assert_int_equal(mx__personal_find(a, strlen(a), &what), 1);
  assert_string_equal(what, "an e-mail address");
  const char *b = "call +44 7700 900123 today";
  assert_int_equal(mx__personal_find(b, strlen(b), &what), 1);
  assert_string_equal(what, "a phone number");
  char out[128];
  mx__redact_personal(a, strlen(a), out, sizeof out);
  assert_string_equal(out, "mail [email].");
  mx__redact_personal(b, strlen(b), out, sizeof out);
  assert_string_equal(out, "call [phone] today");
  const char *c = "(020) 7946-0018 or 07700 900123";
  mx__redact_personal(c, strlen(c), out, sizeof out);
  assert_string_equal(out, "[phone] or [phone]");
}

/* The loader's rename (util/idmap_rename.h): every id becomes its pseudonym
 * at its own index, the raw ids are gone from the map, and the map goes on
 * interning afterwards (growth past the capacity it was renamed at). */
static void test_rename_to_pseudonyms(void **state) {
  (void)state;
  mx_hmac_key k;
  mx__hmac_key_init(&k, "0123456789abcdef", 16);
  mx_pseudonymiser *ps = mx__pseudonymiser_create(&k);
  assert_non_null(ps);
  mx_idmap *m = mx_idmap_create();
  assert_non_null(m);
  char id[32], want[MX_PSEUDONYM_LEN + 1];
  enum { N = 3000 };
  for (int i = 0; i < N; i++) {
    int len = snprintf(id, sizeof id, i % 2 ? "%d.0" : "customer-number-%d", i);
    assert_int_equal(mx_idmap_intern(m, id, (size_t)len), i);
  }
  assert_int_equal(mx__idmap_rename(m, mx__pseudonymise_rewrite, ps, NULL), 0);
  assert_int_equal(mx_idmap_size(m), N);
  for (int i = 0; i < N; i++) {
    int len = snprintf(id, sizeof id, i % 2 ? "%d.0" : "customer-number-%d", i);
    mx__pseudonym(&k, id, (size_t)len, want);
    assert_string_equal(mx_idmap_name(m, (uint32_t)i), want);
    assert_int_equal(mx_idmap_find(m, want, MX_PSEUDONYM_LEN), i);
    assert_int_equal(mx_idmap_find(m, id, (size_t)len), -1);
  }
  /* interning goes on: known pseudonyms keep their index, new ids follow */
  mx__pseudonym(&k, "1.0", 3, want);
  assert_int_equal(mx_idmap_intern(m, want, MX_PSEUDONYM_LEN), 1);
  for (int i = 0; i < 2 * N; i++) {
    int len = snprintf(id, sizeof id, "new%d", i);
    assert_int_equal(mx_idmap_intern(m, id, (size_t)len), N + i);
  }
  for (int i = 0; i < 2 * N; i++) {
    int len = snprintf(id, sizeof id, "new%d", i);
    assert_int_equal(mx_idmap_find(m, id, (size_t)len), N + i);
  }
  assert_int_equal(mx_idmap_find(m, want, MX_PSEUDONYM_LEN), 1);
  mx_idmap_free(m);
  /* an empty map renames to an empty map that still interns */
  m = mx_idmap_create();
  assert_int_equal(mx__idmap_rename(m, mx__pseudonymise_rewrite, ps, NULL), 0);
  assert_int_equal(mx_idmap_intern(m, "a", 1), 0);
  mx_idmap_free(m);
  mx__pseudonymiser_free(ps);
}

/* Two ids given one name: refused, naming the later index, and the map is
 * left exactly as it was (all or nothing). */
static const char *fold_case(void *ctx, const char *id, size_t len, size_t *out_len) {
  char *buf = ctx;
  for (size_t i = 0; i < len; i++) buf[i] = (char)(id[i] >= 'A' && id[i] <= 'Z' ? id[i] + 32 : id[i]);
  *out_len = len;
  return buf;
}

static void test_rename_collision_leaves_map(void **state) {
  (void)state;
  mx_idmap *m = mx_idmap_create();
  const char *ids[] = {"alice", "Bob-the-long-customer", "carol", "bob-the-long-customer", "dave"};
  for (int i = 0; i < 5; i++) assert_int_equal(mx_idmap_intern(m, ids[i], strlen(ids[i])), i);
  char buf[64];
  uint32_t dup = 99;
  assert_int_equal(mx__idmap_rename(m, fold_case, buf, &dup), -2);
  assert_int_equal(dup, 3);
  for (int i = 0; i < 5; i++) {
    assert_string_equal(mx_idmap_name(m, (uint32_t)i), ids[i]);
    assert_int_equal(mx_idmap_find(m, ids[i], strlen(ids[i])), i);
  }
  /* short ids collide on the slot image alone */
  mx_idmap_free(m);
  m = mx_idmap_create();
  assert_int_equal(mx_idmap_intern(m, "Ann", 3), 0);
  assert_int_equal(mx_idmap_intern(m, "ann", 3), 1);
  assert_int_equal(mx__idmap_rename(m, fold_case, buf, &dup), -2);
  assert_int_equal(dup, 1);
  assert_int_equal(mx_idmap_find(m, "Ann", 3), 0);
  mx_idmap_free(m);
  /* past the look-ahead of slot fetches: the collision is found all the same */
  m = mx_idmap_create();
  char id[32];
  for (int i = 0; i < 100; i++) {
    int len = snprintf(id, sizeof id, i == 70 ? "Customer-%d" : "customer-%d", i == 70 ? 20 : i);
    assert_int_equal(mx_idmap_intern(m, id, (size_t)len), i);
  }
  assert_int_equal(mx__idmap_rename(m, fold_case, buf, &dup), -2);
  assert_int_equal(dup, 70);
  assert_int_equal(mx_idmap_find(m, "Customer-20", 11), 70);
  mx_idmap_free(m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_hmac_rfc4231),
      cmocka_unit_test(test_hmac_rfc4231_more),
      cmocka_unit_test(test_hmac_matches_libcrypto),
      cmocka_unit_test(test_pseudonymiser_memo),
      cmocka_unit_test(test_store_key_file),
      cmocka_unit_test(test_store_policy),
      cmocka_unit_test(test_personal_data),
      cmocka_unit_test(test_rename_to_pseudonyms),
      cmocka_unit_test(test_rename_collision_leaves_map),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
