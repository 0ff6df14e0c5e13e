/* Thompson sampling (merx/bandit.h): exact conjugate updates, the Gamma and
 * Beta samplers against their moments, and the choice against a probability
 * computed by hand. Every draw is seeded, so every run sees the same numbers;
 * tolerances are 5 standard errors of the estimate. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "merx/bandit.h"
#include "testutil.h"
#include "util/util.h"


static mx_error err;

/* 2 segments x 3 offers with prior (1, 1) */
static double alpha[6], beta_[6];
static mx_bandit make(double discount) {
  mx_bandit b = {3, 2, 1.0, 1.0, discount, alpha, beta_, NULL};
  mx_bandit_reset(&b);
  return b;
}

static void test_update_exact(void **state) {
  (void)state;
  mx_bandit b = make(1.0);
  double s[6] = {3, 0, 1, 0, 7, 2}, f[6] = {5, 2, 0, 0, 1, 9};
  assert_int_equal(mx_bandit_update(&b, s, f, &err), MX_OK);
  assert_int_equal(mx_bandit_update(&b, s, f, &err), MX_OK);
  for (int i = 0; i < 6; i++) {
    /* integers stay exact: Beta(1 + 2s, 1 + 2f) */
    assert_true(alpha[i] == 1 + 2 * s[i]);
    assert_true(beta_[i] == 1 + 2 * f[i]);
  }
  /* discount 0.5: the old evidence halves towards the prior, then the batch adds */
  b = make(0.5);
  assert_int_equal(mx_bandit_update(&b, s, f, &err), MX_OK);
  assert_int_equal(mx_bandit_update(&b, s, f, &err), MX_OK);
  for (int i = 0; i < 6; i++) {
    assert_true(alpha[i] == 1 + 0.5 * s[i] + s[i]);
    assert_true(beta_[i] == 1 + 0.5 * f[i] + f[i]);
  }
  /* arms without evidence stay at the prior however often they are discounted */
  assert_true(alpha[3] == 1 && beta_[3] == 1);
  double bad[6] = {0, 0, -1, 0, 0, 0};
  assert_int_equal(mx_bandit_update(&b, bad, f, &err), MX_EINVAL);
  assert_non_null(strstr(err.message, "segment 0, offer 2"));
}

static void test_check(void **state) {
  (void)state;
  mx_bandit b = make(1.0);
  assert_int_equal(mx_bandit_check(&b, &err), MX_OK);
  b.discount = 0;
  assert_int_equal(mx_bandit_check(&b, &err), MX_EINVAL);
  assert_non_null(strstr(err.message, "discount"));
  b.discount = 1.5;
  assert_int_equal(mx_bandit_check(&b, &err), MX_EINVAL);
  b.discount = 1;
  b.prior_alpha = -1;
  assert_int_equal(mx_bandit_check(&b, &err), MX_EINVAL);
  assert_non_null(strstr(err.message, "prior"));
  b.prior_alpha = 1;
  double v[3] = {1, 0, 2};
  b.value = v;
  assert_int_equal(mx_bandit_check(&b, &err), MX_EINVAL);
  assert_non_null(strstr(err.message, "value of offer 1"));
}

/* mean and variance of n draws of gen vs the exact moments */
static void moments(double (*gen)(mx_rng *, double, double), double a, double b, double mean,
                    double var) {
  mx_rng rng;
  mx__rng_seed(&rng, 42);
  const int n = 200000;
  double s = 0, s2 = 0;
  for (int i = 0; i < n; i++) {
    double x = gen(&rng, a, b);
    assert_true(isfinite(x) && x >= 0);
    s += x;
    s2 += x * x;
  }
  double m = s / n, v = s2 / n - m * m;
  /* standard errors: sd / sqrt(n) for the mean; for the variance about
   * var * sqrt(2 / n) scaled by 3 for heavy-ish tails (kurtosis < 9 here) */
  NEAR(m, mean, 5 * sqrt(var / n));
  NEAR(v, var, 5 * 3 * var * sqrt(2.0 / n));
}
static double gamma_gen(mx_rng *r, double a, double b) {
  (void)b;
  return mx_gamma_draw(r, a);
}
static double beta_gen(mx_rng *r, double a, double b) { return mx_beta_draw(r, a, b); }

static void test_gamma_moments(void **state) {
  (void)state;
  double shapes[] = {0.3, 1.0, 2.5, 40.0};
  for (int i = 0; i < 4; i++) moments(gamma_gen, shapes[i], 0, shapes[i], shapes[i]);
  mx_rng rng;
  mx__rng_seed(&rng, 1);
  assert_true(isnan(mx_gamma_draw(&rng, 0)));
  assert_true(isnan(mx_gamma_draw(&rng, -2)));
}

static void test_beta_moments(void **state) {
  (void)state;
  double ab[][2] = {{0.5, 0.5}, {1, 1}, {2, 5}, {30, 70}, {1.5, 400}};
  for (int i = 0; i < 5; i++) {
    double a = ab[i][0], b = ab[i][1];
    moments(beta_gen, a, b, a / (a + b), a * b / ((a + b) * (a + b) * (a + b + 1)));
  }
}

/* X ~ Beta(2, 1), Y ~ Beta(1, 2): P(X > Y) = int 2x (2x - x^2) dx = 5/6, so
 * Thompson sampling picks offer 0 for 5/6 of the users. */
static void test_choice_probability(void **state) {
  (void)state;
  mx_bandit b = make(1.0);
  alpha[0] = 2, beta_[0] = 1, alpha[1] = 1, beta_[1] = 2;
  alpha[2] = 1e-3, beta_[2] = 1e3; /* offer 2: almost surely worst */
  const int n = 100000;
  int zero = 0;
  for (int i = 0; i < n; i++) {
    double d;
    uint32_t o = mx_bandit_choose(&b, 0, mx_hash64(&i, sizeof i, 7), &d);
    assert_true(o < 2);
    zero += o == 0;
  }
  NEAR((double)zero / n, 5.0 / 6.0, 5 * sqrt(5.0 / 36.0 / n));
  /* value weighting: offer 1 worth 10x turns the choice around:
   * P(X > 10 Y) = int 2x (2 (x/10) - (x/10)^2) dx = 0.4/3 - 0.005 */
  double v[3] = {1, 10, 1};
  b.value = v;
  int one = 0;
  for (int i = 0; i < n; i++) one += mx_bandit_choose(&b, 0, mx_hash64(&i, sizeof i, 7), NULL) == 1;
  double p1 = 1 - (0.4 / 3 - 0.005);
  NEAR((double)one / n, p1, 5 * sqrt(p1 * (1 - p1) / n));
}

static void test_batch_is_reproducible(void **state) {
  (void)state;
  mx_bandit b = make(1.0);
  double s[6] = {3, 0, 1, 0, 7, 2}, f[6] = {5, 2, 0, 0, 1, 9};
  assert_int_equal(mx_bandit_update(&b, s, f, &err), MX_OK);
  enum { N = 500 };
  uint32_t seg[N], off[N], off2[N];
  uint64_t seeds[N];
  double dr[N];
  for (int i = 0; i < N; i++) {
    seg[i] = (uint32_t)(i % 2);
    seeds[i] = mx_hash64(&i, sizeof i, 99);
  }
  assert_int_equal(mx_bandit_choose_batch(&b, N, seg, seeds, off, dr, &err), MX_OK);
  assert_int_equal(mx_bandit_choose_batch(&b, N, seg, seeds, off2, NULL, &err), MX_OK);
  for (int i = N - 1; i >= 0; i--) {
    double d;
    assert_int_equal(mx_bandit_choose(&b, seg[i], seeds[i], &d), off[i]);
    assert_true(d == dr[i]);
    assert_int_equal(off2[i], off[i]);
  }
  seg[N - 1] = 2;
  assert_int_equal(mx_bandit_choose_batch(&b, N, seg, seeds, off, dr, &err), MX_EINVAL);
}

int main(void) {
  tu_filters();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_update_exact),     cmocka_unit_test(test_check),
      cmocka_unit_test(test_gamma_moments),    cmocka_unit_test(test_beta_moments),
      cmocka_unit_test(test_choice_probability), cmocka_unit_test(test_batch_is_reproducible),
  };
  return tu_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
