/* merx forecast: forecast every series of a long or wide CSV. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/forecast_cli.h"
#include "cli/plot_html.h"
#include "util/util.h"

static const char *usage =
    "usage: merx forecast --data FILE (--format long|wide) [--columns id=..,time=..,value=..]\n"
    "                     --horizon H [--season M] [--method METHOD] [--levels 80,95]\n"
    "                     [--freq day|week|month] [--nonneg] [--negative keep|zero|error]\n"
    "                     [--header|--no-header] [--sep C] [--threads T]\n"
    "                     [--plot FILE.html [--plot-max N] [--plot-window N]]\n"
    "                     [--hierarchy FILE --reconcile bottom-up|ols|mint-shrink]\n"
    "                     [--regressors FILE] [--holidays FILE [--country C]\n"
    "                     [--holiday-window B,A]] --out FILE.csv [--json]\n\n"
    "Forecast each series H steps ahead with prediction intervals.\n"
    "  --format wide   one series per row: id,v1,v2,... (M4 layout; empty trailing fields are\n"
    "                  padding; a first line whose values are not numbers is a header, or\n"
    "                  force it with --header / --no-header)\n"
    "  --format long   rows id,time,value (roles by --columns; default the first three\n"
    "                  columns; without a value column every row counts 1), summed per\n"
    "                  --freq period (default day), gaps filled with zeros\n"
    "  --method        auto (default), naive, snaive, naive2, ses, holt, damped, hw, theta,\n"
    "                  ets, croston, sba, tsb, arima (seasonal ARIMA, orders as R auto.arima)\n"
    "  --season M      seasonal period (default: wide 1; long day 7, week 1, month 12)\n"
    "  --levels L,...  interval levels in percent (default 80,95; 'none' for no intervals)\n"
    "  --nonneg        clamp forecasts and bounds at zero\n"
    "  --negative P    negative values: keep (default, returns net out), zero, error\n"
    "  --hierarchy F   rows id,parent (a root's parent empty); aggregate series missing from\n"
    "                  the data are the sums of their leaves; output covers every node\n"
    "  --reconcile R   with --hierarchy: bottom-up, ols or mint-shrink (default), so every\n"
    "                  node's forecast is the sum of its children's; none keeps base forecasts\n"
    "  --regressors F  long CSV id,time,name,value of regressors (price, promotion, ...)\n"
    "                  for history and horizon: regression with ARIMA errors; needs\n"
    "                  --method arima and every future value\n"
    "  --plot F        an HTML page (offline, one file): per series the history on a dated\n"
    "                  axis, forecast, 80/95% fan, method and a one-origin backtest of\n"
    "                  it; a search box over the ids\n"
    "  --plot-max N    series drawn on the page (default 200; the rest are counted)\n"
    "  --plot-window N periods of history drawn (default: all)\n"
    "  --holidays F    calendar rows country,date,name (e.g. examples/data/uk_bank_holidays.csv):\n"
    "                  regressor 'holiday' = holiday days per period (dated input,\n"
    "                  --method arima; adds to --regressors)\n"
    "  --country C     the calendar's country to use (needed when it holds several)\n"
    "  --holiday-window B,A  also 'holiday_before'/'holiday_after': days per period in the\n"
    "                  B days before / A days after a holiday (default 0,0: none)\n"
    "Output columns: id,h[,time],forecast,lo80,hi80,lo95,hi95,method (time for long input).\n"
    "--json prints {\"series\", \"seconds\", \"methods\": {method: count}, \"fallbacks\"}.\n"
    "\nExample:\n"
    "  merx forecast --data examples/data/daily_sales.csv --format long\n"
    "      --columns id=StockCode,time=date,value=quantity --freq week --horizon 4\n"
    "      --nonneg --out forecast.csv --plot forecast.html\n";

static const char *const series_roles[] = {"id", "time", "value", NULL};

int mx__cli_read_series(const mx_args *a, mx_series_set **out) {
  const char *cmd = a->cmd;
  int rc;
  if ((rc = mx__args_require(a, "data"))) return rc;
  const char *format = mx__args_get(a, "format", NULL);
  if (!format) return mx__cli_usage(cmd, "--format is required (long or wide)");
  int wide = strcmp(format, "wide") == 0;
  if (!wide && strcmp(format, "long") != 0)
    return mx__cli_usage(cmd, "--format: expected long or wide, got '%s'", format);
  mx_series_read_options o = mx_series_read_defaults();
  mx_error err;
  mx_error_clear(&err);
  const char *sep = mx__args_get(a, "sep", NULL);
  if (sep) {
    if (strcmp(sep, "tab") == 0 || strcmp(sep, "\\t") == 0) o.csv.sep = '\t';
    else if (strlen(sep) == 1) o.csv.sep = sep[0];
    else return mx__cli_usage(cmd, "--sep: expected one character or 'tab', got '%s'", sep);
  }
  if (mx__args_has(a, "header")) o.header = 1;
  if (mx__args_has(a, "no-header")) {
    o.header = -1;
    o.csv.has_header = 0;
  }
  const char *neg = mx__args_get(a, "negative", "keep");
  if (strcmp(neg, "keep") == 0) o.negative = 1;
  else if (strcmp(neg, "zero") == 0) o.negative = 2;
  else if (strcmp(neg, "error") == 0) o.negative = 0;
  else return mx__cli_usage(cmd, "--negative: expected keep, zero or error, got '%s'", neg);
  const char *freq = mx__args_get(a, "freq", NULL);
  if (freq && mx_series_freq_parse(freq, &o.freq, &err)) return mx__cli_usage(cmd, "--freq: %s", err.message);
  const char *cols = mx__args_get(a, "columns", NULL);
  if (cols) {
    if (wide) return mx__cli_usage(cmd, "--columns applies to --format long only");
    if (mx_columns_parse(cols, series_roles, &o.columns, &err))
      return mx__cli_usage(cmd, "--columns: %s", err.message);
  }
  const char *path = mx__args_get(a, "data", NULL);
  rc = wide ? mx_series_read_wide(path, &o, out, &err) : mx_series_read_long(path, &o, out, &err);
  if (rc) return mx__cli_fail(cmd, &err);
  return 0;
}

int mx__cli_forecast_options(const mx_args *a, const mx_series_set *s, mx_forecast_options *o) {
  int rc;
  long season_def = 1;
  if (s->freq == MX_FREQ_DAY) season_def = 7;
  else if (s->freq == MX_FREQ_MONTH) season_def = 12;
  long season;
  if ((rc = mx__args_int(a, "season", season_def, 1, 400, &season))) return rc;
  o->season = (int)season;
  if ((rc = mx__cli_threads(a, &o->threads))) return rc;
  o->nonneg = mx__args_has(a, "nonneg");
  const char *lv = mx__args_get(a, "levels", "80,95");
  o->nlevels = 0;
  if (strcmp(lv, "none") != 0 && lv[0]) {
    const char *p = lv;
    while (*p) {
      if (o->nlevels >= MX_FC_MAX_LEVELS)
        return mx__cli_usage(a->cmd, "--levels: at most %d levels", MX_FC_MAX_LEVELS);
      char buf[32];
      size_t len = strcspn(p, ",");
      if (len == 0 || len >= sizeof buf) return mx__cli_usage(a->cmd, "--levels: bad list '%s'", lv);
      memcpy(buf, p, len);
      buf[len] = '\0';
      double v;
      if (mx_parse_double(buf, &v) || !(v > 0 && v < 100))
        return mx__cli_usage(a->cmd, "--levels: '%s' is not a percentage in (0, 100)", buf);
      o->levels[o->nlevels++] = v;
      p += len;
      if (*p == ',') p++;
    }
  }
  return 0;
}

typedef struct {
  mx_progress bar;
} progress_ctx;

static void on_progress(void *ctx, size_t done, size_t total) {
  progress_ctx *p = ctx;
  (void)total;
  mx__progress_update(&p->bar, done);
}

static void fmt_level(char *buf, size_t size, const char *prefix, double level) {
  snprintf(buf, size, "%s%g", prefix, level);
}

/* --country and --holiday-window only mean something with --holidays. */
static int holiday_flags_check(const mx_args *a) {
  if (mx__args_get(a, "holidays", NULL)) return 0;
  if (mx__args_get(a, "country", NULL)) return mx__cli_usage("forecast", "--country needs --holidays");
  if (mx__args_get(a, "holiday-window", NULL))
    return mx__cli_usage("forecast", "--holiday-window needs --holidays");
  return 0;
}

/* --holidays FILE [--country C] [--holiday-window B,A]: the calendar's
 * regressors, appended to *xr (or *xr itself when there is none yet). */
static int read_holidays(const mx_args *a, const mx_series_set *s, int horizon, mx_regressors **xr,
                         mx_error *err) {
  long before = 0, after = 0;
  const char *win = mx__args_get(a, "holiday-window", NULL);
  if (win) {
    char *end;
    before = strtol(win, &end, 10);
    if (end == win || *end != ',' || before < 0 || before > 366)
      return mx_error_set(err, MX_EINVAL, "--holiday-window: expected B,A (days before and after, "
                                          "0..366), got '%s'", win);
    const char *p = end + 1;
    after = strtol(p, &end, 10);
    if (end == p || *end || after < 0 || after > 366)
      return mx_error_set(err, MX_EINVAL, "--holiday-window: expected B,A (days before and after, "
                                          "0..366), got '%s'", win);
  }
  mx_holidays *cal;
  int rc = mx_holidays_read(mx__args_get(a, "holidays", NULL), mx__args_get(a, "country", NULL), &cal, err);
  if (rc) return rc;
  mx_regressors *hr;
  rc = mx_holidays_regressors(cal, s, horizon, (int)before, (int)after, &hr, err);
  mx_holidays_free(cal);
  if (rc) return rc;
  if (!*xr) {
    *xr = hr;
    return MX_OK;
  }
  return mx_regressors_append(*xr, hr, err);
}

int mx__cmd_forecast(int argc, char **argv) {
  mx_args a;
  int rc = mx__args_parse(&a, "forecast",
                         "horizon= method= out= json plot= plot-max= plot-window= hierarchy= reconcile= regressors= holidays= country= holiday-window=" MX_CLI_SERIES_SPEC, argc,
                         argv, 2);
  if (rc) return rc;
  if (mx__cli_help(&a, usage) == 0) return MX_EXIT_OK;
  if ((rc = mx__args_require(&a, "horizon")) || (rc = mx__args_require(&a, "out"))) return rc;
  long horizon, plot_max;
  if ((rc = mx__args_int(&a, "horizon", 1, 1, 100000, &horizon))) return rc;
  if ((rc = mx__args_int(&a, "plot-max", 200, 1, 1000000, &plot_max))) return rc;
  long plot_window;
  if ((rc = mx__args_int(&a, "plot-window", 0, 0, 100000000, &plot_window))) return rc;
  mx_forecast_options o = mx_forecast_defaults();
  o.horizon = (int)horizon;
  mx_error err;
  mx_error_clear(&err);
  const char *method = mx__args_get(&a, "method", "auto");
  if (mx_forecast_method_parse(method, &o.method, &err))
    return mx__cli_usage("forecast", "--method: %s", err.message);
  if (!mx__args_get(&a, "format", NULL))
    return mx__cli_usage("forecast", "--format is required (long or wide)");
  mx_series_set *s;
  if ((rc = mx__cli_read_series(&a, &s))) return rc;
  int recon = MX_RECON_NONE;
  mx_hierarchy *hier = NULL;
  if (mx__args_get(&a, "reconcile", NULL) && !mx__args_get(&a, "hierarchy", NULL)) {
    mx_series_set_free(s);
    return mx__cli_usage("forecast", "--reconcile needs --hierarchy");
  }
  if (mx__args_get(&a, "hierarchy", NULL)) {
    if (mx_reconcile_parse(mx__args_get(&a, "reconcile", "mint-shrink"), &recon, &err)) {
      mx_series_set_free(s);
      return mx__cli_usage("forecast", "--reconcile: %s", err.message);
    }
    mx_series_set *full = NULL;
    if (mx_hierarchy_read(mx__args_get(&a, "hierarchy", NULL), &hier, &err) ||
        mx_hierarchy_series(hier, s, &full, &err)) {
      mx_hierarchy_free(hier);
      mx_series_set_free(s);
      return mx__cli_fail("forecast", &err);
    }
    mx_series_set_free(s);
    s = full;
  }
  if ((rc = mx__cli_forecast_options(&a, s, &o))) {
    mx_hierarchy_free(hier);
    mx_series_set_free(s);
    return rc;
  }
  mx_regressors *xr = NULL;
  const char *xpath = mx__args_get(&a, "regressors", NULL);
  const char *hpath = mx__args_get(&a, "holidays", NULL);
  if ((rc = holiday_flags_check(&a))) {
    mx_hierarchy_free(hier);
    mx_series_set_free(s);
    return rc;
  }
  if (xpath || hpath) {
    if (hier) { /* the reconciliation's one-step residuals are fitted without regressors */
      mx_hierarchy_free(hier);
      mx_series_set_free(s);
      return mx__cli_usage("forecast", "%s cannot be combined with --hierarchy yet",
                          xpath ? "--regressors" : "--holidays");
    }
    if (o.method != MX_FC_ARIMA) {
      mx_series_set_free(s);
      return mx__cli_usage("forecast", "%s: method %s does not use regressors "
                          "(only --method arima does)", xpath ? "--regressors" : "--holidays",
                          mx_forecast_method_name(o.method));
    }
    if ((xpath && mx_regressors_read(xpath, s, o.horizon, &xr, &err) != MX_OK) ||
        (hpath && read_holidays(&a, s, o.horizon, &xr, &err) != MX_OK)) {
      mx_regressors_free(xr);
      mx_series_set_free(s);
      return mx__cli_fail("forecast", &err);
    }
    o.regressors = xr;
  }
  mx_forecast_result *res = calloc(s->count, sizeof *res);
  if (!res) {
    mx_hierarchy_free(hier);
    mx_regressors_free(xr);
    mx_series_set_free(s);
    mx_error_set(&err, MX_ENOMEM, "out of memory");
    return mx__cli_fail("forecast", &err);
  }
  double t0 = mx__now_seconds();
  progress_ctx pc;
  mx__progress_start(&pc.bar, "forecast", s->count);
  rc = mx_forecast_batch(s, &o, res, on_progress, &pc, &err);
  mx__progress_finish(&pc.bar);
  double lambda = 0;
  if (!rc && hier) rc = mx_forecast_reconcile(hier, s, recon, &o, res, &lambda, &err);
  double secs = mx__now_seconds() - t0;
  int status = MX_EXIT_OK;
  if (rc) {
    /* mx_error_at clears err before formatting: the message goes via a copy
     * (passing err.message itself printed only "invalid argument") */
    char msg[sizeof err.message];
    snprintf(msg, sizeof msg, "%s", err.message);
    mx_error_at(&err, rc, mx__args_get(&a, "data", ""), 0, 0, NULL, "%s", msg);
    status = mx__cli_fail("forecast", &err);
  }
  mx_atomic_file af;
  memset(&af, 0, sizeof af);
  if (!status && mx__atomic_open(&af, mx__args_get(&a, "out", NULL), &err) != MX_OK)
    status = mx__cli_fail("forecast", &err);
  /* the page is published with the CSV, or neither */
  const char *plot = mx__args_get(&a, "plot", NULL);
  mx_atomic_file paf;
  memset(&paf, 0, sizeof paf);
  if (!status && plot && mx__atomic_open(&paf, plot, &err) != MX_OK) {
    mx__atomic_abort(&af);
    status = mx__cli_fail("forecast", &err);
  }
  size_t counts[MX_FC_METHOD_COUNT] = {0}, fallbacks = 0;
  if (!status) {
    FILE *f = af.f;
    int has_time = s->freq != MX_FREQ_NONE;
    fputs(has_time ? "id,h,time,forecast" : "id,h,forecast", f);
    char name[32];
    for (int l = 0; l < o.nlevels; l++) {
      fmt_level(name, sizeof name, ",lo", o.levels[l]);
      fputs(name, f);
      fmt_level(name, sizeof name, ",hi", o.levels[l]);
      fputs(name, f);
    }
    fputs(",method\n", f);
    for (size_t i = 0; i < s->count; i++) {
      const mx_forecast_result *r = &res[i];
      counts[r->method]++;
      if (r->note[0]) {
        if (fallbacks < 10) fprintf(stderr, "merx forecast: series '%s': %s\n", s->ids[i], r->note);
        fallbacks++;
      }
      for (int j = 0; j < r->horizon; j++) {
        mx_csv_write_field(f, s->ids[i], ',');
        fprintf(f, ",%d", j + 1);
        if (has_time) {
          char tb[32];
          mx_format_time(mx_series_time(s, i, (long)s->len[i] + j), 1, tb, sizeof tb);
          fprintf(f, ",%s", tb);
        }
        fprintf(f, ",%.10g", r->mean[j]);
        for (int l = 0; l < r->nlevels; l++)
          fprintf(f, ",%.10g,%.10g", r->lo[(size_t)l * (size_t)r->horizon + (size_t)j],
                  r->hi[(size_t)l * (size_t)r->horizon + (size_t)j]);
        fprintf(f, ",%s\n", mx_forecast_method_name(r->method));
      }
    }
    if (fallbacks > 10) fprintf(stderr, "merx forecast: ... %zu series fell back in all\n", fallbacks);
    if (plot) {
      mx_forecast_plot_options po = {(size_t)plot_max, plot_window, 1, &o};
      mx__forecast_plot_html(paf.f, s, res, &po);
    }
    if (mx__plot_commit(&af, plot ? &paf : NULL, &err) != MX_OK) status = mx__cli_fail("forecast", &err);
  }
  if (!status) {
    if (mx__args_has(&a, "json")) {
      mx_json j;
      mx__json_init(&j, stdout);
      mx__json_object_begin(&j);
      mx__json_key(&j, "series"); mx__json_int(&j, (int64_t)s->count);
      mx__json_key(&j, "seconds"); mx__json_double(&j, secs);
      mx__json_key(&j, "methods");
      mx__json_object_begin(&j);
      for (int k = 0; k < MX_FC_METHOD_COUNT; k++)
        if (counts[k]) {
          mx__json_key(&j, mx_forecast_method_name(k));
          mx__json_int(&j, (int64_t)counts[k]);
        }
      mx__json_object_end(&j);
      mx__json_key(&j, "fallbacks"); mx__json_int(&j, (int64_t)fallbacks);
      mx__json_key(&j, "horizon"); mx__json_int(&j, o.horizon);
      if (hier) {
        static const char *const rn[] = {"none", "bottom-up", "ols", "mint-shrink"};
        mx__json_key(&j, "reconcile"); mx__json_string(&j, rn[recon]);
        if (recon == MX_RECON_MINT) { mx__json_key(&j, "lambda"); mx__json_double(&j, lambda); }
      }
      mx__json_key(&j, "out"); mx__json_string(&j, mx__args_get(&a, "out", ""));
      mx__json_object_end(&j);
      fputc('\n', stdout);
    } else {
      fprintf(stderr, "forecast: %zu series x %d steps in %.3f s ->", s->count, o.horizon, secs);
      for (int k = 0; k < MX_FC_METHOD_COUNT; k++)
        if (counts[k]) fprintf(stderr, " %s %zu", mx_forecast_method_name(k), counts[k]);
      fprintf(stderr, "\n");
    }
  }
  for (size_t i = 0; i < s->count; i++) mx_forecast_result_free(&res[i]);
  free(res);
  mx_regressors_free(xr);
  mx_series_set_free(s);
  mx_hierarchy_free(hier);
  return status;
}
