/* Campaign measurement: the distributions and intervals against scipy 1.10
 * (stats.t, stats.chi2, stats.ttest_ind(equal_var=False)) and Newcombe's
 * published table; the measurement core on small hand-checked inputs and its
 * bad-input behaviour; and the coverage of the 95% intervals over 200
 * simulated campaigns with a planted uplift per segment. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "merx/measure.h"
#include "testutil.h"
#include "util/util.h"

#define REL(a, b, tol) NEAR((a) / (b), 1.0, tol)

static mx_error err;

static void test_student_t_matches_scipy(void **state) {
  (void)state;
  static const double cdf[][3] = {
      {1, -2.5, 0.12111894159084335},         {3, 1.7, 0.90615467922329507},
      {7.5, -3.2, 0.0068675769312041297},     {30, 2.0, 0.97268747751850848},
      {1000, -1.96, 0.025136592477874354},    {45000.3, 2.5, 0.9937885695877744},
      {5000000.0, -3.0, 0.0013499046794114189}, {4, -40, 1.1670081613006347e-06}};
  for (size_t i = 0; i < sizeof cdf / sizeof cdf[0]; i++)
    REL(mx_student_t_cdf(cdf[i][1], cdf[i][0]), cdf[i][2], 1e-10);
  static const double ppf[][3] = {
      {1, 0.975, 12.706204736432095},  {2, 0.025, -4.3026527299112765},
      {3, 0.975, 3.1824463052842629},  {5.5, 0.9, 1.4559770334470057},
      {20, 0.995, 2.8453397097768138}, {127.3, 0.975, 1.9787746816453731},
      {42000, 0.975, 1.9600204687884846}, {3, 1e-10, -2225.769284683086}};
  for (size_t i = 0; i < sizeof ppf / sizeof ppf[0]; i++)
    REL(mx_student_t_quantile(ppf[i][1], ppf[i][0]), ppf[i][2], 1e-10);
  assert_true(isnan(mx_student_t_quantile(0, 5)));
  assert_true(isnan(mx_student_t_quantile(0.5, -1)));
}

static void test_chi2_matches_scipy(void **state) {
  (void)state;
  static const double sf[][3] = {{1, 3.84, 0.050043521248705189},  {2, 10.0, 0.0067379469990854679},
                                 {3, 0.5, 0.9188914116546758},    {5, 20, 0.0012497305630313773},
                                 {1, 0.001, 0.97477287936996038}, {63, 100, 0.0020772365527848219}};
  for (size_t i = 0; i < sizeof sf / sizeof sf[0]; i++)
    REL(mx_chi2_sf(sf[i][1], sf[i][0]), sf[i][2], 1e-10);
}

/* Newcombe 1998b (Stat. Med. 17:873), Table II, method 10, four decimals. */
static void test_newcombe_published(void **state) {
  (void)state;
  static const double t[][6] = {{56, 70, 48, 80, 0.0524, 0.3339}, {9, 10, 3, 10, 0.1705, 0.8090},
                                {6, 7, 2, 7, 0.0582, 0.8062},     {5, 56, 0, 29, -0.0381, 0.1926},
                                {0, 10, 0, 20, -0.1611, 0.2775},  {10, 10, 0, 20, 0.6791, 1.0000}};
  for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
    mx_diff_interval d;
    mx_newcombe_diff(t[i][0], t[i][1], t[i][2], t[i][3], 0.95, &d);
    NEAR(d.lo, t[i][4], 5e-5);
    NEAR(d.hi, t[i][5], 5e-5);
  }
  /* two-proportion z test (pooled), scipy: 2 * norm.sf(|z|) */
  mx_diff_interval d;
  mx_newcombe_diff(56, 70, 48, 80, 0.95, &d);
  REL(d.p_value, 0.0080450813681965608, 1e-10);
  /* no events at all: no test, never a made-up p */
  mx_newcombe_diff(0, 10, 0, 20, 0.95, &d);
  assert_true(isnan(d.p_value));
}

static void welch_of(const double *a, int na, const double *b, int nb, mx_diff_interval *d) {
  double ma = 0, mb = 0, va = 0, vb = 0;
  for (int i = 0; i < na; i++) ma += a[i] / na;
  for (int i = 0; i < nb; i++) mb += b[i] / nb;
  for (int i = 0; i < na; i++) va += (a[i] - ma) * (a[i] - ma) / (na - 1);
  for (int i = 0; i < nb; i++) vb += (b[i] - mb) * (b[i] - mb) / (nb - 1);
  mx_welch_diff(ma, va, na, mb, vb, nb, 0.95, d);
}

static void test_welch_matches_scipy(void **state) {
  (void)state;
  double a[] = {3.1, 0, 0, 12.5, 4.4, 0, 7.7, 1.0, 0, 2.2};
  double b[] = {0, 1.5, 0, 0, 2.0, 0, 0.5, 0, 3.0, 0, 0, 1.1};
  mx_diff_interval d;
  welch_of(a, 10, b, 12, &d);
  NEAR(d.diff, 2.415, 1e-12);
  NEAR(d.lo, -0.58367773486671082, 1e-10);
  NEAR(d.hi, 5.4136777348667113, 1e-10);
  REL(d.p_value, 0.10286481055470716, 1e-9);
  NEAR(d.df, 9.8931401808552693, 1e-9);
  /* one user per arm: no variance estimate, so no interval */
  mx_welch_diff(1, NAN, 1, 0, NAN, 1, 0.95, &d);
  assert_true(isnan(d.lo) && isnan(d.p_value));
}

static void test_srm(void **state) {
  (void)state;
  double obs[] = {1000, 1100}, eq[] = {1, 1}, planned[] = {0.4, 0.6}, chi2;
  REL(mx_srm_test(obs, eq, 2, &chi2), 0.029096331741252267, 1e-10);
  NEAR(chi2, 2 * 2500.0 / 1050, 1e-12);
  REL(mx_srm_test(obs, planned, 2, &chi2), 1.0260508810479609e-12, 1e-8);
  /* units in an arm planned to get none: a certain mismatch */
  double obs3[] = {1000, 1100, 5}, none[] = {0.5, 0.5, 0};
  assert_true(mx_srm_test(obs3, none, 3, NULL) == 0.0);
}

static void test_relative_uplift(void **state) {
  (void)state;
  double rel, lo, hi;
  mx_relative_uplift(0.12, 0.1056, 1000, 0.10, 0.09, 1000, 0.95, &rel, &lo, &hi);
  NEAR(rel, 0.2, 1e-12);
  double se = sqrt(0.1056 / (1000 * 0.01) + 0.0144 * 0.09 / (1000 * 1e-4));
  NEAR(hi - rel, 1.959963984540054 * se, 1e-12);
  NEAR(rel - lo, hi - rel, 1e-12);
  mx_relative_uplift(0.1, 0.09, 100, 0, 0, 100, 0.95, &rel, &lo, &hi);
  assert_true(isnan(rel) && isnan(lo) && isnan(hi));
}

/* ------------------------------------------------------------------ core */

static mx_measure *make(const char *control, int n_metrics, const char **metrics, int cuped) {
  mx_measure_options o = mx_measure_defaults();
  o.n_metrics = n_metrics;
  for (int k = 0; k < n_metrics; k++) o.metrics[k] = metrics[k];
  o.control = control;
  o.cuped = cuped;
  mx_measure *m = NULL;
  assert_int_equal(mx_measure_create(&o, &m, &err), MX_OK);
  return m;
}

static int has_warning(const mx_measure_result *r, const char *needle) {
  for (int w = 0; w < r->n_warnings; w++)
    if (strstr(r->warnings[w], needle)) return 1;
  return 0;
}

static void test_rows_means_and_intervals(void **state) {
  (void)state;
  const char *metrics[] = {"conversion", "spend"};
  mx_measure *m = make("ctl", 2, metrics, 0);
  double a_conv[] = {1, 0, 0, 1, 0, 0, 0, 0, 1, 0}, a_sp[] = {3.1, 0, 0, 12.5, 4.4, 0, 7.7, 1.0, 0, 2.2};
  double b_sp[] = {0, 1.5, 0, 0, 2.0, 0, 0.5, 0, 3.0, 0, 0, 1.1};
  for (int i = 0; i < 10; i++) {
    double y[] = {a_conv[i], a_sp[i]};
    assert_int_equal(mx_measure_add_row(m, "mail", i < 5 ? "web" : "phone", y, NULL, &err), MX_OK);
  }
  for (int i = 0; i < 12; i++) {
    double y[] = {i == 3, b_sp[i]};
    assert_int_equal(mx_measure_add_row(m, "ctl", i < 6 ? "web" : "phone", y, NULL, &err), MX_OK);
  }
  mx_measure_result *r = NULL;
  assert_int_equal(mx_measure_finish(m, &r, &err), MX_OK);
  assert_int_equal(r->n_arms, 2);
  assert_string_equal(r->arms[0].arm, "ctl");
  assert_int_equal(r->arms[1].users, 10);
  NEAR(r->arms[1].mean[0], 0.3, 0);
  NEAR(r->arms[1].mean[1], 30.9 / 10, 1e-15);
  assert_true(r->binary[0] && !r->binary[1]);
  /* overall uplift rows first: conversion by Newcombe, spend by Welch */
  assert_int_equal(r->n_uplift, 2 + 2 * 2);
  assert_string_equal(r->uplift[0].method, "newcombe");
  mx_diff_interval d;
  mx_newcombe_diff(3, 10, 1, 12, 0.95, &d);
  NEAR(r->uplift[0].d.lo, d.lo, 1e-15);
  assert_string_equal(r->uplift[1].method, "welch");
  NEAR(r->uplift[1].d.lo, -0.58367773486671082, 1e-10);
  NEAR(r->uplift[1].d.hi, 5.4136777348667113, 1e-10);
  assert_int_equal(r->n_segments, 2);
  assert_string_equal(r->segments[0], "web");
  assert_int_equal(r->segment_arms[0 * 2 + 1].users, 5);
  NEAR(r->srm_p_value, mx_chi2_sf(2.0 * 1 / 11, 1), 1e-12);
  mx_measure_result_free(r);
  /* finished once: more units are refused, not silently dropped */
  double y[] = {0, 0};
  assert_int_equal(mx_measure_add_row(m, "ctl", NULL, y, NULL, &err), MX_ESTATE);
  mx_measure_free(m);
}

static void test_join_units_outcomes_and_warnings(void **state) {
  (void)state;
  const char *metrics[] = {"conversion", "revenue", "orders"};
  mx_measure *m = make("control", 3, metrics, 0);
  char u[16];
  for (int i = 0; i < 40; i++) {
    snprintf(u, sizeof u, "u%d", i);
    assert_int_equal(mx_measure_add_unit(m, u, strlen(u), i % 2 ? "coupon" : "control", NULL, &err),
                     MX_OK);
  }
  /* the same assignment twice is one unit; another arm is an error */
  assert_int_equal(mx_measure_add_unit(m, "u1", 2, "coupon", NULL, &err), MX_OK);
  assert_int_equal(mx_measure_add_unit(m, "u1", 2, "control", NULL, &err), MX_EINVAL);
  assert_non_null(strstr(err.message, "two arms"));
  double v[3];
  /* u1 buys twice (10 + 5), u2 once (4), a stranger once */
  assert_int_equal(mx_measure_event_values(m, 10, v, &err), MX_OK);
  assert_int_equal(mx_measure_add_outcome(m, "u1", 2, v, &err), MX_OK);
  assert_int_equal(mx_measure_event_values(m, 5, v, &err), MX_OK);
  assert_int_equal(mx_measure_add_outcome(m, "u1", 2, v, &err), MX_OK);
  assert_int_equal(mx_measure_event_values(m, 4, v, &err), MX_OK);
  assert_int_equal(mx_measure_add_outcome(m, "u2", 2, v, &err), MX_OK);
  assert_int_equal(mx_measure_add_outcome(m, "stranger", 8, v, &err), MX_OK);
  mx_measure_result *r = NULL;
  assert_int_equal(mx_measure_finish(m, &r, &err), MX_OK);
  assert_int_equal(r->users, 40);
  assert_int_equal(r->unknown_rows, 1);
  assert_true(has_warning(r, "1 outcome rows name users with no assignment"));
  NEAR(r->arms[1].mean[0], 1.0 / 20, 0); /* coupon conversion: u1 only */
  NEAR(r->arms[1].mean[1], 15.0 / 20, 1e-15);
  NEAR(r->arms[1].mean[2], 2.0 / 20, 1e-15);
  NEAR(r->arms[0].mean[1], 4.0 / 20, 1e-15);
  assert_true(r->binary[0] && !r->binary[1]);
  mx_measure_result_free(r);
  mx_measure_free(m);
}

static void test_bad_inputs(void **state) {
  (void)state;
  const char *metrics[] = {"visit"};
  mx_measure_options o = mx_measure_defaults();
  o.n_metrics = 1;
  o.metrics[0] = "visit";
  o.control = "No E-Mail";
  mx_measure *m = NULL;
  /* a control share of 0 */
  o.n_shares = 2;
  o.share_arm[0] = "No E-Mail";
  o.share[0] = 0;
  o.share_arm[1] = "Mens E-Mail";
  o.share[1] = 1;
  assert_int_equal(mx_measure_create(&o, &m, &err), MX_EINVAL);
  assert_non_null(strstr(err.message, "control arm 'No E-Mail' has share 0"));
  /* a planned arm with no users: a stated warning, null figures */
  o.share[0] = 0.5;
  o.n_shares = 3;
  o.share_arm[1] = "Mens E-Mail";
  o.share[1] = 0.25;
  o.share_arm[2] = "Womens E-Mail";
  o.share[2] = 0.25;
  assert_int_equal(mx_measure_create(&o, &m, &err), MX_OK);
  double y1[] = {1}, y0[] = {0};
  for (int i = 0; i < 50; i++) {
    assert_int_equal(mx_measure_add_row(m, "No E-Mail", NULL, i % 5 ? y0 : y1, NULL, &err), MX_OK);
    assert_int_equal(mx_measure_add_row(m, "Mens E-Mail", NULL, i % 3 ? y0 : y1, NULL, &err), MX_OK);
  }
  mx_measure_result *r = NULL;
  assert_int_equal(mx_measure_finish(m, &r, &err), MX_OK);
  assert_true(has_warning(r, "arm 'Womens E-Mail' has no users"));
  assert_int_equal(r->arms[2].users, 0);
  assert_true(isnan(r->arms[2].mean[0]));
  NEAR(r->expected_share[0], 0.5, 1e-15);
  /* 50/50 against planned 50/25/25 is a mismatch */
  assert_true(r->srm_p_value < 0.01);
  mx_measure_result_free(r);
  mx_measure_free(m);
  /* the control missing: an error naming it and the arms seen */
  m = make("control", 1, metrics, 0);
  assert_int_equal(mx_measure_add_row(m, "a", NULL, y1, NULL, &err), MX_OK);
  assert_int_equal(mx_measure_add_row(m, "b", NULL, y0, NULL, &err), MX_OK);
  assert_int_equal(mx_measure_finish(m, &r, &err), MX_ENOTFOUND);
  assert_null(r);
  assert_string_equal(err.message, "control arm 'control' has no users (arms with users: a, b)");
  mx_measure_free(m);
  /* a window with no outcomes: every user counts 0, and we say so */
  m = make("control", 1, metrics, 0);
  assert_int_equal(mx_measure_add_unit(m, "u", 1, "control", NULL, &err), MX_OK);
  assert_int_equal(mx_measure_add_unit(m, "v", 1, "mail", NULL, &err), MX_OK);
  mx_measure_count_outside(m);
  assert_int_equal(mx_measure_finish(m, &r, &err), MX_OK);
  assert_true(has_warning(r, "no outcome row falls in the window (1 rows outside it)"));
  mx_measure_result_free(r);
  mx_measure_free(m);
  /* a control mean of 0: no relative uplift, and the warning says why */
  m = make("control", 1, metrics, 0);
  for (int i = 0; i < 10; i++) {
    assert_int_equal(mx_measure_add_row(m, "control", NULL, y0, NULL, &err), MX_OK);
    assert_int_equal(mx_measure_add_row(m, "mail", NULL, i % 2 ? y0 : y1, NULL, &err), MX_OK);
  }
  assert_int_equal(mx_measure_finish(m, &r, &err), MX_OK);
  assert_true(isnan(r->uplift[0].rel) && isnan(r->uplift[0].rel_lo));
  assert_true(isfinite(r->uplift[0].d.lo)); /* the difference itself is fine */
  assert_true(has_warning(r, "metric 'visit': the control's mean is 0, so no relative uplift"));
  mx_measure_result_free(r);
  mx_measure_free(m);
  /* non-finite values are refused */
  m = make("control", 1, metrics, 0);
  double bad[] = {NAN};
  assert_int_equal(mx_measure_add_row(m, "control", NULL, bad, NULL, &err), MX_EINVAL);
  mx_measure_free(m);
  /* event metrics only from event rows */
  const char *not_event[] = {"spend"};
  m = make("control", 1, not_event, 0);
  double v[1];
  assert_int_equal(mx_measure_event_values(m, 1, v, &err), MX_EINVAL);
  mx_measure_free(m);
}

/* CUPED on data where the covariate explains most of the outcome: the
 * adjusted difference is unbiased for the planted effect and its variance
 * shrinks by about rho^2. */
static void test_cuped_reduces_variance(void **state) {
  (void)state;
  const char *metrics[] = {"spend"};
  mx_measure *m = make("c", 1, metrics, 1);
  mx_rng rng;
  mx__rng_seed(&rng, 7);
  for (int i = 0; i < 20000; i++) {
    double x = 10 + 3 * mx__rng_normal(&rng);
    int t = i % 2;
    double y = 2 + 0.8 * x + 1.0 * mx__rng_normal(&rng) + (t ? 0.5 : 0);
    assert_int_equal(mx_measure_add_row(m, t ? "t" : "c", NULL, &y, &x, &err), MX_OK);
  }
  mx_measure_result *r = NULL;
  assert_int_equal(mx_measure_finish(m, &r, &err), MX_OK);
  const mx_measure_uplift *u = &r->uplift[0];
  NEAR(u->theta, 0.8, 0.02);
  /* rho^2 = 0.64*9 / (0.64*9 + 1) = 0.852 */
  NEAR(u->variance_reduction, 0.852, 0.01);
  assert_true(u->cuped.lo < 0.5 && u->cuped.hi > 0.5);
  assert_true(u->cuped.hi - u->cuped.lo < 0.5 * (u->d.hi - u->d.lo));
  mx_measure_result_free(r);
  mx_measure_free(m);
}

/* ------------------------------------------------------------- coverage */

/* One simulated campaign: three segments with their own base rates and a
 * planted additive uplift each; per user conversion ~ Bernoulli(p) and
 * revenue = conversion x (mean order value + noise). Returns how many of
 * the 6 per-segment intervals (conversion, revenue) cover the truth. */
static int simulate_campaign(uint64_t seed, double level, int *intervals) {
  static const double base[3] = {0.05, 0.10, 0.20}, lift[3] = {0.01, 0.03, -0.02};
  static const double order_value[3] = {40, 25, 60};
  static const char *segs[3] = {"new", "regular", "vip"};
  const char *metrics[] = {"conversion", "revenue"};
  mx_measure_options o = mx_measure_defaults();
  o.n_metrics = 2;
  o.metrics[0] = metrics[0];
  o.metrics[1] = metrics[1];
  o.control = "control";
  o.level = level;
  mx_measure *m = NULL;
  assert_int_equal(mx_measure_create(&o, &m, &err), MX_OK);
  mx_rng rng;
  mx__rng_seed(&rng, seed);
  for (int i = 0; i < 3000; i++) {
    int s = (int)mx__rng_below(&rng, 3), t = mx__rng_uniform(&rng) < 0.5;
    double p = base[s] + (t ? lift[s] : 0);
    double conv = mx__rng_uniform(&rng) < p;
    double rev = conv ? order_value[s] * (0.5 + mx__rng_uniform(&rng)) : 0; /* E = order_value */
    double y[] = {conv, rev};
    assert_int_equal(mx_measure_add_row(m, t ? "coupon" : "control", segs[s], y, NULL, &err), MX_OK);
  }
  mx_measure_result *r = NULL;
  assert_int_equal(mx_measure_finish(m, &r, &err), MX_OK);
  int covered = 0;
  *intervals = 0;
  for (int i = 0; i < r->n_uplift; i++) {
    const mx_measure_uplift *u = &r->uplift[i];
    if (!u->segment) continue;
    int s = !strcmp(u->segment, "new") ? 0 : !strcmp(u->segment, "regular") ? 1 : 2;
    double truth = u->metric == 0 ? lift[s] : lift[s] * order_value[s];
    (*intervals)++;
    covered += u->d.lo <= truth && truth <= u->d.hi;
  }
  mx_measure_result_free(r);
  mx_measure_free(m);
  return covered;
}

static double coverage(double level) {
  int covered = 0, total = 0;
  for (uint64_t seed = 1; seed <= 200; seed++) {
    int n;
    covered += simulate_campaign(seed, level, &n);
    total += n;
  }
  assert_int_equal(total, 200 * 6);
  return (double)covered / total;
}

static void test_coverage_of_planted_uplift(void **state) {
  (void)state;
  double c95 = coverage(0.95);
  printf("coverage of the 95%% intervals over 200 campaigns x 6: %.4f\n", c95);
  assert_true(c95 >= 0.93 && c95 <= 0.97);
  /* the check can fail: 80% intervals are caught as too narrow */
  double c80 = coverage(0.80);
  assert_true(c80 < 0.93);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_student_t_matches_scipy),
      cmocka_unit_test(test_chi2_matches_scipy),
      cmocka_unit_test(test_newcombe_published),
      cmocka_unit_test(test_welch_matches_scipy),
      cmocka_unit_test(test_srm),
      cmocka_unit_test(test_relative_uplift),
      cmocka_unit_test(test_rows_means_and_intervals),
      cmocka_unit_test(test_join_units_outcomes_and_warnings),
      cmocka_unit_test(test_bad_inputs),
      cmocka_unit_test(test_cuped_reduces_variance),
      cmocka_unit_test(test_coverage_of_planted_uplift),
  };
  tu_filters();
  return tu_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
