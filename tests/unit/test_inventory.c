/* Inventory models against the published answers of Snyder & Shen,
 * Fundamentals of Supply Chain Theory (2nd ed., 2019), "S&S" below: each
 * test names the book's example or equation. Figures with more digits than
 * the book prints are those of the book's companion package stockpyl
 * (L. Snyder), whose docstrings reproduce the same examples. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "merx/inventory.h"
#include "testutil.h"
#include "util/util.h"


static mx_error err;

/* ------------------------------------------------------------ loss functions */

static void test_normal_loss(void **state) {
  (void)state;
  /* S&S eq. C.22 and C.27 at z = 1.3 */
  NEAR(mx_std_normal_loss(1.3), 0.04552796208651397, 1e-13);
  NEAR(mx_std_normal_loss2(1.3), 0.01880706693657111, 1e-13);
  /* S&S eq. C.31 and C.33 for N(15, 3^2) at 18.6 */
  NEAR(mx_normal_loss(18.6, 15, 3), 0.1683073521514889, 1e-12);
  NEAR(mx_normal_loss2(18.6, 15, 3), 0.21486028212500707, 1e-12);
  mx_dist d;
  assert_int_equal(mx_dist_normal(&d, 15, 3, &err), MX_OK);
  NEAR(mx_dist_loss_bar(&d, 18.6), 3.7683073521514903, 1e-12);
  /* quantile inverts the cdf to full precision, also in the tails */
  double qs[] = {1e-12, 1e-6, 0.025, 0.5, 0.8, 0.95, 0.999999};
  for (size_t i = 0; i < sizeof qs / sizeof *qs; i++)
    NEAR(mx_std_normal_cdf(mx_std_normal_quantile(qs[i])) / qs[i], 1.0, 1e-12);
  NEAR(mx_std_normal_quantile(0.95), 1.6448536269514722, 1e-13);
  assert_true(isnan(mx_std_normal_quantile(1.0)));
}

static void test_poisson_loss(void **state) {
  (void)state;
  /* S&S eq. C.41-C.42, Poisson(15) at 18 */
  NEAR(mx_poisson_loss(18, 15), 0.5176095282584724, 1e-12);
  NEAR(mx_poisson_loss2(18, 15), 0.848340302917789, 1e-11);
  mx_dist d;
  assert_int_equal(mx_dist_poisson(&d, 15, &err), MX_OK);
  NEAR(mx_dist_loss_bar(&d, 18), 3.5176095282584723, 1e-12);
  /* cdf from the incomplete gamma equals the direct sum */
  double s = 0;
  for (int k = 0; k <= 40; k++) {
    s += mx_poisson_pmf(k, 15);
    NEAR(mx_poisson_cdf(k, 15), s, 1e-13);
  }
  /* the discrete second-order loss telescopes: n2(x) = sum_{y > x} n(y) */
  double tail = 0;
  for (int y = 19; y < 200; y++) tail += mx_poisson_loss(y, 15);
  NEAR(mx_poisson_loss2(18, 15), tail, 1e-10);
  /* a discrete distribution with the Poisson pmf gives the same values */
  double x[80], p[80];
  for (int k = 0; k < 80; k++) x[k] = k, p[k] = mx_poisson_pmf(k, 15);
  mx_dist dd;
  assert_int_equal(mx_dist_discrete(&dd, x, p, 80, 1, &err), MX_OK);
  NEAR(mx_dist_loss(&dd, 18), 0.5176095282584724, 1e-12);
  NEAR(mx_dist_loss2(&dd, 18), 0.848340302917789, 1e-11);
  NEAR(mx_dist_loss(&dd, 17.5), mx_poisson_loss(17.5, 15), 1e-12);
  assert_int_equal((int)mx_dist_quantile(&dd, 0.8), (int)mx_dist_quantile(&d, 0.8));
  mx_dist_free(&dd);
}

static void test_lognormal_loss(void **state) {
  (void)state;
  mx_dist d;
  assert_int_equal(mx_dist_lognormal(&d, 2, 0.3, &err), MX_OK);
  /* S&S eq. 4.102 and C.14 */
  NEAR(mx_dist_loss(&d, 10), 0.28364973888106326, 1e-12);
  NEAR(mx_dist_loss_bar(&d, 10), 2.5544912009711833, 1e-12);
  /* second-order loss against a numerical integral of n(y) over (x, inf) */
  double integral = 0, step = 1e-3;
  for (double y = 10 + step / 2; y < 60; y += step) integral += mx_dist_loss(&d, y) * step;
  NEAR(mx_dist_loss2(&d, 10), integral, 1e-6);
}

static void test_discrete_and_empirical(void **state) {
  (void)state;
  mx_dist d;
  double s[] = {3, 0, 1, 0};
  assert_int_equal(mx_dist_empirical(&d, s, 4, &err), MX_OK);
  NEAR(mx_dist_cdf(&d, 0), 0.5, 1e-15);
  NEAR(mx_dist_quantile(&d, 0.5), 0, 0);
  NEAR(mx_dist_quantile(&d, 0.51), 1, 0);
  NEAR(mx_dist_loss(&d, 1), 0.5, 1e-15);  /* (3-1)/4 */
  NEAR(mx_dist_mean(&d), 1.0, 1e-15);
  NEAR(mx_dist_pdf(&d, 0), 0.5, 1e-15);
  mx_dist_free(&d);
  /* Bernoulli(1/2) over 3 periods is Binomial(3, 1/2) */
  double x[] = {0, 1}, p[] = {0.5, 0.5};
  mx_dist b, b3;
  assert_int_equal(mx_dist_discrete(&b, x, p, 2, 0, &err), MX_OK);
  assert_int_equal(mx_dist_periods(&b, 3, &b3, &err), MX_OK);
  NEAR(mx_dist_pdf(&b3, 2), 3.0 / 8.0, 1e-15);
  NEAR(mx_dist_mean(&b3), 1.5, 1e-15);
  mx_dist_free(&b3);
  /* fractional periods are refused for discrete demand */
  assert_int_equal(mx_dist_periods(&b, 1.5, &b3, &err), MX_EINVAL);
  mx_dist_free(&b);
  /* probabilities that do not sum to 1 are refused unless normalising */
  double bad[] = {0.5, 0.6};
  assert_int_equal(mx_dist_discrete(&b, x, bad, 2, 0, &err), MX_EINVAL);
  assert_non_null(strstr(err.message, "sum"));
  /* lognormal over k periods keeps the sum's mean and variance */
  mx_dist ln, ln4;
  assert_int_equal(mx_dist_lognormal(&ln, 2, 0.5, &err), MX_OK);
  assert_int_equal(mx_dist_periods(&ln, 4, &ln4, &err), MX_OK);
  NEAR(mx_dist_mean(&ln4), 4 * mx_dist_mean(&ln), 1e-9);
  NEAR(mx_dist_sd(&ln4), 2 * mx_dist_sd(&ln), 1e-9);
}

static void test_negbin(void **state) {
  (void)state;
  mx_dist d, d3;
  /* mean 4, sd 3: q = 4/9, r = 16/5; f(0) = q^r */
  assert_int_equal(mx_dist_negbin(&d, 4, 3, &err), MX_OK);
  NEAR(mx_dist_pdf(&d, 0), pow(4.0 / 9.0, 3.2), 1e-12);
  NEAR(mx_dist_mean(&d), 4, 1e-9);
  NEAR(mx_dist_sd(&d), 3, 1e-8);
  /* a sum of 3 iid NB(r, q) is NB(3r, q): mean 12, variance 27 */
  assert_int_equal(mx_dist_periods(&d, 3, &d3, &err), MX_OK);
  NEAR(mx_dist_mean(&d3), 12, 1e-9);
  NEAR(mx_dist_sd(&d3), sqrt(27.0), 1e-8);
  mx_dist conv;
  mx_dist_copy(&conv, &d, &err);
  conv.kind = MX_DIST_DISCRETE; /* force the convolution path */
  mx_dist c3;
  assert_int_equal(mx_dist_periods(&conv, 3, &c3, &err), MX_OK);
  for (int k = 0; k < 40; k += 3) NEAR(mx_dist_cdf(&c3, k), mx_dist_cdf(&d3, k), 1e-9);
  mx_dist_free(&c3);
  mx_dist_free(&conv);
  mx_dist_free(&d3);
  mx_dist_free(&d);
  /* variance must exceed the mean */
  assert_int_equal(mx_dist_negbin(&d, 4, 2, &err), MX_EINVAL);
  assert_non_null(strstr(err.message, "poisson"));
}

/* ------------------------------------------------------------------- EOQ */

static void test_eoq(void **state) {
  (void)state;
  mx_eoq_result r;
  /* S&S Example 3.1: K = 8, h = 0.225, lambda = 1300 */
  assert_int_equal(mx_eoq(8, 0.225, 1300, &r, &err), MX_OK);
  NEAR(r.Q, 304.0467800264368, 1e-10);
  NEAR(r.cost, 68.41052550594829, 1e-10);
  /* S&S Example 3.8 (EOQ with planned backorders), p = 5 */
  assert_int_equal(mx_eoq_backorders(8, 0.225, 5, 1300, &r, &err), MX_OK);
  NEAR(r.Q, 310.81255515896464, 1e-10);
  NEAR(r.x, 0.0430622009569378, 1e-14);
  NEAR(r.cost, 66.92136355097325, 1e-10);
  /* EPQ (S&S eq. 3.31-3.32) with production rate 1700 */
  assert_int_equal(mx_epq(8, 0.225, 1300, 1700, &r, &err), MX_OK);
  NEAR(r.Q, 626.8084945889684, 1e-10);
  NEAR(r.cost, 33.183979125298336, 1e-10);
  double c;
  assert_int_equal(mx_eoq_cost(8, 0.225, 1300, 304.0467800264368, &c, &err), MX_OK);
  NEAR(c, 68.41052550594829, 1e-10);
}

/* Independent cost of a quantity-discount order, for a brute-force check. */
static double discount_cost_direct(int kind, double K, double i, double lambda, const double *b,
                                   const double *c, int n, double Q) {
  int j = 0;
  while (j + 1 < n && Q >= b[j + 1]) j++;
  double purchase; /* cost of buying Q units */
  if (kind == MX_DISCOUNT_ALL_UNITS) {
    purchase = c[j] * Q;
  } else {
    purchase = 0;
    for (int k = 0; k <= j; k++) {
      double hi = k + 1 < n && Q > b[k + 1] ? b[k + 1] : Q;
      if (hi > b[k]) purchase += c[k] * (hi - b[k]);
    }
  }
  /* per period: orders lambda/Q, each costing K + purchase; holding on the
   * average value of stock, i * (purchase / Q) * Q / 2 */
  return (K + purchase) * lambda / Q + i * purchase / 2.0;
}

static void test_quantity_discounts(void **state) {
  (void)state;
  double b[] = {0, 400, 800}, c[] = {0.75, 0.72, 0.68};
  for (int kind = 0; kind < 2; kind++) {
    mx_eoq_result r;
    assert_int_equal(mx_eoq_discount(kind, 8, 0.3, 1300, b, c, 3, &r, &err), MX_OK);
    double best = INFINITY, bestq = 0;
    for (double q = 1; q <= 4000; q += 0.25) {
      double g = discount_cost_direct(kind, 8, 0.3, 1300, b, c, 3, q);
      if (g < best) best = g, bestq = q;
    }
    NEAR(r.cost, discount_cost_direct(kind, 8, 0.3, 1300, b, c, 3, r.Q), 1e-9);
    assert_true(r.cost <= best + 1e-9);
    NEAR(r.Q, bestq, 0.5);
  }
  mx_eoq_result r;
  /* all-units with these prices: jumping to the 800 break pays */
  assert_int_equal(mx_eoq_discount(MX_DISCOUNT_ALL_UNITS, 8, 0.3, 1300, b, c, 3, &r, &err), MX_OK);
  NEAR(r.Q, 800, 1e-9);
  assert_int_equal(r.region, 2);
  double badb[] = {0, 400, 300};
  assert_int_equal(mx_eoq_discount(0, 8, 0.3, 1300, badb, c, 3, &r, &err), MX_EINVAL);
}

/* ------------------------------------------------------------ newsvendor */

static void test_newsvendor(void **state) {
  (void)state;
  mx_dist d;
  mx_base_stock_result r;
  /* S&S Example 4.3: h = 0.18, p = 0.70, D ~ N(50, 8^2) */
  mx_dist_normal(&d, 50, 8, &err);
  assert_int_equal(mx_newsvendor(0.18, 0.70, &d, &r, &err), MX_OK);
  NEAR(r.S, 56.60395592743389, 1e-9);
  NEAR(r.cost, 1.9976051931766445, 1e-9);
  /* S&S Example 4.1: cost of S = 60 */
  double c;
  assert_int_equal(mx_newsvendor_cost(0.18, 0.70, &d, 60, &c, &err), MX_OK);
  NEAR(c, 2.156131552870387, 1e-10);
  /* Poisson(50) demand with the same costs */
  mx_dist_poisson(&d, 50, &err);
  assert_int_equal(mx_newsvendor(0.18, 0.70, &d, &r, &err), MX_OK);
  NEAR(r.S, 56, 0);
  NEAR(r.cost, 1.797235211809178, 1e-10);
  /* S&S Example 4.7 (discrete): h = 1, p = 4, Poisson(6) */
  mx_dist_poisson(&d, 6, &err);
  assert_int_equal(mx_newsvendor(1, 4, &d, &r, &err), MX_OK);
  NEAR(r.S, 8, 0);
  NEAR(r.cost, 3.5701069457709416, 1e-10);
  assert_int_equal(mx_newsvendor_cost(1, 4, &d, 5, &c, &err), MX_OK);
  NEAR(c, 6.590296024616343, 1e-10);
  /* S&S Problem 4.8(b): lognormal(6, 0.3), h = 1, p = 0.1765 */
  mx_dist_lognormal(&d, 6, 0.3, &err);
  assert_int_equal(mx_newsvendor(1, 0.1765, &d, &r, &err), MX_OK);
  NEAR(r.S, 295.6266448071368, 1e-7);
  NEAR(r.cost, 29.44254351324322, 1e-7);
  /* base-stock with L = 3: newsvendor on N(4 * 50, 4 * 64) */
  mx_dist_normal(&d, 50, 8, &err);
  assert_int_equal(mx_base_stock(0.18, 0.70, &d, 3, &r, &err), MX_OK);
  NEAR(r.S, 200 + 16 * mx_std_normal_quantile(0.70 / 0.88), 1e-9);
}

/* ------------------------------------------------------------------ (r,Q) */

static void test_rq_normal(void **state) {
  (void)state;
  /* S&S Examples 5.1-5.6: K = 8, h = 0.225, p = 7.5, lambda = 1300,
   * tau = 150, L = 1/12 */
  const double K = 8, h = 0.225, p = 7.5, lam = 1300, tau = 150, L = 1.0 / 12.0;
  double c, r;
  assert_int_equal(mx_inv_rq_cost(K, h, p, lam, tau, L, 126.8, 328.5, &c, &err), MX_OK);
  NEAR(c, 78.07116250928294, 1e-7); /* Example 5.1 */
  assert_int_equal(mx_inv_rq_r_for_q(h, p, lam, tau, L, 300, &r, &err), MX_OK);
  NEAR(r, 129.4272799263067, 1e-5); /* Example 5.2 */
  mx_inv_rq_result q;
  assert_int_equal(mx_inv_rq(MX_RQ_EXACT, K, h, p, lam, tau, L, &q, &err), MX_OK);
  NEAR(q.r, 126.8, 0.1); /* Example 5.1's optimum, printed to one decimal */
  NEAR(q.Q, 328.5, 0.1);
  assert_true(q.cost <= 78.07116250928294 + 1e-9);
  /* g(r) = g(r+Q) is h Q = (h+p) (n(r) - n(r+Q)): the optimal r(Q) has a
   * fill rate of exactly p / (h + p) */
  NEAR(q.fill_rate, p / (h + p), 1e-8);
  assert_int_equal(mx_inv_rq(MX_RQ_EOQSS, K, h, p, lam, tau, L, &q, &err), MX_OK);
  NEAR(q.r, 190.3369965715624, 1e-7); /* Example 5.5 */
  NEAR(q.Q, 304.0467800264368, 1e-9);
  assert_int_equal(mx_inv_rq(MX_RQ_EOQB, K, h, p, lam, tau, L, &q, &err), MX_OK);
  NEAR(q.r, 128.63781442427097, 1e-5);
  NEAR(q.Q, 308.5737801203754, 1e-9);
  assert_int_equal(mx_inv_rq(MX_RQ_LOSS, K, h, p, lam, tau, L, &q, &err), MX_OK);
  NEAR(q.r, 126.8670634479628, 1e-5); /* Example 5.6 */
  NEAR(q.Q, 328.4491421980451, 1e-5);
  assert_int_equal(mx_inv_rq(MX_RQ_EIL, K, h, p, lam, tau, L, &q, &err), MX_OK);
  NEAR(q.r, 213.97044213580244, 1e-5); /* Example 5.2 (EIL) */
  NEAR(q.Q, 318.5901810768729, 1e-5);
  int m;
  assert_int_equal(mx_inv_rq_method_parse("loss", &m, &err), MX_OK);
  assert_int_equal(m, MX_RQ_LOSS);
  assert_int_equal(mx_inv_rq_method_parse("best", &m, &err), MX_ENOTFOUND);
}

static void test_rq_poisson(void **state) {
  (void)state;
  /* S&S Example 5.8: h = 20, p = 150, K = 100, lambda = 1.5, L = 2, Poisson */
  mx_inv_rq_result q;
  assert_int_equal(mx_inv_rq(MX_RQ_EXACT, 100, 20, 150, 1.5, -1, 2, &q, &err), MX_OK);
  NEAR(q.r, 3, 0);
  NEAR(q.Q, 5, 0);
  NEAR(q.cost, 107.92358063314975, 1e-9);
  /* brute force over a grid agrees */
  double best = INFINITY;
  for (int r = -5; r <= 20; r++)
    for (int Q = 1; Q <= 30; Q++) {
      double c;
      assert_int_equal(mx_inv_rq_cost(100, 20, 150, 1.5, -1, 2, r, Q, &c, &err), MX_OK);
      if (c < best) best = c;
    }
  NEAR(q.cost, best, 1e-12);
  double c;
  assert_int_equal(mx_inv_rq_cost(100, 20, 150, 1.5, -1, 2, 3.5, 5, &c, &err), MX_EINVAL);
}

/* ------------------------------------------------------------------ (s,S) */

static void test_ss(void **state) {
  (void)state;
  mx_dist d;
  mx_inv_ss_result r;
  /* S&S Example 4.7: h = 1, p = 4, K = 5, Poisson(6): (s,S) = (4, 10) */
  mx_dist_poisson(&d, 6, &err);
  assert_int_equal(mx_inv_ss(MX_SS_EXACT, 5, 1, 4, &d, 0, &r, &err), MX_OK);
  NEAR(r.s, 4, 0);
  NEAR(r.S, 10, 0);
  NEAR(r.cost, 8.034111561471642, 1e-10);
  /* exhaustive search over s < S <= 30 agrees */
  double best = INFINITY;
  for (int s = -2; s < 30; s++)
    for (int S = s + 1; S <= 30; S++) {
      double c;
      assert_int_equal(mx_inv_ss_cost(5, 1, 4, &d, 0, s, S, &c, &err), MX_OK);
      if (c < best) best = c;
    }
  NEAR(r.cost, best, 1e-12);
  /* power approximation, S&S Example 4.7's normal case: h = 0.18, p = 0.70,
   * K = 2.5, N(50, 8^2) */
  mx_dist_normal(&d, 50, 8, &err);
  assert_int_equal(mx_inv_ss(MX_SS_POWER, 2.5, 0.18, 0.70, &d, 0, &r, &err), MX_OK);
  NEAR(r.s, 40.19461695647407, 1e-9);
  NEAR(r.S, 74.29017010980579, 1e-9);
  /* exact needs integer demand */
  assert_int_equal(mx_inv_ss(MX_SS_EXACT, 2.5, 0.18, 0.70, &d, 0, &r, &err), MX_EINVAL);
  assert_non_null(strstr(err.message, "power"));
}

/* ------------------------------------------------------------- service */

static void test_safety_stock(void **state) {
  (void)state;
  mx_safety_stock_result r;
  /* mu = 12/period, sigma = 4, L = 7: sd = 4 sqrt 7 */
  assert_int_equal(mx_safety_stock(0.95, 12, 4, 7, 0, 0, &r, &err), MX_OK);
  NEAR(r.sd, 4 * sqrt(7.0), 1e-12);
  NEAR(r.safety_stock, 1.6448536269514722 * 4 * sqrt(7.0), 1e-9);
  NEAR(r.level, 84 + r.safety_stock, 1e-12);
  /* lead-time sd 1: sd = sqrt(7 * 16 + 144 * 1) = 16 */
  assert_int_equal(mx_safety_stock(0.95, 12, 4, 7, 1, 0, &r, &err), MX_OK);
  NEAR(r.sd, 16, 1e-12);
  /* periodic review R = 1 protects L + 1 periods */
  assert_int_equal(mx_safety_stock(0.95, 12, 4, 7, 0, 1, &r, &err), MX_OK);
  NEAR(r.mean, 96, 1e-12);
}

/* Analytic fill rate and cycle service agree with the simulated ones. */
static void test_service_vs_simulation(void **state) {
  (void)state;
  const size_t n = 200000;
  double *dem = malloc(n * sizeof *dem);
  mx_rng rng;
  mx__rng_seed(&rng, 7);
  mx_dist d;
  mx_dist_poisson(&d, 4, &err);
  for (size_t t = 0; t < n; t++) dem[t] = mx_dist_sample(&d, &rng);
  double S;
  mx_inv_sim_options o = mx_inv_sim_defaults();
  mx_inv_sim_result s;
  /* type 2: fill rate 0.95, L = 2, R = 1 */
  assert_int_equal(mx_order_up_to(MX_SERVICE_FILL, 0.95, &d, 1, 2, &S, &err), MX_OK);
  o.S = S;
  o.L = 2;
  o.warmup = 10;
  assert_int_equal(mx_inv_simulate(&o, dem, n, 1, &s, &err), MX_OK);
  double beta;
  assert_int_equal(mx_fill_rate_rs(&d, 1, 2, S, &beta, &err), MX_OK);
  assert_true(beta >= 0.95);
  NEAR(s.fill_rate, beta, 0.005);
  /* type 1: cycle service 0.9 with R = 2 */
  assert_int_equal(mx_order_up_to(MX_SERVICE_CYCLE, 0.9, &d, 2, 2, &S, &err), MX_OK);
  mx_dist d4;
  mx_dist_periods(&d, 4, &d4, &err);
  o.S = S;
  o.R = 2;
  assert_int_equal(mx_inv_simulate(&o, dem, n, 1, &s, &err), MX_OK);
  NEAR(s.cycle_service, mx_dist_cdf(&d4, S), 0.005);
  /* (s,S) of Example 4.7 simulated: average cost per period ~ 8.034 */
  mx_dist_poisson(&d, 6, &err);
  for (size_t t = 0; t < n; t++) dem[t] = mx_dist_sample(&d, &rng);
  o = mx_inv_sim_defaults();
  o.policy = MX_POLICY_SS;
  o.s = 4;
  o.S = 10;
  o.K = 5;
  o.h = 1;
  o.p = 4;
  assert_int_equal(mx_inv_simulate(&o, dem, n, 1, &s, &err), MX_OK);
  NEAR(s.total_cost / (double)s.periods, 8.034111561471642, 0.08);
  /* (r,Q) fill rate on Poisson lead-time demand, continuous formula vs
   * simulation of unit-sized periodic demand is not comparable; check the
   * reorder point search inverts the formula instead */
  mx_dist ltd;
  mx_dist_normal(&ltd, 108.33, 43.3, &err);
  double r;
  assert_int_equal(mx_reorder_point_fill(&ltd, 300, 0.99, &r, &err), MX_OK);
  assert_int_equal(mx_fill_rate_rq(&ltd, r, 300, &beta, &err), MX_OK);
  NEAR(beta, 0.99, 1e-8);
  free(dem);
}

static void test_simulate_basics(void **state) {
  (void)state;
  /* deterministic demand 5/period, base-stock 10, L = 1: never short */
  double dem[20];
  for (int t = 0; t < 20; t++) dem[t] = 5;
  mx_inv_sim_options o = mx_inv_sim_defaults();
  o.S = 10;
  o.L = 1;
  o.h = 1;
  mx_inv_sim_result s;
  assert_int_equal(mx_inv_simulate(&o, dem, 20, 1, &s, &err), MX_OK);
  NEAR(s.fill_rate, 1, 0);
  /* S = 10 covers exactly L + 1 = 2 periods: after the first period every
   * period ends with nothing on hand and nothing short */
  NEAR(s.avg_on_hand, 5.0 / 20.0, 1e-12);
  assert_int_equal((int)s.stockout_periods, 0);
  assert_int_equal((int)s.orders, 19); /* first review finds IP = S */
  /* S = 7 with L = 1 covers 2 periods of 5: 3 short each period */
  o.S = 7;
  o.initial = 7;
  assert_int_equal(mx_inv_simulate(&o, dem, 20, 1, &s, &err), MX_OK);
  assert_true(s.fill_rate < 1);
  assert_true(s.stockout_periods > 0);
  /* lost sales never have negative stock */
  o.lost_sales = 1;
  assert_int_equal(mx_inv_simulate(&o, dem, 20, 1, &s, &err), MX_OK);
  NEAR(s.lost, s.demand - s.filled, 1e-9);
  /* negative demand is refused */
  dem[3] = -1;
  assert_int_equal(mx_inv_simulate(&o, dem, 20, 1, &s, &err), MX_EINVAL);
  assert_non_null(strstr(err.message, "period 4"));
}

/* Turnover counts sales, backorders included once they ship. By hand, with
 * S = 4, L = 0 (an order arrives before the period's demand), start at 0,
 * demand 6, 2, 3:
 *   t=0: order 4, ship 4 of 6, end at -2 (2 backordered), on hand 0
 *   t=1: order 6, clear the 2 backorders, ship 2, end at 2
 *   t=2: order 2, ship 3, end at 1
 * shipped 4 + 4 + 3 = 11 (filled at once 9), average on hand (0 + 2 + 1) / 3
 * = 1, turnover 11. */
static void test_simulate_turnover(void **state) {
  (void)state;
  double dem[3] = {6, 2, 3};
  mx_inv_sim_options o = mx_inv_sim_defaults();
  o.S = 4;
  o.L = 0;
  o.initial = 0;
  mx_inv_sim_result s;
  assert_int_equal(mx_inv_simulate(&o, dem, 3, 1, &s, &err), MX_OK);
  NEAR(s.filled, 9, 0);
  NEAR(s.shipped, 11, 0);
  NEAR(s.avg_on_hand, 1, 1e-15);
  NEAR(s.turnover, 11, 1e-12);
  /* lost sales: what is not met at once is never shipped */
  o.lost_sales = 1;
  assert_int_equal(mx_inv_simulate(&o, dem, 3, 1, &s, &err), MX_OK);
  NEAR(s.shipped, s.filled, 0);
}

/* -------------------------------------------------------------- bad input */

static void test_bad_parameters(void **state) {
  (void)state;
  mx_eoq_result e;
  assert_int_equal(mx_eoq(8, 0, 1300, &e, &err), MX_EINVAL);
  assert_non_null(strstr(err.message, "h (holding cost)"));
  assert_int_equal(mx_eoq(8, -1, 1300, &e, &err), MX_EINVAL);
  assert_int_equal(mx_eoq(NAN, 1, 1300, &e, &err), MX_EINVAL);
  assert_int_equal(mx_eoq_backorders(8, 1, 0, 1300, &e, &err), MX_EINVAL);
  assert_non_null(strstr(err.message, "p (stockout cost)"));
  assert_int_equal(mx_epq(8, 0.225, 1300, 1300, &e, &err), MX_EINVAL);
  assert_non_null(strstr(err.message, "production rate"));
  mx_safety_stock_result s;
  assert_int_equal(mx_safety_stock(1.0, 12, 4, 7, 0, 0, &s, &err), MX_EINVAL);
  assert_non_null(strstr(err.message, "service"));
  assert_int_equal(mx_safety_stock(0, 12, 4, 7, 0, 0, &s, &err), MX_EINVAL);
  assert_int_equal(mx_safety_stock(0.9, 12, 4, -1, 0, 0, &s, &err), MX_EINVAL);
  assert_non_null(strstr(err.message, "lead time"));
  mx_dist d;
  assert_int_equal(mx_dist_normal(&d, 10, -1, &err), MX_EINVAL);
  assert_int_equal(mx_dist_poisson(&d, -2, &err), MX_EINVAL);
  assert_int_equal(mx_dist_lognormal(&d, 1, 0, &err), MX_EINVAL);
  mx_dist_normal(&d, 10, 2, &err);
  mx_base_stock_result b;
  assert_int_equal(mx_newsvendor(0, 1, &d, &b, &err), MX_EINVAL);
  assert_int_equal(mx_base_stock(1, 1, &d, -2, &b, &err), MX_EINVAL);
  double S;
  assert_int_equal(mx_order_up_to(MX_SERVICE_FILL, 1.0, &d, 1, 1, &S, &err), MX_EINVAL);
  mx_inv_rq_result q;
  assert_int_equal(mx_inv_rq(MX_RQ_EXACT, 8, 0.225, -7.5, 1300, 150, 0.1, &q, &err), MX_EINVAL);
  /* EIL cannot work when Q h >= p lambda */
  assert_int_equal(mx_inv_rq(MX_RQ_EIL, 1000, 10, 0.5, 10, 1, 1, &q, &err), MX_EINFEASIBLE);
  mx_inv_ss_result ss;
  double zero = 0, one = 1;
  mx_dist z;
  assert_int_equal(mx_dist_discrete(&z, &zero, &one, 1, 0, &err), MX_OK);
  assert_int_equal(mx_inv_ss(MX_SS_EXACT, 5, 1, 4, &z, 0, &ss, &err), MX_EINVAL);
  mx_dist_free(&z);
}

/* ----------------------------------------------------------------- plan */

static void test_plan_item(void **state) {
  (void)state;
  double mean[4] = {10, 10, 10, 10}, sigma[4] = {3, 3, 3, 3};
  mx_plan_item it;
  memset(&it, 0, sizeof it);
  it.on_hand = 12;
  it.on_order = 5;
  it.lead_time = 2;
  it.review = 1;
  it.service_type = MX_SERVICE_CYCLE;
  it.service = 0.95;
  it.mean = mean;
  it.sigma = sigma;
  it.horizon = 4;
  it.dist = MX_DIST_NORMAL;
  mx_plan_row r;
  assert_int_equal(mx_plan_item_compute(&it, &r, &err), MX_OK);
  NEAR(r.ltd_mean, 30, 1e-12);
  NEAR(r.ltd_sd, 3 * sqrt(3.0), 1e-12);
  NEAR(r.target, 30 + 1.6448536269514722 * 3 * sqrt(3.0), 1e-9);
  NEAR(r.raw, r.target - 17, 1e-9);
  NEAR(r.order, r.raw, 1e-12);
  /* MOQ 25 and packs of 12: 25 -> 36 */
  it.moq = 25;
  it.pack_size = 12;
  assert_int_equal(mx_plan_item_compute(&it, &r, &err), MX_OK);
  NEAR(r.order, 36, 0);
  /* enough stock: no order, MOQ does not force one */
  it.on_hand = 100;
  assert_int_equal(mx_plan_item_compute(&it, &r, &err), MX_OK);
  NEAR(r.order, 0, 0);
  /* horizon shorter than L + R: flagged, last period repeated */
  it.on_hand = 0;
  it.lead_time = 6;
  assert_int_equal(mx_plan_item_compute(&it, &r, &err), MX_OK);
  assert_int_equal(r.horizon_short, 1);
  NEAR(r.ltd_mean, 70, 1e-12);
  /* Poisson with a fill-rate target */
  it.lead_time = 1;
  it.sigma = NULL;
  it.service_type = MX_SERVICE_FILL;
  it.service = 0.98;
  it.moq = 0;
  it.pack_size = 0;
  assert_int_equal(mx_plan_item_compute(&it, &r, &err), MX_OK);
  NEAR(r.ltd_sd, sqrt(20.0), 1e-12);
  mx_dist pd;
  mx_dist_poisson(&pd, 10, &err);
  double S2;
  assert_int_equal(mx_order_up_to(MX_SERVICE_FILL, 0.98, &pd, 1, 1, &S2, &err), MX_OK);
  NEAR(r.target, S2, 0);
  /* costs instead of a target: ratio p/(h+p) */
  it.service_type = 0;
  it.h = 1;
  it.p = 9;
  assert_int_equal(mx_plan_item_compute(&it, &r, &err), MX_OK);
  mx_dist p20;
  mx_dist_poisson(&p20, 20, &err);
  NEAR(r.target, mx_dist_quantile(&p20, 0.9), 0);
  /* negative binomial lead-time demand when the forecast is over-dispersed:
   * more stock than the Poisson for the same mean */
  double sig[4] = {6, 6, 6, 6};
  it.sigma = sig;
  it.dist = MX_DIST_NEGBIN;
  it.service_type = MX_SERVICE_FILL;
  it.service = 0.95;
  mx_plan_row rn;
  assert_int_equal(mx_plan_item_compute(&it, &rn, &err), MX_OK);
  NEAR(rn.ltd_sd, sqrt(72.0), 1e-6);
  assert_true(rn.target == floor(rn.target));
  it.dist = MX_DIST_POISSON;
  mx_plan_row rp;
  assert_int_equal(mx_plan_item_compute(&it, &rp, &err), MX_OK);
  assert_true(rn.target > rp.target);
  it.sigma = NULL;
  it.dist = MX_DIST_NORMAL;
  /* bad input */
  it.service_type = 0;
  it.h = 0;
  assert_int_equal(mx_plan_item_compute(&it, &r, &err), MX_EINVAL);
  it.service_type = MX_SERVICE_CYCLE;
  it.service = 1.2;
  assert_int_equal(mx_plan_item_compute(&it, &r, &err), MX_EINVAL);
  it.service = 0.9;
  mean[1] = -3;
  assert_int_equal(mx_plan_item_compute(&it, &r, &err), MX_EINVAL);
  assert_non_null(strstr(err.message, "period 2"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_normal_loss),       cmocka_unit_test(test_poisson_loss),
      cmocka_unit_test(test_lognormal_loss),    cmocka_unit_test(test_discrete_and_empirical),
      cmocka_unit_test(test_eoq),               cmocka_unit_test(test_quantity_discounts),
      cmocka_unit_test(test_newsvendor),        cmocka_unit_test(test_rq_normal),
      cmocka_unit_test(test_rq_poisson),        cmocka_unit_test(test_ss),
      cmocka_unit_test(test_safety_stock),      cmocka_unit_test(test_service_vs_simulation),
      cmocka_unit_test(test_simulate_basics),   cmocka_unit_test(test_bad_parameters),
      cmocka_unit_test(test_plan_item),         cmocka_unit_test(test_negbin),
      cmocka_unit_test(test_simulate_turnover),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
