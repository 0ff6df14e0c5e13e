/* Forecasting methods against published reference numbers: R forecast 8.20
 * fixtures (tests/unit/forecast_fixtures, with the R script that made them),
 * the official M4 Hourly benchmark forecasts (when ../shared/data is present),
 * and hand-checkable cases for the intermittent-demand methods. */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/forecast/internal.h"
#include "merx/forecast.h"
#include "util/util.h"

static const double air[144] = {
    112, 118, 132, 129, 121, 135, 148, 148, 136, 119, 104, 118, 115, 126, 141, 135, 125, 149,
    170, 170, 158, 133, 114, 140, 145, 150, 178, 163, 172, 178, 199, 199, 184, 162, 146, 166,
    171, 180, 193, 181, 183, 218, 230, 242, 209, 191, 172, 194, 196, 196, 236, 235, 229, 243,
    264, 272, 237, 211, 180, 201, 204, 188, 235, 227, 234, 264, 302, 293, 259, 229, 203, 229,
    242, 233, 267, 269, 270, 315, 364, 347, 312, 274, 237, 278, 284, 277, 317, 313, 318, 374,
    413, 405, 355, 306, 271, 306, 315, 301, 356, 348, 355, 422, 465, 467, 404, 347, 305, 336,
    340, 318, 362, 348, 363, 435, 491, 505, 404, 359, 310, 337, 360, 342, 406, 396, 420, 472,
    548, 559, 463, 407, 362, 405, 417, 391, 419, 461, 472, 535, 622, 606, 508, 461, 390, 432};
static const double nile[100] = {
    1120, 1160, 963,  1210, 1160, 1160, 813,  1230, 1370, 1140, 995,  935,  1110, 994,  1020,
    960,  1180, 799,  958,  1140, 1100, 1210, 1150, 1250, 1260, 1220, 1030, 1100, 774,  840,
    874,  694,  940,  833,  701,  916,  692,  1020, 1050, 969,  831,  726,  456,  824,  702,
    1120, 1100, 832,  764,  821,  768,  845,  864,  862,  698,  845,  744,  796,  1040, 759,
    781,  865,  845,  944,  984,  897,  822,  1010, 771,  676,  649,  846,  812,  742,  801,
    1040, 860,  874,  848,  890,  744,  749,  838,  1050, 918,  986,  797,  923,  975,  815,
    1020, 906,  901,  1170, 912,  746,  919,  718,  714,  740};

/* Reads "name v1 v2 ..." from r_reference.txt; returns the count. */
static int ref(const char *name, double *out, int max) {
  char path[512];
  snprintf(path, sizeof path, "%s/tests/unit/forecast_fixtures/r_reference.txt", MERX_SRC_DIR);
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  char line[8192];
  int n = -1;
  while (fgets(line, sizeof line, f)) {
    char *tok = strtok(line, " \n");
    if (!tok || strcmp(tok, name) != 0) continue;
    n = 0;
    while ((tok = strtok(NULL, " \n")) && n < max) out[n++] = atof(tok);
    break;
  }
  fclose(f);
  assert_true(n > 0);
  return n;
}

static void assert_rel(const double *a, const double *b, int n, double tol) {
  for (int i = 0; i < n; i++) {
    double rel = fabs(a[i] - b[i]) / fmax(1e-12, fabs(b[i]));
    if (rel > tol) fail_msg("value %d: %.12g vs reference %.12g (rel %.3g > %.3g)", i, a[i], b[i], rel, tol);
  }
}

static void point(const double *y, size_t n, int method, int h, int m, double *f) {
  mx_error err;
  int used;
  assert_int_equal(mx_forecast_point(y, n, method, h, m, f, &used, &err), MX_OK);
}

/* M4 benchmarks (seasonality test + decomposition + method) against R. */
static void test_m4_benchmarks_match_r(void **state) {
  (void)state;
  double f[18], r[18];
  point(air, 144, MX_FC_NAIVE2, 18, 12, f);
  ref("air_naive2", r, 18);
  assert_rel(f, r, 18, 1e-9);
  point(air, 144, MX_FC_SES, 18, 12, f);
  ref("air_ses", r, 18);
  assert_rel(f, r, 18, 1e-6);
  point(air, 144, MX_FC_THETA, 18, 12, f);
  ref("air_theta", r, 18);
  assert_rel(f, r, 18, 1e-6);
  point(nile, 100, MX_FC_SES, 10, 1, f);
  ref("nile_ses", r, 10);
  assert_rel(f, r, 10, 1e-6);
  point(nile, 100, MX_FC_THETA, 10, 1, f);
  ref("nile_theta", r, 10);
  assert_rel(f, r, 10, 1e-6);
}

/* Non-seasonal ETS has the same free parameters as R's ets(), so the maximum
 * likelihood must agree: ours at least as good (a different optimiser) and
 * forecasts close. */
static void test_ets_matches_r_likelihood(void **state) {
  (void)state;
  struct { const char *tag; int e, t; } cases[] = {
      {"nile_ets_ANN", FC_E_A, FC_T_N}, {"nile_ets_AAN", FC_E_A, FC_T_A},
      {"nile_ets_AANd", FC_E_A, FC_T_AD}, {"nile_ets_MNN", FC_E_M, FC_T_N}};
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    fc_ets_fit fit;
    assert_int_equal(fc_ets_fit_model(nile, 100, cases[c].e, cases[c].t, FC_S_N, 1, &fit), 0);
    char name[64];
    double rlik = 0, rfc[5], f[5];
    snprintf(name, sizeof name, "%s_lik", cases[c].tag);
    ref(name, &rlik, 1);
    snprintf(name, sizeof name, "%s_fc", cases[c].tag);
    ref(name, rfc, 5);
    if (fit.lik > rlik + 0.01) fail_msg("%s: -2logL %.6f worse than R's %.6f", cases[c].tag, fit.lik, rlik);
    assert_true(fit.lik > rlik - 2.0); /* same objective, not a different one */
    fc_ets_forecast(&fit, 5, f, NULL, NULL);
    print_message("%s: -2logL %.6f (R %.6f), alpha %.4f beta %.4f phi %.4f, f1 %.3f (R %.3f)\n",
                  cases[c].tag, fit.lik, rlik, fit.alpha, fit.beta, fit.phi, f[0], rfc[0]);
    /* where the likelihoods agree the fits are the same; a damped trend's
     * likelihood is flat in phi, so a better optimum may forecast otherwise */
    if (fabs(fit.lik - rlik) < 0.01) assert_rel(f, rfc, 5, 5e-3);
  }
}

/* Seasonal ETS: R's ets() optimises the initial seasonal states with the
 * smoothing parameters; so does merx (Levenberg-Marquardt steps on all
 * initial states between simplex runs), and must reach at least R's
 * likelihood on AirPassengers (R forecast 8.20, make_fixtures.R). Where the
 * optimum is the same the forecasts agree. */
static void test_ets_seasonal_matches_r_likelihood(void **state) {
  (void)state;
  struct { const char *tag; int e, t, s; } cases[] = {
      {"air_ets_ANA", FC_E_A, FC_T_N, FC_S_A},   {"air_ets_AAA", FC_E_A, FC_T_A, FC_S_A},
      {"air_ets_AAAd", FC_E_A, FC_T_AD, FC_S_A}, {"air_ets_MNM", FC_E_M, FC_T_N, FC_S_M},
      {"air_ets_MAM", FC_E_M, FC_T_A, FC_S_M},   {"air_ets_MAMd", FC_E_M, FC_T_AD, FC_S_M},
      {"air_ets_MNA", FC_E_M, FC_T_N, FC_S_A}};
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    fc_ets_fit fit;
    assert_int_equal(fc_ets_fit_model(air, 144, cases[c].e, cases[c].t, cases[c].s, 12, &fit), 0);
    char name[64];
    double rlik = 0, rfc[12], f[12];
    snprintf(name, sizeof name, "%s_lik", cases[c].tag);
    ref(name, &rlik, 1);
    snprintf(name, sizeof name, "%s_fc", cases[c].tag);
    ref(name, rfc, 12);
    fc_ets_forecast(&fit, 12, f, NULL, NULL);
    print_message("%s: -2logL %.4f (R %.4f), alpha %.4f beta %.4f gamma %.4f phi %.3f, f1 %.2f (R %.2f)\n",
                  cases[c].tag, fit.lik, rlik, fit.alpha, fit.beta, fit.gamma, fit.phi, f[0], rfc[0]);
    if (fit.lik > rlik + 0.01) fail_msg("%s: -2logL %.6f worse than R's %.6f", cases[c].tag, fit.lik, rlik);
    /* R's simplex in 14-17 dimensions often stops early (ANA: alpha 0.9999,
     * gamma 1e-4 at -2logL 1534.86; the same objective evaluated at R's
     * parameters gives R's number), so merx may be far better: no lower bound */
    if (fabs(fit.lik - rlik) < 0.05) assert_rel(f, rfc, 12, 1e-2);
  }
}

static void test_ets_intervals_analytic(void **state) {
  (void)state;
  /* ETS(A,N,N): Var(h) = sigma^2 (1 + (h-1) alpha^2) (Hyndman et al. 2008, Table 6.1) */
  fc_ets_fit fit;
  assert_int_equal(fc_ets_fit_model(nile, 100, FC_E_A, FC_T_N, FC_S_N, 1, &fit), 0);
  double f[6], sd[6], cum[6];
  fc_ets_forecast(&fit, 6, f, sd, cum);
  for (int h = 1; h <= 6; h++)
    assert_true(fabs(sd[h - 1] - sqrt(fit.sigma2 * (1 + (h - 1) * fit.alpha * fit.alpha))) < 1e-9);
  /* the sum of 2 steps: innovations e1 (coefficient 1 + alpha) and e2 (1) */
  double want = sqrt(fit.sigma2 * ((1 + fit.alpha) * (1 + fit.alpha) + 1));
  assert_true(fabs(cum[1] - want) < 1e-9);
  /* through the public API: 95% bounds = mean -/+ 1.96 sd */
  mx_forecast_options o = mx_forecast_defaults();
  o.method = MX_FC_SES;
  o.horizon = 4;
  mx_forecast_result r;
  mx_error err;
  o.method = MX_FC_ETS;
  assert_int_equal(mx_forecast_series(nile, 100, &o, &r, &err), MX_OK);
  for (int j = 0; j < 4; j++) {
    assert_true(r.lo[4 + j] < r.lo[j] && r.lo[j] < r.mean[j] && r.mean[j] < r.hi[j] && r.hi[j] < r.hi[4 + j]);
    assert_true(fabs((r.hi[4 + j] - r.mean[j]) / r.sigma[j] - 1.959964) < 1e-4);
  }
  assert_true(strncmp(r.model, "ETS(", 4) == 0);
  mx_forecast_result_free(&r);
}

static void test_intermittent(void **state) {
  (void)state;
  /* Croston by hand, alpha 0.1: demands 4 at t=1 and 6 at t=4 (0-based 1, 4):
   * z = 4 -> 4.2, p = 2 -> 2 + 0.1 (3 - 2) = 2.1; forecast 4.2 / 2.1 = 2 */
  const double y[] = {0, 4, 0, 0, 6, 0};
  assert_true(fabs(fc_intermittent(y, 6, FC_CROSTON) - 2.0) < 1e-12);
  assert_true(fabs(fc_intermittent(y, 6, FC_SBA) - 2.0 * 0.95) < 1e-12);
  /* TSB: p0 = 2/6, z0 = 5; per period p += 0.05 (d - p); z += 0.1 (y - z) on demand */
  double p = 2.0 / 6, z = 5;
  for (int t = 0; t < 6; t++) {
    p += 0.05 * ((y[t] != 0) - p);
    if (y[t] != 0) z += 0.1 * (y[t] - z);
  }
  assert_true(fabs(fc_intermittent(y, 6, FC_TSB) - p * z) < 1e-12);
  double adi, cv2;
  assert_int_equal(fc_classify(y, 6, &adi, &cv2), 1);
  assert_true(fabs(adi - 3.0) < 1e-12);
  assert_true(fabs(cv2 - 2.0 / 25) < 1e-12); /* var(4, 6) = 2, mean 5 */
  const double smooth[] = {3, 4, 5, 4, 3, 5, 4};
  assert_int_equal(fc_classify(smooth, 7, &adi, &cv2), 0);
  /* auto takes Croston, SBA or TSB (holdout) for intermittent series */
  double ys[40];
  for (int t = 0; t < 40; t++) ys[t] = (t % 4 == 0) ? 3 + t % 3 : 0;
  double f[3];
  int used;
  mx_error err;
  assert_int_equal(mx_forecast_point(ys, 40, MX_FC_AUTO, 3, 1, f, &used, &err), MX_OK);
  assert_true(used == MX_FC_CROSTON || used == MX_FC_SBA || used == MX_FC_TSB);
}

/* ../shared/data/m4: the official benchmark forecasts to 1e-6. */
static int read_set(const char *path, mx_series_set **s) {
  mx_series_read_options o = mx_series_read_defaults();
  mx_error err;
  return mx_series_read_wide(path, &o, s, &err);
}

static void test_m4_hourly_official(void **state) {
  (void)state;
  const char *dir = tu_shared_data("m4");
  if (!dir) tu_skip("../shared/data/m4 absent");
  char p[600];
  mx_series_set *tr, *ref_set;
  snprintf(p, sizeof p, "%s/Hourly-train.csv", dir);
  assert_int_equal(read_set(p, &tr), MX_OK);
  assert_int_equal((int)tr->count, 414);
  const char *names[] = {"Naive", "sNaive", "Naive2", "SES"};
  const int methods[] = {MX_FC_NAIVE, MX_FC_SNAIVE, MX_FC_NAIVE2, MX_FC_SES};
  for (int k = 0; k < 4; k++) {
    snprintf(p, sizeof p, "%s/benchmark_forecasts/Hourly-%s.csv", dir, names[k]);
    if (read_set(p, &ref_set) != MX_OK) continue;
    int within = 0;
    double worst = 0;
    for (size_t i = 0; i < tr->count; i++) {
      double f[48];
      point(tr->values[i], tr->len[i], methods[k], 48, 24, f);
      double mr = 0;
      for (int j = 0; j < 48; j++)
        mr = fmax(mr, fabs(f[j] - ref_set->values[i][j]) / fabs(ref_set->values[i][j]));
      within += mr <= 1e-6;
      worst = fmax(worst, mr);
    }
    print_message("M4 Hourly %s: %d/414 series within 1e-6, worst rel %.3g\n", names[k], within, worst);
    if (methods[k] != MX_FC_SES) {
      assert_int_equal(within, 414);
    } else {
      /* The official SES file was made with an older forecast package whose
       * optimiser path differs on 106 series (max 4.6e-4); R forecast 8.20
       * is matched exactly instead (next test). */
      assert_true(within >= 300);
      assert_true(worst < 1e-3);
    }
    mx_series_set_free(ref_set);
  }
  /* SES against R forecast 8.20 (fixture: the first 40 series) */
  snprintf(p, sizeof p, "%s/tests/unit/forecast_fixtures/m4_hourly_ses_r_forecast_8.20_first40.csv",
           MERX_SRC_DIR);
  mx_series_read_options o = mx_series_read_defaults();
  o.header = -1;
  mx_error err;
  assert_int_equal(mx_series_read_wide(p, &o, &ref_set, &err), MX_OK);
  for (size_t i = 0; i < ref_set->count; i++) {
    double f[48];
    assert_string_equal(ref_set->ids[i], tr->ids[i]);
    point(tr->values[i], tr->len[i], MX_FC_SES, 48, 24, f);
    assert_rel(f, ref_set->values[i], 48, 1e-9);
  }
  mx_series_set_free(ref_set);
  mx_series_set_free(tr);
}

/* Every method that estimates a level; naive, snaive and naive2 repeat an
 * observed value by definition. */
static const int level_methods[] = {MX_FC_AUTO,  MX_FC_SES, MX_FC_HOLT,    MX_FC_DAMPED,
                                    MX_FC_HW,    MX_FC_THETA, MX_FC_ETS,   MX_FC_CROSTON,
                                    MX_FC_SBA,   MX_FC_TSB};

/* Issue 22: weekly Online Retail best sellers from each product's first sale.
 * "RABBIT NIGHT LIGHT" (23084) jumps from ~14 to 2,300-5,600 a week; the
 * multiplicative-error ETS fits kept the old level (alpha at its floor: the
 * relative-error likelihood pays less for a few huge relative errors than for
 * following the jump). No forecast may fall below 10% of the last 4 weeks'
 * mean when those are all non-zero, unless the result's note says why. */
static void test_level_shift_guard(void **state) {
  (void)state;
  char p[600];
  snprintf(p, sizeof p, "%s/examples/data/retail_top100_weekly.csv", MERX_SRC_DIR);
  mx_series_set *s;
  mx_series_read_options ro = mx_series_read_defaults();
  ro.header = -1;
  mx_error err;
  assert_int_equal(mx_series_read_wide(p, &ro, &s, &err), MX_OK);
  assert_int_equal((int)s->count, 100);
  int bad = 0;
  for (size_t k = 0; k < sizeof level_methods / sizeof *level_methods; k++)
    for (size_t i = 0; i < s->count; i++) {
      const double *y = s->values[i];
      size_t n = s->len[i];
      if (n < 8 || !(y[n - 1] > 0 && y[n - 2] > 0 && y[n - 3] > 0 && y[n - 4] > 0)) continue;
      double recent = (y[n - 1] + y[n - 2] + y[n - 3] + y[n - 4]) / 4;
      mx_forecast_options o = mx_forecast_defaults();
      o.method = level_methods[k];
      o.horizon = 8;
      o.season = 1; /* the CLI default for weekly data */
      o.nonneg = 1;
      mx_forecast_result r;
      assert_int_equal(mx_forecast_series(y, n, &o, &r, &err), MX_OK);
      /* the case of the issue: the level after the jump, not half of it */
      if (strcmp(s->ids[i], "23084") == 0 && r.mean[0] < 0.5 * recent) {
        print_message("%s 23084 (%s): %.1f, last 4 weeks' mean %.1f\n",
                      mx_forecast_method_name(o.method), r.model, r.mean[0], recent);
        bad++;
      }
      for (int j = 0; j < o.horizon; j++)
        if (r.mean[j] < 0.1 * recent && !r.note[0]) {
          print_message("%s %s (%s): step %d forecast %.1f < 10%% of the last 4 weeks' mean %.1f\n",
                        mx_forecast_method_name(o.method), s->ids[i], r.model, j + 1, r.mean[j],
                        recent);
          bad++;
          break;
        }
      mx_forecast_result_free(&r);
    }
  mx_series_set_free(s);
  assert_int_equal(bad, 0);
}

/* Issue 22: no method may ever return a non-finite value. Every method x a
 * set of awkward series (daily Online Retail sales with many zero days, where
 * the multiplicative seasonal adjustment met zero indices and theta wrote
 * -nan; all zeros, constants, one spike, very short, huge values, negative
 * returns) x seasons: the call succeeds and every number is finite. */
static void test_finite_property(void **state) {
  (void)state;
  enum { NS = 16, LEN = 400 };
  static double syn[NS][LEN];
  size_t len[NS];
  const char *what[NS];
  int k = 0;
  for (int t = 0; t < LEN; t++) syn[k][t] = 0;
  len[k] = 60, what[k++] = "all zeros";
  for (int t = 0; t < LEN; t++) syn[k][t] = 7;
  len[k] = 60, what[k++] = "constant";
  for (int t = 0; t < LEN; t++) syn[k][t] = t == 30 ? 500 : 0;
  len[k] = 60, what[k++] = "one spike";
  for (int t = 0; t < LEN; t++) syn[k][t] = t == 59 ? 500 : 0;
  len[k] = 60, what[k++] = "one spike at the end";
  syn[k][0] = 3;
  len[k] = 1, what[k++] = "one value";
  syn[k][0] = 3, syn[k][1] = 0;
  len[k] = 2, what[k++] = "two values";
  syn[k][0] = 0, syn[k][1] = 5, syn[k][2] = 0, syn[k][3] = 9;
  len[k] = 4, what[k++] = "four values";
  for (int t = 0; t < LEN; t++) syn[k][t] = (t % 2 ? 1e15 : 9e14);
  len[k] = 100, what[k++] = "huge values";
  for (int t = 0; t < LEN; t++) syn[k][t] = (t % 7 == 5 || t % 7 == 6) ? 0 : 10 + t % 3;
  len[k] = 120, what[k++] = "closed weekends";
  for (int t = 0; t < LEN; t++) syn[k][t] = (t % 7 == 3) ? 40 : 0;
  len[k] = 120, what[k++] = "one sale day a week";
  for (int t = 0; t < LEN; t++) syn[k][t] = (t % 5 == 0) ? -4 : 6;
  len[k] = 90, what[k++] = "negative returns";
  for (int t = 0; t < LEN; t++) syn[k][t] = t < 200 ? 5e14 * (t % 3) : 1e-9 * (t % 3);
  len[k] = 300, what[k++] = "huge then tiny";
  for (int t = 0; t < LEN; t++) syn[k][t] = t < 350 ? 10 + t % 7 : 0;
  len[k] = 400, what[k++] = "trailing zeros";
  for (int t = 0; t < LEN; t++) syn[k][t] = 1e-300 * (t % 4);
  len[k] = 100, what[k++] = "denormal-small";
  for (int t = 0; t < LEN; t++) syn[k][t] = (t % 24 < 8) ? 0 : 100 + (t % 24);
  len[k] = 24 * 14, what[k++] = "hourly, zero nights";
  for (int t = 0; t < LEN; t++) syn[k][t] = t % 2 ? 1e15 : -1e15;
  len[k] = 50, what[k++] = "huge alternating";
  assert_int_equal(k, NS);

  char p[600];
  snprintf(p, sizeof p, "%s/examples/data/retail_daily_sparse.csv", MERX_SRC_DIR);
  mx_series_set *s;
  mx_series_read_options ro = mx_series_read_defaults();
  ro.header = -1;
  mx_error err;
  assert_int_equal(mx_series_read_wide(p, &ro, &s, &err), MX_OK);
  const int seasons[] = {1, 7, 24};
  /* Under the sanitizers (an -O0 build, ten times slower) ARIMA is left to the
   * plain build: its order search on these series costs ~60 s there (one
   * period-5 series at season 7 alone 40 s) against ~5 s for the other methods. */
#if defined(__SANITIZE_ADDRESS__)
  const int sanitized = 1;
#else
  const int sanitized = 0;
#endif
  int bad = 0, runs = 0;
  for (int method = 0; method < MX_FC_COMBO; method++)
    for (size_t si = 0; si < sizeof seasons / sizeof *seasons; si++)
      for (size_t i = 0; i < s->count + NS; i++) {
        const double *y = i < s->count ? s->values[i] : syn[i - s->count];
        size_t n = i < s->count ? s->len[i] : len[i - s->count];
        const char *name = i < s->count ? s->ids[i] : what[i - s->count];
        /* daily data at 1 and 7; hourly at 24 (and the short ones everywhere) */
        if (seasons[si] == 24 && (i < s->count || (n > 60 && strncmp(name, "hourly", 6) != 0)))
          continue;
        if (sanitized && method == MX_FC_ARIMA) continue;
        mx_forecast_options o = mx_forecast_defaults();
        o.method = method;
        o.horizon = 14;
        o.season = seasons[si];
        mx_forecast_result r;
        runs++;
        if (mx_forecast_series(y, n, &o, &r, &err) != MX_OK) {
          print_message("%s, season %d, %s: %s\n", mx_forecast_method_name(method), o.season, name,
                        err.message);
          bad++;
          continue;
        }
        int finite = 1;
        for (int j = 0; j < o.horizon; j++) {
          finite &= isfinite(r.mean[j]) && isfinite(r.sigma[j]) && isfinite(r.cum_sigma[j]);
          for (int l = 0; l < r.nlevels; l++)
            finite &= isfinite(r.lo[l * o.horizon + j]) && isfinite(r.hi[l * o.horizon + j]);
        }
        if (!finite) {
          print_message("%s, season %d, %s: non-finite output\n", mx_forecast_method_name(method),
                        o.season, name);
          bad++;
        }
        mx_forecast_result_free(&r);
      }
  mx_series_set_free(s);
  print_message("%d method x season x series runs\n", runs);
  assert_int_equal(bad, 0);
}

/* Issue 22: empirical intervals at their nominal coverage. 400 series of a
 * local level with Student-t(4) noise (heavier tails than the normal), 120
 * observations, forecast 12 steps ahead with ses, naive and theta; the 80% and
 * 95% intervals cover the simulated futures within 2.5 points of nominal
 * (the per-step quantile of 20 errors covered ~91% at 95%), and their width
 * never shrinks with the horizon. */
static void test_interval_coverage(void **state) {
  (void)state;
  enum { S = 400, N = 120, H = 12 };
  mx_rng r;
  mx__rng_seed(&r, 2026);
  static double y[N + H];
  const int methods[] = {MX_FC_SES, MX_FC_NAIVE, MX_FC_THETA};
  for (size_t k = 0; k < sizeof methods / sizeof *methods; k++) {
    long in80 = 0, in95 = 0, total = 0;
    for (int i = 0; i < S; i++) {
      double level = 100;
      for (int t = 0; t < N + H; t++) {
        double chi = 0;
        for (int d = 0; d < 4; d++) {
          double g = mx__rng_normal(&r);
          chi += g * g;
        }
        double noise = mx__rng_normal(&r) / sqrt(chi / 4);
        level += 0.5 * mx__rng_normal(&r);
        y[t] = level + 2 * noise;
      }
      mx_forecast_options o = mx_forecast_defaults();
      o.method = methods[k];
      o.horizon = H;
      mx_forecast_result res;
      mx_error err;
      assert_int_equal(mx_forecast_series(y, N, &o, &res, &err), MX_OK);
      for (int j = 0; j < H; j++) {
        double a = y[N + j];
        in80 += res.lo[j] <= a && a <= res.hi[j];
        in95 += res.lo[H + j] <= a && a <= res.hi[H + j];
        total++;
        if (j) {
          double w = res.hi[H + j] - res.lo[H + j], wp = res.hi[H + j - 1] - res.lo[H + j - 1];
          if (w < wp - 1e-9) fail_msg("%s: the 95%% interval narrows at step %d", mx_forecast_method_name(o.method), j + 1);
        }
      }
      mx_forecast_result_free(&res);
    }
    double c80 = (double)in80 / total, c95 = (double)in95 / total;
    print_message("%s: coverage 80%% %.3f, 95%% %.3f\n", mx_forecast_method_name(methods[k]), c80, c95);
    assert_true(fabs(c80 - 0.80) <= 0.025);
    assert_true(fabs(c95 - 0.95) <= 0.025);
  }
}

int main(void) {
  tu_filters();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_m4_benchmarks_match_r),
      cmocka_unit_test(test_ets_matches_r_likelihood),
      cmocka_unit_test(test_ets_seasonal_matches_r_likelihood),
      cmocka_unit_test(test_ets_intervals_analytic),
      cmocka_unit_test(test_intermittent),
      cmocka_unit_test(test_m4_hourly_official),
      cmocka_unit_test(test_level_shift_guard),
      cmocka_unit_test(test_finite_property),
      cmocka_unit_test(test_interval_coverage),
  };
  return tu_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
