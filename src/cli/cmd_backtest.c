/* merx backtest: rolling-origin accuracy of forecasting methods. */
#include <stdlib.h>
#include <string.h>

#include "cli/forecast_cli.h"
#include "cli/plot_html.h"
#include "util/util.h"

static const char *usage =
    "usage: merx backtest --data FILE (--format long|wide) [--columns ...] --horizon H\n"
    "                     [--season M] [--methods auto,ets,snaive,...] [--origins 3]\n"
    "                     [--step S] [--refit every|first] [--mase-season M] [--levels 80,95]\n"
    "                     [--freq day|week|month]\n"
    "                     [--nonneg] [--threads T] [--out FILE.csv] [--json]\n"
    "                     [--plot FILE.html [--plot-max N] [--plot-window N]]\n\n"
    "For each series and each of --origins forecast origins (the last one H steps before\n"
    "the end, earlier ones --step periods apart, default H), refit every method on the\n"
    "history before the origin, forecast H steps and score against the actuals:\n"
    "sMAPE (M4, 0..200), MASE and RMSSE (scale: in-sample seasonal naive at --mase-season,\n"
    "default --season), WAPE, bias (mean forecast - actual), pinball loss of the interval\n"
    "bounds and the coverage of each interval level. --out writes the same table as CSV.\n"
    "--refit first selects once, at the earliest origin (auto's choice of methods or\n"
    "combination, the ETS model form) and only re-estimates parameters at later origins;\n"
    "every (default) selects and fits afresh at each origin.\n"
    "--plot writes an HTML page (offline, one file): the table, WAPE and sMAPE of each\n"
    "method by horizon, and the first --plot-max (default 50) series at the last origin\n"
    "(history, held-out actuals, the first method's forecast and 80/95% fan; --plot-window\n"
    "N draws the last N periods of history), with a search box over the ids.\n"
    "\nExample:\n"
    "  merx backtest --data examples/data/daily_sales.csv --format long\n"
    "      --columns id=StockCode,time=date,value=quantity --freq week --horizon 4\n"
    "      --methods auto,ets,snaive --origins 3\n";

int mx__cmd_backtest(int argc, char **argv) {
  mx_args a;
  int rc = mx__args_parse(&a, "backtest",
                         "horizon= methods= method= origins= step= mase-season= refit= out= json plot= plot-max= "
                         "plot-window="
                         MX_CLI_SERIES_SPEC, argc, argv, 2);
  if (rc) return rc;
  if (mx__cli_help(&a, usage) == 0) return MX_EXIT_OK;
  if ((rc = mx__args_require(&a, "horizon"))) return rc;
  mx_backtest_options bo = mx_backtest_defaults();
  long v;
  if ((rc = mx__args_int(&a, "horizon", 1, 1, 100000, &v))) return rc;
  bo.fc.horizon = (int)v;
  if ((rc = mx__args_int(&a, "origins", 3, 1, 10000, &v))) return rc;
  bo.origins = (int)v;
  if ((rc = mx__args_int(&a, "step", 0, 0, 100000, &v))) return rc;
  bo.step = (int)v;
  if ((rc = mx__args_int(&a, "mase-season", 0, 0, 400, &v))) return rc;
  bo.mase_m = (int)v;
  long plot_max, plot_window;
  if ((rc = mx__args_int(&a, "plot-max", 50, 1, 1000000, &plot_max))) return rc;
  if ((rc = mx__args_int(&a, "plot-window", 0, 0, 100000000, &plot_window))) return rc;
  const char *plot = mx__args_get(&a, "plot", NULL);
  bo.by_horizon = plot != NULL;
  const char *refit = mx__args_get(&a, "refit", "every");
  if (strcmp(refit, "every") == 0) bo.refit = 1;
  else if (strcmp(refit, "first") == 0) bo.refit = 0;
  else return mx__cli_usage("backtest", "--refit: expected every or first, got '%s'", refit);
  const char *list = mx__args_get(&a, "methods", mx__args_get(&a, "method", "auto"));
  int methods[MX_FC_METHOD_COUNT * 2], nm = 0;
  mx_error err;
  mx_error_clear(&err);
  for (const char *p = list; *p;) {
    size_t len = strcspn(p, ",");
    char name[32];
    if (len == 0 || len >= sizeof name) return mx__cli_usage("backtest", "--methods: bad list '%s'", list);
    memcpy(name, p, len);
    name[len] = '\0';
    if (nm >= (int)(sizeof methods / sizeof methods[0]))
      return mx__cli_usage("backtest", "--methods: too many");
    if (mx_forecast_method_parse(name, &methods[nm], &err))
      return mx__cli_usage("backtest", "--methods: %s", err.message);
    nm++;
    p += len;
    if (*p == ',') p++;
  }
  if (!mx__args_get(&a, "format", NULL))
    return mx__cli_usage("backtest", "--format is required (long or wide)");
  mx_series_set *s;
  if ((rc = mx__cli_read_series(&a, &s))) return rc;
  if ((rc = mx__cli_forecast_options(&a, s, &bo.fc))) {
    mx_series_set_free(s);
    return rc;
  }
  mx_backtest_metrics *m = calloc((size_t)nm, sizeof *m);
  if (!m) {
    mx_series_set_free(s);
    mx_error_set(&err, MX_ENOMEM, "out of memory");
    return mx__cli_fail("backtest", &err);
  }
  int status = MX_EXIT_OK;
  if (mx_backtest(s, &bo, methods, nm, m, &err) != MX_OK) status = mx__cli_fail("backtest", &err);
  const char *out = mx__args_get(&a, "out", NULL);
  /* the CSV and the page are published together, or neither */
  mx_atomic_file af, paf;
  int has_out = 0, has_page = 0;
  if (!status && out) {
    if (mx__atomic_open(&af, out, &err) != MX_OK) status = mx__cli_fail("backtest", &err);
    else has_out = 1;
  }
  if (!status && plot) {
    if (mx__atomic_open(&paf, plot, &err) != MX_OK) status = mx__cli_fail("backtest", &err);
    else has_page = 1;
  }
  if (status && has_out) mx__atomic_abort(&af);
  if (!status) {
    if (has_out) {
      fputs("method,smape,mase,rmsse,wape,bias,pinball", af.f);
      for (int l = 0; l < bo.fc.nlevels; l++) fprintf(af.f, ",coverage%g", bo.fc.levels[l]);
      fputs(",evaluated,skipped,seconds\n", af.f);
      for (int i = 0; i < nm; i++) {
        fprintf(af.f, "%s,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g", mx_forecast_method_name(m[i].method),
                m[i].smape, m[i].mase, m[i].rmsse, m[i].wape, m[i].bias, m[i].pinball);
        for (int l = 0; l < bo.fc.nlevels; l++) fprintf(af.f, ",%.4f", m[i].coverage[l]);
        fprintf(af.f, ",%zu,%zu,%.3f\n", m[i].evaluated, m[i].skipped, m[i].seconds);
      }
    }
    if (has_page) mx__backtest_plot_html(paf.f, s, &bo, m, nm, (size_t)plot_max, plot_window);
    if (mx__plot_commit(has_out ? &af : NULL, has_page ? &paf : NULL, &err) != MX_OK)
      status = mx__cli_fail("backtest", &err);
  }
  if (!status) {
    if (mx__args_has(&a, "json")) {
      mx_json j;
      mx__json_init(&j, stdout);
      mx__json_object_begin(&j);
      mx__json_key(&j, "series"); mx__json_int(&j, (int64_t)s->count);
      mx__json_key(&j, "horizon"); mx__json_int(&j, bo.fc.horizon);
      mx__json_key(&j, "origins"); mx__json_int(&j, bo.origins);
      mx__json_key(&j, "methods");
      mx__json_array_begin(&j);
      for (int i = 0; i < nm; i++) {
        mx__json_object_begin(&j);
        mx__json_key(&j, "method"); mx__json_string(&j, mx_forecast_method_name(m[i].method));
        mx__json_key(&j, "smape"); mx__json_double(&j, m[i].smape);
        mx__json_key(&j, "mase"); mx__json_double(&j, m[i].mase);
        mx__json_key(&j, "rmsse"); mx__json_double(&j, m[i].rmsse);
        mx__json_key(&j, "wape"); mx__json_double(&j, m[i].wape);
        mx__json_key(&j, "bias"); mx__json_double(&j, m[i].bias);
        mx__json_key(&j, "pinball"); mx__json_double(&j, m[i].pinball);
        mx__json_key(&j, "coverage");
        mx__json_object_begin(&j);
        for (int l = 0; l < bo.fc.nlevels; l++) {
          char key[16];
          snprintf(key, sizeof key, "%g", bo.fc.levels[l]);
          mx__json_key(&j, key);
          mx__json_double(&j, m[i].coverage[l]);
        }
        mx__json_object_end(&j);
        mx__json_key(&j, "evaluated"); mx__json_int(&j, (int64_t)m[i].evaluated);
        mx__json_key(&j, "skipped"); mx__json_int(&j, (int64_t)m[i].skipped);
        mx__json_key(&j, "chosen");
        mx__json_object_begin(&j);
        for (int k = 0; k < MX_FC_METHOD_COUNT; k++)
          if (m[i].chosen[k]) {
            mx__json_key(&j, mx_forecast_method_name(k));
            mx__json_int(&j, (int64_t)m[i].chosen[k]);
          }
        mx__json_object_end(&j);
        mx__json_key(&j, "seconds"); mx__json_double(&j, m[i].seconds);
        mx__json_object_end(&j);
      }
      mx__json_array_end(&j);
      mx__json_object_end(&j);
      fputc('\n', stdout);
    } else {
      printf("%-8s %9s %8s %8s %8s %10s %10s", "method", "sMAPE", "MASE", "RMSSE", "WAPE", "bias",
             "pinball");
      for (int l = 0; l < bo.fc.nlevels; l++) printf("   cov%-3g", bo.fc.levels[l]);
      printf(" %9s %8s\n", "evaluated", "seconds");
      for (int i = 0; i < nm; i++) {
        printf("%-8s %9.3f %8.3f %8.3f %8.3f %10.4g %10.4g", mx_forecast_method_name(m[i].method),
               m[i].smape, m[i].mase, m[i].rmsse, m[i].wape, m[i].bias, m[i].pinball);
        for (int l = 0; l < bo.fc.nlevels; l++) printf(" %8.3f", m[i].coverage[l]);
        printf(" %9zu %8.2f\n", m[i].evaluated, m[i].seconds);
      }
      if (nm && m[0].skipped)
        fprintf(stderr, "backtest: %zu series too short for any origin were skipped\n", m[0].skipped);
    }
  }
  for (int i = 0; i < nm; i++) mx_backtest_metrics_free(&m[i]);
  free(m);
  mx_series_set_free(s);
  return status;
}
