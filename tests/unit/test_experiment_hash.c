/* Experiment arms (merx/experiment.h) and the XXH64 under them: the
 * published reference vectors of xxHash (its sanity check: a buffer made by
 * byteGen = 2654435761, byte = byteGen >> 56, byteGen *= 11400714785074694797,
 * hashed with seed 0 and seed PRIME32 = 2654435761), each verified against
 * libxxhash 0.8.1; the incremental form equals the one-shot form at every
 * split; and the arm rule on reference users (docs/lua.md's table, also
 * computed by scripts/experiment/arm.py). */
#include "testutil.h"

#include <string.h>

#include "merx/allocate.h"
#include "merx/experiment.h"
#include "util/xxhash.h"

static unsigned char sanity[2367];

static void fill_sanity(void) {
  uint64_t g = 2654435761ULL;
  for (size_t i = 0; i < sizeof sanity; i++) {
    sanity[i] = (unsigned char)(g >> 56);
    g *= 11400714785074694797ULL;
  }
}

static void test_reference_vectors(void **s) {
  (void)s;
  fill_sanity();
  static const struct {
    size_t len;
    uint64_t seed, want;
  } v[] = {
      {0, 0, 0xEF46DB3751D8E999ULL},   {0, 2654435761ULL, 0xAC75FDA2929B17EFULL},
      {1, 0, 0xE934A84ADB052768ULL},   {1, 2654435761ULL, 0x5014607643A9B4C3ULL},
      {14, 0, 0x8282DCC4994E35C8ULL},  {14, 2654435761ULL, 0xC3BD6BF63DEB6DF0ULL},
      {222, 0, 0xB641AE8CB691C174ULL}, {222, 2654435761ULL, 0x20CB8AB7AE10C14AULL},
  };
  for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
    assert_int_equal(mx__xxh64(sanity, v[i].len, v[i].seed), v[i].want);
  assert_int_equal(mx__xxh64("a", 1, 0), 0xD24EC4F1A98C6E5BULL);
  assert_int_equal(mx__xxh64("abc", 3, 0), 0x44BC2CF5AD770999ULL);
  const char *spam = "Nobody inspects the spammish repetition";
  assert_int_equal(mx__xxh64(spam, strlen(spam), 0), 0xFBCEA83C8A378BF1ULL);
}

static void test_incremental_equals_one_shot(void **s) {
  (void)s;
  fill_sanity();
  for (size_t len = 0; len <= 100; len += 3)
    for (size_t cut = 0; cut <= len; cut++) {
      mx_xxh64_state st;
      mx__xxh64_reset(&st, 7);
      mx__xxh64_update(&st, sanity, cut);
      mx__xxh64_update(&st, sanity + cut, len - cut);
      assert_int_equal(mx__xxh64_digest(&st), mx__xxh64(sanity, len, 7));
    }
}

static double unit_of(const char *salt, const char *stratum, const char *user) {
  return mx_experiment_unit(salt, strlen(salt), stratum, stratum ? strlen(stratum) : 0, user,
                            strlen(user));
}

static void test_reference_users(void **s) {
  (void)s;
  /* XXH64("spring:u1") = 0xc3fac03df98a65ab, so u = 0x187f5807bf314c * 2^-53 */
  assert_int_equal(mx__xxh64("spring:u1", 9, 0), 0xC3FAC03DF98A65ABULL);
  assert_true(unit_of("spring", NULL, "u1") == (double)(0xC3FAC03DF98A65ABULL >> 11) * 0x1.0p-53);
  static const struct {
    const char *user, *stratum;
    int arm; /* of {control 0.1, coupon 0.9} */
  } r[] = {{"u1", NULL, 1},    {"u2", NULL, 1},      {"u3", NULL, 0},      {"12346", NULL, 0},
           {"17850", NULL, 1}, {"alice", NULL, 0},   {"bob", NULL, 1},     {"u3", "loyal", 1},
           {"alice", "loyal", 1}};
  double shares[2] = {0.1, 0.9};
  for (size_t i = 0; i < sizeof r / sizeof r[0]; i++)
    assert_int_equal(mx_experiment_pick(shares, 2, unit_of("spring", r[i].stratum, r[i].user)),
                     r[i].arm);
}

/* The shard rule (util/xxhash.h mx__shard_of): Spark SQL's documented values
 * of xxhash64 (seed 42) -- xxhash64('ABC') = 4105715581806190027 and
 * xxhash64('Spark', array(123), 2) = 5602566077635097486, where an int is
 * hashed as its 4 little-endian bytes and each argument seeds the next --
 * then the README's reference shards, pmod of the signed value. */
static void test_shard_reference(void **s) {
  (void)s;
  assert_int_equal(mx__xxh64("ABC", 3, MX_SHARD_SEED), 4105715581806190027ULL);
  const unsigned char i123[4] = {123, 0, 0, 0}, i2[4] = {2, 0, 0, 0};
  uint64_t h = mx__xxh64("Spark", 5, 42);
  h = mx__xxh64(i123, 4, h);
  assert_int_equal(mx__xxh64(i2, 4, h), 5602566077635097486ULL);
  static const struct {
    const char *id;
    int64_t h; /* as Spark's signed BIGINT */
    uint32_t s4, s16, s3;
  } r[] = {
      {"ABC", 4105715581806190027LL, 3, 11, 1},
      {"u1", -5294616631767451713LL, 3, 15, 0},
      {"12346", -2900631447853519447LL, 1, 9, 2},
      {"17850", -3353835496113539356LL, 0, 4, 2},
      {"alice", 2281294259717289107LL, 3, 3, 2},
      {"a-user-id-longer-than-thirty-two-bytes", 6475643180928243380LL, 0, 4, 2},
  };
  for (size_t i = 0; i < sizeof r / sizeof r[0]; i++) {
    size_t len = strlen(r[i].id);
    assert_int_equal(mx__xxh64(r[i].id, len, MX_SHARD_SEED), (uint64_t)r[i].h);
    assert_int_equal(mx__shard_of(r[i].id, len, 4), r[i].s4);
    assert_int_equal(mx__shard_of(r[i].id, len, 16), r[i].s16);
    /* 3 does not divide 2^64: a negative h is where unsigned modulo differs */
    assert_int_equal(mx__shard_of(r[i].id, len, 3), r[i].s3);
    assert_int_equal(mx__shard_of(r[i].id, len, 1), 0);
  }
  assert_int_equal(mx_alloc_shard_of("u1", 2, 3), 0);
}

static void test_pick_rule(void **s) {
  (void)s;
  double sh[4] = {0.25, 0, 0.5, 0.25};
  assert_int_equal(mx_experiment_pick(sh, 4, 0.0), 0);
  assert_int_equal(mx_experiment_pick(sh, 4, 0.2499999), 0);
  assert_int_equal(mx_experiment_pick(sh, 4, 0.25), 2); /* a zero share is never picked */
  assert_int_equal(mx_experiment_pick(sh, 4, 0.75), 3);
  /* shares that sum a hair below 1: u past the sum goes to the last arm
   * with a share, not to a zero-share arm after it */
  double t[3] = {0.3, 0.7 - 1e-12, 0};
  assert_int_equal(mx_experiment_pick(t, 3, 1 - 0x1.0p-53), 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_reference_vectors),
      cmocka_unit_test(test_incremental_equals_one_shot),
      cmocka_unit_test(test_reference_users),
      cmocka_unit_test(test_pick_rule),
      cmocka_unit_test(test_shard_reference),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
