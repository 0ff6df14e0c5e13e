/* merx — demand forecasting: methods, automatic selection, prediction
 * intervals, series input (long and wide CSV), metrics and backtests.
 *
 * One series is a plain array of doubles in time order. A forecast fills an
 * mx_forecast_result (point forecasts, per-step error standard deviations and
 * interval bounds at the requested levels). Many series are held in an
 * mx_series_set and forecast in parallel with mx_forecast_batch.
 *
 * Methods follow their published definitions:
 *   naive, snaive, naive2, ses     the M4 organisers' benchmarks (Makridakis et
 *                                  al. 2020): a 90% ACF seasonality test at lag m,
 *                                  classical multiplicative decomposition, then
 *                                  the method on the seasonally adjusted series.
 *   holt, damped, hw               Holt (1957), Gardner & McKenzie (1985),
 *                                  Holt-Winters additive / multiplicative.
 *   ets                            the state-space ETS family, fitted by maximum
 *                                  likelihood, chosen by AICc (Hyndman et al. 2008).
 *   theta                          Assimakopoulos & Nikolopoulos (2000), as the M4
 *                                  benchmark (SES on theta line 2 + linear trend).
 *   croston, sba, tsb              intermittent demand: Croston (1972),
 *                                  Syntetos & Boylan (2005), Teunter, Syntetos &
 *                                  Babai (2011).
 *   arima                          seasonal ARIMA, orders by Hyndman & Khandakar's
 *                                  stepwise AICc search (R forecast::auto.arima).
 *   auto                           intermittent classification first (ADI 1.32,
 *                                  CV² 0.49), then a per-series choice on a holdout.
 */
#ifndef MERX_FORECAST_H
#define MERX_FORECAST_H

#include <stddef.h>
#include <stdint.h>
#include "merx/error.h"
#include "merx/data.h"

#ifdef __cplusplus
extern "C" {
#endif

/* -------------------------------------------------------------- methods */

typedef enum mx_fc_method {
  MX_FC_AUTO = 0,
  MX_FC_NAIVE,
  MX_FC_SNAIVE,
  MX_FC_NAIVE2,
  MX_FC_SES,
  MX_FC_HOLT,
  MX_FC_DAMPED,
  MX_FC_HW,
  MX_FC_THETA,
  MX_FC_ETS,
  MX_FC_CROSTON,
  MX_FC_SBA,
  MX_FC_TSB,
  MX_FC_ARIMA,       /* seasonal ARIMA, orders chosen as forecast::auto.arima */
  MX_FC_COMBO,       /* an equal-weight combination chosen by auto (never requested) */
  MX_FC_METHOD_COUNT
} mx_fc_method;

/* "auto", "naive", ... (static text; "?" for an unknown value). */
MX_API const char *mx_forecast_method_name(int method);
/* Parse a method name (case-sensitive, as listed in the CLI contract).
 * MX_ENOTFOUND with the list of known names in err when unknown. */
MX_API int mx_forecast_method_parse(const char *name, int *method, mx_error *err);

#define MX_FC_MAX_LEVELS 8

typedef struct mx_forecast_options {
  int method;      /* mx_fc_method (default MX_FC_AUTO) */
  int horizon;     /* steps ahead, >= 1 */
  int season;      /* seasonal period m; 0 or 1 = non-seasonal */
  int nlevels;     /* interval levels in percent, e.g. {80, 95} (default) */
  double levels[MX_FC_MAX_LEVELS];
  int nonneg;      /* clamp forecasts and bounds at 0 (demand data) */
  int threads;     /* mx_forecast_batch: <= 0 means all cores */
  const mx_cancel *cancel; /* batch and backtest: polled per series; NULL = none */
  const struct mx_regressors *regressors; /* batch: per-series regressors (arima only); NULL = none */
} mx_forecast_options;

/* horizon 1, season 0, auto, levels 80 and 95, nonneg 0, threads 0. */
MX_API mx_forecast_options mx_forecast_defaults(void);

/* ------------------------------------------------------------- results */

typedef struct mx_forecast_result {
  int horizon;
  int nlevels;
  double levels[MX_FC_MAX_LEVELS];
  double *mean;   /* [horizon] point forecasts */
  double *sigma;  /* [horizon] standard deviation of the h-step forecast error */
  double *cum_sigma; /* [horizon] standard deviation of the error of the SUM of
                        the first h+1 forecasts (lead-time demand) */
  double *lo;     /* [nlevels * horizon], lo[l * horizon + h] */
  double *hi;     /* same layout */
  int method;     /* method actually used (after auto, combination or fallback) */
  char model[48]; /* detail, e.g. "ETS(M,Ad,M)", "intermittent: sba", "snaive+theta" */
  char note[200]; /* why a fallback happened ("series of 5 < 2 seasons: naive"), or "" */
} mx_forecast_result;

/* Release the arrays of r (not r itself). Accepts NULL and a zeroed struct. */
MX_API void mx_forecast_result_free(mx_forecast_result *r);

/* Forecast one series y[0..n). y is borrowed. On success out owns arrays
 * (free with mx_forecast_result_free); on error out is left zeroed.
 * Errors: MX_EINVAL (NaN/inf in y, horizon < 1, bad levels), MX_EEMPTY (n = 0).
 * A series too short for the method falls back to a simpler one and says so
 * in out->note (no error). */
MX_API int mx_forecast_series(const double *y, size_t n, const mx_forecast_options *opt,
                              mx_forecast_result *out, mx_error *err);

/* Point forecasts only, of one named method, without intervals (what auto,
 * backtests and the Lua binding use in inner loops). f gets horizon values.
 * Same fallbacks as mx_forecast_series; *used receives the method that ran
 * (may be NULL). */
MX_API int mx_forecast_point(const double *y, size_t n, int method, int horizon, int season,
                             double *f, int *used, mx_error *err);

/* ---------------------------------------------------------- series sets */

enum { MX_FREQ_NONE = 0, MX_FREQ_DAY = 1, MX_FREQ_WEEK = 2, MX_FREQ_MONTH = 3 };

typedef struct mx_series_set {
  size_t count;
  char **ids;       /* [count] NUL-terminated ids (owned) */
  size_t *len;      /* [count] observations per series */
  double **values;  /* [count] arrays of len[i] values (owned) */
  int freq;         /* MX_FREQ_* ; NONE for wide input (no time axis) */
  int64_t *start;   /* [count] epoch seconds of the first period (long input), else NULL */
} mx_series_set;

typedef struct mx_series_read_options {
  mx_csv_options csv;  /* separator; has_header for long input */
  int header;          /* wide: 1 = first line is a header, 0 = detect (skipped when
                          its first field is not an id of the data), -1 = no header */
  mx_columns columns;  /* long: roles id, time, value (no value: every row counts 1) */
  int freq;            /* long: MX_FREQ_DAY (default), WEEK (ISO, Monday) or MONTH */
  int negative;        /* long and wide: 0 = error on a negative value (default),
                          1 = keep (returns netted), 2 = clamp to 0 */
} mx_series_read_options;

/* Longest series a long file may produce (first period to the file's last):
 * 100,000 periods, 273 years of days. A row past it is refused, named. */
#define MX_SERIES_MAX_PERIODS 100000
/* Largest magnitude of a series value (sums of squares stay finite). */
#define MX_SERIES_MAX_VALUE 1e15

MX_API mx_series_read_options mx_series_read_defaults(void);
/* Parse "day" | "week" | "month". */
MX_API int mx_series_freq_parse(const char *s, int *freq, mx_error *err);

/* Wide layout (M4): one series per row, "id,v1,v2,...", empty trailing fields
 * allowed. Long layout: rows (id, time, value) summed into periods of
 * opt->freq per id, from each id's first period to the last period of the
 * whole file, missing periods filled with zeros. *out is owned by the caller
 * (mx_series_set_free). Errors name file, line, column and field. */
MX_API int mx_series_read_wide(const char *path, const mx_series_read_options *opt,
                               mx_series_set **out, mx_error *err);
MX_API int mx_series_read_long(const char *path, const mx_series_read_options *opt,
                               mx_series_set **out, mx_error *err);
/* Build a set from arrays (copied). ids may be NULL ("1", "2", ...). */
MX_API int mx_series_set_from_arrays(const char *const *ids, const double *const *values,
                                     const size_t *len, size_t count, mx_series_set **out,
                                     mx_error *err);
MX_API void mx_series_set_free(mx_series_set *s);
/* Epoch seconds of period k of series i (k may be >= len: forecast periods). */
MX_API int64_t mx_series_time(const mx_series_set *s, size_t i, long k);

/* Forecast every series of s on opt->threads threads. results must hold
 * s->count zeroed structs; each is filled as by mx_forecast_series (free each
 * with mx_forecast_result_free). progress(ctx, done, total) may be NULL; it is
 * called from worker threads, serialised. Stops at the first failing series
 * with its id in err. */
typedef void (*mx_forecast_progress_fn)(void *ctx, size_t done, size_t total);
MX_API int mx_forecast_batch(const mx_series_set *s, const mx_forecast_options *opt,
                             mx_forecast_result *results, mx_forecast_progress_fn progress,
                             void *ctx, mx_error *err);

/* ---------------------------------------------------------- regressors
 * Regression with ARIMA errors (method arima only; other methods refuse
 * regressors with MX_EINVAL rather than ignore them). */
#define MX_FC_MAX_REGRESSORS 16

typedef struct mx_regressors {
  int nx;                              /* regressors, in first-seen order */
  char *names[MX_FC_MAX_REGRESSORS];   /* owned */
  size_t count;                        /* = the series set's count, same order */
  size_t *len;                         /* [count] history length + horizon */
  double **values;                     /* [count] column-major: values[i][k * len[i] + t] */
} mx_regressors;

/* Read a long CSV "id,time,name,value" (header optional, the first four
 * columns) aligned to the series of s: time is a date bucketed like s (long
 * input) or a 1-based period number (wide input); every series needs every
 * regressor in every period of its history and of the horizon. Rows of ids
 * not in s, or outside history + horizon, are ignored. Errors name the file,
 * line and field; a missing value names the series, regressor and period. */
MX_API int mx_regressors_read(const char *path, const mx_series_set *s, int horizon,
                              mx_regressors **out, mx_error *err);
MX_API void mx_regressors_free(mx_regressors *r);

/* Append from's regressors to into's (same series set and horizon); from is
 * consumed (freed) whatever the result. A name in both, or more than
 * MX_FC_MAX_REGRESSORS in all, is MX_EINVAL. */
MX_API int mx_regressors_append(mx_regressors *into, mx_regressors *from, mx_error *err);

/* ------------------------------------------------------------ holidays
 * A holiday calendar "country,date,name" (header optional) of one country,
 * as regressors on a dated series set (holidays.c). A day listed twice (or
 * under two names) is one holiday day. */
typedef struct mx_holidays {
  size_t count;
  int64_t *days;               /* [count] distinct holiday days (days since 1970-01-01), sorted */
  int64_t first_day, last_day; /* the span covered: 1 January of the calendar's first year to
                                  31 December of its last */
  char *path, *country;        /* owned */
} mx_holidays;

/* Read the holidays of country (case-insensitive; NULL: the file must hold
 * exactly one country). Bad rows (fewer than 3 fields, an empty country or
 * name, a date that is not YYYY-MM-DD) are MX_EPARSE naming file, line and
 * field; no row of the country is MX_EEMPTY naming the countries found. */
MX_API int mx_holidays_read(const char *path, const char *country, mx_holidays **out,
                            mx_error *err);
MX_API void mx_holidays_free(mx_holidays *h);

/* Regressors on the periods of s (history and horizon; s must be dated):
 * "holiday" = the number of holiday days in the period (a day 0/1, a week
 * 0..7), and with before > 0 "holiday_before" = the number of days in the
 * period that are not holidays but lie within `before` days before one;
 * likewise "holiday_after" with after > 0. A series whose periods leave the
 * calendar's span is MX_EINVAL naming the series and dates (a missing year
 * would read as "no holiday"). */
MX_API int mx_holidays_regressors(const mx_holidays *h, const mx_series_set *s, int horizon,
                                  int before, int after, mx_regressors **out, mx_error *err);

/* ---------------------------------------------------------- promotions
 * A campaign's committed decisions as a future promotion regressor
 * (promotions.c; the ledger is read by `merx data promotions`). */
typedef struct mx_promotion_count {
  const char *key; /* the decision's item (a series id), or a key of the map */
  int64_t time;    /* epoch seconds: the decision's period */
  long count;      /* decisions with this key and time */
} mx_promotion_count;

/* key -> series id pairs (an offer code -> the items it promotes; a key may
 * name several ids). */
typedef struct mx_promotion_map {
  size_t count;
  char **keys, **ids; /* [count], owned */
} mx_promotion_map;

/* Read a CSV "key,id" whose first line is a header; an empty field is
 * MX_EPARSE naming file, line and field. */
MX_API int mx_promotion_map_read(const char *path, mx_promotion_map **out, mx_error *err);
MX_API void mx_promotion_map_free(mx_promotion_map *m);

typedef struct mx_promotion_stats {
  long used;      /* decisions counted in some series' period */
  long unmatched; /* decisions whose key is no series (nor in the map) */
  long outside;   /* decisions before a series' first period or past its horizon */
} mx_promotion_stats;

/* One regressor `name` on every series of s (dated), history and horizon:
 * the number of decisions for the series in each period (0 where none), via
 * map when not NULL (else the key is the series id). */
MX_API int mx_promotions_regressors(const mx_promotion_count *rows, size_t n,
                                    const mx_promotion_map *map, const mx_series_set *s,
                                    int horizon, const char *name, mx_regressors **out,
                                    mx_promotion_stats *stats, mx_error *err);

/* One series with regressors x, column-major [nx][n + horizon] (history then
 * the future values). Only opt->method arima accepts regressors. */
MX_API int mx_forecast_series_xreg(const double *y, size_t n, const double *x, int nx,
                                   const mx_forecast_options *opt, mx_forecast_result *out,
                                   mx_error *err);

/* -------------------------------------------------------------- metrics
 * y = actuals, f = forecasts, both [h]; x = the in-sample series [n] for
 * scaled errors, m its seasonal period (1 = non-seasonal). A metric that is
 * undefined (zero scale) returns NaN. */
MX_API double mx_metric_smape(const double *y, const double *f, size_t h);  /* M4, 0..200 */
MX_API double mx_metric_mase(const double *x, size_t n, int m, const double *y, const double *f,
                             size_t h);
MX_API double mx_metric_rmsse(const double *x, size_t n, int m, const double *y,
                              const double *f, size_t h);
MX_API double mx_metric_wape(const double *y, const double *f, size_t h); /* sum|e| / sum|y| */
MX_API double mx_metric_bias(const double *y, const double *f, size_t h); /* mean(f - y) */
/* Mean pinball loss of quantile q (0..1) forecasts. */
MX_API double mx_metric_pinball(const double *y, const double *fq, double q, size_t h);
/* Fraction of y inside [lo, hi]. */
MX_API double mx_metric_coverage(const double *y, const double *lo, const double *hi, size_t h);

/* ------------------------------------------------------------ backtests */

typedef struct mx_backtest_options {
  mx_forecast_options fc; /* horizon, season, levels, threads, nonneg */
  int origins;            /* rolling origins (default 3); the last ends at the series end */
  int step;               /* periods between origins (default: horizon) */
  int mase_m;             /* seasonal period of the MASE/RMSSE scale (0: fc.season or 1) */
  int refit;              /* 1 (default): select and fit at every origin; 0: select at the
                             earliest origin (auto's choice, the ETS form), re-estimate
                             only the parameters at the later ones */
  int by_horizon;         /* 1: also fill wape_h and smape_h of each mx_backtest_metrics */
} mx_backtest_options;

MX_API mx_backtest_options mx_backtest_defaults(void);

/* Metrics of one method, averaged over series and origins (sMAPE, MASE and
 * RMSSE averaged per series-origin as M4 does; WAPE and bias pooled). */
typedef struct mx_backtest_metrics {
  int method;
  double smape, mase, rmsse, wape, bias;
  double pinball;                      /* mean over levels of both bounds' quantile loss */
  double coverage[MX_FC_MAX_LEVELS];   /* per level, fraction of actuals inside */
  size_t evaluated;                    /* series-origins evaluated */
  size_t skipped;                      /* series too short for any origin */
  size_t chosen[MX_FC_METHOD_COUNT];   /* for auto: how often each method was used */
  double seconds;
  double *wape_h;  /* [horizon] with opt->by_horizon: WAPE of the h-step forecasts, else NULL */
  double *smape_h; /* [horizon] same, mean sMAPE of the h-step forecasts */
} mx_backtest_metrics;

/* Release the per-horizon arrays of m (not m itself); accepts NULL. */
MX_API void mx_backtest_metrics_free(mx_backtest_metrics *m);

/* Backtest nmethods methods on s: for each origin, fit on the history before
 * it, forecast fc.horizon steps, compare with the actuals. out[nmethods]; with
 * opt->by_horizon the caller frees each with mx_backtest_metrics_free (also
 * after an error: out is zeroed first). */
MX_API int mx_backtest(const mx_series_set *s, const mx_backtest_options *opt, const int *methods,
                       int nmethods, mx_backtest_metrics *out, mx_error *err);

/* -------------------------------------------------------- reconciliation
 * A hierarchy given as a parent column (file rows "id,parent", a root's
 * parent empty). Leaves are the nodes without children; an aggregate node's
 * series is the sum of the leaves under it. */
typedef struct mx_hierarchy {
  size_t count;   /* nodes */
  char **ids;     /* [count] (owned) */
  long *parent;   /* [count] index of the parent, -1 for a root */
  int *leaf;      /* [count] 1 when the node has no children */
} mx_hierarchy;

/* Read "id,parent" rows (header line required). Errors name file, line and
 * field: duplicate id, unknown parent, cycle, empty id. */
MX_API int mx_hierarchy_read(const char *path, mx_hierarchy **out, mx_error *err);
MX_API int mx_hierarchy_from_arrays(const char *const *ids, const char *const *parents, size_t n,
                                    mx_hierarchy **out, mx_error *err);
MX_API void mx_hierarchy_free(mx_hierarchy *h);

enum { MX_RECON_NONE = 0, MX_RECON_BU = 1, MX_RECON_OLS = 2, MX_RECON_MINT = 3 };
/* "none" | "bottom-up" | "ols" | "mint-shrink". */
MX_API int mx_reconcile_parse(const char *name, int *method, mx_error *err);
/* Reconcile base forecasts base[count * horizon] (node-major, in the
 * hierarchy's node order) into out (same layout; coherent: every node the
 * exact sum of its leaves). resid[count * T] holds the in-sample one-step
 * residuals of every node (mint-shrink only; may be NULL otherwise).
 * *lambda receives the shrinkage intensity (NaN unless mint-shrink; may be NULL). */
MX_API int mx_reconcile(const mx_hierarchy *h, int method, const double *base, int horizon,
                        const double *resid, size_t T, double *out, double *lambda,
                        mx_error *err);

/* One series per hierarchy node, in the hierarchy's order: a node present in
 * s keeps its series; an aggregate node absent from s is the sum of its leaves
 * (series aligned at their end, as long input ends together). A leaf without
 * a series, or a series not in the hierarchy, is MX_ENOTFOUND. */
MX_API int mx_hierarchy_series(const mx_hierarchy *h, const mx_series_set *s,
                               mx_series_set **out, mx_error *err);
/* Reconcile batch results res[h->count] (of the set from mx_hierarchy_series)
 * in place. mint-shrink takes each node's one-step errors over the last
 * min(52, shortest - 4) origins as its residuals. Interval bounds move with
 * the mean (same width). */
MX_API int mx_forecast_reconcile(const mx_hierarchy *h, const mx_series_set *s, int method,
                                 const mx_forecast_options *opt, mx_forecast_result *res,
                                 double *lambda, mx_error *err);

#ifdef __cplusplus
}
#endif
#endif
