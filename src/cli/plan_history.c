/* merx plan --history: forecast the stock items' sales histories with the
 * forecasting module (include/merx/forecast.h), then plan from those
 * forecasts. The forecast's cum_sigma (sd of the error of the sum of the
 * first k periods) gives the lead-time demand sd directly, keeping the
 * correlation of multi-step errors that a forecast CSV loses. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/plan.h"
#include "merx/forecast.h"
#include "util/util.h"

static double *copy_doubles(const double *v, size_t n) {
  double *c = malloc((n ? n : 1) * sizeof *c);
  if (c && n) memcpy(c, v, n * sizeof *c);
  return c;
}

/* The forecasts in merx forecast's layout: id,h,forecast,loNN,hiNN...,method. */
static int write_forecasts(const char *path, const mx_series_set *s, const mx_forecast_result *res,
                           mx_error *err) {
  mx_atomic_file af;
  int rc = mx__atomic_open(&af, path, err);
  if (rc) return rc;
  fputs("id,h,forecast", af.f);
  int nl = s->count ? res[0].nlevels : 0;
  for (int l = 0; l < nl; l++) fprintf(af.f, ",lo%g,hi%g", res[0].levels[l], res[0].levels[l]);
  fputs(",method\n", af.f);
  for (size_t i = 0; i < s->count; i++) {
    const mx_forecast_result *r = &res[i];
    for (int h = 0; h < r->horizon; h++) {
      mx_csv_write_field(af.f, s->ids[i], ',');
      fprintf(af.f, ",%d,%.10g", h + 1, r->mean[h]);
      for (int l = 0; l < nl; l++)
        fprintf(af.f, ",%.10g,%.10g", r->lo[l * r->horizon + h], r->hi[l * r->horizon + h]);
      fprintf(af.f, ",%s\n", mx_forecast_method_name(r->method));
    }
  }
  return mx__atomic_commit(&af, err);
}

int mx__plan_forecast_history(const mx_args *a, mx_plan_set *ps, mx_error *err) {
  static const char *const roles[] = {"id", "time", "value", NULL};
  const char *path = mx__args_get(a, "history", NULL);
  const char *format = mx__args_get(a, "format", NULL);
  if (!format) return mx__cli_usage("plan", "--history needs --format long or --format wide");
  int wide = strcmp(format, "wide") == 0;
  if (!wide && strcmp(format, "long") != 0)
    return mx__cli_usage("plan", "--format: expected long or wide, got '%s'", format);
  mx_series_read_options ro = mx_series_read_defaults();
  const char *sep = mx__args_get(a, "sep", NULL);
  if (sep) {
    if (strcmp(sep, "tab") == 0) ro.csv.sep = '\t';
    else if (strlen(sep) == 1) ro.csv.sep = sep[0];
    else return mx__cli_usage("plan", "--sep: expected one character or 'tab', got '%s'", sep);
  }
  if (mx__args_has(a, "no-header")) {
    ro.csv.has_header = 0;
    ro.header = -1;
  }
  if (mx__args_has(a, "header")) ro.header = 1;
  const char *cols = mx__args_get(a, "columns", NULL);
  if (cols && mx_columns_parse(cols, roles, &ro.columns, err) != 0)
    return mx__cli_usage("plan", "--columns: %s", err->message);
  const char *freq = mx__args_get(a, "freq", NULL);
  if (freq && mx_series_freq_parse(freq, &ro.freq, err) != 0)
    return mx__cli_usage("plan", "--freq: %s", err->message);
  mx_forecast_options fo = mx_forecast_defaults();
  const char *method = mx__args_get(a, "method", "auto");
  if (mx_forecast_method_parse(method, &fo.method, err) != 0)
    return mx__cli_usage("plan", "--method: %s", err->message);
  long season, horizon;
  int rc;
  if ((rc = mx__args_int(a, "season", 0, 0, 10000, &season)) ||
      (rc = mx__args_int(a, "horizon", 0, 0, 100000, &horizon)) ||
      (rc = mx__cli_threads(a, &fo.threads)))
    return rc;
  fo.season = (int)season;
  fo.nonneg = 1;
  /* Horizon: enough for every item's protection interval. */
  if (horizon == 0)
    for (size_t i = 0; i < ps->n; i++) {
      double need = ceil(ps->items[i].item.lead_time + ps->items[i].item.review);
      if (need > horizon) horizon = (long)need;
    }
  fo.horizon = horizon > 0 ? (int)horizon : 1;

  mx_series_set *all;
  rc = wide ? mx_series_read_wide(path, &ro, &all, err) : mx_series_read_long(path, &ro, &all, err);
  if (rc) return rc;
  /* Forecast only the series of stocked items. */
  size_t m = 0;
  size_t *item_of = malloc((all->count ? all->count : 1) * sizeof *item_of);
  const char **ids = malloc((all->count ? all->count : 1) * sizeof *ids);
  const double **vals = malloc((all->count ? all->count : 1) * sizeof *vals);
  size_t *lens = malloc((all->count ? all->count : 1) * sizeof *lens);
  size_t *series_of = malloc((all->count ? all->count : 1) * sizeof *series_of);
  mx_series_set *sub = NULL;
  mx_forecast_result *res = NULL;
  if (!item_of || !ids || !vals || !lens || !series_of) {
    rc = mx_error_set(err, MX_ENOMEM, "out of memory");
    goto done;
  }
  for (size_t s = 0; s < all->count; s++) {
    int64_t k = mx_idmap_find(ps->ids, all->ids[s], strlen(all->ids[s]));
    if (k < 0) continue;
    item_of[m] = (size_t)k;
    series_of[m] = s;
    ids[m] = all->ids[s];
    vals[m] = all->values[s];
    lens[m] = all->len[s];
    m++;
  }
  if (m == 0) {
    rc = mx_error_at(err, MX_EEMPTY, path, 0, 0, NULL,
                     "no series in the history matches an item id of the stock file");
    goto done;
  }
  if ((rc = mx_series_set_from_arrays(ids, vals, lens, m, &sub, err))) goto done;
  res = calloc(m, sizeof *res);
  if (!res) {
    rc = mx_error_set(err, MX_ENOMEM, "out of memory");
    goto done;
  }
  if ((rc = mx_forecast_batch(sub, &fo, res, NULL, NULL, err))) goto done;
  const char *fout = mx__args_get(a, "forecast-out", NULL);
  if (fout && (rc = write_forecasts(fout, sub, res, err))) goto done;
  for (size_t s = 0; s < m; s++) {
    mx_plan_input *it = &ps->items[item_of[s]];
    size_t H = (size_t)res[s].horizon;
    it->mean = copy_doubles(res[s].mean, H);
    it->sigma = copy_doubles(res[s].sigma, H);
    it->cum_sigma = copy_doubles(res[s].cum_sigma, H);
    if (!it->mean || !it->sigma || !it->cum_sigma) {
      rc = mx_error_set(err, MX_ENOMEM, "out of memory");
      goto done;
    }
    it->horizon = it->cap = H;
    /* the dates of the plan page: the period after the item's history */
    if (all->start && all->freq != MX_FREQ_NONE) {
      it->freq = all->freq;
      it->first_time = mx_series_time(all, series_of[s], (long)all->len[series_of[s]]);
    }
  }
done:
  if (res)
    for (size_t s = 0; s < m; s++) mx_forecast_result_free(&res[s]);
  free(res);
  mx_series_set_free(sub);
  mx_series_set_free(all);
  free(item_of);
  free(ids);
  free(vals);
  free(lens);
  free(series_of);
  return rc;
}
