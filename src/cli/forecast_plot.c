/* The `--plot FILE.html` pages of `merx forecast` and `merx backtest`
 * (drawn by plot_html.c): per series the history (all of it, or the last
 * --plot-window periods) on a dated axis, the forecast with its 80/95% fan,
 * the method and its backtest accuracy; for backtests also the accuracy of
 * each method by horizon. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli/forecast_cli.h"
#include "cli/plot_html.h"
#include "util/util.h"

static mx_plot_xaxis axis_of(const mx_series_set *s, size_t i) {
  mx_plot_xaxis ax;
  memset(&ax, 0, sizeof ax);
  ax.freq = s->start ? s->freq : MX_FREQ_NONE;
  ax.t0 = s->start ? s->start[i] : 0;
  ax.first = 1;
  ax.name = "period";
  return ax;
}

/* The fan, widest level first so narrower ones draw on top; classes fan95 and
 * fan80 for the default levels, fanNN for others. */
static void fan(mx_plot_chart *c, long start, const mx_forecast_result *r) {
  size_t h = (size_t)r->horizon;
  for (int l = r->nlevels - 1; l >= 0; l--) {
    char cls[32], tip[32];
    snprintf(cls, sizeof cls, "fan%g", r->levels[l]);
    if (strcmp(cls, "fan95") != 0 && strcmp(cls, "fan80") != 0)
      snprintf(cls, sizeof cls, "%s fan%g", l == r->nlevels - 1 ? "fan95" : "fan80", r->levels[l]);
    snprintf(tip, sizeof tip, "%g%%", r->levels[l]);
    mx__plot_band(c, start, r->lo + (size_t)l * h, r->hi + (size_t)l * h, h, cls, tip);
  }
}

/* One series: history y[w0..origin), then the forecast r made at origin with
 * its fan; actuals after the origin (a backtest) dashed. */
static void series_chart(FILE *f, const mx_series_set *s, size_t i, long w0, size_t origin,
                         const mx_forecast_result *r) {
  const double *y = s->values[i];
  size_t n = s->len[i];
  long h = r->horizon, x1 = (long)origin + h - 1;
  double lo = INFINITY, hi = -INFINITY;
  mx__plot_range(y + w0, n - (size_t)w0, &lo, &hi);
  mx__plot_range(r->mean, (size_t)h, &lo, &hi);
  mx__plot_range(r->lo, (size_t)r->nlevels * (size_t)h, &lo, &hi);
  mx__plot_range(r->hi, (size_t)r->nlevels * (size_t)h, &lo, &hi);
  if ((long)n - 1 > x1) x1 = (long)n - 1;
  mx_plot_xaxis ax = axis_of(s, i);
  mx_plot_chart c;
  mx__plot_chart_begin(&c, f, &ax, w0, x1, lo, hi, s->ids[i]);
  fan(&c, (long)origin, r);
  mx__plot_line(&c, w0, y + w0, origin - (size_t)w0, "hist", "actual");
  if (n > origin) mx__plot_line(&c, (long)origin, y + origin, n - origin, "actual", "actual");
  /* the forecast line starts at the last observation it was made from */
  double join[2] = {y[origin - 1], r->mean[0]};
  mx__plot_line(&c, (long)origin - 1, join, 2, "fc", NULL);
  mx__plot_line(&c, (long)origin, r->mean, (size_t)h, "fc", "forecast");
  mx__plot_vrule(&c, (double)origin - 0.5, "origin", "forecast origin");
  mx__plot_chart_end(&c);
}

static void method_text(FILE *f, const mx_forecast_result *r) {
  fprintf(f, "method <b>%s</b>", mx_forecast_method_name(r->method));
  if (r->model[0] && strcmp(r->model, mx_forecast_method_name(r->method)) != 0) {
    fputs(" (", f);
    mx__plot_text(f, r->model);
    fputs(")", f);
  }
  if (r->note[0]) {
    fputs("; ", f);
    mx__plot_text(f, r->note);
  }
}

static const char *const fc_cls[] = {"hist", "fc", "fan80", "fan95"};
static const char *const fc_label[] = {"history", "forecast", "80% interval", "95% interval"};

static long window_start(size_t n, long window, size_t keep) {
  if (window <= 0 || (size_t)window >= n) return 0;
  long w0 = (long)(n - (size_t)window);
  if ((size_t)w0 + keep > n) w0 = (long)(n - keep);
  return w0 < 0 ? 0 : w0;
}

/* One rolling origin of the requested method on series i alone: its
 * out-of-sample accuracy over the last horizon periods. */
static int series_accuracy(const mx_series_set *s, size_t i, const mx_forecast_plot_options *po,
                           mx_backtest_metrics *m, mx_error *err) {
  mx_series_set one = {1, &s->ids[i], &s->len[i], &s->values[i], s->freq, s->start ? &s->start[i] : NULL};
  mx_backtest_options bo = mx_backtest_defaults();
  bo.fc = *po->fc;
  bo.fc.threads = 1;
  bo.fc.regressors = NULL;
  bo.fc.cancel = NULL;
  bo.origins = 1;
  int method = po->fc->method;
  return mx_backtest(&one, &bo, &method, 1, m, err);
}

void mx__forecast_plot_html(FILE *f, const mx_series_set *s, const mx_forecast_result *r,
                           const mx_forecast_plot_options *po) {
  size_t shown = s->count < po->max_series ? s->count : po->max_series;
  char intro[512];
  int len = snprintf(intro, sizeof intro, "%zu series, horizon %d, method %s requested; ", s->count,
                     r && s->count ? r[0].horizon : 0, mx_forecast_method_name(po->fc->method));
  if (po->window > 0) len += snprintf(intro + len, sizeof intro - (size_t)len, "last %ld periods of history. ", po->window);
  else len += snprintf(intro + len, sizeof intro - (size_t)len, "full history. ");
  if (shown < s->count)
    snprintf(intro + len, sizeof intro - (size_t)len,
             "Only the first %zu series are drawn (--plot-max); the search finds those.", shown);
  mx__plot_page_begin(f, "merx forecast", intro);
  mx__plot_legend(f, fc_cls, fc_label, 4);
  for (size_t i = 0; i < shown; i++) {
    mx__plot_panel_begin(f, s->ids[i]);
    fputs("<p class=\"meta\">", f);
    method_text(f, &r[i]);
    fputs("</p><p class=\"meta\">", f);
    if (po->accuracy && !po->fc->regressors) {
      mx_backtest_metrics m;
      mx_error e;
      if (series_accuracy(s, i, po, &m, &e) != MX_OK) {
        fputs("backtest failed: ", f);
        mx__plot_text(f, e.message);
      } else if (m.evaluated == 0) {
        fputs("backtest: series too short to hold out a horizon", f);
      } else {
        fprintf(f, "backtest (%s refitted on all but the last %d periods): WAPE %.3g, MASE %.3g, sMAPE %.3g",
                mx_forecast_method_name(po->fc->method), r[i].horizon, m.wape, m.mase, m.smape);
      }
      mx_backtest_metrics_free(&m);
    } else {
      fputs("backtest accuracy not computed (regressors)", f);
    }
    fputs("</p>\n", f);
    long w0 = window_start(s->len[i], po->window, 1);
    series_chart(f, s, i, w0, s->len[i], &r[i]);
    mx__plot_panel_end(f);
  }
  mx__plot_page_end(f);
}

/* ----------------------------------------------------------- backtest */

static void horizon_chart(FILE *f, const char *title, const mx_backtest_metrics *m, int nm, int h,
                          int smape) {
  double lo = 0, hi = -INFINITY;
  for (int k = 0; k < nm; k++) mx__plot_range(smape ? m[k].smape_h : m[k].wape_h, (size_t)h, &lo, &hi);
  mx_plot_xaxis ax = {MX_FREQ_NONE, 0, 1, "h"};
  mx_plot_chart c;
  fputs("<h2>", f);
  mx__plot_text(f, title);
  fputs("</h2>", f);
  static const char *const mcls[] = {"m0", "m1", "m2", "m3", "m4", "m5"};
  const char *cls[MX_FC_METHOD_COUNT * 2], *lab[MX_FC_METHOD_COUNT * 2];
  int shown = nm < MX_FC_METHOD_COUNT * 2 ? nm : MX_FC_METHOD_COUNT * 2;
  for (int k = 0; k < shown; k++) {
    cls[k] = mcls[k % 6];
    lab[k] = mx_forecast_method_name(m[k].method);
  }
  mx__plot_legend(f, cls, lab, shown);
  mx__plot_chart_begin(&c, f, &ax, 0, h - 1, lo, hi, title);
  /* every method drawn; the tooltip names the first MX_PLOT_MAX_TIPS */
  for (int k = 0; k < nm; k++) {
    const double *v = smape ? m[k].smape_h : m[k].wape_h;
    if (h == 1) mx__plot_marks(&c, 0, v, 1, mcls[k % 6], mx_forecast_method_name(m[k].method));
    else mx__plot_line(&c, 0, v, (size_t)h, mcls[k % 6], mx_forecast_method_name(m[k].method));
  }
  mx__plot_chart_end(&c);
}

void mx__backtest_plot_html(FILE *f, const mx_series_set *s, const mx_backtest_options *bo,
                           const mx_backtest_metrics *m, int nm, size_t max_series, long window) {
  int h = bo->fc.horizon;
  size_t shown = s->count < max_series ? s->count : max_series;
  char intro[512];
  snprintf(intro, sizeof intro,
           "%zu series, horizon %d, %d rolling origin%s; each method refitted on the history "
           "before each origin and scored on the next %d actuals.%s",
           s->count, h, bo->origins, bo->origins == 1 ? "" : "s", h,
           shown < s->count ? " Only the first series are drawn below (--plot-max)." : "");
  mx__plot_page_begin(f, "merx backtest", intro);
  fputs("<section class=\"summary\"><h2>Accuracy by method</h2><table><tr><th>method</th>"
        "<th>sMAPE</th><th>MASE</th><th>RMSSE</th><th>WAPE</th><th>bias</th>",
        f);
  for (int l = 0; l < bo->fc.nlevels; l++) fprintf(f, "<th>coverage %g%%</th>", bo->fc.levels[l]);
  fputs("<th>evaluated</th></tr>\n", f);
  for (int k = 0; k < nm; k++) {
    fprintf(f, "<tr><td>%s</td><td>%.4g</td><td>%.4g</td><td>%.4g</td><td>%.4g</td><td>%.4g</td>",
            mx_forecast_method_name(m[k].method), m[k].smape, m[k].mase, m[k].rmsse, m[k].wape,
            m[k].bias);
    for (int l = 0; l < bo->fc.nlevels; l++) fprintf(f, "<td>%.3f</td>", m[k].coverage[l]);
    fprintf(f, "<td>%zu</td></tr>\n", m[k].evaluated);
  }
  fputs("</table>\n", f);
  horizon_chart(f, "WAPE by horizon", m, nm, h, 0);
  horizon_chart(f, "sMAPE by horizon", m, nm, h, 1);
  fputs("</section>\n<h2>Series at the last origin</h2>\n", f);
  static const char *const bt_cls[] = {"hist", "actual", "fc", "fan80", "fan95"};
  static const char *const bt_label[] = {"history", "actual (held out)", "forecast", "80% interval",
                                         "95% interval"};
  mx__plot_legend(f, bt_cls, bt_label, 5);
  mx_forecast_options fo = bo->fc;
  fo.method = m[0].method;
  for (size_t i = 0; i < shown; i++) {
    size_t n = s->len[i];
    mx__plot_panel_begin(f, s->ids[i]);
    if (n < (size_t)h + 3) {
      fputs("<p class=\"meta\">too short for a backtest origin</p>", f);
      mx__plot_panel_end(f);
      continue;
    }
    size_t origin = n - (size_t)h;
    mx_forecast_result r;
    mx_error e;
    if (mx_forecast_series(s->values[i], origin, &fo, &r, &e) != MX_OK) {
      fputs("<p class=\"meta\">forecast failed: ", f);
      mx__plot_text(f, e.message);
      fputs("</p>", f);
      mx__plot_panel_end(f);
      continue;
    }
    const double *act = s->values[i] + origin;
    fprintf(f, "<p class=\"meta\">forecast by %s: ", mx_forecast_method_name(m[0].method));
    method_text(f, &r);
    fprintf(f, "; at this origin WAPE %.3g, sMAPE %.3g</p>\n", mx_metric_wape(act, r.mean, (size_t)h),
            mx_metric_smape(act, r.mean, (size_t)h));
    series_chart(f, s, i, window_start(origin, window, 1), origin, &r);
    mx_forecast_result_free(&r);
    mx__plot_panel_end(f);
  }
  mx__plot_page_end(f);
}
