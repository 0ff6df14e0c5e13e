/* `--plot FILE.html`: small multiples of inline SVG, readable offline.
 * Each panel shows the last 4 horizons of history (grey), the forecast
 * (blue) and the interval bands (widest level lightest). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli/forecast_cli.h"
#include "util/util.h"

#define PW 320.0
#define PH 150.0

static void html_text(FILE *f, const char *s) {
  for (; *s; s++) {
    if (*s == '<') fputs("&lt;", f);
    else if (*s == '>') fputs("&gt;", f);
    else if (*s == '&') fputs("&amp;", f);
    else if (*s == '"') fputs("&quot;", f);
    else fputc(*s, f);
  }
}

static void panel(FILE *f, const char *id, const double *y, size_t n, const mx_forecast_result *r) {
  int h = r->horizon;
  size_t show = (size_t)h * 4;
  if (show < 24) show = 24;
  if (show > n) show = n;
  const double *hist = y + (n - show);
  double lo = INFINITY, hi = -INFINITY;
  for (size_t i = 0; i < show; i++) lo = fmin(lo, hist[i]), hi = fmax(hi, hist[i]);
  for (int j = 0; j < h; j++) {
    lo = fmin(lo, r->mean[j]), hi = fmax(hi, r->mean[j]);
    for (int l = 0; l < r->nlevels; l++) {
      double a = r->lo[(size_t)l * (size_t)h + (size_t)j], b = r->hi[(size_t)l * (size_t)h + (size_t)j];
      if (isfinite(a)) lo = fmin(lo, a);
      if (isfinite(b)) hi = fmax(hi, b);
    }
  }
  if (!(hi > lo)) hi = lo + 1;
  double total = (double)(show + (size_t)h);
#define X(i) (4 + (PW - 8) * (double)(i) / (total - 1))
#define Y(v) (PH - 16 - (PH - 24) * ((v) - lo) / (hi - lo))
  fputs("<figure><figcaption>", f);
  html_text(f, id);
  fprintf(f, " &middot; %s", mx_forecast_method_name(r->method));
  if (r->model[0]) {
    fputs(" ", f);
    html_text(f, r->model);
  }
  fprintf(f, "</figcaption><svg width=\"%g\" height=\"%g\" viewBox=\"0 0 %g %g\">", PW, PH, PW, PH);
  /* bands, widest first */
  for (int l = r->nlevels - 1; l >= 0; l--) {
    double op = 0.15 + 0.15 * (r->nlevels - 1 - l);
    fprintf(f, "<polygon fill=\"#3b7dd8\" fill-opacity=\"%.2f\" points=\"", op);
    for (int j = 0; j < h; j++)
      fprintf(f, "%.1f,%.1f ", X(show + (size_t)j), Y(r->hi[(size_t)l * (size_t)h + (size_t)j]));
    for (int j = h - 1; j >= 0; j--)
      fprintf(f, "%.1f,%.1f ", X(show + (size_t)j), Y(r->lo[(size_t)l * (size_t)h + (size_t)j]));
    fputs("\"/>", f);
  }
  fputs("<polyline fill=\"none\" stroke=\"#555\" stroke-width=\"1\" points=\"", f);
  for (size_t i = 0; i < show; i++) fprintf(f, "%.1f,%.1f ", X(i), Y(hist[i]));
  fputs("\"/><polyline fill=\"none\" stroke=\"#1f4fa0\" stroke-width=\"1.5\" points=\"", f);
  fprintf(f, "%.1f,%.1f ", X(show - 1), Y(hist[show - 1]));
  for (int j = 0; j < h; j++) fprintf(f, "%.1f,%.1f ", X(show + (size_t)j), Y(r->mean[j]));
  fprintf(f, "\"/><text x=\"4\" y=\"%g\" font-size=\"10\" fill=\"#777\">%.4g .. %.4g</text>",
          PH - 3, lo, hi);
  fputs("</svg></figure>\n", f);
#undef X
#undef Y
}

int mx_forecast_plot_html(const char *path, const mx_series_set *s,
                          const mx_forecast_result *r, size_t max_series, mx_error *err) {
  mx_atomic_file af;
  int rc = mx_atomic_open(&af, path, err);
  if (rc) return rc;
  FILE *f = af.f;
  fputs("<!doctype html><html><head><meta charset=\"utf-8\"><title>merx forecast</title>"
        "<style>body{font:13px sans-serif;margin:16px}figure{display:inline-block;margin:6px;"
        "border:1px solid #ddd;padding:4px}figcaption{font-size:12px;color:#333}</style>"
        "</head><body><h1>merx forecast</h1>\n",
        f);
  size_t shown = s->count < max_series ? s->count : max_series;
  fprintf(f, "<p>%zu series; grey: history, blue: forecast, bands: intervals", s->count);
  if (r[0].nlevels) {
    fputs(" at", f);
    for (int l = 0; l < r[0].nlevels; l++) fprintf(f, " %g%%", r[0].levels[l]);
  }
  fputs(".", f);
  if (shown < s->count) fprintf(f, " First %zu shown.", shown);
  fputs("</p>\n", f);
  for (size_t i = 0; i < shown; i++) panel(f, s->ids[i], s->values[i], s->len[i], &r[i]);
  fputs("</body></html>\n", f);
  return mx_atomic_commit(&af, err);
}
