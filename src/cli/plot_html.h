/* The HTML pages of `--plot` (merx forecast, backtest, plan): one
 * self-contained file (inline SVG, a little vanilla JS, no network), one
 * panel per series with a search box over the panels' ids, charts with a
 * value axis, a dated x-axis, bands and hover tooltips. The one place that
 * draws them, so the three pages look alike. */
#ifndef MERX_CLI_PLOT_HTML_H
#define MERX_CLI_PLOT_HTML_H

#include <stdint.h>
#include <stdio.h>

#include "util/util.h"

/* What the x-axis counts: periods from t0 at freq (MX_FREQ_DAY, WEEK, MONTH:
 * dated ticks and tooltips), or plain numbers (MX_FREQ_NONE: index k shows as
 * first + k, named by name, e.g. "period" or "horizon"). */
typedef struct mx_plot_xaxis {
  int freq;
  int64_t t0;
  long first;
  const char *name;
} mx_plot_xaxis;

#define MX_PLOT_MAX_TIPS 8

/* One chart being written: x in period indices [x0, x1], y in [y0, y1]
 * (rounded out to tick steps by mx__plot_chart_begin). The tooltip rows
 * registered by the drawing calls are written by mx__plot_chart_end. */
typedef struct mx_plot_chart {
  FILE *f;
  mx_plot_xaxis ax;
  double w, h, ml, mr, mt, mb;
  long x0, x1;
  double y0, y1;
  int ntips;
  struct {
    char name[40];
    long start;
    size_t n;
    const double *a, *b; /* b: upper bound of a band, else NULL */
  } tips[MX_PLOT_MAX_TIPS];
} mx_plot_chart;

/* Publish a command's output file and its page together, or neither: out
 * and page may each be NULL (not written); both are closed either way. */
int mx__plot_commit(mx_atomic_file *out, mx_atomic_file *page, mx_error *err);

/* HTML text or attribute value: <, >, &, quotes escaped; bytes that are not
 * UTF-8, and control characters, become U+FFFD. */
void mx__plot_text(FILE *f, const char *s);
/* The x label of index k ("2011-03-07", or first + k). */
void mx__plot_xlabel(const mx_plot_xaxis *ax, long k, char *buf, size_t size);

/* The page head (title, style, search box); intro is trusted HTML or NULL. */
void mx__plot_page_begin(FILE *f, const char *title, const char *intro);
/* The tooltip and search script, the end of the page. */
void mx__plot_page_end(FILE *f);
/* A searchable panel: <section class="panel" data-id="id"> with id as heading. */
void mx__plot_panel_begin(FILE *f, const char *id);
void mx__plot_panel_end(FILE *f);

/* Open an SVG chart of x in [x0, x1] and values in [ylo, yhi] (NaN or
 * infinite limits are ignored by callers), draw the grid and both axes. */
void mx__plot_chart_begin(mx_plot_chart *c, FILE *f, const mx_plot_xaxis *ax, long x0, long x1,
                         double ylo, double yhi, const char *title);
/* Extend [*lo, *hi] by the finite values of v[0..n). */
void mx__plot_range(const double *v, size_t n, double *lo, double *hi);
/* A band between lo and hi at indices start..start+n-1 (class e.g. "fan95"). */
void mx__plot_band(mx_plot_chart *c, long start, const double *lo, const double *hi, size_t n,
                  const char *cls, const char *tip);
/* A polyline through y at indices start..; non-finite values break it. */
void mx__plot_line(mx_plot_chart *c, long start, const double *y, size_t n, const char *cls,
                  const char *tip);
/* Markers (circles) at the finite values of y, for sparse events (orders). */
void mx__plot_marks(mx_plot_chart *c, long start, const double *y, size_t n, const char *cls,
                   const char *tip);
/* A horizontal rule at value y, labelled at the right end. */
void mx__plot_hrule(mx_plot_chart *c, double y, const char *cls, const char *label);
/* A vertical rule at index x, labelled at the top. */
void mx__plot_vrule(mx_plot_chart *c, double x, const char *cls, const char *label);
/* A legend row of (class, label) pairs. */
void mx__plot_legend(FILE *f, const char *const *cls, const char *const *label, int n);
/* The tooltip rows and the end of the SVG. */
void mx__plot_chart_end(mx_plot_chart *c);

#endif
